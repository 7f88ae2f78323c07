"""The public page and its downloads: no sign-in, small cells hidden, the same figures in every form."""
from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from flask import url_for


class FigureCells(HTMLParser):
    """The page's table cells as {(dimension, group, measure): value | None for hidden}."""

    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, str, str], str | None] = {}
        self._row: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-group" in attrs:
            self._row = attrs
        elif tag == "td" and "data-measure" in attrs:
            key = (self._row["data-dimension"], self._row["data-group"], attrs["data-measure"])
            self.cells[key] = None if attrs.get("data-hidden") == "true" else attrs["data-value"]


def page_cells(client, path: str = "/transparency") -> dict:
    response = client.get(path)
    assert response.status_code == 200
    parser = FigureCells()
    parser.feed(response.get_data(as_text=True))
    return parser.cells


def csv_rows(client) -> list[dict]:
    return list(csv.DictReader(io.StringIO(client.get("/transparency.csv").get_data(as_text=True))))


def test_the_page_is_public_and_needs_no_sign_in(client, five_and_four):
    response = client.get("/transparency")
    assert response.status_code == 200
    assert "Item arrived damaged" in response.get_data(as_text=True)


def test_a_group_of_five_shows_its_figures_and_a_group_of_four_shows_hidden(client, five_and_four):
    cells = page_cells(client)
    assert cells[("reason", "damaged", "cases")] == "5"
    assert cells[("reason", "damaged", "median_buyer_share")] == "0.5"  # 0 .5 [.5] 1 1
    assert cells[("reason", "counterfeit", "cases")] is None
    assert cells[("reason", "counterfeit", "full_refund")] is None


def test_a_hidden_cell_reads_hidden_on_the_page_never_zero(client, five_and_four):
    page = client.get("/transparency").get_data(as_text=True)
    row = page[page.index('data-group="counterfeit"'):]
    row = row[:row.index("</tr>")]
    assert row.count(">hidden</td>") == 15
    assert ">0</td>" not in row


def test_the_csv_has_a_header_row_and_comes_as_a_download(client, five_and_four):
    response = client.get("/transparency.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines()[0] == "dimension,group,label,measure,value,hidden"


def test_the_csv_holds_exactly_the_figures_of_the_page(client, hand_computed_cases):
    from_csv = {(r["dimension"], r["group"], r["measure"]): (None if r["hidden"] == "true" else r["value"])
                for r in csv_rows(client)}
    assert from_csv == page_cells(client)


def test_the_json_holds_exactly_the_figures_of_the_csv(client, hand_computed_cases):
    body = client.get("/transparency.json").get_json()
    from_json = {(dimension, g["key"], measure): (None if cell.get("hidden") else str(cell["value"]))
                 for dimension, groups in body["groups"].items() for g in groups
                 for measure, cell in g["figures"].items()}
    from_csv = {(r["dimension"], r["group"], r["measure"]): (None if r["hidden"] == "true" else r["value"])
                for r in csv_rows(client)}
    assert from_json == from_csv


def test_the_json_marks_a_small_group_and_each_of_its_cells_hidden(client, five_and_four):
    body = client.get("/transparency.json").get_json()
    counterfeit = next(g for g in body["groups"]["reason"] if g["key"] == "counterfeit")
    assert counterfeit["hidden"] is True
    assert set(map(str, counterfeit["figures"].values())) == {"{'hidden': True}"}
    assert body["min_cell"] == 5


def test_the_downloads_name_marketplaces_and_reasons_by_code_and_label(client, five_and_four):
    damaged = next(r for r in csv_rows(client) if r["group"] == "damaged" and r["measure"] == "cases")
    assert damaged == {"dimension": "reason", "group": "damaged", "label": "Item arrived damaged",
                       "measure": "cases", "value": "5", "hidden": "false"}


def test_the_page_in_simplified_chinese_names_the_reasons_in_chinese(client, five_and_four):
    page = client.get("/transparency?lang=zh").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "商品到货时已损坏" in page and "商品为假冒品" in page


def test_the_page_carries_its_chart_figures_as_data_not_as_a_script(client, five_and_four):
    page = client.get("/transparency").get_data(as_text=True)
    assert '<script type="application/json" id="figures">' in page
    assert "<script>" not in page  # nothing inline to execute: the charts come from static/js/transparency.js
    assert 'src="/static/js/transparency.js"' in page and 'src="/static/vendor/chart.umd.js"' in page


def test_the_landing_page_links_the_transparency_page(app, client):
    with app.test_request_context():
        target = url_for("transparency.page")
    assert f'href="{target}"' in client.get("/").get_data(as_text=True)
