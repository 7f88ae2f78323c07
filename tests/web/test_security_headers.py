"""Web security headers: the Content-Security-Policy of every page (no inline script or style), framing only
by a platform's embed origins and only for its case rooms, and cookies that stay on HTTPS behind HTTPS."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from mediation.extensions import db
from mediation.models import Platform
from mediation.services import proposals
from tests.admin_support import post, sign_in_admin
from tests.conftest import money
from tests.evidence.files import evidence_url, jpeg, upload

NONE_FRAMES = "frame-ancestors 'none'"


@pytest.fixture
def app_config(request, tmp_path) -> dict:
    """The suite's settings plus those a test names with `indirect` parametrisation."""
    return {"EVIDENCE_DIR": str(tmp_path / "evidence"), **getattr(request, "param", {})}


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def embed_origins(platform_id: int) -> list[str]:
    db.session.expire_all()
    return db.session.get(Platform, platform_id).embed_origins


# ---- the headers -------------------------------------------------------------------------------------


def test_the_landing_page_allows_only_its_own_scripts_and_styles(client):
    rules = policy(client.get("/"))
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'" and rules["default-src"] == "'self'"
    assert rules["object-src"] == "'none'" and rules["base-uri"] == "'self'" and rules["form-action"] == "'self'"


def test_the_landing_page_may_not_be_framed_by_anyone(client):
    response = client.get("/")
    assert policy(response)["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def test_the_landing_page_forbids_sniffing_and_sends_no_referrer_to_other_sites(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_room_lets_the_browser_reach_the_socket_and_show_blob_thumbnails(client, make_case, login_party):
    case = make_case()
    login_party(case, "buyer")
    rules = policy(client.get(f"/cases/{case.id}"))
    assert rules["connect-src"] == "'self' ws: wss:" and rules["img-src"] == "'self' data: blob:"


def test_an_admin_page_carries_the_policy_and_may_not_be_framed(client, make_user):
    sign_in_admin(client, make_user)
    response = client.get("/admin/platforms")
    assert policy(response)["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def test_an_api_answer_carries_nosniff_and_the_policy(client, make_case):
    case = make_case()
    response = client.get(f"/api/v1/cases/{case.id}", headers=case.platform.headers)
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff" and policy(response)["default-src"] == "'self'"


def test_an_evidence_file_keeps_its_own_sandboxing_policy(client, make_case):
    case = make_case()
    evidence_id = upload(client, case, "buyer", jpeg(), "photo.jpg").get_json()["evidence"]["id"]
    response = client.get(evidence_url(case, evidence_id), headers=case.headers("buyer"))
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Referrer-Policy"] == "no-referrer"


# ---- embedding ---------------------------------------------------------------------------------------


def test_the_room_of_a_platform_without_embed_origins_may_not_be_framed(client, make_case, login_party):
    case = make_case()
    login_party(case, "buyer")
    response = client.get(f"/cases/{case.id}")
    assert policy(response)["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def test_the_room_may_be_framed_by_its_platforms_embed_origins(client, make_user, make_case, login_party):
    case = make_case()
    token = sign_in_admin(client, make_user)
    post(client, f"/admin/platforms/{case.platform.id}/embedding", token,
         embed_origins="https://shop.example\nhttps://m.shop.example:8443")
    client.post("/logout", data={"csrf_token": token})
    login_party(case, "buyer")
    response = client.get(f"/cases/{case.id}")
    assert policy(response)["frame-ancestors"] == "'self' https://shop.example https://m.shop.example:8443"
    assert "X-Frame-Options" not in response.headers


def test_other_pages_stay_unframeable_when_the_platform_has_embed_origins(client, make_case, login_party):
    case = make_case()
    db.session.get(Platform, case.platform.id).embed_origins = ["https://shop.example"]
    db.session.commit()
    login_party(case, "buyer")
    assert policy(client.get("/"))["frame-ancestors"] == "'none'"


def test_another_platforms_room_is_not_framed_by_these_origins(client, make_case, make_platform, login_party):
    framed, other = make_case(), make_case(platform=make_platform())
    db.session.get(Platform, framed.platform.id).embed_origins = ["https://shop.example"]
    db.session.commit()
    login_party(other, "buyer")
    assert policy(client.get(f"/cases/{other.id}"))["frame-ancestors"] == "'none'"


def test_an_admin_saves_embed_origins_lower_case_and_once_each(client, make_user, make_platform):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    response = post(client, f"/admin/platforms/{platform.id}/embedding", token,
                    embed_origins="https://Shop.Example\n\nhttps://shop.example  https://b.example")
    assert response.status_code == 302
    assert embed_origins(platform.id) == ["https://shop.example", "https://b.example"]


def test_the_platform_page_shows_the_saved_origins(client, make_user, make_platform):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    post(client, f"/admin/platforms/{platform.id}/embedding", token, embed_origins="https://shop.example")
    assert b"https://shop.example</textarea>" in client.get(f"/admin/platforms/{platform.id}").data


@pytest.mark.parametrize("origin", ["http://shop.example", "https://shop.example/checkout", "https://shop.example/",
                                    "https://*.shop.example", "https://shop.example;script-src", "shop.example",
                                    "https://user@shop.example", "https://shop.example?x=1"])
def test_an_origin_that_is_not_a_bare_https_origin_is_refused_on_its_field(client, make_user, make_platform,
                                                                            origin):
    platform = make_platform()
    token = sign_in_admin(client, make_user)
    post(client, f"/admin/platforms/{platform.id}/embedding", token, embed_origins="https://kept.example")
    response = post(client, f"/admin/platforms/{platform.id}/embedding", token,
                    embed_origins=f"https://fine.example\n{origin}")
    assert response.status_code == 422
    assert b'id="embed_origins-errors"' in response.data and b"Not an https origin" in response.data
    assert embed_origins(platform.id) == ["https://kept.example"]


def test_a_mediator_cannot_edit_embed_origins(client, make_user, make_platform):
    from tests.admin_support import sign_in

    platform = make_platform()
    make_user("mediator", email="m@example.com")
    token = sign_in(client, "m@example.com")
    response = post(client, f"/admin/platforms/{platform.id}/embedding", token, embed_origins="https://evil.example")
    assert response.status_code == 403 and embed_origins(platform.id) == []


# ---- cookies and the proxy ---------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://mediation.example"}], indirect=True)
def test_the_session_cookie_is_secure_with_an_https_public_url(client):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("app_config", [{"HTTPS": True}], indirect=True)
def test_the_session_cookie_is_secure_when_https_is_set(client):
    assert "Secure" in client.get("/login").headers["Set-Cookie"]


def test_the_session_cookie_is_not_secure_on_plain_http(client):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_forwarded_headers_are_ignored_unless_a_proxy_is_configured(app):
    assert not isinstance(app.wsgi_app, ProxyFix)


@pytest.mark.parametrize("app_config", [{"PROXY_FIX": 1}], indirect=True)
def test_a_configured_proxy_is_trusted_for_the_client_address_and_scheme(app):
    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_proto == 1 and app.wsgi_app.x_for == 1


# ---- no inline script or style on any page -----------------------------------------------------------


class _Inline(HTMLParser):
    """Collects what a 'self'-only policy would block: inline scripts and styles, handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and not named.get("src") and named.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.found


@pytest.fixture
def every_page(client, make_user, make_case, make_rulebook, login_party, frozen_clock) -> list[str]:
    """Signs the client in as an admin and as a party of a settled case; the pages those two see."""
    make_rulebook(slug="house")
    case = make_case()
    proposal = proposals.create_proposal(case.actor("seller"), case.id, buyer_refund=money("30.00"),
                                         seller_release=money("70.00"), terms="Keep the item.")
    proposals.accept_proposal(case.actor("buyer"), case.id, proposal.id)
    mediator = make_user("mediator")
    sign_in_admin(client, make_user)
    login_party(case, "buyer")
    from tests.documents.conftest import seq_of

    return ["/", "/login", f"/cases/{case.id}", f"/cases/{case.id}/documents/{seq_of(case.id, 'case.resolved')}",
            "/rules", "/rules/house/v1", "/transparency", "/verify", "/cases", "/api/v1/docs",
            "/admin/platforms", f"/admin/platforms/{case.platform.id}", "/admin/mediators",
            f"/admin/mediators/{mediator.user_id}", "/admin/rulebooks", "/admin/cases", f"/admin/cases/{case.id}",
            "/admin/deliveries"]


def test_no_page_carries_inline_script_or_style(client, every_page):
    offenders = {}
    for path in every_page:
        response = client.get(path)
        assert response.status_code == 200, path
        if found := inline_code(response.data.decode()):
            offenders[path] = found
    assert offenders == {}


def test_the_inline_check_finds_an_inline_script_and_a_handler():
    found = inline_code('<script>alert(1)</script><a href="javascript:x()" onclick="y()" style="color:red">')
    assert len(found) == 4
