"""The database pool's size is the operator's to set: on PostgreSQL a load that keeps more connections busy
than the pool holds opens (and closes) a server connection for nearly every command. An in-memory SQLite
database works too: one connection, shared."""
from __future__ import annotations

import threading

from mediation import create_app
from mediation.extensions import db
from mediation.models import Platform
from mediation.services import admin

POSTGRES = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never connected to: the engine is lazy


def _pool(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": POSTGRES, "BACKGROUND_WORKERS": False,
                      "TESTING": True})
    with app.app_context():
        return db.engine.pool


def test_a_postgresql_pool_keeps_twenty_connections_and_opens_five_more_at_most(monkeypatch):
    pool = _pool(monkeypatch)
    assert (pool.size(), pool._max_overflow) == (20, 5)


def test_the_environment_sets_the_pool_and_its_overflow(monkeypatch):
    pool = _pool(monkeypatch, MEDIATION_DATABASE_POOL_SIZE="40", MEDIATION_DATABASE_MAX_OVERFLOW="0")
    assert (pool.size(), pool._max_overflow) == (40, 0)


def test_an_in_memory_sqlite_database_is_one_database_for_every_thread():
    app = create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://", "BACKGROUND_WORKERS": False,
                      "TESTING": True})
    with app.app_context():
        db.create_all()
        admin.create_platform("In memory", None)
    names: list[str] = []

    def read() -> None:
        with app.app_context():
            names.extend(db.session.scalars(db.select(Platform.name)))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(10)
    assert names == ["In memory"]
