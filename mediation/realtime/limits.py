"""Per-connection event rate: one token bucket per Socket.IO sid.

A connection lives in one process for its whole life, so the buckets are plain memory: nothing to share
through Redis, and a bucket dies with its connection (`forget` on disconnect).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """`burst` events at once, then `rate` a second. Refilled lazily when an event asks for a token."""
    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


_buckets: dict[str, TokenBucket] = {}
# Events of one connection run one after another, but connections run on threads of their own.
_lock = threading.Lock()


def allow(sid: str, rate: float, burst: float) -> bool:
    """Take one token from the connection's bucket; False when it is empty (the event must do nothing)."""
    with _lock:
        bucket = _buckets.get(sid)
        if bucket is None:
            bucket = _buckets[sid] = TokenBucket(rate, burst)
        return bucket.take(time.monotonic())


def forget(sid: str) -> None:
    with _lock:
        _buckets.pop(sid, None)


def tracking(sid: str) -> bool:
    with _lock:
        return sid in _buckets
