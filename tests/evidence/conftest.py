"""Evidence tests store their files in a directory of their own, never in instance/evidence."""
from __future__ import annotations

from pathlib import Path

import pytest

from mediation.extensions import db
from mediation.models import Evidence
from tests.evidence.files import stored_files


@pytest.fixture(autouse=True)
def app_config(app_config, tmp_path) -> dict:
    """tests/conftest.py's settings plus a store under this test's tmp_path."""
    return {**app_config, "EVIDENCE_DIR": str(tmp_path / "evidence")}


@pytest.fixture
def store_dir(app) -> Path:
    return Path(app.config["EVIDENCE_DIR"])


@pytest.fixture
def nothing_stored(store_dir):
    """Assert that no row and no file (not even a temporary one) was added since the fixture was made."""
    before = stored_files(store_dir)

    def check() -> None:
        db.session.expire_all()
        assert db.session.query(Evidence).count() == 0
        assert stored_files(store_dir) == before

    return check
