"""The public transparency page in a real Chromium: every chart is drawn by Chart.js from the page's figures,
in English and in Simplified Chinese, without a console error or an uncaught page error."""
from __future__ import annotations

import pytest

from tests.transparency.support import make_case_maker, settle_five_and_four

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

CHARTS = ["chart-reason", "chart-platform", "chart-month-resolution", "chart-month-appeals", "chart-month-days"]
DRAWN = """ids => ids.map(id => {
  const canvas = document.getElementById(id);
  const chart = window.Chart && window.Chart.getChart(canvas);
  return {id, width: canvas.clientWidth, height: canvas.clientHeight, drawn: !!chart,
          bars: chart ? chart.data.datasets.map(set => set.data) : null};
})"""


@pytest.fixture
def settled_cases(frozen_clock, make_case, make_rulebook, make_user, make_platform):
    settle_five_and_four(make_case_maker(frozen_clock, make_case, make_rulebook, make_user),
                         make_platform("Alpha Market"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_charts_render_without_console_errors(settled_cases, new_room, live_server, lang):
    visitor = new_room("visitor")
    response = visitor.page.goto(f"{live_server.url}/transparency?lang={lang}")
    assert response is not None and response.ok
    expect(visitor.locator("#table-reason")).to_be_visible()
    visitor.page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-month-days'))")
    charts = visitor.page.evaluate(DRAWN, CHARTS)
    assert [c["id"] for c in charts if c["drawn"] and c["width"] > 0 and c["height"] > 0] == CHARTS
    # Of the five damaged-item cases, 2 full refunds, 2 partial, 1 release: 40 %, 40 %, 20 % in the reason chart.
    reasons = charts[0]["bars"]
    damaged = visitor.page.evaluate("JSON.parse(document.getElementById('figures').textContent)[0].labels")
    at = next(i for i, label in enumerate(damaged) if label in ("Item arrived damaged", "商品到货时已损坏"))
    assert [series[at] for series in reasons] == [40, 40, 20]
    assert visitor.errors == []
