"""Operator commands: platforms, keys, endpoints, staff accounts."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mediation.errors import Invalid
from mediation.extensions import db
from mediation.models import ApiKey, Platform, User, WebhookEndpoint
from mediation.services import uow


@dataclass
class CreatedPlatform:
    platform_id: int
    api_key: str
    webhook_secret: str | None


def create_platform(name: str, webhook_url: str | None = None) -> CreatedPlatform:
    """Raises Invalid when the name is taken or the URL is not http(s)."""
    name = name.strip()
    if not name:
        raise Invalid(_l("A platform needs a name."), {"name": [_l("Required.")]})
    if webhook_url and not webhook_url.startswith(("http://", "https://")):
        raise Invalid(_l("The webhook URL must start with http:// or https://."), {"webhook_url": [_l("Not a URL.")]})
    with uow.transaction():
        if db.session.scalar(select(Platform.id).where(Platform.name == name)):
            raise Invalid(_l("A platform named %(name)s exists.", name=repr(name)), {"name": [_l("Already taken.")]})
        platform = Platform(name=name)
        db.session.add(platform)
        key, plain = ApiKey.issue(platform)
        db.session.add(key)
        endpoint = None
        if webhook_url:
            endpoint = WebhookEndpoint(platform=platform, url=webhook_url)
            db.session.add(endpoint)
        db.session.flush()
    return CreatedPlatform(platform.id, plain, endpoint.secret if endpoint else None)


def create_user(*, email: str, name: str, role: str, password: str, locale: str = "en",
                timezone: str = "UTC") -> int:
    if len(password) < 10:
        raise Invalid(_l("The password is too short."), {"password": [_l("At least 10 characters.")]})
    with uow.transaction():
        if db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
            raise Invalid(_l("This e-mail is taken."), {"email": [_l("Already registered.")]})
        user = User(email=email, name=name, role=role, locale=locale, timezone=timezone)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
    return user.id
