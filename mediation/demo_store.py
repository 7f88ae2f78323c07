"""What the demo's webhook inbox and mailbox pages list: the newest items, kept in this process, or in Redis
when REDIS_URL is set, so that every process of a cluster (the web process that received a webhook, the
worker that "sent" an e-mail, the web process that shows the page) sees the same list."""
from __future__ import annotations

import json
import threading
from collections import deque

import redis
from flask import current_app, has_app_context

KEEP = 200


class DemoList:
    def __init__(self, name: str, keep: int = KEEP):
        self.name, self.keep = name, keep
        self._local: deque[dict] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, item: dict) -> None:
        """Newest first; the oldest beyond `keep` are dropped."""
        shared = self._redis()
        if shared is None:
            with self._lock:
                self._local.appendleft(item)
            return
        client, key = shared
        with client.pipeline() as pipe:
            pipe.lpush(key, json.dumps(item, ensure_ascii=False))
            pipe.ltrim(key, 0, self.keep - 1)
            pipe.execute()

    def items(self) -> list[dict]:
        shared = self._redis()
        if shared is None:
            with self._lock:
                return list(self._local)
        client, key = shared
        return [json.loads(raw) for raw in client.lrange(key, 0, self.keep - 1)]

    def _redis(self) -> tuple[redis.Redis, str] | None:
        if not has_app_context() or not current_app.config.get("REDIS_URL"):
            return None
        extensions = current_app.extensions
        client = extensions.get("demo_redis")
        if client is None:
            client = extensions["demo_redis"] = redis.Redis.from_url(current_app.config["REDIS_URL"])
        return client, f"{current_app.config.get('DEMO_KEY_PREFIX', 'mediation:demo')}:{self.name}"
