"""Admin pages for platforms: register, deadlines, rulebook, API keys, webhook endpoints."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import ApiKey, Platform, Rulebook, RulebookVersion, WebhookEndpoint
from mediation.services import webhooks
from tests.admin_support import OUTSIDERS, become, post, refused, running_receiver, sign_in_admin

DAYS = {"response_days": "3", "negotiation_days": "7", "mediation_days": "14", "appeal_days": "5",
        "proposal_days": "3"}


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


def shown_secrets(page) -> list[str]:
    return re.findall(r'<code class="secret">([^<]+)</code>', page.data.decode())


def platform_row(platform_id: int) -> Platform:
    db.session.expire_all()
    return db.session.get(Platform, platform_id)


def endpoint_of(platform_id: int) -> WebhookEndpoint:
    db.session.expire_all()
    return db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.platform_id == platform_id)).one()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---- the list and registering ------------------------------------------------------------------------


def test_the_platform_list_shows_every_platform(client, make_user, make_platform):
    make_platform("Bazaar One")
    sign_in_admin(client, make_user)
    page = client.get("/admin/platforms")
    assert page.status_code == 200 and b"Bazaar One" in page.data


def test_the_site_navigation_offers_administration_to_an_admin(client, make_user):
    sign_in_admin(client, make_user)
    assert b'href="/admin/platforms">Administration' in client.get("/").data


def test_the_site_navigation_offers_no_administration_to_a_mediator(client, make_user):
    from tests.admin_support import sign_in

    make_user("mediator", email="m@example.com")
    sign_in(client, "m@example.com")
    assert b"Administration" not in client.get("/").data


def test_registering_a_platform_shows_its_api_key_and_webhook_secret_once(client, make_user):
    token = sign_in_admin(client, make_user)
    page = post(client, "/admin/platforms", token, name="Bazaar", webhook_url="https://bazaar.example/hooks")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    api_key, secret = shown_secrets(page)
    platform_id = db.session.scalar(select(Platform.id).where(Platform.name == "Bazaar"))
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {api_key}"}).status_code == 200
    assert endpoint_of(platform_id).secret == secret
    later = client.get(f"/admin/platforms/{platform_id}").data.decode()
    assert api_key not in later and secret not in later and api_key[:10] in later


@pytest.mark.parametrize("data, field_message", [
    ({"name": "  ", "webhook_url": ""}, b"Required."),
    ({"name": "Bazaar", "webhook_url": "ftp://bazaar.example"}, b"Enter an http:// or https:// URL."),
    ({"name": "Bazaar", "webhook_url": "https://"}, b"Enter an http:// or https:// URL."),
])
def test_registering_with_bad_input_reshows_the_form_and_registers_nothing(client, make_user, data, field_message):
    token = sign_in_admin(client, make_user)
    page = post(client, "/admin/platforms", token, **data)
    assert page.status_code == 422 and field_message in page.data
    assert count(Platform) == 0


def test_registering_a_taken_name_is_refused_on_the_form(client, make_user, make_platform):
    make_platform("Bazaar")
    token = sign_in_admin(client, make_user)
    page = post(client, "/admin/platforms", token, name="Bazaar")
    assert page.status_code == 422 and b"Already taken." in page.data
    assert count(Platform) == 1


def test_a_form_without_the_csrf_token_is_refused(client, make_user):
    sign_in_admin(client, make_user)
    assert client.post("/admin/platforms", data={"name": "Bazaar"}).status_code == 400
    assert count(Platform) == 0


# ---- deadlines and rulebook ---------------------------------------------------------------------------


def test_the_deadline_defaults_are_saved(client, make_user, make_platform):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    response = post(client, f"/admin/platforms/{platform.id}/deadlines", token, **{**DAYS, "response_days": "10"})
    assert response.status_code == 302
    assert platform_row(platform.id).response_days == 10
    assert b"The deadlines are saved" in client.get(response.headers["Location"]).data


@pytest.mark.parametrize("days", ["0", "61", "", "seven"])
def test_a_deadline_out_of_range_reshows_the_form_and_changes_nothing(client, make_user, make_platform, days):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/platforms/{platform.id}/deadlines", token, **{**DAYS, "negotiation_days": days,
                                                                            "response_days": "9"})
    assert page.status_code == 422 and b'class="error"' in page.data
    row = platform_row(platform.id)
    assert (row.response_days, row.negotiation_days) == (3, 7)


def test_the_rulebook_select_offers_published_rulebooks_only(client, make_user, make_platform, make_rulebook):
    published = make_rulebook(slug="published-rules")
    db.session.add(Rulebook(slug="draft-rules", title={"en": "Draft"}, versions=[RulebookVersion(number=1)]))
    db.session.commit()
    platform = make_platform()
    sign_in_admin(client, make_user)
    page = client.get(f"/admin/platforms/{platform.id}").data
    assert f'value="{published.rulebook_id}"'.encode() in page and b"draft-rules" not in page


def test_choosing_a_rulebook_is_saved_and_standard_clears_it(client, make_user, make_platform, make_rulebook):
    rules = make_rulebook()
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    assert post(client, f"/admin/platforms/{platform.id}/rulebook", token,
                rulebook_id=str(rules.rulebook_id)).status_code == 302
    assert platform_row(platform.id).rulebook_id == rules.rulebook_id
    post(client, f"/admin/platforms/{platform.id}/rulebook", token, rulebook_id="")
    assert platform_row(platform.id).rulebook_id is None


def test_an_unknown_rulebook_is_refused_on_the_form(client, make_user, make_platform):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/platforms/{platform.id}/rulebook", token, rulebook_id="999")
    assert page.status_code == 422 and b"Not a published rulebook." in page.data
    assert platform_row(platform.id).rulebook_id is None


def test_an_unknown_platform_is_a_404(client, make_user):
    sign_in_admin(client, make_user)
    assert client.get("/admin/platforms/999").status_code == 404


# ---- API keys ------------------------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_and_works(client, make_user, make_platform):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/platforms/{platform.id}/keys", token)
    [plain] = shown_secrets(page)
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert plain not in client.get(f"/admin/platforms/{platform.id}").data.decode()


def test_a_revoked_api_key_gets_401_from_the_api(client, make_user, make_platform):
    platform = make_platform()
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.platform_id == platform.id))
    token = sign_in_admin(client, make_user)
    response = post(client, f"/admin/platforms/{platform.id}/keys/{key_id}/revoke", token)
    assert response.status_code == 302
    assert client.get("/api/v1/cases", headers=platform.headers).status_code == 401


def test_revoking_another_platforms_key_is_a_404(client, make_user, make_platform):
    mine, other = make_platform(), make_platform()
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.platform_id == other.id))
    token = sign_in_admin(client, make_user)
    assert post(client, f"/admin/platforms/{mine.id}/keys/{key_id}/revoke", token).status_code == 404
    assert client.get("/api/v1/cases", headers=other.headers).status_code == 200


# ---- webhook endpoints ----------------------------------------------------------------------------------


def test_adding_an_endpoint_shows_its_secret_once(client, make_user, make_platform):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/platforms/{platform.id}/endpoints", token, url="https://bazaar.example/hooks")
    [secret] = shown_secrets(page)
    endpoint = endpoint_of(platform.id)
    assert (endpoint.url, endpoint.secret, endpoint.active) == ("https://bazaar.example/hooks", secret, True)
    assert secret not in client.get(f"/admin/platforms/{platform.id}").data.decode()


@pytest.mark.parametrize("url", ["", "bazaar.example/hooks", "javascript:alert(1)"])
def test_an_endpoint_with_a_bad_url_is_refused_on_the_form(client, make_user, make_platform, url):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/platforms/{platform.id}/endpoints", token, url=url)
    assert page.status_code == 422 and b"Enter an http:// or https:// URL." in page.data
    assert count(WebhookEndpoint) == 0


def test_a_disabled_endpoint_gets_no_new_events_until_enabled(client, make_user, make_platform, make_case):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    endpoint_id = endpoint_of(platform.id).id
    token = sign_in_admin(client, make_user)
    post(client, f"/admin/platforms/{platform.id}/endpoints/{endpoint_id}/disable", token)
    assert endpoint_of(platform.id).active is False
    post(client, f"/admin/platforms/{platform.id}/endpoints/{endpoint_id}/enable", token)
    assert endpoint_of(platform.id).active is True


def test_the_page_explains_the_grace_period_of_a_rotation(client, make_user, make_platform):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    sign_in_admin(client, make_user)
    assert b"the old one signs too" in client.get(f"/admin/platforms/{platform.id}").data


def test_a_secret_rotated_without_grace_alone_signs_the_next_delivery(client, make_user, make_platform, make_case,
                                                                      receiver):
    platform = make_platform(webhook_url=receiver.url)
    endpoint_id = endpoint_of(platform.id).id
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/platforms/{platform.id}/endpoints/{endpoint_id}/rotate", token, grace_hours="0")
    [new_secret] = shown_secrets(page)
    assert endpoint_of(platform.id).secret == new_secret != platform.webhook_secret
    make_case(platform=platform)
    webhooks.deliver_due()
    assert [p["type"] for p in receiver.verified_with(new_secret)] == ["case.opened"]
    assert receiver.verified_with(platform.webhook_secret) == []


# ---- who may not ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_are_refused_every_platform_page_and_action(client, make_user, make_platform, make_case,
                                                              login_party, who):
    platform = make_platform(webhook_url="https://bazaar.example/hooks")
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.platform_id == platform.id))
    token = become(who, client, make_user, make_case, login_party)
    endpoint = endpoint_of(platform.id)
    before = (endpoint.secret, endpoint.active, count(ApiKey), count(Platform), count(WebhookEndpoint))
    base = f"/admin/platforms/{platform.id}"
    for url in ("/admin/platforms", base):
        assert refused(who, client.get(url)), url
    for url, data in [("/admin/platforms", {"name": "Intruder"}), (f"{base}/deadlines", DAYS),
                      (f"{base}/rulebook", {"rulebook_id": ""}), (f"{base}/keys", {}),
                      (f"{base}/keys/{key_id}/revoke", {}), (f"{base}/endpoints", {"url": "https://evil.example"}),
                      (f"{base}/endpoints/{endpoint.id}/disable", {}), (f"{base}/endpoints/{endpoint.id}/enable", {}),
                      (f"{base}/endpoints/{endpoint.id}/rotate", {})]:
        assert refused(who, post(client, url, token, **data)), url
    endpoint = endpoint_of(platform.id)
    assert (endpoint.secret, endpoint.active, count(ApiKey), count(Platform), count(WebhookEndpoint)) == before
    assert client.get("/api/v1/cases", headers=platform.headers).status_code == 200

