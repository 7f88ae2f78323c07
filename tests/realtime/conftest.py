"""Fixtures for the Socket.IO case room: real clients against the live server, browser cookies from real
join links, and a look at the whole database through a connection of its own.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import requests
import socketio
from sqlalchemy import select
from werkzeug.serving import make_server

from mediation.extensions import db
from mediation.models import Case
from mediation.realtime import presence
from mediation.services import uow, workflow
from tests.conftest import LiveServer, free_port
from tests.realtime.room_client import RoomClient, wait_until

Connect = Callable[..., RoomClient]


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """tests/conftest.py's live server, but polling for shutdown every 10 ms instead of every 500 ms.

    Every test here needs its own server (a fresh database each); the default poll interval alone made
    up half the running time of this directory.
    """
    port = free_port()
    app.config.update(SERVER_NAME=None, PUBLIC_URL=f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{port}", port)
    server.shutdown()
    thread.join(5)


@pytest.fixture
def connect(live_server) -> Iterator[Connect]:
    """connect(token=… | cookie=…, headers=…) -> a connected RoomClient; all are closed afterwards."""
    clients: list[RoomClient] = []

    def open_client(**kwargs) -> RoomClient:
        client = RoomClient(live_server.url, **kwargs)
        clients.append(client)
        return client.connect()

    yield open_client
    for client in clients:
        client.close()
    # The server forgets a client on its own thread; wait so no presence leaks into the next test.
    joined = {case_id for client in clients for case_id in client.joined}
    wait_until(lambda: not any(presence.online(case_id) for case_id in joined))


@pytest.fixture
def refused(live_server) -> Callable[..., dict | None]:
    """refused(token=… | cookie=…, headers=…) -> the server's refusal, asserting the connection failed."""

    def attempt(**kwargs) -> dict | None:
        client = RoomClient(live_server.url, **kwargs)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect()
        client.close()
        return client.refusal

    return attempt


@pytest.fixture
def joined(connect) -> Callable[..., RoomClient]:
    """joined(case, role, since=None) -> a party's client, connected with its token and in the room."""

    def open_room(case, role: str, since: int | None = None) -> RoomClient:
        client = connect(token=case.token(role))
        ack = client.join(case.id, since)
        assert ack["ok"], ack
        return client

    return open_room


@pytest.fixture
def browser_cookie(live_server) -> Callable[..., str]:
    """browser_cookie(case, role) -> a `Cookie` header value for a browser that followed the join link."""

    def follow(case, role: str) -> str:
        browser = requests.Session()
        response = browser.get(f"{live_server.url}/join/{case.join_tokens[role]}", allow_redirects=False,
                               timeout=5)
        assert response.status_code == 302, response.text
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())

    return follow


@pytest.fixture
def api(live_server) -> Callable[..., requests.Response]:
    """api(method, path, headers=…, json=…) against the live server's /api/v1."""

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{live_server.url}/api/v1{path}", timeout=5, **kwargs)

    return call


def database_rows() -> dict[str, list]:
    """Every row of every table, read through a new connection (so it sees what the server committed)."""
    with db.engine.connect() as connection:
        return {table.name: connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in db.metadata.sorted_tables}


@pytest.fixture
def unchanged_database() -> Callable[[], AbstractContextManager[None]]:
    """with unchanged_database(): … — fails if anything in the database changed inside the block."""

    @contextmanager
    def check() -> Iterator[None]:
        before = database_rows()
        yield
        after = database_rows()
        changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
        assert not changed, f"the database changed: {changed}"

    return check


def lapse_response_deadline(case_id: int) -> None:
    """Set-up: the respondent's deadline passed, so the case went to mediation (caucus channels open).

    No scheduler command exists yet; this applies the state machine's own transition.
    """
    with uow.transaction():
        workflow.apply(db.session.get(Case, case_id), "response_lapsed")
