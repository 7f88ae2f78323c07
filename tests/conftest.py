"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL with MEDIATION_TEST_DATABASE_URL),
clients, factories that go through the real services, a live server on loopback, and a capture of what
a command released after its commit.
"""
from __future__ import annotations

import contextvars
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from mediation import clock, create_app
from mediation.errors import DomainError
from mediation.extensions import db, socketio
from mediation.money import Money
from mediation.services import access, admin, cases
from mediation.services.actors import PartyActor, PlatformActor, StaffActor


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (`test_gw0`, …), made if missing,
    and the environment is pointed at it before any test module reads it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    base = make_url(url)
    if base.database.endswith(f"_{worker}"):  # this module imported a second time (as tests.conftest): done
        return url
    name = f"{base.database}_{worker}"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    os.environ["MEDIATION_TEST_DATABASE_URL"] = url
    return url


PG_URL = _worker_database(os.environ.get("MEDIATION_TEST_DATABASE_URL"))
REDIS_URL = os.environ.get("MEDIATION_TEST_REDIS_URL")


@contextmanager
def scratch_postgres(suffix: str, why: str) -> Iterator[str]:
    """A fresh PostgreSQL database named after the test one (`<test db>_<suffix>`, so parallel runs do not
    collide), dropped afterwards; yields its URL. Skips, saying `why` it needs one, without PostgreSQL."""
    if not PG_URL:
        pytest.skip(f"MEDIATION_TEST_DATABASE_URL not set: {why}")
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL)
    name = f"{base.database}_{suffix}"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


# ---- database -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An empty schema made once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "mediation.db"
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema():
    if not PG_URL:
        return None
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": PG_URL})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:  # tables a migration test may have left behind
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.engine.dispose()
    return f"TRUNCATE {tables} RESTART IDENTITY CASCADE"


def database_url(tmp_path: Path, sqlite_template: Path, postgres_schema: str | None) -> str:
    if postgres_schema:
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            connection.execute(text(postgres_schema))
        engine.dispose()
        return PG_URL
    path = tmp_path / "mediation.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config() -> dict:
    """Override in a module to change settings for its tests."""
    return {}


@pytest.fixture
def app(tmp_path, sqlite_template, postgres_schema, app_config):
    url = database_url(tmp_path, sqlite_template, postgres_schema)
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "BACKGROUND_WORKERS": False,
        "SERVER_NAME": None,
        # scrypt as in production, at 1/32 of its work factor: the suite makes hundreds of staff accounts.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        # Tests (and xdist workers) that share one Redis keep their presence apart: case ids repeat.
        "PRESENCE_KEY_PREFIX": f"mediation-test:{uuid.uuid4().hex}:presence",
        "SOCKETIO_CHANNEL": f"mediation-test-{uuid.uuid4().hex}",
        **app_config,
    })
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    clock.freeze(None)


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own `g`, its own database
    session. Afterwards the test's session forgets what it had loaded, so reads see the new rows."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.commit()  # end the test's read transaction: a new one sees the request's writes
        db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def frozen_clock():
    """Pin the clock; move it with `frozen_clock.move(days=…)`."""

    class Clock:
        def __init__(self):
            self.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
            clock.freeze(self.at)

        def move(self, **delta):
            from datetime import timedelta

            self.at += timedelta(**delta)
            clock.freeze(self.at)

    yield Clock()
    clock.freeze(None)


# ---- factories ----------------------------------------------------------------------------------


@dataclass
class PlatformInfo:
    id: int
    api_key: str
    webhook_secret: str | None

    @property
    def actor(self) -> PlatformActor:
        return PlatformActor(self.id)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class CaseInfo:
    id: int
    platform: PlatformInfo
    join_tokens: dict[str, str]
    party_ids: dict[str, int] = field(default_factory=dict)

    def actor(self, role: str) -> PartyActor:
        return access.party_from_join_token(self.join_tokens[role])

    def token(self, role: str) -> str:
        return access.issue_party_token(self.join_tokens[role])[0]

    def headers(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.token(role)}"}


_counter = iter(range(1, 10**9))


@pytest.fixture
def make_platform(app):
    def make(name: str | None = None, webhook_url: str | None = None) -> PlatformInfo:
        created = admin.create_platform(name or f"Platform {next(_counter)}", webhook_url)
        return PlatformInfo(created.platform_id, created.api_key, created.webhook_secret)

    return make


@pytest.fixture
def make_user(app):
    """A staff account through the real service; returns its StaffActor."""

    def make(role: str = "mediator", name: str | None = None, **fields) -> StaffActor:
        number = next(_counter)
        name = name or f"{role.title()} {number}"
        user_id = admin.create_user(email=fields.pop("email", f"{role}{number}@example.com"), name=name, role=role,
                                    password=fields.pop("password", "a long password"), **fields)
        return StaffActor(user_id=user_id, role=role, name=name)

    return make


def case_data(**overrides) -> dict:
    data = {
        "external_order_id": f"ORD-{next(_counter)}",
        "reason": "damaged",
        "description": "The lid was cracked.",
        "amount": Money.parse("100.00", "USD"),
        "held_amount": Money.parse("100.00", "USD"),
        "buyer": {"external_id": "b-1", "name": "Olivia Buyer", "email": "olivia@example.com", "locale": "en"},
        "seller": {"external_id": "s-1", "name": "Shen Seller", "email": "shen@example.cn", "locale": "zh-CN"},
        "claimant": "buyer",
        "metadata": {},
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_case(app, make_platform):
    default_platform: list[PlatformInfo] = []

    def make(platform: PlatformInfo | None = None, **overrides) -> CaseInfo:
        if platform is None:
            if not default_platform:
                default_platform.append(make_platform())
            platform = default_platform[0]
        opened = cases.open_case(platform.actor, case_data(**overrides))
        return CaseInfo(opened.case.id, platform, opened.join_tokens,
                        {p.role: p.id for p in opened.case.parties})

    return make


@dataclass
class RulebookInfo:
    rulebook_id: int
    version_id: int
    clause_ids: list[int]


@pytest.fixture
def make_rulebook(app):
    """A published rulebook version (bilingual clauses 1..n); cases opened afterwards are decided by it."""

    def make(slug: str | None = None, clauses: int = 3) -> RulebookInfo:
        from mediation.models import Clause, Rulebook, RulebookVersion

        number = next(_counter)
        rulebook = Rulebook(slug=slug or f"rules-{number}",
                            title={"en": f"Rules {number}", "zh_Hans_CN": f"规则 {number}"})
        version = RulebookVersion(rulebook=rulebook, number=1, published_at=clock.now(),
                                  summary={"en": "First version", "zh_Hans_CN": "第一版"})
        for n in range(1, clauses + 1):
            version.clauses.append(Clause(number=str(n), position=n,
                                          title={"en": f"Clause {n}", "zh_Hans_CN": f"第{n}条"},
                                          body={"en": f"The text of clause {n}.", "zh_Hans_CN": f"第{n}条的内容。"}))
        db.session.add(rulebook)
        db.session.commit()
        return RulebookInfo(rulebook.id, version.id, [c.id for c in version.clauses])

    return make


@pytest.fixture
def rulebook(make_rulebook) -> RulebookInfo:
    return make_rulebook()


@pytest.fixture
def make_mediation_case(make_case, make_user, rulebook):
    """A case the buyer escalated after the seller answered, with a mediator assigned (made if none given)."""
    from mediation.services import deadlines, messages

    def make(mediator: StaffActor | None = None, **overrides) -> tuple[CaseInfo, StaffActor]:
        mediator = mediator or make_user("mediator")
        info = make_case(**overrides)
        messages.send_message(info.actor("seller"), info.id, "joint", "I shipped it.", f"c-{next(_counter)}")
        case = deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree.")
        assert case.mediator_id == mediator.user_id, "another mediator was less loaded"
        return info, mediator

    return make


def money(value: str, currency: str = "USD") -> Money:
    return Money.parse(value, currency)


@pytest.fixture
def login_party(client):
    """Sign the test client's browser session in as a party through the real join link."""

    def login(case: CaseInfo, role: str) -> str:
        response = client.get(f"/join/{case.join_tokens[role]}")
        assert response.status_code == 302
        page = client.get(f"/cases/{case.id}")
        marker = b'name="csrf-token" content="'
        start = page.data.index(marker) + len(marker)
        return page.data[start:page.data.index(b'"', start)].decode()

    return login


