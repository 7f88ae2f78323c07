"""The public transparency page (no sign-in): outcome statistics as charts with tables, and the same figures
as CSV and JSON downloads. The figures and the rule that hides small cells live in services/transparency."""
from __future__ import annotations

import csv
import io
from datetime import date

from babel.dates import format_skeleton
from flask import Blueprint, Response, jsonify, render_template
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mediation.services import transparency
from mediation.services.transparency import DAYS, MEASURES, RATIOS, Group, Report
from mediation.web import labels

bp = Blueprint("transparency", __name__)

DIMENSION_TITLES = {
    "overall": _l("All resolved cases"),
    "reason": _l("By reason for the dispute"),
    "platform": _l("By marketplace"),
    "month": _l("By month of resolution"),
}
DIMENSION_HEADS = {"overall": _l("Cases"), "reason": _l("Reason"), "platform": _l("Marketplace"),
                   "month": _l("Month")}
MEASURE_LABELS = {
    "cases": _l("Resolved cases"),
    "settled": _l("Settled by agreement"),
    "ruled": _l("Decided by ruling"),
    "withdrawn": _l("Withdrawn"),
    "settled_rate": _l("Share settled by agreement"),
    "full_refund": _l("Full refund"),
    "partial_refund": _l("Partial refund"),
    "release_to_seller": _l("Released to the seller"),
    "median_buyer_share": _l("Median buyer's share of the amount"),
    "appealed": _l("Rulings appealed"),
    "appeal_rate": _l("Appeal rate"),
    "overturned": _l("Rulings overturned on appeal"),
    "overturn_rate": _l("Overturn rate"),
    "median_days": _l("Median days to resolution"),
    "p90_days": _l("90th percentile of days to resolution"),
}
OUTCOME_SPLIT = ("full_refund", "partial_refund", "release_to_seller")


@bp.route("/transparency")
def page():
    report = transparency.report()
    return render_template("transparency/page.html", report=report, measures=MEASURES,
                           titles=DIMENSION_TITLES, heads=DIMENSION_HEADS, measure_labels=MEASURE_LABELS,
                           group_label=group_label, shown=shown, charts=chart_specs(report))


@bp.route("/transparency.csv")
def csv_download():
    """Tidy layout, one row per group and measure: `dimension` (overall | reason | platform | month), `group`
    (a code: reason code, marketplace name, YYYY-MM), `label` (in the reader's language), `measure`, `value`
    (ratios 0–1, days to one decimal; empty when hidden) and `hidden` (true | false)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["dimension", "group", "label", "measure", "value", "hidden"])
    for group, measure, value in transparency.report().cells():
        writer.writerow([group.dimension, group.key, group_label(group), measure,
                         "" if value is None else value, "true" if value is None else "false"])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="mediation-transparency.csv"'})


@bp.route("/transparency.json")
def json_download():
    report = transparency.report()
    body = {
        "generated_at": report.generated_at.isoformat(),
        "min_cell": report.min_cell,
        "measures": {name: str(label) for name, label in MEASURE_LABELS.items()},
        "groups": {dimension: [_group_json(g) for g in groups] for dimension, groups in report.groups.items()},
    }
    response = jsonify(body)
    response.headers["Content-Disposition"] = 'attachment; filename="mediation-transparency.json"'
    return response


def _group_json(group: Group) -> dict:
    figures = {measure: {"hidden": True} if value is None else {"value": value}
               for measure, value in group.figures.items()}
    return {"key": group.key, "label": group_label(group), "hidden": group.hidden, "figures": figures}


def group_label(group: Group) -> str:
    """The group's name for a reader: the reason in their language, the month in their calendar style."""
    if group.dimension == "overall":
        return str(DIMENSION_TITLES["overall"])
    if group.dimension == "reason":
        return str(labels.REASONS.get(group.key, group.key))
    if group.dimension == "month":
        year, month = map(int, group.key.split("-"))
        return format_skeleton("yMMM", date(year, month, 1), locale=str(get_locale() or "en"))
    return group.key


def shown(measure: str, value: int | float | None) -> str:
    """A figure as the page prints it, in the reader's number format."""
    if value is None:
        return _("hidden")
    if measure in RATIOS:
        return format_percent(value, "#,##0.#%")
    if measure in DAYS:
        return format_decimal(value, "#,##0.#")
    return format_decimal(value)


def chart_specs(report: Report) -> list[dict]:
    """What static/js/transparency.js draws: every word already translated, percentages 0–100, None a gap."""
    months = report.groups["month"]
    return [
        _split_chart("chart-reason", _("Outcomes by reason for the dispute"), report.groups["reason"]),
        _split_chart("chart-platform", _("Outcomes by marketplace"), report.groups["platform"]),
        _chart("chart-month-resolution", _("Settled by agreement or decided by ruling, by month"), "bar",
               "count", months, ("settled", "ruled")),
        _chart("chart-month-appeals", _("Appeal and overturn rates, by month"), "line", "percent", months,
               ("appeal_rate", "overturn_rate")),
        _chart("chart-month-days", _("Days from opening to resolution, by month"), "line", "days", months,
               ("median_days", "p90_days")),
    ]


def _split_chart(chart_id: str, title: str, groups: list[Group]) -> dict:
    spec = _chart(chart_id, title, "bar", "percent", groups, OUTCOME_SPLIT)
    for dataset, measure in zip(spec["datasets"], OUTCOME_SPLIT, strict=True):
        dataset["data"] = [None if g.hidden else round(100 * g.figures[measure] / g.figures["cases"], 1)
                           for g in groups]
    spec["horizontal"] = True
    return spec


def _chart(chart_id: str, title: str, kind: str, unit: str, groups: list[Group], measures: tuple[str, ...]) -> dict:
    hidden_note = _("fewer than %(n)s cases: hidden", n=transparency.MIN_CELL)
    return {
        "id": chart_id,
        "title": title,
        "kind": kind,
        "unit": unit,
        "stacked": kind == "bar",
        "labels": [f"{group_label(g)} ({hidden_note})" if g.hidden else group_label(g) for g in groups],
        "datasets": [{"label": str(MEASURE_LABELS[m]), "data": [_plotted(m, g.figures[m]) for g in groups]}
                     for m in measures],
    }


def _plotted(measure: str, value: int | float | None) -> int | float | None:
    if value is None or measure not in RATIOS:
        return value
    return round(100 * value, 1)
