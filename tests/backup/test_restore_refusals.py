"""A restore goes only into an empty installation of the same database, from an archive that matches its
manifest; anything else is refused before the target changes."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from mediation.extensions import db
from mediation.services import backup
from mediation.services.backup_db import BackupError, find_tool, libpq_url


@pytest.fixture
def archive(app, recorded, tmp_path) -> Path:
    path = tmp_path / "backup.tar.gz"
    backup.backup(app.config, path)
    return path


def tables(app) -> set[str]:
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def store_files(app) -> list[Path]:
    root = Path(app.config["EVIDENCE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def rewritten(archive: Path, tmp_path: Path, change) -> Path:
    """A copy of the archive with `change(name, data) -> data` applied to each member."""
    out = tmp_path / "altered.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as copy:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return out


def test_restore_into_a_database_with_tables_is_refused_and_changes_nothing(archive, target):
    with target.app_context():
        upgrade()
        db.engine.dispose()
    before = tables(target)
    with pytest.raises(BackupError, match="not empty"):
        backup.restore(target.config, archive)
    assert tables(target) == before
    assert store_files(target) == []


def test_restore_into_an_evidence_directory_with_files_is_refused_and_changes_nothing(archive, target):
    stray = Path(target.config["EVIDENCE_DIR"]) / "ab" / "cd" / "left-over"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"from another installation")
    with pytest.raises(BackupError, match="evidence directory .* is not empty"):
        backup.restore(target.config, archive)
    assert tables(target) == set()
    assert store_files(target) == [stray]


def test_restore_into_an_empty_alembic_version_is_allowed(archive, target):
    engine = create_engine(target.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    engine.dispose()
    report = backup.restore(target.config, archive)
    assert report.counts["cases"] == 2


def test_an_archive_with_an_altered_evidence_file_is_refused_and_changes_nothing(archive, target, tmp_path):
    def alter(name: str, data: bytes) -> bytes:
        return data + b"tampered" if name.startswith("evidence/") else data

    with pytest.raises(BackupError, match="does not match the manifest"):
        backup.restore(target.config, rewritten(archive, tmp_path, alter))
    assert not (tmp_path / "target.db").exists(), "not even an empty database file is left behind"
    assert store_files(target) == []
    assert not list(tmp_path.glob(".restore-*")), "the staging directory is cleaned up"


def test_an_archive_with_an_altered_database_is_refused(archive, target, tmp_path):
    def alter(name: str, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1]) if name == "database.sqlite3" else data

    with pytest.raises(BackupError, match="database.sqlite3 does not match"):
        backup.restore(target.config, rewritten(archive, tmp_path, alter))
    assert tables(target) == set()


def test_an_archive_with_a_file_its_manifest_does_not_list_is_refused(archive, target, tmp_path):
    out = tmp_path / "extra.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as copy:
        for member in source.getmembers():
            copy.addfile(member, source.extractfile(member))
        extra = tarfile.TarInfo("../../outside")
        extra.size = 1
        copy.addfile(extra, io.BytesIO(b"x"))
    with pytest.raises(BackupError, match="does not list"):
        backup.restore(target.config, out)
    assert not (tmp_path.parent / "outside").exists()


def test_a_file_that_is_not_a_backup_is_refused(target, tmp_path):
    bogus = tmp_path / "notes.tar.gz"
    bogus.write_bytes(b"just some notes")
    with pytest.raises(BackupError, match="not a readable"):
        backup.restore(target.config, bogus)


@pytest.mark.parametrize("target_backend", ["postgresql"])
def test_a_sqlite_backup_is_refused_by_a_postgresql_database(archive, target):
    with pytest.raises(BackupError, match="holds a sqlite database but the configured database is postgresql"):
        backup.restore(target.config, archive)
    assert tables(target) == set()


@pytest.mark.parametrize(("backend", "target_backend"), [("postgresql", "sqlite")])
def test_a_postgresql_backup_is_refused_by_a_sqlite_database(archive, target):
    with pytest.raises(BackupError, match="holds a postgresql database but the configured database is sqlite"):
        backup.restore(target.config, archive)
    assert tables(target) == set()


def test_a_manifest_of_another_format_is_refused(archive, target, tmp_path):
    def alter(name: str, data: bytes) -> bytes:
        return json.dumps({**json.loads(data), "version": 99}).encode() if name == "manifest.json" else data

    with pytest.raises(BackupError, match="not a mediation-backup version 1 archive"):
        backup.restore(target.config, rewritten(archive, tmp_path, alter))


def test_a_postgresql_client_older_than_needed_is_refused_with_its_version():
    try:
        find_tool("pg_dump", 0)
    except BackupError:
        pytest.skip("no pg_dump installed")
    with pytest.raises(BackupError, match=r"version 999 or newer is needed"):
        find_tool("pg_dump", 999)


def test_the_libpq_url_carries_no_password():
    url, password = libpq_url("postgresql+psycopg://mediation:s3cret@db.internal:5433/mediation?sslmode=require")
    assert url == "postgresql://mediation@db.internal:5433/mediation?sslmode=require"
    assert password == "s3cret"