@pytest.fixture
def staff_login(app, client):
    """Sign the test client in as a staff member (made by make_user) through /login; returns the headers
    a page's script sends on JSON calls (the session's CSRF token)."""
    from mediation.models import User

    def login(staff: StaffActor) -> dict:
        email = db.session.get(User, staff.user_id).email
        page = client.get("/login").data
        token = _csrf_from(page)
        response = client.post("/login", data={"email": email, "password": "a long password", "csrf_token": token})
        assert response.status_code == 302, response.data[:500]
        return {"X-CSRFToken": _csrf_from(client.get("/").data)}

    return login


def _csrf_from(page: bytes) -> str:
    marker = b'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start:page.index(b'"', start)].decode()


# ---- what a command released after its commit --------------------------------------------------


@dataclass
class Released:
    emits: list[tuple[str, dict, str]] = field(default_factory=list)

    def types(self) -> list[str]:
        return [data.get("type") for name, data, _room in self.emits if name == "case_event"]

    def named(self, name: str) -> list[dict]:
        return [data for event, data, _room in self.emits if event == name]


@pytest.fixture
def released(monkeypatch):
    """Capture Socket.IO emits made through the event bus (they only happen after a commit)."""
    import json

    captured = Released()

    def emit(event, data, to=None, namespace=None, **_kwargs):
        json.loads(json.dumps(data))  # a payload that cannot travel fails here, where it was made
        captured.emits.append((event, data, to))

    monkeypatch.setattr(socketio, "emit", emit)
    return captured


# ---- a live server on loopback -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    port: int


@pytest.fixture
def live_server(app):
    """The app (HTTP and Socket.IO) served by a real threaded server on a loopback port."""
    port = free_port()
    app.config.update(SERVER_NAME=None, PUBLIC_URL=f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{port}", port)
    server.shutdown()
    thread.join(5)


def race(app, *commands):
    """Run each command in its own thread and app context at the same moment; collect outcomes."""
    barrier = threading.Barrier(len(commands))
    outcomes: list = [None] * len(commands)

    def run(index, command):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[index] = command()
            except DomainError as error:
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes
