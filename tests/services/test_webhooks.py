"""The webhook deliverer at service level: signatures, the retry schedule, the attempt log, ordering,
leases and the outbox's transaction. HTTP goes through a real `requests.Session` whose transport is a
scripted adapter, so nothing leaves the process and every request the deliverer made is on record.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from requests.adapters import BaseAdapter
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from mediation.extensions import db
from mediation.models import DeliveryAttempt, WebhookDelivery, WebhookMessage
from mediation.services import events, proposals, webhooks
from tests.conftest import money

HOOK_URL = "http://platform.test/hooks"
THREE_DAYS = timedelta(days=3).total_seconds()


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted status (then `default`); keeps every request."""

    def __init__(self, *statuses: int | type[Exception], default: int = 204, headers: dict | None = None):
        super().__init__()
        self.script, self.default, self.headers = list(statuses), default, headers or {}
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        answer = self.script.pop(0) if self.script else self.default
        if isinstance(answer, type):
            raise answer("scripted failure")
        response = requests.Response()
        response.status_code, response.url, response.request = answer, request.url, request
        response.headers.update(self.headers)
        response.raw = io.BytesIO(b"scripted answer")
        return response

    def close(self):
        pass

    def sent(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests]


def session_with(adapter: ScriptedAdapter) -> requests.Session:
    http = requests.Session()
    http.mount("http://", adapter)
    return http


@pytest.fixture
def platform(make_platform):
    return make_platform(webhook_url=HOOK_URL)


def deliveries() -> list[WebhookDelivery]:
    """As the database has them now: the deliverer writes through connections of its own."""
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)
                                   .execution_options(populate_existing=True)))


def attempts_of(delivery: WebhookDelivery) -> list[DeliveryAttempt]:
    return list(db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
                                   .order_by(DeliveryAttempt.id)))


def retry_until_settled(http: requests.Session, frozen_clock) -> None:
    """Deliver, then move the clock to each scheduled retry, until the first delivery is settled."""
    webhooks.deliver_due(http)
    while (first := deliveries()[0]).state == "pending":
        frozen_clock.move(seconds=(first.next_attempt_at - frozen_clock.at).total_seconds())
        assert webhooks.deliver_due(http) >= 1


def propose(case, refund: str = "40.00", release: str = "60.00"):
    return proposals.create_proposal(case.actor("seller"), case.id, buyer_refund=money(refund),
                                     seller_release=money(release))


# ---- the signature --------------------------------------------------------------------------------


def test_the_signature_is_v1_and_the_base64_hmac_sha256_of_id_timestamp_and_body():
    key = b"0123456789abcdef0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    expected = hmac.new(key, b'msg_1.1767225600.{"a":1}', hashlib.sha256).digest()
    signature = webhooks.sign(secret, "msg_1", 1767225600, '{"a":1}')
    assert signature == "v1," + base64.b64encode(expected).decode()


def test_the_signature_matches_the_standard_webhooks_reference_signer():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert (webhooks.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", int(at.timestamp()), '{"test": 2432232314}')
            == Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, '{"test": 2432232314}'))


def test_a_sent_webhook_verifies_with_the_standard_webhooks_library(platform, make_case, frozen_clock):
    info = make_case(platform=platform)
    adapter = ScriptedAdapter()
    webhooks.deliver_due(session_with(adapter))
    [request] = adapter.requests
    payload = Webhook(platform.webhook_secret).verify(request.body, dict(request.headers))
    assert (payload["type"], payload["data"]["case"]["id"]) == ("case.opened", info.id)


def test_a_body_with_chinese_text_verifies_byte_for_byte(platform, make_case, frozen_clock):
    seller = {"external_id": "s-9", "name": "沈卖家", "email": None, "locale": "zh-CN"}
    make_case(platform=platform, seller=seller)
    adapter = ScriptedAdapter()
    webhooks.deliver_due(session_with(adapter))
    [request] = adapter.requests
    payload = Webhook(platform.webhook_secret).verify(request.body, dict(request.headers))
    assert payload["data"]["case"]["seller"]["name"] == "沈卖家"


def test_the_headers_carry_the_webhook_id_of_the_outbox_message(platform, make_case, frozen_clock):
    make_case(platform=platform)
    adapter = ScriptedAdapter()
    webhooks.deliver_due(session_with(adapter))
    [message] = db.session.scalars(select(WebhookMessage))
    assert adapter.requests[0].headers["webhook-id"] == message.msg_id


# ---- the retry schedule -----------------------------------------------------------------------------


def test_the_first_attempt_is_made_at_once(platform, make_case, frozen_clock):
    make_case(platform=platform)
    adapter = ScriptedAdapter()
    assert webhooks.deliver_due(session_with(adapter)) == 1
    assert deliveries()[0].delivered_at == frozen_clock.at


