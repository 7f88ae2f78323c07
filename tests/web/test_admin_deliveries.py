"""Admin pages for the webhook delivery log: the list, a delivery with its attempts, manual redelivery."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import CaseEvent, WebhookDelivery, WebhookEndpoint, WebhookMessage
from mediation.services import webhooks
from tests.admin_support import (
    OUTSIDERS,
    become,
    delivery_state,
    exhaust_retries,
    post,
    refused,
    running_receiver,
    sign_in_admin,
)


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


def delivery_ids(case_id: int | None = None) -> list[int]:
    query = select(WebhookDelivery.id).order_by(WebhookDelivery.id)
    if case_id is not None:
        query = query.where(WebhookDelivery.case_id == case_id)
    return list(db.session.scalars(query))


def listed(page) -> list[int]:
    """The delivery ids in the list, in order."""
    import re

    return [int(n) for n in re.findall(r'href="/admin/deliveries/(\d+)"', page.data.decode())]


def test_the_log_lists_deliveries_newest_first(client, make_user, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    make_case(platform=platform)
    make_case(platform=platform)
    sign_in_admin(client, make_user)
    page = client.get("/admin/deliveries")
    assert page.status_code == 200 and b"case.opened" in page.data
    assert listed(page) == sorted(delivery_ids(), reverse=True)


def test_the_log_pages_back_with_before(client, make_user, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    for _ in range(3):
        make_case(platform=platform)
    first, second, third = delivery_ids()
    sign_in_admin(client, make_user)
    assert listed(client.get(f"/admin/deliveries?before={third}")) == [second, first]


def test_the_log_filters_by_platform(client, make_user, make_platform, make_case):
    one = make_platform("One", webhook_url="https://one.example/hooks")
    two = make_platform("Two", webhook_url="https://two.example/hooks")
    mine = make_case(platform=one)
    make_case(platform=two)
    sign_in_admin(client, make_user)
    assert listed(client.get(f"/admin/deliveries?platform={one.id}")) == delivery_ids(mine.id)


def test_the_log_filters_by_state(client, make_user, make_platform, make_case, receiver, frozen_clock):
    platform = make_platform(webhook_url=receiver.url)
    arrived = make_case(platform=platform)
    webhooks.deliver_due()
    waiting = make_case(platform=platform)
    sign_in_admin(client, make_user)
    assert listed(client.get("/admin/deliveries?state=delivered")) == delivery_ids(arrived.id)
    assert listed(client.get("/admin/deliveries?state=pending")) == delivery_ids(waiting.id)
    assert listed(client.get("/admin/deliveries?state=failed")) == []


def test_an_unknown_state_filter_is_answered_422(client, make_user):
    sign_in_admin(client, make_user)
    assert client.get("/admin/deliveries?state=lost").status_code == 422


def test_a_delivery_page_shows_the_message_and_every_attempt(client, make_user, make_platform, make_case, receiver,
                                                             frozen_clock):
    platform = make_platform(webhook_url=receiver.url)
    info = make_case(platform=platform)
    receiver.status = 503
    webhooks.deliver_due()
    frozen_clock.move(seconds=10)
    receiver.status = 204
    webhooks.deliver_due()
    [delivery_id] = delivery_ids(info.id)
    msg_id = db.session.scalar(select(WebhookMessage.msg_id).where(WebhookMessage.case_id == info.id))
    sign_in_admin(client, make_user)
    page = client.get(f"/admin/deliveries/{delivery_id}").data.decode()
    assert "case.opened" in page and msg_id in page and "Olivia Buyer" in page  # the body
    assert "<td>503</td>" in page and "<td>204</td>" in page and "HTTP 503" in page


def test_a_redelivered_failed_delivery_arrives_with_the_same_webhook_id(client, make_user, make_platform, make_case,
                                                                        receiver, frozen_clock):
    platform = make_platform(webhook_url=receiver.url)
    info = make_case(platform=platform)
    [delivery_id] = delivery_ids(info.id)
    receiver.status = 500
    exhaust_retries(delivery_id, frozen_clock)
    assert delivery_state(delivery_id) == ("failed", webhooks.MAX_ATTEMPTS)
    token = sign_in_admin(client, make_user)
    response = post(client, f"/admin/deliveries/{delivery_id}/redeliver", token)
    assert response.status_code == 302 and delivery_state(delivery_id)[0] == "pending"
    receiver.status = 204
    webhooks.deliver_due()
    assert delivery_state(delivery_id)[0] == "delivered"
    webhook_ids = {headers["webhook-id"] for headers, _body in receiver.received}
    assert len(receiver.received) == webhooks.MAX_ATTEMPTS + 1 and len(webhook_ids) == 1


def test_redelivery_writes_nothing_on_the_case_record(client, make_user, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    info = make_case(platform=platform)
    [delivery_id] = delivery_ids(info.id)
    events_before = db.session.scalar(select(func.count(CaseEvent.id)))
    token = sign_in_admin(client, make_user)
    post(client, f"/admin/deliveries/{delivery_id}/redeliver", token)
    assert db.session.scalar(select(func.count(CaseEvent.id))) == events_before


def test_redelivery_to_a_disabled_endpoint_is_refused_with_a_message(client, make_user, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    info = make_case(platform=platform)
    [delivery_id] = delivery_ids(info.id)
    db.session.execute(WebhookEndpoint.__table__.update().values(active=False))
    db.session.commit()
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/deliveries/{delivery_id}/redeliver", token)
    assert page.status_code == 409 and b"enable it before redelivering" in page.data


def test_an_unknown_delivery_is_a_404(client, make_user):
    token = sign_in_admin(client, make_user)
    assert client.get("/admin/deliveries/999").status_code == 404
    assert post(client, "/admin/deliveries/999/redeliver", token).status_code == 404


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_are_refused_every_delivery_page_and_redelivery(client, make_user, make_platform, make_case,
                                                                  login_party, receiver, who):
    platform = make_platform(webhook_url=receiver.url)
    info = make_case(platform=platform)
    webhooks.deliver_due()
    [delivery_id] = delivery_ids(info.id)
    token = become(who, client, make_user, make_case, login_party)
    for url in ("/admin/deliveries", f"/admin/deliveries/{delivery_id}"):
        assert refused(who, client.get(url)), url
    assert refused(who, post(client, f"/admin/deliveries/{delivery_id}/redeliver", token))
    assert delivery_state(delivery_id)[0] == "delivered"
