"""What a receiver's answer does to its endpoint, and signing across a secret rotation: 410 Gone disables
the endpoint (nothing is dropped), 429 / 502 / 504 and Retry-After pause it, a rotated secret signs beside
the new one for the grace period the admin chose. HTTP goes through the scripted adapter of test_webhooks.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mediation.errors import Forbidden, Invalid
from mediation.extensions import db
from mediation.models import WebhookEndpoint
from mediation.services import admin, webhooks
from tests.services.test_webhooks import HOOK_URL, ScriptedAdapter, deliveries, session_with


@pytest.fixture
def platform(make_platform):
    return make_platform(webhook_url=HOOK_URL)


@pytest.fixture
def root(make_user):
    return make_user("admin")


def endpoint() -> WebhookEndpoint:
    db.session.expire_all()
    return db.session.scalar(select(WebhookEndpoint))


def signatures(request) -> list[str]:
    return request.headers["webhook-signature"].split()


# ---- 410 Gone -------------------------------------------------------------------------------------------


def test_a_410_disables_the_endpoint_and_says_why(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(410)))
    assert (endpoint().active, endpoint().disabled_reason) == (False, "gone")


def test_after_a_410_the_delivery_waits_instead_of_being_dropped(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(410)))
    frozen_clock.move(days=5)
    assert webhooks.claim_due() == []
    assert deliveries()[0].state == "pending"


def test_enabling_a_gone_endpoint_again_sends_what_waited(platform, make_case, frozen_clock, root):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(410)))
    admin.set_endpoint_active(root, platform.id, endpoint().id, True)
    assert endpoint().disabled_reason is None
    assert webhooks.deliver_due(session_with(ScriptedAdapter())) == 1
    assert deliveries()[0].state == "delivered"


# ---- slowing down ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 504])
def test_a_slow_down_answer_pauses_the_whole_endpoint_until_the_retry(platform, make_case, frozen_clock, status):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(status)))
    make_case(platform=platform)  # another case's event for the same endpoint
    assert webhooks.claim_due() == []
    assert endpoint().paused_until == deliveries()[0].next_attempt_at


def test_a_plain_server_error_delays_only_its_own_case(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(500)))
    other = make_case(platform=platform)
    [claimed] = webhooks.claim_due()
    assert endpoint().paused_until is None
    assert claimed.delivery_id == deliveries()[1].id and deliveries()[1].case_id == other.id


def test_retry_after_in_seconds_is_honoured(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(429, headers={"Retry-After": "600"})))
    assert deliveries()[0].next_attempt_at >= frozen_clock.at + timedelta(seconds=600)
    frozen_clock.move(seconds=599)
    assert webhooks.claim_due() == []
    frozen_clock.move(seconds=61)
    assert len(webhooks.claim_due()) == 1


def test_retry_after_never_brings_a_retry_forward(platform, make_case, frozen_clock):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(503, headers={"Retry-After": "0"})))
    assert deliveries()[0].next_attempt_at >= frozen_clock.at + timedelta(seconds=webhooks.RETRY_DELAYS[0])


def test_retry_after_as_an_http_date_is_read():
    later = datetime.now(UTC) + timedelta(hours=1)
    assert webhooks.retry_after_seconds(format_datetime(later, usegmt=True)) == pytest.approx(3600, abs=5)


@pytest.mark.parametrize("value", [None, "", "soon", "-5 minutes"])
def test_an_unreadable_retry_after_is_ignored(value):
    assert webhooks.retry_after_seconds(value) is None


def test_a_retry_after_beyond_a_day_is_held_to_a_day():
    assert webhooks.retry_after_seconds(str(30 * 86400)) == webhooks.MAX_RETRY_AFTER == 86400


def test_enabling_an_endpoint_lifts_its_pause(platform, make_case, frozen_clock, root):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(429, headers={"Retry-After": "3600"})))
    admin.set_endpoint_active(root, platform.id, endpoint().id, True)
    assert endpoint().paused_until is None


# ---- secret rotation ------------------------------------------------------------------------------------


def test_during_the_grace_period_both_secrets_sign_and_each_verifies(platform, make_case, frozen_clock, root):
    issued = admin.rotate_endpoint_secret(root, platform.id, endpoint().id, grace_hours=24)
    make_case(platform=platform)
    adapter = ScriptedAdapter()
    webhooks.deliver_due(session_with(adapter))
    [request] = adapter.requests
    assert len(signatures(request)) == 2
    for secret in (issued.secret, platform.webhook_secret):  # a receiver with either secret accepts it
        assert Webhook(secret).verify(request.body, dict(request.headers))["type"] == "case.opened"


def test_after_the_grace_period_only_the_new_secret_signs(platform, make_case, frozen_clock, root):
    issued = admin.rotate_endpoint_secret(root, platform.id, endpoint().id, grace_hours=24)
    frozen_clock.move(hours=24)
    make_case(platform=platform)
    adapter = ScriptedAdapter()
    webhooks.deliver_due(session_with(adapter))
    [request] = adapter.requests
    assert len(signatures(request)) == 1
    Webhook(issued.secret).verify(request.body, dict(request.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(platform.webhook_secret).verify(request.body, dict(request.headers))


def test_a_rotation_without_grace_stops_the_old_secret_at_once(platform, make_case, frozen_clock, root):
    admin.rotate_endpoint_secret(root, platform.id, endpoint().id, grace_hours=0)
    make_case(platform=platform)
    adapter = ScriptedAdapter()
    webhooks.deliver_due(session_with(adapter))
    with pytest.raises(WebhookVerificationError):
        Webhook(platform.webhook_secret).verify(adapter.requests[0].body, dict(adapter.requests[0].headers))


def test_a_grace_period_not_offered_is_refused_and_changes_nothing(platform, root):
    before = endpoint().secret
    with pytest.raises(Invalid) as refused:
        admin.rotate_endpoint_secret(root, platform.id, endpoint().id, grace_hours=5)
    assert "grace_hours" in refused.value.errors
    assert (endpoint().secret, endpoint().previous_secret) == (before, None)


def test_a_mediator_may_not_rotate_a_secret(platform, make_user):
    before = endpoint().secret
    with pytest.raises(Forbidden):
        admin.rotate_endpoint_secret(make_user("mediator"), platform.id, endpoint().id, grace_hours=24)
    assert endpoint().secret == before


# ---- the admin page -------------------------------------------------------------------------------------


def test_the_platform_page_says_an_endpoint_was_disabled_by_a_410(platform, make_case, frozen_clock, root,
                                                                   client, staff_login):
    make_case(platform=platform)
    webhooks.deliver_due(session_with(ScriptedAdapter(410)))
    staff_login(root)
    page = client.get(f"/admin/platforms/{platform.id}").get_data(as_text=True)
    assert "the receiver answered 410 Gone" in page


def test_rotating_from_the_page_with_grace_keeps_the_old_secret_signing(platform, root, client, staff_login):
    headers = staff_login(root)
    old = endpoint().secret
    response = client.post(f"/admin/platforms/{platform.id}/endpoints/{endpoint().id}/rotate",
                           data={"grace_hours": "72", "csrf_token": headers["X-CSRFToken"]})
    assert response.status_code == 200
    assert endpoint().previous_secret == old and endpoint().secret in response.get_data(as_text=True)
