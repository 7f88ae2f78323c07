"""Request rate limits: the API per credential, join links and staff sign-in per address; 429 with
Retry-After in the API's error shape or as a page; counted in Redis across processes when it is configured.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.limits import ProcessMemoryStorage
from mediation.models import Case
from tests.conftest import REDIS_URL


@pytest.fixture
def app_config():
    return {"RATELIMIT_API": "3 per minute", "RATELIMIT_JOIN": "2 per minute", "RATELIMIT_LOGIN": "2 per minute",
            "RATELIMIT_VERIFY": "2 per minute"}


def test_an_api_key_over_its_limit_gets_429_with_retry_after(client, make_platform):
    platform = make_platform()
    statuses = [client.get("/api/v1/cases", headers=platform.headers).status_code for _ in range(4)]
    refused = client.get("/api/v1/cases", headers=platform.headers)
    assert statuses == [200, 200, 200, 429]
    assert refused.json["code"] == 429 and refused.json["message"]
    assert int(refused.headers["Retry-After"]) > 0


def test_one_keys_limit_does_not_touch_another_key(client, make_platform):
    first, second = make_platform(), make_platform()
    for _ in range(4):
        client.get("/api/v1/cases", headers=first.headers)
    assert client.get("/api/v1/cases", headers=second.headers).status_code == 200


def test_a_refused_api_call_changes_nothing(client, make_platform):
    from tests.api.test_cases_api import case_body

    platform = make_platform()
    for _ in range(3):
        client.get("/api/v1/cases", headers=platform.headers)
    assert client.post("/api/v1/cases", json=case_body(), headers=platform.headers).status_code == 429
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_join_links_are_limited_per_address(client, make_case):
    case = make_case()
    statuses = [client.get(f"/join/{case.join_tokens['buyer']}").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]


def test_a_refused_join_is_an_error_page(client, make_case):
    case = make_case()
    for _ in range(2):
        client.get(f"/join/{case.join_tokens['buyer']}")
    page = client.get(f"/join/{case.join_tokens['buyer']}")
    assert page.status_code == 429 and b"Too many requests" in page.data and "Retry-After" in page.headers


def test_staff_sign_in_is_limited_per_address(client):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    form = {"email": "nobody@example.com", "password": "wrong password", "csrf_token": token}
    statuses = [client.post("/login", data=form).status_code for _ in range(3)]
    assert statuses[0] != 429 and statuses[-1] == 429


def test_document_verification_is_limited_per_address(client):
    statuses = [client.post("/verify.json", data=b"{}", content_type="application/json").status_code
                for _ in range(3)]
    assert statuses[0] != 429 and statuses[-1] == 429


def test_pages_and_the_api_documentation_are_not_limited(client):
    assert {client.get("/api/v1/openapi.json").status_code for _ in range(5)} == {200}
    assert {client.get("/rules").status_code for _ in range(5)} == {200}


# ---- in this process's memory (no Redis) ----------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_in_process_counter_counts_within_its_window_and_starts_again_after_it():
    clock = FakeClock()
    storage = ProcessMemoryStorage(clock=clock)
    assert [storage.incr("api:key:a", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("api:key:a") == 3 and storage.get_expiry("api:key:a") == clock.now + 60
    clock.now += 60
    assert storage.get("api:key:a") == 0
    assert storage.incr("api:key:a", 60) == 1


def test_an_in_process_counter_past_its_window_is_dropped_by_a_later_write():
    clock = FakeClock()
    storage = ProcessMemoryStorage(clock=clock)
    for address in range(100):
        storage.incr(f"join:addr:10.0.0.{address}", 60)
    clock.now += 61
    storage.incr("join:addr:10.0.1.1", 60)
    assert len(storage) == 1


def test_the_one_process_limiter_starts_no_thread_per_request(app, client, make_platform, monkeypatch):
    platform = make_platform()
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread.name))
    statuses = {client.get("/api/v1/cases", headers=platform.headers).status_code for _ in range(3)}
    assert statuses == {200}
    assert started == []
    assert isinstance(app.extensions["mediation_limiter"].storage, ProcessMemoryStorage)


# ---- across processes, through Redis ---------------------------------------------------------------------

OTHER_PROCESS = textwrap.dedent("""
    import sys
    from mediation import create_app
    app = create_app({"SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": sys.argv[1], "REDIS_URL": sys.argv[2],
                      "RATELIMIT_KEY_PREFIX": sys.argv[3], "RATELIMIT_API": "3 per minute",
                      "BACKGROUND_WORKERS": False})
    client = app.test_client()
    print(",".join(str(client.get("/api/v1/cases", headers={"Authorization": "Bearer " + sys.argv[4]}).status_code)
                   for _ in range(2)))
""")


@pytest.mark.skipif(not REDIS_URL, reason="MEDIATION_TEST_REDIS_URL not set: limits across processes need Redis")
class TestAcrossProcesses:
    @pytest.fixture
    def app_config(self):
        return {"REDIS_URL": REDIS_URL,
                "RATELIMIT_KEY_PREFIX": f"mediation-test-{uuid.uuid4().hex}", "RATELIMIT_API": "3 per minute"}

    def test_a_limit_holds_across_processes_sharing_redis(self, app, client, make_platform):
        platform = make_platform()
        other = subprocess.run([sys.executable, "-c", OTHER_PROCESS, app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL,
                                app.config["RATELIMIT_KEY_PREFIX"], platform.api_key],
                               capture_output=True, text=True, timeout=60, check=True)
        assert other.stdout.strip() == "200,200"
        assert client.get("/api/v1/cases", headers=platform.headers).status_code == 200
        assert client.get("/api/v1/cases", headers=platform.headers).status_code == 429

    def test_an_api_call_is_counted_in_one_round_trip_to_redis(self, app, client, make_platform, monkeypatch):
        platform = make_platform()
        redis = app.extensions["mediation_limiter"].storage.get_connection()
        commands: list = []
        send = redis.execute_command
        monkeypatch.setattr(redis, "execute_command", lambda *args, **kw: commands.append(args[0]) or send(*args, **kw))
        assert client.get("/api/v1/cases", headers=platform.headers).status_code == 200
        assert commands == ["EVALSHA"]

    def test_the_limit_headers_show_the_count_and_window_of_the_call(self, client, make_platform):
        platform = make_platform()
        client.get("/api/v1/cases", headers=platform.headers)
        answer = client.get("/api/v1/cases", headers=platform.headers)
        assert answer.headers["X-RateLimit-Limit"] == "3" and answer.headers["X-RateLimit-Remaining"] == "1"
        assert 0 < int(answer.headers["X-RateLimit-Reset"]) - time.time() <= 61  # whole seconds
