"""Request rate limits (Flask-Limiter): the API per credential; joining, signing in and verifying documents
(public, and each check reads the chain) per client address.

Counters live in Redis when `REDIS_URL` is set, so a limit holds across every web process; otherwise in
this process's memory (the one-process default, `ProcessMemoryStorage`). A refused request gets 429 with
`Retry-After`: the API's JSON error shape for API calls, the error page for pages. Staff sign-in is also
throttled by failed attempts (services/accounts.py); this limit bounds the rate of all attempts, failed or
not.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import RedisStorage, Storage

from mediation.api.errors import error_response, is_api_request

JOIN_PATHS = ("/join/", "/api/v1/party-tokens")


def request_class() -> str | None:
    """Which limit a request falls under: "join", "login", "verify", "api", or None (not limited)."""
    path = request.path
    if path.startswith(JOIN_PATHS):
        return "join"
    if path == "/login" and request.method == "POST":
        return "login"
    if path.startswith("/verify") and request.method == "POST":
        return "verify"
    if is_api_request() and not path.startswith(("/api/v1/docs", "/api/v1/openapi.json")):
        return "api"
    return None


def request_key() -> str:
    """Whose counter a request adds to: the credential for API calls that carry one (a hash, never the
    secret itself), else the client's address."""
    kind = request_class() or "other"
    header = request.headers.get("Authorization", "")
    if kind == "api" and header:
        return f"api:key:{hashlib.sha256(header.encode()).hexdigest()[:32]}"
    return f"{kind}:addr:{get_remote_address()}"


def current_limit() -> str:
    setting = {"join": "RATELIMIT_JOIN", "login": "RATELIMIT_LOGIN", "verify": "RATELIMIT_VERIFY"}.get(
        request_class(), "RATELIMIT_API")
    return current_app.config[setting]


class ProcessMemoryStorage(Storage):
    """Fixed-window counters in this process's memory, for the one-process deployment.

    limits' own memory storage expires counters from a timer thread it starts anew every 10 ms while
    requests come in: at a few hundred API calls a second, a thread for every second call. Here a counter
    past its window reads as zero, and a write drops the stale ones at most once a second; no thread."""

    STORAGE_SCHEME = ["mediation-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 clock: Callable[[], float] = time.time, **_options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.clock = clock
        self._lock = threading.Lock()
        self._counters: dict[str, list] = {}  # key -> [count, end of its window]
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self.clock()
        with self._lock:
            self._sweep(now)
            counter = self._counters.get(key)
            if counter is None or counter[1] <= now:
                counter = self._counters[key] = [0, now + expiry]
            counter[0] += amount
            return counter[0]

    def get(self, key: str) -> int:
        counter = self._counters.get(key)
        return counter[0] if counter is not None and counter[1] > self.clock() else 0

    def get_expiry(self, key: str) -> float:
        now = self.clock()
        counter = self._counters.get(key)
        return counter[1] if counter is not None and counter[1] > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._counters)
            self._counters.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def __len__(self) -> int:
        return len(self._counters)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_SECONDS
        for key in [key for key, (_count, ends) in self._counters.items() if ends <= now]:
            del self._counters[key]


class WindowRedisStorage(RedisStorage):
    """limits' Redis storage in one round trip per limited request instead of three.

    Flask-Limiter counts a request with an increment, then reads the count and the window's expiry again
    (GET, then TTL) for its X-RateLimit headers. Here the increment also returns the time left in the window,
    and the two reads that follow it in the same request are answered from that. A read of another key, or
    one that comes later, goes to Redis. Counters and keys are those of limits' Redis storage."""

    STORAGE_SCHEME = ["mediation-redis", "mediation-rediss"]
    SCRIPT_INCR_WINDOW = """
        local current = redis.call("incrby", KEYS[1], tonumber(ARGV[2]))
        if current == tonumber(ARGV[2]) then
            redis.call("expire", KEYS[1], ARGV[1])
        end
        return {current, redis.call("pttl", KEYS[1])}
    """
    FRESH_SECONDS = 1.0  # how long an increment's answer stands in for a read of its key

    def __init__(self, uri: str, **options) -> None:
        super().__init__(uri.removeprefix("mediation-"), **options)
        self._last = threading.local()  # a greenlet's own under gevent (monkey-patched)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_window = self.get_connection().register_script(self.SCRIPT_INCR_WINDOW)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        count, left_ms = self.lua_incr_window([self.prefixed_key(key)], [expiry, amount])
        self._last.window = (key, int(count), time.time() + max(int(left_ms), 0) / 1000, time.monotonic())
        return int(count)

    def get(self, key: str) -> int:
        window = self._just_counted(key)
        return window[1] if window else super().get(key)

    def get_expiry(self, key: str) -> float:
        window = self._just_counted(key)
        return window[2] if window else super().get_expiry(key)

    def _just_counted(self, key: str) -> tuple | None:
        window = getattr(self._last, "window", None)
        if window is None or window[0] != key or time.monotonic() - window[3] > self.FRESH_SECONDS:
            return None
        return window


def storage_uri(redis_url: str | None) -> str:
    """Where the counters live: Redis (through WindowRedisStorage) when it is configured, else this process."""
    if redis_url and redis_url.startswith(("redis://", "rediss://")):
        return "mediation-" + redis_url
    return redis_url or "mediation-memory://"


def init_app(app: Flask) -> None:
    """A limiter of the app's own: Flask-Limiter keeps some settings (the key prefix, the strategy) from the
    first app an instance serves, and tests make many apps in one process."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config.get("REDIS_URL")))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Flask-Limiter would stamp its own Retry-After on every limited response, over the one the sign-in
    # throttle sets on its 429; it goes under its own name, and our refusal sets the standard one.
    app.config.setdefault("RATELIMIT_HEADER_RETRY_AFTER", "X-RateLimit-Retry-After")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "mediation-limits")
    limiter = Limiter(key_func=request_key, application_limits=[current_limit],
                      application_limits_exempt_when=lambda: request_class() is None)
    limiter.init_app(app)
    app.extensions["mediation_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _refused)


def _refused(_error: RateLimitExceeded):
    """429 with Retry-After (seconds until the window resets), in the API's shape or as a page."""
    message = _("Too many requests. Wait a moment and try again.")
    if is_api_request():
        response, status = error_response(429, message)
    else:
        response, status = make_response(render_template("error.html", title=_("Too many requests"),
                                                         message=message)), 429
    limit = current_app.extensions["mediation_limiter"].current_limit
    wait = max(1, math.ceil(limit.reset_at - time.time())) if limit is not None else 60
    response.headers["Retry-After"] = str(wait)
    return response, status