def test_retries_follow_the_schedule_and_the_jitter_only_ever_delays(platform, make_case, frozen_clock):
    make_case(platform=platform)
    retry_until_settled(session_with(ScriptedAdapter(default=500)), frozen_clock)
    times = [a.attempted_at for a in attempts_of(deliveries()[0])]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:], strict=False)]
    assert len(gaps) == len(webhooks.RETRY_DELAYS)
    for gap, scheduled in zip(gaps, webhooks.RETRY_DELAYS, strict=True):
        assert scheduled <= gap <= scheduled * 1.1 + 0.001


def test_the_schedule_is_at_once_5s_5min_30min_2h_5h_10h_14h_20h_24h():
    assert webhooks.RETRY_DELAYS == [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600,
                                     20 * 3600, 24 * 3600]
    assert webhooks.MAX_ATTEMPTS == 10


@pytest.mark.parametrize("pick", [min, max], ids=["least-jitter", "most-jitter"])
def test_the_retries_span_at_least_three_days_whatever_the_jitter(monkeypatch, pick):
    monkeypatch.setattr(webhooks.random, "uniform", lambda a, b: pick(a, b))
    span = sum(webhooks.retry_delay(failures) for failures in range(1, webhooks.MAX_ATTEMPTS))
    assert THREE_DAYS <= span <= THREE_DAYS * 1.2


def test_a_delivery_is_failed_after_its_tenth_failed_attempt(platform, make_case, frozen_clock):
    make_case(platform=platform)
    retry_until_settled(session_with(ScriptedAdapter(default=500)), frozen_clock)
    delivery = deliveries()[0]
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 10, 500)


def test_the_failed_attempts_of_one_delivery_span_at_least_three_days(platform, make_case, frozen_clock):
    make_case(platform=platform)
    retry_until_settled(session_with(ScriptedAdapter(default=500)), frozen_clock)
    times = [a.attempted_at for a in attempts_of(deliveries()[0])]
    assert (times[-1] - times[0]).total_seconds() >= THREE_DAYS


def test_a_failed_delivery_is_not_tried_again(platform, make_case, frozen_clock):
    make_case(platform=platform)
    adapter = ScriptedAdapter(default=500)
    retry_until_settled(session_with(adapter), frozen_clock)
    frozen_clock.move(days=30)
    assert webhooks.deliver_due(session_with(adapter)) == 0
    assert len(adapter.requests) == webhooks.MAX_ATTEMPTS


def test_a_retry_is_not_made_before_its_time(platform, make_case, frozen_clock):
    make_case(platform=platform)
    adapter = ScriptedAdapter(500)
    webhooks.deliver_due(session_with(adapter))
    frozen_clock.move(seconds=4)
    assert webhooks.deliver_due(session_with(adapter)) == 0
    assert len(adapter.requests) == 1


# ---- what counts as an attempt, and what is kept of it ------------------------------------------


def test_every_attempt_is_recorded_in_webhook_attempts(platform, make_case, frozen_clock):
    make_case(platform=platform)
    retry_until_settled(session_with(ScriptedAdapter(500, 503)), frozen_clock)
    attempts = attempts_of(deliveries()[0])
    assert [a.status_code for a in attempts] == [500, 503, 204]
    assert [a.error is None for a in attempts] == [False, False, True]


def test_a_redirect_counts_as_a_failure(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(302, headers={"Location": "http://platform.test/new"})))
    delivery = deliveries()[0]
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 302)


def test_a_redirect_is_not_followed(platform, make_case, frozen_clock):
    make_case(platform=platform)
    adapter = ScriptedAdapter(307, headers={"Location": "http://platform.test/new"})
    webhooks.deliver_due(session_with(adapter))
    assert [r.url for r in adapter.requests] == [HOOK_URL]


def test_a_failed_attempt_keeps_the_status_and_the_start_of_the_answer(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(500)))
    [attempt] = attempts_of(deliveries()[0])
    assert attempt.error == "HTTP 500: scripted answer"


def test_a_connection_error_counts_as_a_failed_attempt_without_a_status(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(requests.ConnectionError)))
    [attempt] = attempts_of(deliveries()[0])
    assert attempt.status_code is None and attempt.error.startswith("ConnectionError")


def test_a_late_failure_does_not_undo_an_arrival(platform, make_case, frozen_clock):
    make_case(platform=platform)
    [item] = webhooks.claim_due()
    webhooks.record_result(item, 200, None, 5)
    webhooks.record_result(item, 500, "HTTP 500", 5)  # a second worker whose lease had lapsed
    delivery = deliveries()[0]
    assert (delivery.state, delivery.last_status) == ("delivered", 200)
    assert [a.status_code for a in attempts_of(delivery)] == [200, 500]


# ---- leases -------------------------------------------------------------------------------------------


def test_a_claimed_delivery_is_not_claimed_again_while_its_lease_holds(platform, make_case, frozen_clock):
    make_case(platform=platform)
    assert len(webhooks.claim_due()) == 1
    frozen_clock.move(seconds=59)
    assert webhooks.claim_due() == []


