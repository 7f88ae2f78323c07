"""Pages outside the case room in a real Chromium under the Content-Security-Policy: each one runs without a
console error (a blocked inline script or style shows as one), Swagger UI included."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect


def test_the_api_docs_render_under_the_policy(new_room, live_server):
    visitor = new_room("visitor")
    response = visitor.page.goto(f"{live_server.url}/api/v1/docs")
    assert response is not None and response.ok
    expect(visitor.locator(".swagger-ui .opblock").first).to_be_visible()
    assert visitor.errors == []


@pytest.mark.parametrize("path", ["/", "/login", "/rules", "/verify"])
def test_a_public_page_runs_without_console_errors(new_room, live_server, rulebook, path):
    visitor = new_room("visitor")
    response = visitor.page.goto(f"{live_server.url}{path}")
    assert response is not None and response.ok
    visitor.page.wait_for_load_state("load")
    assert visitor.errors == []
