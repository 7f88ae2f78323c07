"""Demo data for `make run`: a marketplace wired to the in-app webhook receiver, staff, one open case."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from mediation.config import public_base_url
from mediation.extensions import db
from mediation.models import ApiKey, Case, Platform, User, WebhookEndpoint
from mediation.money import Money
from mediation.services import access, admin, cases, uow
from mediation.services.actors import PlatformActor
from mediation.web.demo import DEMO_PLATFORM

DEMO_PASSWORD = "demo-password"
STAFF = [
    ("mediator@demo.test", "Mei Lin (mediator)", "mediator", "zh_Hans_CN", "Asia/Shanghai"),
    # A second neutral, so an appeal always finds a mediator who did not rule.
    ("appeals@demo.test", "Sam Rivera (appeal mediator)", "mediator", "en", "America/New_York"),
    ("admin@demo.test", "Alex Admin", "admin", "en", "UTC"),
]


def base_url() -> str:
    return public_base_url(current_app.config)


def load_demo() -> list[str]:
    """Create what is missing; print how to use it. Each run issues a fresh demo API key."""
    platform_id = _demo_platform()
    for email, name, role, locale, zone in STAFF:
        if not db.session.scalar(select(User.id).where(User.email == email)):
            admin.create_user(email=email, name=name, role=role, password=DEMO_PASSWORD, locale=locale,
                              timezone=zone)
    case = db.session.scalar(select(Case).where(Case.platform_id == platform_id).order_by(Case.id))
    if case is None:
        case = cases.open_case(PlatformActor(platform_id), _demo_case()).case
    with uow.transaction():
        key, plain = ApiKey.issue(db.session.get(Platform, platform_id))
        db.session.add(key)
    expires_at = access.initial_link_expiry(case.created_at)
    url = base_url()
    lines = [
        "",
        f"Mediation is starting at {url}/",
        "",
        f"  Demo logins (password {DEMO_PASSWORD}):",
        *[f"    {role:9} {email}" for email, _n, role, _l, _z in STAFF],
        "",
        f"  Case {case.reference} ({case.state}):",
    ]
    for party in case.parties:
        lines.append(f"    {party.role:6} {party.name}: {url}/join/{access.join_token(party, expires_at)}")
    lines += [
        "",
        f"  API key of {DEMO_PLATFORM}: {plain}",
        f"    curl -H 'Authorization: Bearer {plain}' {url}/api/v1/cases",
        f"  API docs: {url}/api/v1/docs    Webhooks received: {url}/demo/webhooks",
        "",
    ]
    if not current_app.config["MAIL_SMTP_HOST"]:
        lines.insert(-1, f"  E-mail: no SMTP host is set, so the server prints each one; see {url}/demo/mail")
    return lines


def _demo_platform() -> int:
    """The demo marketplace, its webhook endpoint pointed at this server's receiver (host and port may change)."""
    receiver = f"{base_url()}/demo/webhooks"
    platform_id = db.session.scalar(select(Platform.id).where(Platform.name == DEMO_PLATFORM))
    if platform_id is None:
        return admin.create_platform(DEMO_PLATFORM, receiver).platform_id
    with uow.transaction():
        for endpoint in db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.platform_id == platform_id)):
            endpoint.url = receiver
    return platform_id


def _demo_case() -> dict:
    return {
        "external_order_id": "DM-10042",
        "reason": "damaged",
        "description": "The ceramic teapot arrived with a cracked lid.",
        "amount": Money.parse("100.00", "USD"),
        "held_amount": Money.parse("100.00", "USD"),
        "buyer": {"external_id": "buyer-7", "name": "Olivia Hart", "email": "olivia@example.com", "locale": "en"},
        "seller": {"external_id": "seller-3", "name": "深圳茶具店", "email": "shop@example.cn", "locale": "zh-CN"},
        "claimant": "buyer",
        "metadata": {"channel": "demo"},
    }
