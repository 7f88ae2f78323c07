"""Backups: the database and the evidence store in one .tar.gz, and a restore into an empty installation.

The archive holds `database.sqlite3` (SQLite) or `database.pgdump` (PostgreSQL, pg_dump's custom format),
`evidence/ab/cd/<sha256>[.<kind>]` (the store as it is on disk, previews included), and `manifest.json`
last, written once every part's SHA-256 is known. A restore reads the manifest, refuses anything but an
empty database and an empty (or missing) evidence directory of the same dialect, unpacks into a staging
directory while checking every part against the manifest, and only then changes the target.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from mediation import clock
from mediation.extensions import db
from mediation.models import Evidence
from mediation.services import backup_db, storage
from mediation.services.backup_db import BackupError

__all__ = ["BackupError", "EvidenceCheck", "Manifest", "RestoreReport", "backup", "check_evidence", "restore"]

FORMAT = "mediation-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EVIDENCE = "evidence"
_STORED = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z]{1,20})?$")


@dataclass
class Manifest:
    created_at: str
    dialect: str
    alembic_revision: str | None
    # cases, events, evidence (rows) and evidence_files (distinct originals archived)
    counts: dict[str, int]
    database: str
    # archive member -> {"sha256", "size"}: the database dump and every evidence file
    parts: dict[str, dict[str, Any]]
    dumped_by: str | None = None
    # originals the database names but the store did not have intact when the backup was made
    evidence_problems: list[str] = field(default_factory=list)
    format: str = FORMAT
    version: int = FORMAT_VERSION

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
                raise BackupError(f"not a {FORMAT} version {FORMAT_VERSION} archive")
            return cls(**data)
        except (ValueError, TypeError, AttributeError) as error:
            raise BackupError(f"the archive's manifest is unreadable: {error}") from None


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    counts: dict[str, int]


def backup(app_config: Mapping[str, Any], destination: Path) -> Manifest:
    """Write the database and the evidence store to one archive at `destination` (a .tar.gz; a directory
    gets a timestamped name inside it). The file appears only once complete. Raises BackupError."""
    evidence_dir = _local_store(app_config)
    destination = Path(destination)
    if destination.is_dir():
        destination = destination / default_name()
    destination.parent.mkdir(parents=True, exist_ok=True)
    created_at = clock.now().isoformat()
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".backup-") as staging:
        # The database first: files are stored before their rows commit, so every row in the snapshot
        # has its file in the store by the time the store is read.
        snapshot = backup_db.dump(app_config["SQLALCHEMY_DATABASE_URI"], Path(staging))
        partial = Path(staging) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            parts = {snapshot.filename: _add(archive, snapshot.filename, Path(staging) / snapshot.filename)}
            for path in _store_files(evidence_dir):
                name = f"{EVIDENCE}/{path.relative_to(evidence_dir).as_posix()}"
                parts[name] = _add(archive, name, path)
            intact = {Path(name).name for name, part in parts.items() if Path(name).name == part["sha256"]}
            manifest = Manifest(
                created_at=created_at, dialect=snapshot.dialect, alembic_revision=snapshot.revision,
                counts={**snapshot.counts, "evidence_files": len(snapshot.evidence_hashes & intact)},
                database=snapshot.filename, parts=parts, dumped_by=snapshot.tool,
                evidence_problems=sorted(snapshot.evidence_hashes - intact))
            _add_bytes(archive, MANIFEST, json.dumps(asdict(manifest), indent=2, sort_keys=True).encode())
        os.replace(partial, destination)
    return manifest


def default_name() -> str:
    return f"mediation-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def restore(app_config: Mapping[str, Any], archive: Path) -> RestoreReport:
    """Put an archive's database and evidence into this installation, which must be empty.

    Raises BackupError, before changing anything, when the archive is not one, its dialect differs from the
    configured database's, the database has tables or the evidence directory has files, or any part does not
    match the manifest's hash; and afterwards when the restored counts differ from the manifest's.
    """
    uri = app_config["SQLALCHEMY_DATABASE_URI"]
    evidence_dir = _local_store(app_config)
    with _open_archive(archive) as tar:
        manifest = _read_manifest(tar)
        dialect = backup_db.dialect_of(uri)
        if manifest.dialect != dialect:
            raise BackupError(f"the archive holds a {manifest.dialect} database but the configured database is "
                              f"{dialect}; restore it into a {manifest.dialect} database")
        backup_db.require_empty(uri)
        if _store_files(evidence_dir, include_incoming=True):
            raise BackupError(f"the evidence directory {evidence_dir} is not empty; restore only into an empty one")
        evidence_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=evidence_dir.parent, prefix=".restore-") as staging:
            _unpack(tar, manifest, Path(staging))
            backup_db.load(uri, Path(staging) / manifest.database, manifest.dumped_by)
            _move_store(Path(staging) / EVIDENCE, evidence_dir)
    revision, counts = backup_db.describe(uri)
    expected = {key: manifest.counts[key] for key in counts}
    if revision != manifest.alembic_revision or counts != expected:
        raise BackupError(f"the restored database does not match the manifest: revision {revision}, counts "
                          f"{counts}; expected {manifest.alembic_revision}, {expected}")
    return RestoreReport(manifest, {**counts, "evidence_files": manifest.counts["evidence_files"]})


@dataclass(frozen=True)
class EvidenceCheck:
    checked: int
    problems: list[str]


def check_evidence() -> EvidenceCheck:
    """Every evidence row's original must be in the store under its hash, and its bytes must hash to it;
    one line per file that is not (in the current app's database and store)."""
    store = storage.get_storage()
    hashes = db.session.scalars(select(Evidence.sha256).distinct().order_by(Evidence.sha256)).all()
    problems = []
    for sha256 in hashes:
        if not store.exists(sha256):
            problems.append(f"{sha256}: missing from the store")
            continue
        with store.open(sha256) as stored:
            if _hash(stored)[0] != sha256:
                problems.append(f"{sha256}: the stored bytes do not hash to their name")
    return EvidenceCheck(len(hashes), problems)


# ---- writing -------------------------------------------------------------------------------------


def _local_store(app_config: Mapping[str, Any]) -> Path:
    if app_config.get("EVIDENCE_STORAGE") is not None:
        raise BackupError("EVIDENCE_STORAGE is configured: back that store up with its own tools; this command "
                          "archives the local EVIDENCE_DIR only")
    return Path(app_config["EVIDENCE_DIR"])


def _store_files(root: Path, include_incoming: bool = False) -> list[Path]:
    """The store's files (originals and previews); uploads still streaming in are not on the record yet."""
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file()
                  and (include_incoming or _STORED.match(path.relative_to(root).as_posix())))


