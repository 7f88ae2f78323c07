"""A backup restored into an empty installation is the same record: every chain verifies, every evidence file
is found by its hash, the counts and the alembic revision are the source's."""
from __future__ import annotations

import hashlib

import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, Evidence
from mediation.services import backup, chain, storage

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
def restored(app, recorded, target, tmp_path):
    """Back the source up, restore into the target; the target's app context is current meanwhile."""
    manifest = backup.backup(app.config, tmp_path / "backup.tar.gz")
    report = backup.restore(target.config, tmp_path / "backup.tar.gz")
    with target.app_context():
        yield manifest, report
        db.session.remove()


@BOTH
def test_every_restored_case_chain_verifies(restored, recorded):
    reports = chain.verify_all()
    assert sorted(r.case_id for r in reports) == sorted(recorded.case_ids)
    assert all(r.ok and r.events > 0 for r in reports)


@BOTH
def test_every_restored_evidence_file_is_found_by_its_hash_and_hashes_to_it(restored, recorded):
    store = storage.get_storage()
    hashes = set(db.session.scalars(select(Evidence.sha256)))
    assert hashes == recorded.evidence_hashes
    for sha256 in hashes:
        with store.open(sha256) as stored:
            assert hashlib.sha256(stored.read()).hexdigest() == sha256
    assert backup.check_evidence() == backup.EvidenceCheck(checked=len(hashes), problems=[])


@BOTH
def test_restored_counts_match_the_manifest(restored):
    manifest, report = restored
    counted = {"cases": db.session.scalar(select(func.count()).select_from(Case)),
               "events": db.session.scalar(select(func.count()).select_from(CaseEvent)),
               "evidence": db.session.scalar(select(func.count()).select_from(Evidence)),
               "evidence_files": len(set(db.session.scalars(select(Evidence.sha256))))}
    assert counted == manifest.counts == report.counts
    assert counted["evidence"] == 4 and counted["evidence_files"] == 3  # one file was uploaded twice


@BOTH
def test_a_restored_database_is_at_the_head_revision(restored):
    manifest, _report = restored
    head = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_current_head()
    assert db.session.scalar(select(db.text("version_num")).select_from(db.text("alembic_version"))) == head
    assert manifest.alembic_revision == head


@BOTH
def test_previews_come_along_with_the_originals(restored, recorded, tmp_path):
    source = sorted(p.relative_to(tmp_path / "source-evidence") for p in (tmp_path / "source-evidence").rglob("*")
                    if p.is_file())
    restored_files = sorted(p.relative_to(tmp_path / "target-evidence")
                            for p in (tmp_path / "target-evidence").rglob("*") if p.is_file())
    assert restored_files == source
    assert any(p.suffix for p in source), "the photo's preview and thumbnail are in the store"


def test_the_manifest_describes_every_part_by_its_hash(app, recorded, tmp_path):
    manifest = backup.backup(app.config, tmp_path / "backup.tar.gz")
    assert manifest.dialect == "sqlite" and manifest.database == "database.sqlite3"
    assert {f"evidence/{h[:2]}/{h[2:4]}/{h}" for h in recorded.evidence_hashes} <= set(manifest.parts)
    assert all(len(part["sha256"]) == 64 and part["size"] > 0 for part in manifest.parts.values())
    assert manifest.evidence_problems == []


def test_a_backup_into_a_directory_gets_a_timestamped_name(app, recorded, tmp_path):
    backup.backup(app.config, tmp_path)
    [written] = tmp_path.glob("mediation-*.tar.gz")
    assert written.name.endswith("Z.tar.gz")
    assert not list(tmp_path.glob(".backup-*")), "the staging directory is cleaned up"
