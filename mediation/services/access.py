"""How callers prove who they are: join links, party tokens and platform API keys.

Join links and party tokens are signed (HMAC over the app secret), carry their own expiry and the
party's link generation; bumping the generation revokes every link and token issued before.
"""
from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, select

from mediation import clock
from mediation.errors import Unauthenticated
from mediation.extensions import db
from mediation.models import ApiKey, Party
from mediation.models.platform import API_KEY_PREFIX, hash_api_key
from mediation.services import uow
from mediation.services.actors import PartyActor, PlatformActor

PARTY_TOKEN_PREFIX = "pt_"


def _serializer(purpose: str) -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], purpose)


@functools.lru_cache(maxsize=16)
def _serializer_for(secret: str, purpose: str) -> URLSafeSerializer:
    """Built once per key and purpose: every case opened signs two links, every join checks one."""
    return URLSafeSerializer(secret, salt=f"mediation.{purpose}")


def _sign(purpose: str, party: Party, expires_at: datetime) -> str:
    return _serializer(purpose).dumps({"p": party.id, "g": party.link_generation,
                                       "e": int(expires_at.timestamp())})


# Whole sentences per kind of credential, so each translates naturally.
_WHAT_INVALID = {"link": _l("This link is not valid."), "token": _l("This token is not valid.")}
_WHAT_EXPIRED = {"link": _l("This link has expired. Ask the marketplace for a new one."),
                 "token": _l("This token has expired. Ask the marketplace for a new one.")}
_WHAT_REVOKED = {"link": _l("This link has been revoked. Ask the marketplace for a new one."),
                 "token": _l("This token has been revoked. Ask the marketplace for a new one.")}


def _party_from(purpose: str, token: str, what: str) -> Party:
    try:
        claims = _serializer(purpose).loads(token)
    except BadSignature:
        raise Unauthenticated(_WHAT_INVALID[what]) from None
    if not isinstance(claims, dict) or not {"p", "g", "e"} <= set(claims):
        raise Unauthenticated(_WHAT_INVALID[what])
    if clock.now().timestamp() >= claims["e"]:
        raise Unauthenticated(_WHAT_EXPIRED[what])
    party = db.session.get(Party, claims["p"])
    if party is None or party.link_generation != claims["g"]:
        raise Unauthenticated(_WHAT_REVOKED[what])
    return party


def initial_link_expiry(created_at: datetime) -> datetime:
    """Links issued with the case expire a fixed time after it opened, so a replayed answer is identical."""
    return created_at + timedelta(days=current_app.config["JOIN_LINK_DAYS"])


def join_token(party: Party, expires_at: datetime) -> str:
    return _sign("join", party, expires_at)


def fresh_link_expiry() -> datetime:
    return clock.now().replace(microsecond=0) + timedelta(days=current_app.config["JOIN_LINK_DAYS"])


def party_from_join_token(token: str) -> PartyActor:
    """Raises Unauthenticated for a forged, expired or revoked link."""
    return _actor(_party_from("join", token, "link"))


def issue_party_token(join_token_value: str) -> tuple[str, PartyActor, datetime]:
    """Exchange a join link's token for a bearer token for API and socket clients."""
    party = _party_from("join", join_token_value, "link")
    expires_at = clock.now().replace(microsecond=0) + timedelta(days=current_app.config["PARTY_TOKEN_DAYS"])
    return PARTY_TOKEN_PREFIX + _sign("party", party, expires_at), _actor(party), expires_at.astimezone(UTC)


def party_from_token(token: str) -> PartyActor:
    if not token.startswith(PARTY_TOKEN_PREFIX):
        raise Unauthenticated(_l("This token is not valid."))
    return _actor(_party_from("party", token[len(PARTY_TOKEN_PREFIX):], "token"))


# Every platform call starts here: built once, plain Core.
_API_KEYS = ApiKey.__table__
_API_KEY = select(_API_KEYS.c.platform_id, _API_KEYS.c.revoked_at).where(_API_KEYS.c.key_hash == bindparam("key_hash"))


def platform_from_api_key(key: str) -> PlatformActor:
    if not key.startswith(API_KEY_PREFIX):
        raise Unauthenticated(_l("This API key is not valid."))
    with uow.read_connection() as connection:
        api_key = connection.execute(_API_KEY, {"key_hash": hash_api_key(key)}).first()
    if api_key is None or api_key.revoked_at is not None:
        raise Unauthenticated(_l("This API key is not valid or has been revoked."))
    return PlatformActor(api_key.platform_id)


def actor_from_bearer(token: str) -> PlatformActor | PartyActor:
    if token.startswith(PARTY_TOKEN_PREFIX):
        return party_from_token(token)
    return platform_from_api_key(token)


def grant(actor: PartyActor) -> dict:
    """What a browser session keeps after a join link: enough to re-check revocation later."""
    party = db.session.get(Party, actor.party_id)
    return {"p": party.id, "g": party.link_generation}


def party_from_grant(claims: dict) -> PartyActor | None:
    """The party a browser session holds, or None once its links were revoked."""
    party = db.session.get(Party, claims.get("p"))
    if party is None or party.link_generation != claims.get("g"):
        return None
    return _actor(party)


# Checked on every party command: built once, plain Core (no ORM entity to load).
_GENERATION = (select(Party.__table__.c.link_generation)
               .where(Party.__table__.c.id == bindparam("party_id")))


def require_current(actor: PartyActor) -> None:
    """Raise Unauthenticated if the party's links were revoked after `actor` was proven.

    Services call this inside their own transaction, so a revocation that committed first always wins.
    """
    if actor.generation is None:
        return
    require_generation(actor, db.session.execute(_GENERATION, {"party_id": actor.party_id}).scalar())


def require_generation(actor: PartyActor, current: int | None) -> None:
    """The verdict on a link generation read together with the case: an older one was revoked."""
    if current != actor.generation:
        raise Unauthenticated(_WHAT_REVOKED["link"])


def token_expiry(token: str) -> datetime:
    """When a (valid) party token expires; for connections that keep the identity they proved."""
    claims = _serializer("party").loads(token[len(PARTY_TOKEN_PREFIX):])
    return datetime.fromtimestamp(claims["e"], UTC)


def _actor(party: Party) -> PartyActor:
    return PartyActor(party_id=party.id, case_id=party.case_id, role=party.role, name=party.name,
                      generation=party.link_generation)
