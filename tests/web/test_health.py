"""`GET /healthz` for load balancers: 200 when the database answers, 503 naming what failed."""
from __future__ import annotations

import pytest


def test_a_healthy_process_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "database": "ok"}


class TestWithoutItsMessageQueue:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1

    def test_an_unreachable_message_queue_makes_the_process_unhealthy(self, client):
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {"ok": False, "database": "ok", "redis": "unreachable"}
