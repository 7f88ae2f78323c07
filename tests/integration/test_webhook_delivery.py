"""Webhooks end to end: the real deliverer posting over loopback HTTP to a marketplace's receiver that
verifies every delivery with the `standardwebhooks` package, as a platform would.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mediation import clock
from mediation.extensions import db
from mediation.models import WebhookDelivery, WebhookMessage
from mediation.services import cases, proposals, webhooks
from tests.conftest import money

pytestmark = pytest.mark.integration

SETTLED_CASE = ["case.opened", "proposal.created", "proposal.accepted", "case.settled", "case.resolved",
                "case.closed"]
WAIT = 10  # seconds: the bound on any wait for another thread


@dataclass(frozen=True)
class Arrival:
    webhook_id: str
    type: str
    case_id: int
    status: int  # what the receiver answered
    payload: dict = field(compare=False, repr=False)


class Receiver:
    """What the marketplace saw. Every request is verified; `refuse` scripts failures per event."""

    def __init__(self, url: str):
        self.url, self.secret = url, ""
        self.arrivals: list[Arrival] = []
        self.forged: list[dict] = []  # requests whose signature did not verify
        self.paths: list[str] = []
        self._refusals: list[list] = []
        self._changed = threading.Condition()

    def refuse(self, when: Callable[[Arrival], bool], times: int | None = None, status: int = 500) -> None:
        """Answer `status` to the events `when` picks, `times` times (None: always)."""
        self._refusals.append([when, times, status])

    def answer(self, path: str, headers: dict, body: bytes) -> int:
        with self._changed:
            self.paths.append(path)
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError as error:
                self.forged.append({"headers": headers, "error": str(error)})
                self._changed.notify_all()
                return 401
            case_id = payload["data"]["case"]["id"]
            arrival = Arrival(headers["webhook-id"], payload["type"], case_id, 204, payload)
            for rule in self._refusals:
                when, times, status = rule
                if (times is None or times > 0) and when(arrival):
                    rule[1] = None if times is None else times - 1
                    arrival = replace(arrival, status=status)
                    break
            self.arrivals.append(arrival)
            self._changed.notify_all()
            return arrival.status

    def delivered(self, case_id: int | None = None) -> list[Arrival]:
        """What was accepted (2xx), in order of arrival."""
        return [a for a in self.arrivals if a.status < 300 and case_id in (None, a.case_id)]

    def wait_for_delivered(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.delivered()) >= count, timeout=WAIT)


class Handler(BaseHTTPRequestHandler):
    timeout = WAIT  # a stuck connection cannot hold a handler thread for longer

    def do_POST(self):  # the name http.server calls
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if self.path == "/moved":
            self.server.receiver.paths.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/hooks")
        else:
            self.send_response(self.server.receiver.answer(self.path, dict(self.headers), body))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hooks")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.receiver
    server.shutdown()
    server.server_close()
    thread.join(WAIT)
    assert server.receiver.forged == []


@pytest.fixture
def platform(make_platform, receiver):
    info = make_platform(webhook_url=receiver.url)
    receiver.secret = info.webhook_secret
    return info


def settle_and_close(info, platform) -> None:
    """The seller proposes, the buyer accepts, the platform confirms it paid out."""
    proposal = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("40.00"),
                                         seller_release=money("60.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    cases.confirm_execution(platform.actor, info.id, "PAYOUT-1")


def types(arrivals: list[Arrival]) -> list[str]:
    return [a.type for a in arrivals]


def outbox_ids(case_id: int) -> list[str]:
    db.session.rollback()  # see what other sessions committed
    return list(db.session.scalars(select(WebhookMessage.msg_id).where(WebhookMessage.case_id == case_id)
                                   .order_by(WebhookMessage.id)))


# ---- a whole case -------------------------------------------------------------------------------------


def test_a_settled_and_closed_case_reaches_the_platform_in_order(receiver, platform, make_case, frozen_clock):
    info = make_case(platform=platform)
    settle_and_close(info, platform)
    webhooks.deliver_due()
    assert types(receiver.delivered(info.id)) == SETTLED_CASE


def test_each_event_is_delivered_as_the_outbox_message_with_its_webhook_id(receiver, platform, make_case,
                                                                           frozen_clock):
    info = make_case(platform=platform)
    settle_and_close(info, platform)
    webhooks.deliver_due()
    assert [a.webhook_id for a in receiver.delivered(info.id)] == outbox_ids(info.id)


def test_case_resolved_carries_the_outcome_as_money_objects(receiver, platform, make_case, frozen_clock):
    info = make_case(platform=platform)
    settle_and_close(info, platform)
    webhooks.deliver_due()
    [resolved] = [a.payload for a in receiver.delivered(info.id) if a.type == "case.resolved"]
    outcome = resolved["data"]["outcome"]
    assert outcome["resolution"] == "settled"
    assert outcome["buyer_refund"] == {"value": "40.00", "currency": "USD"}
    assert outcome["seller_release"] == {"value": "60.00", "currency": "USD"}


# ---- a receiver that fails twice ----------------------------------------------------------------------


def refuse_the_opening_twice(receiver, platform, make_case, frozen_clock):
    """case.opened is answered 500 twice; the case meanwhile settles and closes. Returns the case."""
    receiver.refuse(lambda a: a.type == "case.opened", times=2)
    info = make_case(platform=platform)
    settle_and_close(info, platform)
    webhooks.deliver_due()
    frozen_clock.move(seconds=6)  # past the 5 s retry and its jitter
    webhooks.deliver_due()
    return info


def test_an_event_refused_twice_is_held_with_the_case_s_later_events(receiver, platform, make_case,
                                                                     frozen_clock):
    info = refuse_the_opening_twice(receiver, platform, make_case, frozen_clock)
    assert [(a.type, a.status) for a in receiver.arrivals] == [("case.opened", 500), ("case.opened", 500)]
    assert receiver.delivered(info.id) == []


def test_an_event_refused_twice_arrives_once_on_the_third_attempt(receiver, platform, make_case,
                                                                  frozen_clock):
    info = refuse_the_opening_twice(receiver, platform, make_case, frozen_clock)
    frozen_clock.move(minutes=6)  # past the 5 min retry and its jitter
    webhooks.deliver_due()
    opened = [a for a in receiver.arrivals if a.type == "case.opened"]
    assert [a.status for a in opened] == [500, 500, 204]
    assert len({a.webhook_id for a in opened}) == 1
    assert types(receiver.delivered(info.id)).count("case.opened") == 1


def test_the_events_held_back_follow_in_order_once_the_refused_one_arrives(receiver, platform, make_case,
                                                                           frozen_clock):
    info = refuse_the_opening_twice(receiver, platform, make_case, frozen_clock)
    frozen_clock.move(minutes=6)
    webhooks.deliver_due()
    assert types(receiver.delivered(info.id)) == SETTLED_CASE


def test_after_retries_nothing_is_lost_and_nothing_duplicated(receiver, platform, make_case, frozen_clock):
    info = refuse_the_opening_twice(receiver, platform, make_case, frozen_clock)
    frozen_clock.move(minutes=6)
    webhooks.deliver_due()
    delivered_ids = [a.webhook_id for a in receiver.delivered(info.id)]
    assert len(delivered_ids) == len(set(delivered_ids))
    assert sorted(delivered_ids) == sorted(outbox_ids(info.id))
    states = db.session.scalars(select(WebhookDelivery.state).where(WebhookDelivery.case_id == info.id))
    assert set(states) == {"delivered"}


def test_a_failing_case_does_not_hold_back_another_case(receiver, platform, make_case, frozen_clock):
    failing = make_case(platform=platform)
    receiver.refuse(lambda a: a.case_id == failing.id)
    settle_and_close(failing, platform)
    healthy = make_case(platform=platform)
    settle_and_close(healthy, platform)
    webhooks.deliver_due()
    assert types(receiver.delivered(healthy.id)) == SETTLED_CASE
    assert types([a for a in receiver.arrivals if a.case_id == failing.id]) == ["case.opened"]


def test_a_redirect_is_not_followed_to_its_target(receiver, make_platform, make_case, frozen_clock):
    platform = make_platform(webhook_url=receiver.url.replace("/hooks", "/moved"))
    receiver.secret = platform.webhook_secret
    make_case(platform=platform)
    webhooks.deliver_due()
    assert receiver.paths == ["/moved"]
    db.session.rollback()
    assert db.session.scalar(select(WebhookDelivery.last_status)) == 302


# ---- the workers ----------------------------------------------------------------------------------------


def test_the_deliver_webhooks_command_delivers_what_is_due_once(receiver, platform, make_case, frozen_clock,
                                                                runner):
    info = make_case(platform=platform)
    settle_and_close(info, platform)
    result = runner.invoke(args=["mediation", "deliver-webhooks", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "6 attempted"
    assert types(receiver.delivered(info.id)) == SETTLED_CASE


@contextlib.contextmanager
def idle_deliverer(app) -> Iterator[None]:
    """The background deliverer in a thread, idle for far longer than any wait here: only a wake-up, or its
    own short waits after delivering, can make it deliver in time. Stopped (and checked stopped) after."""
    stop = threading.Event()
    worker = threading.Thread(target=webhooks.run_forever, args=(app, stop), kwargs={"idle_seconds": 600},
                              daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        webhooks.wake.set()
        worker.join(WAIT)
    assert not worker.is_alive()


def test_the_background_deliverer_is_woken_by_a_commit(receiver, platform, make_case, app, frozen_clock):
    with idle_deliverer(app):
        info = make_case(platform=platform)
        assert receiver.wait_for_delivered(1)
    assert types(receiver.delivered(info.id)) == ["case.opened"]


def test_after_delivering_the_background_deliverer_looks_again_within_moments(receiver, platform, make_case, app,
                                                                              frozen_clock):
    with idle_deliverer(app):
        make_case(platform=platform)
        assert receiver.wait_for_delivered(1)
        deadline = time.monotonic() + WAIT
        while db.session.scalar(select(WebhookDelivery.state)) != "delivered" and time.monotonic() < deadline:
            db.session.rollback()  # the arrival goes on record just after the receiver answered
            time.sleep(0.01)
        # Due again by another process's commit (as an admin's redeliver there): no wake-up reaches this one.
        with db.engine.begin() as connection:
            connection.execute(update(WebhookDelivery).values(state="pending", next_attempt_at=clock.now()))
        assert receiver.wait_for_delivered(2)  # within WAIT, not the 600 s an idle worker waits
