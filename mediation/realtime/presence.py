"""Who is in which case room right now: in this process's memory (one process), or in Redis when
REDIS_URL is set, so every web process sees the members connected to the others.

A connection (sid) lives in one process, so which rooms a sid is in is kept locally; the members of a room
are shared. In Redis each room is a hash (sid -> role, name, process). Each process keeps a heartbeat key
that expires soon after the process stops, and members whose process has no heartbeat are ignored and
cleared: a web process killed with its clients connected does not leave them "online" for ever.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import defaultdict

from flask import current_app

log = logging.getLogger(__name__)
Left = list[tuple[int, str, str, list[str]]]  # (case_id, role, name, roles still online) per room left


class LocalPresence:
    """One process: a dict under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)  # case_id -> sid -> (role, name)

    def enter(self, case_id: int, sid: str, role: str, name: str) -> list[str]:
        with self._lock:
            self._rooms[case_id][sid] = (role, name)
            return self._roles(case_id)

    def leave(self, case_id: int, sid: str) -> Left:
        with self._lock:
            members = self._rooms.get(case_id, {})
            if sid not in members:
                return []
            role, name = members.pop(sid)
            if not members:
                del self._rooms[case_id]
            return [(case_id, role, name, self._roles(case_id))]

    def leave_all(self, sid: str) -> Left:
        with self._lock:
            case_ids = [case_id for case_id, members in self._rooms.items() if sid in members]
        return [entry for case_id in case_ids for entry in self.leave(case_id, sid)]

    def online(self, case_id: int) -> list[str]:
        with self._lock:
            return self._roles(case_id)

    def _roles(self, case_id: int) -> list[str]:
        return sorted({role for role, _name in self._rooms.get(case_id, {}).values()})


class RedisPresence:
    """Several processes: room members in Redis, each tagged with its process's heartbeat."""

    HEARTBEAT_SECONDS = 5
    HEARTBEAT_TTL = 20  # a process silent this long is taken for dead

    def __init__(self, url: str, prefix: str = "mediation:presence", process: str | None = None) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.process = process or uuid.uuid4().hex
        self._lock = threading.Lock()
        self._mine: dict[str, set[int]] = defaultdict(set)  # sid -> case ids, for this process's connections
        self._beating = False

    def enter(self, case_id: int, sid: str, role: str, name: str) -> list[str]:
        self._start_heartbeat()
        with self._lock:
            self._mine[sid].add(case_id)
        member = json.dumps({"role": role, "name": name, "process": self.process})
        self.redis.hset(self._room(case_id), sid, member)
        return self.online(case_id)

    def leave(self, case_id: int, sid: str) -> Left:
        with self._lock:
            if case_id not in self._mine.get(sid, set()):
                return []
            self._mine[sid].discard(case_id)
            if not self._mine[sid]:
                del self._mine[sid]
        raw = self.redis.hget(self._room(case_id), sid)
        self.redis.hdel(self._room(case_id), sid)
        if raw is None:
            return []
        member = json.loads(raw)
        return [(case_id, member["role"], member["name"], self.online(case_id))]

    def leave_all(self, sid: str) -> Left:
        with self._lock:
            case_ids = sorted(self._mine.get(sid, set()))
        return [entry for case_id in case_ids for entry in self.leave(case_id, sid)]

    def online(self, case_id: int) -> list[str]:
        members = {sid: json.loads(raw) for sid, raw in self.redis.hgetall(self._room(case_id)).items()}
        if not members:
            return []
        processes = sorted({member["process"] for member in members.values()})
        alive = {process for process, beat in zip(processes, self.redis.mget([self._beat(p) for p in processes]),
                                                  strict=True) if beat is not None}
        dead = [sid for sid, member in members.items() if member["process"] not in alive]
        if dead:  # their process died with them connected: nobody will ever say they left
            self.redis.hdel(self._room(case_id), *dead)
        return sorted({member["role"] for sid, member in members.items() if sid not in dead})

    def beat(self) -> None:
        self.redis.set(self._beat(self.process), "1", ex=self.HEARTBEAT_TTL)

    def _start_heartbeat(self) -> None:
        with self._lock:
            if self._beating:
                return
            self._beating = True
        self.beat()
        threading.Thread(target=self._beat_forever, daemon=True, name="presence-heartbeat").start()

    def _beat_forever(self) -> None:
        while True:
            time.sleep(self.HEARTBEAT_SECONDS)
            try:
                self.beat()
            except Exception:  # Redis away for a moment: the next beat will do, the TTL allows for it
                log.warning("presence heartbeat failed", exc_info=True)

    def _room(self, case_id: int) -> str:
        return f"{self.prefix}:room:{case_id}"

    def _beat(self, process: str) -> str:
        return f"{self.prefix}:process:{process}"


_local = LocalPresence()


def backend() -> LocalPresence | RedisPresence:
    """The app's presence: Redis when it has REDIS_URL (made once per app), else this process's memory."""
    app = current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return _local
    found = app.extensions.get("presence")
    if found is None:
        found = app.extensions["presence"] = RedisPresence(url, app.config.get("PRESENCE_KEY_PREFIX",
                                                                                "mediation:presence"))
    return found


def enter(case_id: int, sid: str, role: str, name: str) -> list[str]:
    return backend().enter(case_id, sid, role, name)


def leave(case_id: int, sid: str) -> Left:
    """Remove `sid` from one case room; return (case_id, role, name, roles still online) if it was there."""
    return backend().leave(case_id, sid)


def leave_all(sid: str) -> Left:
    """Remove `sid` from every room it is in; return what it left, as `leave` does."""
    return backend().leave_all(sid)


def online(case_id: int) -> list[str]:
    return backend().online(case_id)
