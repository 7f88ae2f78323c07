"""Backups are made from a migrated database (so alembic_version comes along) and restored into a second,
empty installation: on SQLite by default, on PostgreSQL in the tests that ask for it (databases of their
own, named after MEDIATION_TEST_DATABASE_URL's and dropped afterwards)."""
from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from mediation import clock, create_app
from mediation.extensions import db
from mediation.services import evidence
from tests.conftest import scratch_postgres
from tests.evidence.files import jpeg, pdf
from tests.evidence.files import text as text_file

SETTINGS = {"TESTING": True, "SECRET_KEY": "test-secret", "BACKGROUND_WORKERS": False, "SERVER_NAME": None,
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}


@pytest.fixture
def backend() -> str:
    """Which database the source and the target use; a test parametrizes it to run on PostgreSQL."""
    return "sqlite"


@contextmanager
def empty_database(backend: str, directory: Path, name: str) -> Iterator[str]:
    if backend == "postgresql":
        with scratch_postgres(f"backup_{name}", "backups on PostgreSQL not exercised") as url:
            yield url
    else:
        yield f"sqlite:///{directory / f'{name}.db'}"


@pytest.fixture
def app(backend, tmp_path) -> Iterator[Flask]:
    """The installation backed up: migrated to head, its evidence in a store of its own."""
    with empty_database(backend, tmp_path, "source") as url:
        app = create_app({**SETTINGS, "SQLALCHEMY_DATABASE_URI": url,
                          "EVIDENCE_DIR": str(tmp_path / "source-evidence")})
        with app.app_context():
            upgrade()
            yield app
            db.session.remove()
            db.engine.dispose()
    clock.freeze(None)


@pytest.fixture
def target_backend(backend) -> str:
    """The target's database; the same as the source's unless a test says otherwise."""
    return backend


@pytest.fixture
def target(target_backend, tmp_path) -> Iterator[Flask]:
    """An empty installation to restore into: no tables, no evidence directory."""
    with empty_database(target_backend, tmp_path, "target") as url:
        app = create_app({**SETTINGS, "SQLALCHEMY_DATABASE_URI": url,
                          "EVIDENCE_DIR": str(tmp_path / "target-evidence")})
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass
class Recorded:
    case_ids: list[int]
    evidence_hashes: set[str]


@pytest.fixture
def recorded(app, make_case, make_mediation_case) -> Recorded:
    """Cases with a history and evidence (one file uploaded twice), all through the real services."""
    mediated, _mediator = make_mediation_case()
    plain = make_case()
    files = [(mediated, "buyer", jpeg(), "photo.jpg"), (mediated, "seller", pdf(), "invoice.pdf"),
             (plain, "buyer", text_file(), "tracking.txt"), (plain, "buyer", jpeg(), "photo-again.jpg")]
    stored = {evidence.upload_evidence(info.actor(role), info.id, stream=io.BytesIO(data), filename=name).sha256
              for info, role, data, name in files}
    return Recorded([mediated.id, plain.id], stored)
