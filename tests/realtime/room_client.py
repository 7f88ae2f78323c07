"""A real python-socketio client for the `/cases` namespace, and bounded waiting helpers.

Every server → client event is recorded in arrival order. The client handles packets one at a time on
its reading thread, so once an ack has arrived every event the server sent before it has been recorded:
"it was not received" can be checked right after a later ack or a later awaited event, without sleeping.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import socketio
import websocket

NAMESPACE = "/cases"
TIMEOUT = 5.0  # seconds; only ever reached when something is broken


def wait_until(condition: Callable[[], Any], timeout: float = TIMEOUT, interval: float = 0.01) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {condition!r}")
        time.sleep(interval)


class _PromptlyClosingWebSocket(websocket.WebSocket):
    """The client's reading thread usually takes the server's closing frame, and `close` would then wait
    its whole default timeout (3 s) for it. The server has the disconnect by then; don't wait."""

    def close(self, status: int = websocket.STATUS_NORMAL, reason: bytes = b"",
              timeout: float = 0.05) -> None:
        super().close(status, reason, timeout)


class RoomClient:
    """One browser tab or app: connects with a party token or a session cookie, records what it hears."""

    def __init__(self, url: str, *, token: str | None = None, cookie: str | None = None,
                 headers: dict[str, str] | None = None, origin: str | None = None):
        self.url = url
        self.auth = {"token": token} if token is not None else None
        self.headers = dict(headers or {})
        if cookie is not None:
            self.headers["Cookie"] = cookie
        websocket_options: dict[str, Any] = {"class_": _PromptlyClosingWebSocket}
        if origin is not None:  # the page the connection claims to come from (default: the server's own)
            websocket_options["origin"] = origin
        self.sio = socketio.Client(reconnection=False, websocket_extra_options=websocket_options)
        self.received: list[tuple[str, Any]] = []
        self.refusal: Any = None
        self.joined: set[int] = set()
        self._changed = threading.Condition()
        self.sio.on("*", self._record, namespace=NAMESPACE)
        self.sio.on("connect_error", self._refused, namespace=NAMESPACE)

    # ---- connection ---------------------------------------------------------------------------

    def connect(self) -> RoomClient:
        self.sio.connect(self.url, transports=["websocket"], namespaces=[NAMESPACE], auth=self.auth,
                         headers=self.headers, wait_timeout=TIMEOUT)
        return self

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    @property
    def sid(self) -> str | None:
        return self.sio.get_sid(NAMESPACE)

    # ---- client → server ----------------------------------------------------------------------

    def call(self, event: str, data: Any = None, timeout: float = TIMEOUT) -> Any:
        """Emit `event` and return its ack. A tuple is sent as several arguments, None as none."""
        return self.sio.call(event, data, namespace=NAMESPACE, timeout=timeout)

    def join(self, case_id: int, since: int | None = None) -> dict:
        ack = self.call("join", {"case_id": case_id, "since": since})
        if ack.get("ok"):
            self.joined.add(case_id)
        return ack

    def send(self, case_id: int, body: str, client_id: str, channel: str = "joint") -> dict:
        return self.call("send", {"case_id": case_id, "channel": channel, "body": body,
                                  "client_id": client_id})

    # ---- server → client ----------------------------------------------------------------------

    def events(self, name: str) -> list[Any]:
        with self._changed:
            return [data for event, data in self.received if event == name]

    def wait_for(self, name: str, match: Callable[[Any], bool] = lambda _data: True,
                 timeout: float = TIMEOUT) -> Any:
        """The first `name` event whose payload satisfies `match`, waiting for it if need be."""
        def found():
            return next((data for data in self.events(name) if match(data)), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no {name!r} event matching {match!r} within {timeout} s; "
                                     f"received {self.received!r}")
        return found()

    def _record(self, event: str, *args: Any) -> None:
        with self._changed:
            self.received.append((event, args[0] if len(args) == 1 else args))
            self._changed.notify_all()

    def _refused(self, data: Any = None) -> None:
        self.refusal = data
