"""Who is in which case room right now, in this process."""
from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
_rooms: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)  # case_id -> sid -> (role, name)


def enter(case_id: int, sid: str, role: str, name: str) -> list[str]:
    with _lock:
        _rooms[case_id][sid] = (role, name)
        return _roles(case_id)


def leave_all(sid: str) -> list[tuple[int, str, str, list[str]]]:
    """Remove `sid` everywhere; return (case_id, role, name, roles still online) for each room left."""
    left = []
    with _lock:
        for case_id, members in list(_rooms.items()):
            if sid in members:
                role, name = members.pop(sid)
                left.append((case_id, role, name, _roles(case_id)))
                if not members:
                    del _rooms[case_id]
    return left


def leave(case_id: int, sid: str) -> list[tuple[int, str, str, list[str]]]:
    """Remove `sid` from one case room; like `leave_all`, return what it left."""
    with _lock:
        members = _rooms.get(case_id, {})
        if sid not in members:
            return []
        role, name = members.pop(sid)
        roles = _roles(case_id)
        if not members:
            del _rooms[case_id]
        return [(case_id, role, name, roles)]


def online(case_id: int) -> list[str]:
    with _lock:
        return _roles(case_id)


def _roles(case_id: int) -> list[str]:
    return sorted({role for role, _name in _rooms.get(case_id, {}).values()})
