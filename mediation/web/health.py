"""`GET /healthz`: whether this web process can reach what it needs, for load balancers and supervisors.

200 when the database answers (and Redis, when it is the message queue); 503 naming what failed otherwise.
The answer says nothing about cases, so it needs no credentials.
"""
from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from mediation.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks = {"database": _database()}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _redis(current_app.config["REDIS_URL"])
    healthy = all(state == "ok" for state in checks.values())
    return jsonify(ok=healthy, **checks), 200 if healthy else 503


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "not healthy", said in the answer
        current_app.logger.warning("health check: database unreachable", exc_info=True)
        db.session.rollback()
        return "unreachable"


def _redis(url: str) -> str:
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except redis.RedisError:
        current_app.logger.warning("health check: redis unreachable", exc_info=True)
        return "unreachable"
