"""Requests and checklists are stored as codes and rendered per reader: each caller gets the words of their
own language (whatever the catalogue holds for it) and always the code, so any client can render it.

No assertion depends on a translation existing: the expected words are what gettext gives in that locale.
"""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from mediation.services import checklists, requests

LOCALES = [("en", "en"), ("zh-CN", "zh_Hans_CN")]


def seller_reading(language: str) -> dict:
    """A seller whose platform gave their language: the party's own language wins over Accept-Language."""
    return {"external_id": "s-1", "name": "Shen Seller", "email": "shen@example.cn", "locale": language}


def rendered(lazy, locale: str) -> str:
    with force_locale(locale):
        return str(lazy)


def test_an_english_reader_gets_the_english_label_and_sentence(client, make_case):
    info = make_case(seller=seller_reading("en"))
    requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    [listed] = client.get(f"/api/v1/cases/{info.id}/requests", headers=info.headers("seller")).get_json()
    assert (listed["kind"], listed["label"], listed["title"]) == (
        "tracking_number", "Tracking number", "Please send the tracking number of the shipment.")


@pytest.mark.parametrize(("header", "locale"), LOCALES)
def test_the_same_request_is_rendered_in_each_callers_language(client, make_case, header, locale):
    info = make_case(seller=seller_reading(header))
    requests.create_request(info.actor("buyer"), info.id, kind="damage_photos", addressee="seller")
    [listed] = client.get(f"/api/v1/cases/{info.id}/requests", headers=info.headers("seller")).get_json()
    kind = requests.KINDS["damage_photos"]
    assert (listed["kind"], listed["label"], listed["title"]) == (
        "damage_photos", rendered(kind.label, locale), rendered(kind.ask, locale))


def test_a_free_text_request_reads_as_written_in_every_language(make_case):
    info = make_case()
    made = requests.create_request(info.actor("seller"), info.id, kind="free_text", addressee="buyer",
                                   text="请发送开箱视频。")
    assert requests.request_text(made, "en") == requests.request_text(made, "zh_Hans_CN") == "请发送开箱视频。"


def test_request_text_renders_the_catalogue_sentence_in_the_given_locale(make_case):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="receipt", addressee="seller")
    assert requests.request_text(made, "en") == "Please send the receipt or invoice for the item."


@pytest.mark.parametrize(("header", "locale"), LOCALES)
def test_the_request_kinds_catalogue_is_labelled_in_the_callers_language(client, header, locale):
    kinds = client.get("/api/v1/request-kinds", headers={"Accept-Language": header}).get_json()
    assert [k["key"] for k in kinds] == [k.key for k in requests.CATALOGUE]
    assert [k["label"] for k in kinds] == [rendered(k.label, locale) for k in requests.CATALOGUE]


def test_only_free_text_requires_text_in_the_catalogue(client):
    kinds = client.get("/api/v1/request-kinds").get_json()
    assert [k["key"] for k in kinds if k["text_required"]] == ["free_text"]


@pytest.mark.parametrize(("header", "locale"), LOCALES)
def test_checklist_labels_and_hints_follow_the_callers_language(client, make_case, header, locale):
    info = make_case(reason="counterfeit", seller=seller_reading(header))
    body = client.get(f"/api/v1/cases/{info.id}/checklist", headers=info.headers("seller")).get_json()
    [item] = body["checklists"]["seller"]
    definition = next(i for i in checklists.CHECKLISTS["counterfeit"] if i.key == "authenticity_proof")
    assert (item["key"], item["label"], item["hint"]) == (
        "authenticity_proof", rendered(definition.label, locale), rendered(definition.hint, locale))