def test_a_delivery_whose_lease_lapsed_is_claimed_again_with_the_same_webhook_id(platform, make_case,
                                                                                  frozen_clock):
    make_case(platform=platform)
    [first] = webhooks.claim_due()  # the worker that claimed it died before sending
    frozen_clock.move(seconds=61)
    [again] = webhooks.claim_due()
    assert (again.delivery_id, again.msg_id, again.body) == (first.delivery_id, first.msg_id, first.body)


# ---- order --------------------------------------------------------------------------------------------


def test_one_pass_delivers_a_case_s_queued_events_in_order(platform, make_case, frozen_clock):
    info = make_case(platform=platform)
    proposals.accept_proposal(info.actor("buyer"), info.id, propose(info).id)
    adapter = ScriptedAdapter()
    assert webhooks.deliver_due(session_with(adapter)) == 5
    assert [p["type"] for p in adapter.sent()] == [
        "case.opened", "proposal.created", "proposal.accepted", "case.settled", "case.resolved"]


def test_a_later_event_of_a_case_waits_while_an_earlier_one_is_failing(platform, make_case, frozen_clock):
    info = make_case(platform=platform)
    propose(info)
    adapter = ScriptedAdapter(default=500)
    webhooks.deliver_due(session_with(adapter))
    frozen_clock.move(minutes=10)
    webhooks.deliver_due(session_with(adapter))
    assert [p["type"] for p in adapter.sent()] == ["case.opened", "case.opened"]
    assert deliveries()[1].attempts == 0


# ---- the outbox and its transaction -------------------------------------------------------------


def test_an_event_of_a_command_that_rolled_back_writes_no_outbox_row(platform, make_case, frozen_clock,
                                                                      monkeypatch):
    info = make_case(platform=platform)
    proposal = propose(info)

    def broken_outcome(case):  # fails after proposal.accepted and case.settled were recorded
        raise RuntimeError("disk full")

    monkeypatch.setattr(proposals, "outcome_payload", broken_outcome)
    with pytest.raises(RuntimeError):
        proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    assert [m.type for m in db.session.scalars(select(WebhookMessage).order_by(WebhookMessage.id))] == [
        "case.opened", "proposal.created"]
    assert len(deliveries()) == 2


def test_a_command_that_rolled_back_does_not_wake_the_deliverer(platform, make_case, frozen_clock,
                                                                 monkeypatch):
    info = make_case(platform=platform)
    proposal = propose(info)
    woken: list[bool] = []
    monkeypatch.setattr(events, "_outbox_listeners", [lambda: woken.append(True)])
    monkeypatch.setattr(proposals, "outcome_payload", lambda case: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    assert woken == []


def test_a_committed_event_wakes_the_deliverer(platform, make_case, frozen_clock, monkeypatch):
    info = make_case(platform=platform)
    woken: list[bool] = []
    monkeypatch.setattr(events, "_outbox_listeners", [lambda: woken.append(True)])
    propose(info)
    assert woken == [True]


def test_every_retry_sends_the_same_bytes_and_webhook_id(platform, make_case, frozen_clock):
    info = make_case(platform=platform)
    adapter = ScriptedAdapter(500, 500)
    http = session_with(adapter)
    webhooks.deliver_due(http)
    propose(info)  # the case changes between the attempts
    frozen_clock.move(seconds=6)
    webhooks.deliver_due(http)
    frozen_clock.move(minutes=6)
    webhooks.deliver_due(http)
    opened = [r for r in adapter.requests if json.loads(r.body)["type"] == "case.opened"]
    assert len(opened) == 3
    assert len({r.body for r in opened}) == 1
    assert len({r.headers["webhook-id"] for r in opened}) == 1


def test_the_body_shows_the_case_as_it_was_when_the_event_was_written(platform, make_case, frozen_clock):
    info = make_case(platform=platform)
    adapter = ScriptedAdapter(500)
    http = session_with(adapter)
    webhooks.deliver_due(http)
    propose(info)
    frozen_clock.move(seconds=6)
    webhooks.deliver_due(http)
    assert [(p["type"], p["data"]["case"]["state"]) for p in adapter.sent()] == [
        ("case.opened", "open"), ("case.opened", "open"), ("proposal.created", "negotiation")]


def test_a_disabled_endpoints_pending_deliveries_wait_until_it_is_enabled_again(make_platform, make_case):
    from mediation.models import WebhookEndpoint

    platform = make_platform(webhook_url="https://platform.example/hooks")
    make_case(platform=platform)
    endpoint = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.platform_id == platform.id))
    endpoint.active = False
    db.session.commit()
    assert webhooks.claim_due() == []
    endpoint.active = True
    db.session.commit()
    assert len(webhooks.claim_due()) == 1
