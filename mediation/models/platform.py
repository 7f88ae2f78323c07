"""Marketplaces that open cases: their API keys, webhook endpoints and deadline defaults."""
from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.extensions import db
from mediation.models.types import UTCDateTime

API_KEY_PREFIX = "mk_"


def hash_api_key(key: str) -> str:
    # Keys are 256 random bits: a plain digest is enough; a slow hash would only slow every request.
    return hashlib.sha256(key.encode()).hexdigest()


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Platform(db.Model):
    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Deadlines in days, the same for buyer and seller.
    response_days: Mapped[int] = mapped_column(default=3)
    negotiation_days: Mapped[int] = mapped_column(default=7)
    mediation_days: Mapped[int] = mapped_column(default=14)
    appeal_days: Mapped[int] = mapped_column(default=5)
    proposal_days: Mapped[int] = mapped_column(default=3)
    # The rulebook its cases are decided by; None: the standard rulebook (the first one published).
    rulebook_id: Mapped[int | None] = mapped_column(ForeignKey("rulebooks.id"))
    # The https origins (scheme://host[:port]) that may show this platform's case rooms in a frame.
    embed_origins: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="platform")
    endpoints: Mapped[list[WebhookEndpoint]] = relationship(back_populates="platform")


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    platform: Mapped[Platform] = relationship(back_populates="api_keys")

    @classmethod
    def issue(cls, platform: Platform) -> tuple[ApiKey, str]:
        """A new key; the plain key is returned once and never stored."""
        plain = API_KEY_PREFIX + secrets.token_urlsafe(32)
        return cls(platform=platform, key_hash=hash_api_key(plain), hint=plain[:10]), plain


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100), default=new_webhook_secret)
    # After a rotation the old secret signs alongside the new one until then, so receivers can switch over.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    # Why it was disabled when the deliverer did it (the receiver answered 410 Gone); None when an admin did.
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    # The receiver asked us to slow down (429, 502, 504, Retry-After): none of its deliveries before then.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    platform: Mapped[Platform] = relationship(back_populates="endpoints")


def signing_secrets(endpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery made at `now` to `endpoint` (a WebhookEndpoint or a row with its secret
    columns): the current one, and the previous one in its grace."""
    if endpoint.previous_secret and endpoint.previous_secret_until and now < endpoint.previous_secret_until:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]
