"""Admin commands and reads at service level: only admins, input rules, and what each change does."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound, Unauthenticated
from mediation.extensions import db
from mediation.models import ApiKey, Case, CaseEvent, Platform, WebhookDelivery, WebhookEndpoint, WebhookMessage
from mediation.services import access, admin, admin_views, deadlines, messages, webhooks
from tests.admin_support import delivery_state, exhaust_retries

UNREACHABLE = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens, every attempt fails fast
DAYS = {"response_days": 3, "negotiation_days": 7, "mediation_days": 14, "appeal_days": 5, "proposal_days": 3}


@pytest.fixture
def root(make_user):
    return make_user("admin")


def escalate(info):
    messages.send_message(info.actor("seller"), info.id, "joint", "Shipped.", f"c-{info.id}")
    return deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree.")


def deliveries_of(case_id: int) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.case_id == case_id)))


# ---- only admins ----------------------------------------------------------------------------------------

COMMANDS = {
    "register_platform": lambda actor, p: admin.register_platform(actor, "Intruder"),
    "set_deadline_defaults": lambda actor, p: admin.set_deadline_defaults(actor, p.id, DAYS),
    "choose_rulebook": lambda actor, p: admin.choose_rulebook(actor, p.id, None),
    "create_api_key": lambda actor, p: admin.create_api_key(actor, p.id),
    "revoke_api_key": lambda actor, p: admin.revoke_api_key(actor, p.id, 1),
    "add_endpoint": lambda actor, p: admin.add_endpoint(actor, p.id, "https://evil.example"),
    "set_endpoint_active": lambda actor, p: admin.set_endpoint_active(actor, p.id, 1, False),
    "rotate_endpoint_secret": lambda actor, p: admin.rotate_endpoint_secret(actor, p.id, 1),
    "register_mediator": lambda actor, p: admin.register_mediator(
        actor, name="Eve", email="eve@example.com", password="a long password"),
    "set_mediator_active": lambda actor, p: admin.set_mediator_active(actor, actor.user_id, False),
    "declare_conflict": lambda actor, p: admin.declare_conflict(actor, actor.user_id, platform_id=p.id, reason="x"),
    "remove_conflict": lambda actor, p: admin.remove_conflict(actor, actor.user_id, 1),
    "redeliver": lambda actor, p: webhooks.redeliver(actor, 1),
    "platforms": lambda actor, p: admin_views.platforms(actor),
    "mediators": lambda actor, p: admin_views.mediators(actor),
    "deliveries": lambda actor, p: admin_views.deliveries(actor),
    "case_list": lambda actor, p: admin_views.case_list(actor),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_mediator_may_not_use_an_admin_command(make_user, make_platform, command):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    with pytest.raises(Forbidden):
        COMMANDS[command](make_user("mediator"), platform)


def test_a_refused_mediator_changed_nothing(make_user, make_platform):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    mediator = make_user("mediator")
    for command in COMMANDS.values():
        with pytest.raises(Forbidden):
            command(mediator, platform)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Platform.id))) == 1
    assert db.session.scalar(select(func.count(ApiKey.id))) == 1
    assert db.session.get(WebhookEndpoint, 1).secret == platform.webhook_secret


# ---- platforms, keys, endpoints -----------------------------------------------------------------------


def test_new_deadline_defaults_set_the_deadlines_of_new_cases(root, make_platform, make_case, frozen_clock):
    platform = make_platform()
    admin.set_deadline_defaults(root, platform.id, {**DAYS, "response_days": 10})
    info = make_case(platform=platform)
    assert db.session.get(Case, info.id).deadline_at == frozen_clock.at + timedelta(days=10)


@pytest.mark.parametrize("value", [0, 61, -1, None, "7", 7.0, True])
def test_a_deadline_that_is_not_1_to_60_whole_days_is_refused(root, make_platform, value):
    platform = make_platform()
    with pytest.raises(Invalid) as refused:
        admin.set_deadline_defaults(root, platform.id, {**DAYS, "response_days": 9, "negotiation_days": value})
    assert list(refused.value.errors) == ["negotiation_days"]
    db.session.expire_all()
    assert db.session.get(Platform, platform.id).response_days == 3


def test_the_chosen_rulebook_decides_new_cases(root, make_platform, make_case, make_rulebook):
    make_rulebook()  # the standard one: published first
    chosen = make_rulebook()
    platform = make_platform()
    admin.choose_rulebook(root, platform.id, chosen.rulebook_id)
    assert db.session.get(Case, make_case(platform=platform).id).rulebook_version_id == chosen.version_id


def test_a_rulebook_without_a_published_version_cannot_be_chosen(root, make_platform):
    platform = make_platform()
    with pytest.raises(Invalid) as refused:
        admin.choose_rulebook(root, platform.id, 12345)
    assert list(refused.value.errors) == ["rulebook_id"]


def test_a_new_api_key_authenticates_and_only_its_hint_is_kept(root, make_platform):
    platform = make_platform()
    issued = admin.create_api_key(root, platform.id)
    assert access.platform_from_api_key(issued.secret).platform_id == platform.id
    key = db.session.get(ApiKey, issued.id)
    assert key.hint == issued.secret[:10] and issued.secret not in (key.key_hash, key.hint)


def test_a_revoked_api_key_no_longer_authenticates(root, make_platform):
    platform = make_platform()
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.platform_id == platform.id))
    admin.revoke_api_key(root, platform.id, key_id)
    with pytest.raises(Unauthenticated):
        access.platform_from_api_key(platform.api_key)


def test_revoking_a_key_twice_keeps_the_first_revocation_time(root, make_platform, frozen_clock):
    platform = make_platform()
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.platform_id == platform.id))
    admin.revoke_api_key(root, platform.id, key_id)
    frozen_clock.move(hours=1)
    assert admin.revoke_api_key(root, platform.id, key_id).revoked_at == frozen_clock.at - timedelta(hours=1)


def test_a_key_of_another_platform_is_not_found(root, make_platform):
    mine, other = make_platform(), make_platform()
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.platform_id == other.id))
    with pytest.raises(NotFound):
        admin.revoke_api_key(root, mine.id, key_id)


def test_an_added_endpoint_receives_the_platforms_next_events(root, make_platform, make_case):
    platform = make_platform()
    issued = admin.add_endpoint(root, platform.id, "https://bazaar.example/hooks")
    assert issued.secret.startswith("whsec_")
    assert [d.endpoint_id for d in deliveries_of(make_case(platform=platform).id)] == [issued.id]


def test_a_disabled_endpoint_gets_no_deliveries_for_new_events(root, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    endpoint_id = db.session.scalar(select(WebhookEndpoint.id))
    admin.set_endpoint_active(root, platform.id, endpoint_id, False)
    assert deliveries_of(make_case(platform=platform).id) == []


def test_a_rotated_secret_replaces_the_old_one(root, make_platform):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    endpoint_id = db.session.scalar(select(WebhookEndpoint.id))
    issued = admin.rotate_endpoint_secret(root, platform.id, endpoint_id)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint_id).secret == issued.secret != platform.webhook_secret


def test_the_platform_list_counts_active_keys_and_endpoints(root, make_platform):
    platform = make_platform("Bazaar", webhook_url="https://bazaar.example/hooks")
    admin.create_api_key(root, platform.id)
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.platform_id == platform.id).order_by(ApiKey.id))
    admin.revoke_api_key(root, platform.id, key_id)
    [row] = admin_views.platforms(root)
    assert (row.platform.name, row.active_keys, row.active_endpoints) == ("Bazaar", 1, 1)


# ---- mediators and conflicts --------------------------------------------------------------------------


def test_a_mediator_with_several_bad_fields_hears_about_all_of_them(root):
    with pytest.raises(Invalid) as refused:
        admin.register_mediator(root, name="", email="nope", password="short", locale="fr", timezone="Nowhere")
    assert set(refused.value.errors) == {"name", "email", "password", "locale", "timezone"}


def test_a_new_mediator_is_a_mediator(root):
    user_id = admin.register_mediator(root, name="Mei", email="mei@example.com", password="a long password",
                                      locale="zh_Hans_CN", timezone="Asia/Shanghai")
    assert [row.user.id for row in admin_views.mediators(root)] == [user_id]


def test_an_inactive_mediator_is_never_assigned(root, make_user, make_case):
    mediator = make_user("mediator")
    admin.set_mediator_active(root, mediator.user_id, False)
    assert escalate(make_case()).mediator_id is None


def test_the_open_load_counts_mediation_and_appeal_work(root, make_user, make_mediation_case, rulebook):
    from mediation.services import rulings
    from tests.conftest import money

    info, mediator = make_mediation_case()
    appeal_mediator = make_user("mediator")
    idle = make_user("mediator")
    rulings.issue_ruling(mediator, info.id, rulings.Outcome(money("30.00"), money("70.00")),
                         "The photos show transit damage, shared.", [rulebook.clause_ids[0]])
    rulings.appeal_ruling(info.actor("buyer"), info.id, "The seller packed it badly, not the carrier.")
    loads = {row.user.id: row.open_cases for row in admin_views.mediators(root)}
    assert loads == {mediator.user_id: 1, appeal_mediator.user_id: 1, idle.user_id: 0}


def test_a_conflict_with_a_party_on_one_platform_leaves_other_platforms_cases(root, make_user, make_platform,
                                                                              make_case):
    mediator = make_user("mediator")
    here, elsewhere = make_platform(), make_platform()
    admin.declare_conflict(root, mediator.user_id, platform_id=here.id, party_external_id="s-1", reason="Cousin")
    assert escalate(make_case(platform=here)).mediator_id is None
    assert escalate(make_case(platform=elsewhere)).mediator_id == mediator.user_id


def test_a_removed_conflict_lets_the_mediator_be_assigned_again(root, make_user, make_platform, make_case):
    mediator = make_user("mediator")
    platform = make_platform()
    conflict_id = admin.declare_conflict(root, mediator.user_id, platform_id=platform.id, reason="Shareholder")
    admin.remove_conflict(root, mediator.user_id, conflict_id)
    assert escalate(make_case(platform=platform)).mediator_id == mediator.user_id


def test_a_conflict_on_an_unknown_platform_is_refused(root, make_user):
    mediator = make_user("mediator")
    with pytest.raises(Invalid) as refused:
        admin.declare_conflict(root, mediator.user_id, platform_id=999, reason="Unknown")
    assert list(refused.value.errors) == ["platform_id"]


def test_an_admin_is_not_a_mediator_to_declare_conflicts_for(root):
    with pytest.raises(NotFound):
        admin.declare_conflict(root, root.user_id, party_external_id="b-1", reason="Self")


# ---- redelivery -------------------------------------------------------------------------------------------


def failed_delivery(make_platform, make_case, frozen_clock) -> WebhookDelivery:
    platform = make_platform(webhook_url=UNREACHABLE)
    [delivery] = deliveries_of(make_case(platform=platform).id)
    exhaust_retries(delivery.id, frozen_clock)
    return delivery


def test_redelivery_puts_a_failed_delivery_back_to_pending_due_now(root, make_platform, make_case, frozen_clock):
    delivery = failed_delivery(make_platform, make_case, frozen_clock)
    assert delivery_state(delivery.id) == ("failed", webhooks.MAX_ATTEMPTS)
    webhooks.redeliver(root, delivery.id)
    again = db.session.get(WebhookDelivery, delivery.id)
    assert (again.state, again.next_attempt_at, again.message_id) == ("pending", frozen_clock.at,
                                                                      delivery.message_id)


def test_a_redelivered_delivery_keeps_its_webhook_id(root, make_platform, make_case, frozen_clock):
    delivery = failed_delivery(make_platform, make_case, frozen_clock)
    msg_id = db.session.scalar(select(WebhookMessage.msg_id))
    webhooks.redeliver(root, delivery.id)
    assert [claimed.msg_id for claimed in webhooks.claim_due()] == [msg_id]
    assert db.session.scalar(select(func.count(WebhookMessage.id))) == 1


def test_a_redelivery_that_fails_again_is_failed_again_after_one_attempt(root, make_platform, make_case,
                                                                         frozen_clock):
    delivery = failed_delivery(make_platform, make_case, frozen_clock)
    webhooks.redeliver(root, delivery.id)
    assert webhooks.deliver_due() == 1
    assert delivery_state(delivery.id) == ("failed", webhooks.MAX_ATTEMPTS + 1)


def test_redelivery_records_nothing_on_the_case(root, make_platform, make_case, frozen_clock):
    delivery = failed_delivery(make_platform, make_case, frozen_clock)
    events = db.session.scalar(select(func.count(CaseEvent.id)))
    webhooks.redeliver(root, delivery.id)
    assert db.session.scalar(select(func.count(CaseEvent.id))) == events


def test_redelivery_wakes_the_deliverer_after_its_commit(root, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    [delivery] = deliveries_of(make_case(platform=platform).id)
    webhooks.wake.clear()
    webhooks.redeliver(root, delivery.id)
    assert webhooks.wake.is_set()


def test_a_refused_redelivery_wakes_nobody(root, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    [delivery] = deliveries_of(make_case(platform=platform).id)
    admin.set_endpoint_active(root, platform.id, delivery.endpoint_id, False)
    webhooks.wake.clear()
    with pytest.raises(InvalidTransition):
        webhooks.redeliver(root, delivery.id)
    assert not webhooks.wake.is_set()


def test_redelivering_an_unknown_delivery_is_not_found(root):
    with pytest.raises(NotFound):
        webhooks.redeliver(root, 999)


# ---- the lists ----------------------------------------------------------------------------------------------


def test_the_delivery_log_pages_newest_first(root, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    for _ in range(3):
        make_case(platform=platform)
    first = admin_views.deliveries(root, limit=2)
    second = admin_views.deliveries(root, limit=2, before=first.next_before)
    ids = [row.delivery.id for row in first.rows + second.rows]
    assert ids == [3, 2, 1] and second.next_before is None


def test_the_case_list_filters_by_state_and_platform(root, make_platform, make_case):
    here, elsewhere = make_platform(), make_platform()
    wanted = make_case(platform=here)
    escalate(make_case(platform=here))
    make_case(platform=elsewhere)
    page = admin_views.case_list(root, state="open", platform_id=here.id)
    assert [case.id for case, _name in page.rows] == [wanted.id]
