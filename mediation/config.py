"""Configuration: defaults here, then instance/settings.py, then MEDIATION_* environment variables."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.pool import StaticPool

ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{ROOT / 'instance' / 'mediation.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL: str | None = None
    # The Redis pub/sub channel of this deployment's Socket.IO processes (several deployments, one Redis).
    SOCKETIO_CHANNEL = "flask-socketio"
    HOST = "127.0.0.1"
    PORT = 5000
    # Where links in e-mails and API answers point; defaults to the request's own host.
    PUBLIC_URL: str | None = None
    DEMO = False
    # JSON bodies; evidence uploads have their own limit.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Evidence files: stored outside the web root under their SHA-256. The size limit holds while the body
    # streams in; images with more pixels than this are refused from their header, before any decoding.
    EVIDENCE_DIR = str(ROOT / "instance" / "evidence")
    EVIDENCE_MAX_BYTES = 25 * 1024 * 1024
    EVIDENCE_MAX_PIXELS = 40_000_000
    # werkzeug's scrypt (N=2^15, r=8, p=1). Tests pass a cheaper N: the scheme is the same, the cost is not.
    PASSWORD_HASH_METHOD = "scrypt"
    JOIN_LINK_DAYS = 14
    PARTY_TOKEN_DAYS = 7
    MESSAGE_MAX_CHARS = 4000
    HISTORY_PAGE = 50
    CATCH_UP_LIMIT = 500
    # Request rates (Flask-Limiter syntax): the API per API key or party token, joining (join links and
    # party tokens) and staff sign-in per client address. Counted in Redis when REDIS_URL is set.
    RATELIMIT_API = "600 per minute"
    RATELIMIT_JOIN = "30 per minute"
    RATELIMIT_LOGIN = "30 per minute"
    RATELIMIT_VERIFY = "30 per minute"
    # Socket.IO events per connection (every event counts, typing too): a burst at once, then a steady rate.
    SOCKET_EVENTS_PER_SECOND = 10
    SOCKET_EVENTS_BURST = 30
    WEBHOOK_TIMEOUT_SECONDS = 15
    WEBHOOK_LEASE_SECONDS = 60
    # PostgreSQL: a pooled connection idle this long is pinged before use (0: every one, every time).
    DATABASE_PING_AFTER_SECONDS = 5
    # PostgreSQL: connections each process keeps open, and how many more it may open for a burst. A connection
    # beyond the pool is closed when it comes back, so a load that keeps more than the pool busy opens a new
    # connection (a new server process) for nearly every command; a command instead waits for a pooled one.
    # Keep processes × (pool + overflow) under the server's max_connections.
    DATABASE_POOL_SIZE = 20
    DATABASE_MAX_OVERFLOW = 5
    # Outgoing e-mail over SMTP. With no host: in demo mode the mail is printed and kept for /demo/mail;
    # otherwise it waits in the outbox (and a warning is logged) until a host is configured.
    MAIL_SMTP_HOST: str | None = None
    MAIL_SMTP_PORT = 25
    MAIL_SMTP_USERNAME: str | None = None
    MAIL_SMTP_PASSWORD: str | None = None
    MAIL_SMTP_STARTTLS = False
    MAIL_SMTP_SSL = False
    MAIL_FROM = "Mediation <mediation@localhost>"
    MAIL_TIMEOUT = 30
    # Longer than one SMTP conversation can take (MAIL_TIMEOUT per step), so a claim never lapses mid-send.
    MAIL_LEASE_SECONDS = 300
    # Background threads of the one-process server (the deliverer); tests drive them by hand.
    BACKGROUND_WORKERS = True
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("en", "zh_Hans_CN")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Served over HTTPS: cookies go only over HTTPS. Also implied by an https:// PUBLIC_URL (mediation.security).
    HTTPS = False
    # How many proxies in front set X-Forwarded-For/-Proto; 0 trusts none (a client could forge them).
    PROXY_FIX = 0
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]
    API_TITLE = "Mediation API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui/"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "A platform's API key"},
                "partyToken": {"type": "http", "scheme": "bearer",
                               "description": "A party token from POST /api/v1/party-tokens"},
            }
        },
        "info": {"description": "Open cases, follow them and act in them. Money is always an object "
                                "{\"value\": \"40.00\", \"currency\": \"USD\"}."},
    }


_ENV_KEYS = {
    "MEDIATION_SECRET_KEY": "SECRET_KEY",
    "MEDIATION_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "MEDIATION_REDIS_URL": "REDIS_URL",
    "MEDIATION_HOST": "HOST",
    "MEDIATION_PUBLIC_URL": "PUBLIC_URL",
    "MEDIATION_EVIDENCE_DIR": "EVIDENCE_DIR",
    "MEDIATION_SMTP_HOST": "MAIL_SMTP_HOST",
    "MEDIATION_SMTP_USERNAME": "MAIL_SMTP_USERNAME",
    "MEDIATION_SMTP_PASSWORD": "MAIL_SMTP_PASSWORD",
    "MEDIATION_MAIL_FROM": "MAIL_FROM",
    "MEDIATION_SOCKETIO_CHANNEL": "SOCKETIO_CHANNEL",
    "MEDIATION_PRESENCE_KEY_PREFIX": "PRESENCE_KEY_PREFIX",
    "MEDIATION_RATELIMIT_API": "RATELIMIT_API",
    "MEDIATION_RATELIMIT_JOIN": "RATELIMIT_JOIN",
    "MEDIATION_RATELIMIT_LOGIN": "RATELIMIT_LOGIN",
    "MEDIATION_RATELIMIT_VERIFY": "RATELIMIT_VERIFY",
}
_ENV_INTS = {
    "MEDIATION_PORT": "PORT",
    "MEDIATION_EVIDENCE_MAX_BYTES": "EVIDENCE_MAX_BYTES",
    "MEDIATION_PROXY_FIX": "PROXY_FIX",
    "MEDIATION_SMTP_PORT": "MAIL_SMTP_PORT",
    "MEDIATION_SOCKET_EVENTS_PER_SECOND": "SOCKET_EVENTS_PER_SECOND",
    "MEDIATION_SOCKET_EVENTS_BURST": "SOCKET_EVENTS_BURST",
    "MEDIATION_WEBHOOK_TIMEOUT_SECONDS": "WEBHOOK_TIMEOUT_SECONDS",
    "MEDIATION_WEBHOOK_LEASE_SECONDS": "WEBHOOK_LEASE_SECONDS",
    "MEDIATION_DATABASE_PING_AFTER_SECONDS": "DATABASE_PING_AFTER_SECONDS",
    "MEDIATION_DATABASE_POOL_SIZE": "DATABASE_POOL_SIZE",
    "MEDIATION_DATABASE_MAX_OVERFLOW": "DATABASE_MAX_OVERFLOW",
}
_TRUE = {"1", "true", "yes"}


def from_environment() -> dict:
    values: dict = {conf: os.environ[env] for env, conf in _ENV_KEYS.items() if os.environ.get(env)}
    values.update({conf: int(os.environ[env]) for env, conf in _ENV_INTS.items() if os.environ.get(env)})
    for env, conf in (("MEDIATION_DEMO", "DEMO"), ("MEDIATION_SMTP_STARTTLS", "MAIL_SMTP_STARTTLS"),
                      ("MEDIATION_SMTP_SSL", "MAIL_SMTP_SSL"), ("MEDIATION_HTTPS", "HTTPS")):
        if os.environ.get(env):
            values[conf] = os.environ[env].lower() in _TRUE
    return values


def public_base_url(config) -> str:
    """Where links outside a request (e-mails, the demo's printout) point: PUBLIC_URL, else the server's own
    address."""
    return (config["PUBLIC_URL"] or f"http://{config['HOST']}:{config['PORT']}").rstrip("/")


def engine_options(uri: str, config) -> dict:
    if uri in ("sqlite://", "sqlite:///:memory:"):
        # One database that lives in its connection: every thread must share that one connection.
        return {"connect_args": {"check_same_thread": False}, "poolclass": StaticPool}
    if uri.startswith("sqlite"):
        # Threads of the one-process server share the file; WAL lets readers go on while one writes.
        # Connections are kept, not reopened: every new one pays for its PRAGMAs, and the one-process
        # server runs a thread per connected client.
        return {"connect_args": {"check_same_thread": False, "timeout": 30}, "pool_size": 64, "max_overflow": 64}
    # Idle connections are pinged before use (models/postgresql.py), not every one.
    options = {"pool_size": config["DATABASE_POOL_SIZE"], "max_overflow": config["DATABASE_MAX_OVERFLOW"]}
    if uri.startswith("postgresql+psycopg"):
        options |= NATIVE_PLACEHOLDERS
    return options


# SQLAlchemy writes PostgreSQL's own placeholders ($1, $2, …), and psycopg's raw cursors (models/postgresql.py)
# send the statement as it is. With the default %(name)s style psycopg parses every statement to rewrite it; it
# keeps the rewrite only for statements under 4 KB and 50 parameters, and opening a case writes its rows in one
# larger statement: re-parsing it cost 15 % of the opening's CPU (bench/api.py).
NATIVE_PLACEHOLDERS = {"paramstyle": "numeric_dollar"}
