"""The words of a settlement or ruling document in one language: shared by the printable page and the PDF,
so both say the same thing. Each column is rendered with `force_locale`, whatever the reader's language."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from mediation.services.documents import Document

LOCALES = ("en", "zh_Hans_CN")
# Existing, translated msgids where one fits; the new ones wait for the translation pass.
KIND_TITLES = {"settlement": _l("Settled"), "ruling": _l("Ruling"), "appeal_decision": _l("The appeal was decided.")}
DECISIONS = {"uphold": _l("The ruling is upheld."), "replace": _l("The ruling is replaced.")}
ROLE_TITLES = {"buyer": _l("Buyer"), "seller": _l("Seller")}


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    url: str | None = None


@dataclass(frozen=True)
class Column:
    locale: str
    title: str
    subtitle: str
    rows: list[Row]


def columns(document: Document) -> list[Column]:
    return [column(document, locale) for locale in LOCALES]


def column(document: Document, locale: str) -> Column:
    with force_locale(locale):
        title = str(_l("Case %(ref)s", ref=document.reference))
        subtitle = str(KIND_TITLES[document.kind])
        rows = [Row(str(ROLE_TITLES.get(role, role)), name) for role, name in sorted(document.parties.items())]
        rows += _outcome_rows(document)
        rows += _reason_rows(document, locale)
        rows += _time_rows(document)
        rows.append(Row(str(_l("Case log event")), str(_l("Event %(seq)s, SHA-256 %(hash)s", seq=document.seq,
                                                              hash=document.hash))))
    return Column(locale, title, subtitle, rows)


def _outcome_rows(document: Document) -> list[Row]:
    rows = []
    if document.decision:
        rows.append(Row(str(_l("Decision")), str(DECISIONS.get(document.decision, document.decision))))
    returned = _l("The buyer returns the item") if document.return_required else _l("No return needed")
    return rows + [
        Row(str(_l("Refund to the buyer")), document.buyer_refund),
        Row(str(_l("Release to the seller")), document.seller_release),
        Row(str(_l("Outcome")), str(returned)),
        Row(str(_l("Terms")), document.terms or "—"),
    ]


def _reason_rows(document: Document, locale: str) -> list[Row]:
    rows = []
    if document.rationale is not None:
        rows.append(Row(str(_l("Reasons")), document.rationale))
    for i, clause in enumerate(document.clauses):
        title = clause.title.get(locale) or clause.title.get("en") or ""
        rows.append(Row(str(_l("Rules applied")) if i == 0 else "",
                        str(_l("%(number)s. %(title)s", number=clause.number, title=title)), public_url(clause.url)))
    return rows


def _time_rows(document: Document) -> list[Row]:
    rows = [Row(str(_l("Recorded (UTC)")), document.recorded_at.strftime("%Y-%m-%d %H:%M:%S UTC"))]
    for role, local in sorted(document.local_times.items()):
        label = str(_l("%(role)s's time (%(zone)s)", role=ROLE_TITLES.get(role, role), zone=local.zone))
        rows.append(Row(label, local.at.strftime("%Y-%m-%d %H:%M:%S (UTC%z)")))
    return rows


def public_url(path: str) -> str | None:
    """The clause's address on this site: absolute while serving a request, the bare path otherwise."""
    if not path:
        return None
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        base = request.host_url
    return (base or "").rstrip("/") + path