class _Hashing:
    """Hashes what tarfile reads, so each file is read once for the archive and its manifest entry."""

    def __init__(self, stream: IO[bytes]):
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _add(archive: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = path.stat().st_size, int(path.stat().st_mtime), 0o440
    with path.open("rb") as stream:
        reader = _Hashing(stream)
        archive.addfile(info, reader)
    if reader.size != info.size:
        raise BackupError(f"{path} changed size while it was archived")
    return {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(clock.now().timestamp()), 0o440
    archive.addfile(info, io.BytesIO(data))


# ---- reading -------------------------------------------------------------------------------------


def _open_archive(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{archive} is not a readable .tar.gz backup: {error}") from None


def _read_manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError(f"the archive has no {MANIFEST}") from None
    stream = tar.extractfile(member)
    if stream is None:
        raise BackupError(f"the archive's {MANIFEST} is not a file")
    manifest = Manifest.from_json(stream.read())
    if manifest.database not in manifest.parts or manifest.dialect not in ("sqlite", "postgresql"):
        raise BackupError("the archive's manifest names no database dump")
    return manifest


def _unpack(tar: tarfile.TarFile, manifest: Manifest, staging: Path) -> None:
    """Write exactly the manifest's parts under `staging`, each checked against its hash; member names come
    from the archive, so only those the manifest lists (and of the store's shape) ever become paths."""
    seen = set()
    for member in tar.getmembers():
        if member.name == MANIFEST:
            continue
        part = manifest.parts.get(member.name)
        if part is None or not member.isfile() or not _safe_part(member.name, manifest.database):
            raise BackupError(f"the archive holds {member.name!r}, which its manifest does not list")
        target = staging / member.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with tar.extractfile(member) as source, target.open("wb") as out:  # type: ignore[union-attr]
            digest, size = _hash(source, out)
        if digest != part["sha256"] or size != part["size"]:
            raise BackupError(f"{member.name} does not match the manifest's SHA-256: the archive was altered "
                              "or damaged; nothing was restored")
        seen.add(member.name)
    if missing := sorted(set(manifest.parts) - seen):
        raise BackupError(f"the archive lacks {len(missing)} part(s) its manifest lists, e.g. {missing[0]}")


def _safe_part(name: str, database: str) -> bool:
    if name == database:
        return name in ("database.sqlite3", "database.pgdump")
    return name.startswith(f"{EVIDENCE}/") and bool(_STORED.match(name[len(EVIDENCE) + 1:]))


def _move_store(unpacked: Path, evidence_dir: Path) -> None:
    """Into the (file-free) store, one rename per file: the staging directory is on the same filesystem."""
    evidence_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(unpacked.rglob("*")) if unpacked.exists() else []:
        if path.is_file():
            target = evidence_dir / path.relative_to(unpacked)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o440)  # as the store publishes them: the record's bytes are not edited in place
            os.replace(path, target)


def _hash(source: IO[bytes], out: IO[bytes] | None = None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(storage.CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)
    return digest.hexdigest(), size
