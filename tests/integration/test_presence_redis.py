"""Presence across web processes: with REDIS_URL, who is in a case room is kept in Redis, so a process sees
the members connected to the others; a process that dies takes its members with it."""
from __future__ import annotations

import os
import uuid

import pytest

from mediation.realtime.presence import RedisPresence
from tests.realtime.room_client import RoomClient, wait_until

REDIS_URL = os.environ.get("MEDIATION_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not REDIS_URL, reason="MEDIATION_TEST_REDIS_URL not set: presence in Redis not exercised"),
]


@pytest.fixture
def prefix() -> str:
    return f"mediation-test:{uuid.uuid4().hex}:presence"


@pytest.fixture
def two_processes(prefix):
    """Two web processes' presence, as each would make it (their own process id, one Redis)."""
    first, second = RedisPresence(REDIS_URL, prefix), RedisPresence(REDIS_URL, prefix)
    yield first, second
    keys = first.redis.keys(f"{prefix}:*")
    if keys:
        first.redis.delete(*keys)


def test_a_member_who_entered_on_one_process_is_online_on_the_other(two_processes):
    first, second = two_processes
    first.enter(7, "sid-a", "buyer", "Olivia")
    assert second.enter(7, "sid-b", "seller", "Shen") == ["buyer", "seller"]
    assert first.online(7) == second.online(7) == ["buyer", "seller"]


def test_leaving_on_one_process_shows_on_the_other(two_processes):
    first, second = two_processes
    first.enter(7, "sid-a", "buyer", "Olivia")
    second.enter(7, "sid-b", "seller", "Shen")
    assert first.leave_all("sid-a") == [(7, "buyer", "Olivia", ["seller"])]
    assert second.online(7) == ["seller"]


def test_a_process_only_takes_out_its_own_connections(two_processes):
    first, second = two_processes
    first.enter(7, "sid-a", "buyer", "Olivia")
    assert second.leave_all("sid-a") == []
    assert second.online(7) == ["buyer"]


def test_the_members_of_a_process_that_died_are_no_longer_online(two_processes):
    first, second = two_processes
    first.enter(7, "sid-a", "buyer", "Olivia")
    second.enter(7, "sid-b", "seller", "Shen")
    first.redis.delete(first._beat(first.process))  # its heartbeat lapses: SIGKILL, power cut
    assert second.online(7) == ["seller"]
    assert second.redis.hkeys(second._room(7)) == ["sid-b"]  # and the dead entry is cleared


def test_rooms_are_separate(two_processes):
    first, second = two_processes
    first.enter(7, "sid-a", "buyer", "Olivia")
    assert second.online(8) == []


# ---- through two live servers -----------------------------------------------------------------------------


@pytest.fixture
def app_config(prefix):
    return {"REDIS_URL": REDIS_URL, "PRESENCE_KEY_PREFIX": prefix}


def test_a_party_joining_here_is_told_who_is_online_in_another_process(app, live_server, make_case, prefix):
    """The seller is connected to another web process (its presence entry, its heartbeat); the buyer joins
    this server's room and hears the seller is online; once that process dies, the seller is not."""
    case = make_case()
    elsewhere = RedisPresence(REDIS_URL, prefix)
    elsewhere.enter(case.id, "sid-elsewhere", "seller", "Shen")
    buyer = RoomClient(live_server.url, token=case.token("buyer")).connect()
    try:
        assert buyer.join(case.id)["online"] == ["buyer", "seller"]
        elsewhere.redis.delete(elsewhere._beat(elsewhere.process))
        assert app.extensions["presence"].online(case.id) == ["buyer"]
    finally:
        buyer.close()
    wait_until(lambda: app.extensions["presence"].online(case.id) == [])
