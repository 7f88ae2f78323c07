"""The database half of a backup: a consistent snapshot out, and back into an empty database.

SQLite goes through the sqlite3 online backup API in both directions, so a running app's writers and a WAL
file are handled by SQLite itself rather than by copying bytes underneath it. PostgreSQL goes through
`pg_dump --format=custom` and `pg_restore`; the counts and the alembic revision in the manifest are read in
the very snapshot pg_dump dumps (`--snapshot`), so the manifest describes exactly what the archive holds.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message tells the operator why, and nothing changed."""


# What the manifest counts, by table; a restore compares the restored database with these.
COUNTED = {"cases": "cases", "events": "case_events", "evidence": "evidence"}
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


@dataclass(frozen=True)
class Snapshot:
    filename: str
    dialect: str
    revision: str | None
    counts: dict[str, int]
    evidence_hashes: frozenset[str]
    tool: str | None = None  # pg_dump's version line, for the restore side's version check


def dialect_of(uri: str) -> str:
    name = make_url(uri).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def dump(uri: str, directory: Path) -> Snapshot:
    """Write the database into `directory` (`database.sqlite3` or `database.pgdump`) and describe it."""
    return _dump_sqlite(uri, directory) if dialect_of(uri) == "sqlite" else _dump_postgres(uri, directory)


def load(uri: str, file: Path, dumped_by: str | None) -> None:
    """Put the dumped database into the (empty) database at `uri`."""
    if dialect_of(uri) == "sqlite":
        _load_sqlite(uri, file)
    else:
        _load_postgres(uri, file, dumped_by)


def describe(uri: str) -> tuple[str | None, dict[str, int]]:
    """The alembic revision and the counted rows of the database at `uri` (after a restore)."""
    engine = create_engine(uri)
    try:
        with engine.connect() as connection:
            return _revision(connection), _counts(connection)
    finally:
        engine.dispose()


def require_empty(uri: str) -> None:
    """Refuse a database with any table in it, except an alembic_version with no row (what `db stamp base`
    or a half-done setup leaves)."""
    if dialect_of(uri) == "sqlite" and not _sqlite_path(uri).exists():
        return  # connecting would create the file, and a refused restore should leave nothing behind
    engine = create_engine(uri)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            if tables == {"alembic_version"} and _revision(connection) is None:
                return
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"the target database is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}); "
                          "restore only into an empty database")


# ---- SQLite --------------------------------------------------------------------------------------


def _sqlite_path(uri: str) -> Path:
    database = make_url(uri).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _dump_sqlite(uri: str, directory: Path) -> Snapshot:
    source_path = _sqlite_path(uri)
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    target = directory / "database.sqlite3"
    with contextlib.closing(sqlite3.connect(source_path)) as source, \
            contextlib.closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    # Read from the copy, not the live file: the counts then describe exactly the archived snapshot.
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            snapshot = Snapshot(target.name, "sqlite", _revision(connection), _counts(connection),
                                _evidence_hashes(connection))
    finally:
        engine.dispose()
    return snapshot


def _load_sqlite(uri: str, file: Path) -> None:
    target_path = _sqlite_path(uri)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    # The backup API writes through SQLite's own locking, so an app already holding the empty file (and its
    # WAL) sees the restored pages instead of a file swapped underneath it.
    with contextlib.closing(sqlite3.connect(file)) as source, \
            contextlib.closing(sqlite3.connect(target_path)) as target:
        source.backup(target)


# ---- PostgreSQL ----------------------------------------------------------------------------------


def _dump_postgres(uri: str, directory: Path) -> Snapshot:
    target = directory / "database.pgdump"
    engine = create_engine(uri, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            server = connection.scalar(text("SHOW server_version_num"))
            tool, version = find_tool("pg_dump", int(server) // 10000)
            snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
            revision, counts = _revision(connection), _counts(connection)
            hashes = _evidence_hashes(connection)
            # The transaction stays open (the `with`) until pg_dump has taken the exported snapshot.
            _run([tool, "--format=custom", f"--file={target}", f"--snapshot={snapshot_id}"], uri)
    finally:
        engine.dispose()
    return Snapshot(target.name, "postgresql", revision, counts, hashes, version)


def _load_postgres(uri: str, file: Path, dumped_by: str | None) -> None:
    engine = create_engine(uri)
    try:
        with engine.begin() as connection:
            server = int(connection.scalar(text("SHOW server_version_num"))) // 10000
            # require_empty allowed an alembic_version without rows; the dump brings its own.
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()
    needed = max(server, _major(dumped_by) or 0)
    tool, _version = find_tool("pg_restore", needed)
    _run([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(file)], uri)


def find_tool(name: str, at_least: int) -> tuple[str, str]:
    """The newest `name` on PATH or under /usr/lib/postgresql/*/bin, if its major version is `at_least`."""
    candidates = [found for found in [shutil.which(name), *glob(f"/usr/lib/postgresql/*/bin/{name}")] if found]
    versions = []
    for candidate in dict.fromkeys(candidates):
        line = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        if (major := _major(line)) is not None:
            versions.append((major, candidate, line))
    if not versions:
        raise BackupError(f"{name} not found on PATH or under /usr/lib/postgresql/*/bin; install the PostgreSQL "
                          "client tools")
    major, tool, line = max(versions)
    if major < at_least:
        raise BackupError(f"{tool} is version {major} ({line}) but version {at_least} or newer is needed for "
                          f"this server; install the matching PostgreSQL client tools")
    return tool, line


def _major(version_line: str | None) -> int | None:
    match = _VERSION.search(version_line or "")
    return int(match.group(1)) if match else None


def _run(command: list[str], uri: str) -> None:
    """Run a libpq tool against `uri` with the password in PGPASSWORD, never on the command line."""
    dbname, password = libpq_url(uri)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    done = subprocess.run([*command, f"--dbname={dbname}"], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def libpq_url(uri: str) -> tuple[str, str | None]:
    """The SQLAlchemy URL as a libpq connection URI without its password, and the password apart."""
    url = make_url(uri)
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                       query=url.query)
    return plain.render_as_string(hide_password=False), url.password


# ---- reading a snapshot --------------------------------------------------------------------------


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(text("SELECT version_num FROM alembic_version"))


def _counts(connection: Connection) -> dict[str, int]:
    tables = set(inspect(connection).get_table_names())
    return {key: connection.scalar(text(f"SELECT count(*) FROM {table}")) if table in tables else 0
            for key, table in COUNTED.items()}


def _evidence_hashes(connection: Connection) -> frozenset[str]:
    if not inspect(connection).has_table("evidence"):
        return frozenset()
    rows: Iterator = connection.execute(text("SELECT DISTINCT sha256 FROM evidence"))
    return frozenset(row[0] for row in rows)
