"""Every user-facing string has a Simplified Chinese translation, and the pages use it.

The strings are extracted afresh from the code and templates (with babel.cfg, as `make translations-update`
does), so a new `_()` without a translation fails here. The compiled .mo files are not committed: this
module compiles them when they are missing or older than their .po, so `pytest` alone works.
"""
from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from mediation.config import ROOT

TRANSLATIONS = ROOT / "translations"
CHINESE = "zh_Hans_CN"
CHINESE_PO = TRANSLATIONS / CHINESE / "LC_MESSAGES" / "messages.po"
FIX = "run `make translations-update`, translate in {po} and run `make translations-compile`"
# A printf-style conversion: %(name)s, %s, %d, %.2f, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
CJK = re.compile(r"[\u4e00-\u9fff]")


def read_catalogue(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def forms(text: str | tuple | list) -> list[str]:
    """A message's id or string as a list: one item, or one per plural form."""
    return [text] if isinstance(text, str) else list(text)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues():
    """Compile each .po whose .mo is missing or stale, the way `make translations-compile` does."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = read_catalogue(po_path, locale=po_path.parent.parent.name)
        partial = mo_path.with_name(f"{mo_path.name}.{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=True)
        os.replace(partial, mo_path)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogue template extracted now from mediation/ and templates/ (see babel.cfg)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    status = CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), str(ROOT)])
    assert status in (None, 0) and pot.exists()
    template = read_catalogue(pot)
    assert len([m for m in template if m.id]) > 50, "extraction found suspiciously few strings"
    return template


@pytest.fixture(scope="module")
def chinese():
    return read_catalogue(CHINESE_PO, locale=CHINESE)


def translated(catalogue, msgid: str) -> str:
    message = catalogue.get(msgid)
    assert message is not None and message.string, f"no translation of {msgid!r}"
    return message.string


def test_every_extracted_string_has_a_chinese_translation(extracted, chinese):
    untranslated = []
    for template_message in extracted:
        if not template_message.id:
            continue
        key = template_message.id if isinstance(template_message.id, str) else template_message.id[0]
        message = chinese.get(key)
        if message is None:
            untranslated.append(f"{key!r}: not in the catalogue")
        elif message.fuzzy:
            untranslated.append(f"{key!r}: marked fuzzy")
        elif not all(s.strip() for s in forms(message.string)):
            untranslated.append(f"{key!r}: empty")
    assert not untranslated, (
        f"{len(untranslated)} string(s) lack a Chinese translation; {FIX.format(po=CHINESE_PO)}:\n  "
        + "\n  ".join(untranslated))


def test_translations_keep_the_placeholders_of_the_english(chinese):
    mismatched = []
    for message in chinese:
        if not message.id or not message.string:
            continue
        expected = sorted(PLACEHOLDER.findall(forms(message.id)[-1]))
        for text in forms(message.string):
            if sorted(PLACEHOLDER.findall(text)) != expected:
                mismatched.append(f"{forms(message.id)[0]!r} -> {text!r}")
    assert not mismatched, "placeholders differ from the English:\n  " + "\n  ".join(mismatched)


def test_the_chinese_catalogue_has_no_fuzzy_or_leftover_entries(chinese):
    assert chinese.locale is not None and str(chinese.locale) == CHINESE
    assert not [m.id for m in chinese if m.id and m.fuzzy]
    assert not chinese.obsolete, f"obsolete entries (#~) in {CHINESE_PO}: {list(chinese.obsolete)}"


# ---- the pages speak the viewer's language ---------------------------------------------------------


def script_labels(page: bytes) -> dict:
    marker = b'<script type="application/json" id="labels">'
    start = page.index(marker) + len(marker)
    return json.loads(page[start:page.index(b"</script>", start)])


def test_the_room_scripts_words_follow_each_viewer_from_one_view_to_the_next(app, client, make_case, login_party,
                                                                            chinese):
    info = make_case()  # the buyer reads English, the seller Chinese
    login_party(info, "seller")
    seller_first = script_labels(client.get(f"/cases/{info.id}").data)
    buyer = app.test_client()
    buyer.get(f"/join/{info.join_tokens['buyer']}")
    buyer_words = script_labels(buyer.get(f"/cases/{info.id}").data)
    seller_again = script_labels(client.get(f"/cases/{info.id}").data)
    assert buyer_words["locale"] == "en" and buyer_words["strings"]["accept"] == "Accept"
    assert buyer_words["states"]["open"] == "Open: waiting for the respondent"
    for seller in (seller_first, seller_again):
        assert seller["locale"] == "zh-CN" and seller["strings"]["accept"] == translated(chinese, "Accept")
        assert seller["states"]["open"] == translated(chinese, "Open: waiting for the respondent")


def test_the_case_room_speaks_chinese_to_a_chinese_seller(client, make_case, login_party, chinese):
    info = make_case()  # the seller's locale is zh-CN
    login_party(info, "seller")
    page = client.get(f"/cases/{info.id}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert 'lang="zh-CN"' in text
    for msgid in ("Settlement proposals", "Amount in dispute", "Held by the marketplace", "Conversation",
                  "Propose a settlement", "Refund to the buyer", "Release to the seller",
                  "Item arrived damaged", "Open: waiting for the respondent", "Seller"):
        expected = translated(chinese, msgid)
        assert CJK.search(expected), f"the translation of {msgid!r} is not Chinese"
        assert expected in text, f"{msgid!r} is not shown as {expected!r}"
    assert "Settlement proposals" not in text
    strings = script_labels(page.data)["strings"]
    assert strings["accept"] == translated(chinese, "Accept")
    assert strings["counter"] == translated(chinese, "Counter-offer")
    assert script_labels(page.data)["locale"] == "zh-CN"


def test_the_case_room_stays_english_for_an_english_buyer(client, make_case, login_party):
    info = make_case()  # the buyer's locale is en
    login_party(info, "buyer")
    page = client.get(f"/cases/{info.id}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert 'lang="en"' in text
    for label in ("Settlement proposals", "Amount in dispute", "Held by the marketplace",
                  "Item arrived damaged"):
        assert label in text
    assert script_labels(page.data)["strings"]["accept"] == "Accept"
    # Only the language switcher's own name is in Chinese.
    assert not CJK.search(text.replace("中文", ""))


def test_the_staff_sign_in_form_follows_the_chosen_language(client, chinese):
    text = html.unescape(client.get("/login?lang=zh").get_data(as_text=True))
    for msgid in ("Staff sign-in", "E-mail", "Password", "Sign in"):
        assert translated(chinese, msgid) in text
    english = html.unescape(client.get("/login?lang=en").get_data(as_text=True))
    assert "E-mail" in english and translated(chinese, "E-mail") not in english
