"""`flask mediation backup` and `flask mediation restore`."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade

from mediation.extensions import db


@pytest.fixture
def archive_path(tmp_path):
    return tmp_path / "backups" / "nightly.tar.gz"


def restore_into(target, archive):
    """The CLI run by the target installation (the source's app context is current in these tests, and the
    CLI uses the current app)."""
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["mediation", "restore", str(archive)])
        db.session.remove()
        db.engine.dispose()
    return result


def test_backup_writes_the_archive_and_prints_its_path_and_counts(app, recorded, runner, archive_path):
    result = runner.invoke(args=["mediation", "backup", "--to", str(archive_path)])
    assert result.exit_code == 0, result.output
    assert archive_path.is_file()
    assert f"Backed up to {archive_path}" in result.output
    assert "2 case(s)" in result.output and "4 evidence row(s), 3 evidence file(s)" in result.output


def test_backup_into_a_directory_names_the_archive_by_the_time(app, recorded, runner, tmp_path):
    result = runner.invoke(args=["mediation", "backup", "--to", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    [written] = (tmp_path / "backups").glob("mediation-*Z.tar.gz")
    assert str(written) in result.output


def test_restore_prints_counts_and_that_every_chain_and_file_checks_out(app, recorded, runner, target,
                                                                         archive_path):
    runner.invoke(args=["mediation", "backup", "--to", str(archive_path)])
    result = restore_into(target, archive_path)
    assert result.exit_code == 0, result.output
    assert "Restored 2 case(s)" in result.output
    assert "2 of 2 case chains verify." in result.output
    assert "3 of 3 evidence files found by their hash." in result.output


def test_restore_into_a_non_empty_database_exits_1_with_the_reason(app, recorded, runner, target, archive_path):
    runner.invoke(args=["mediation", "backup", "--to", str(archive_path)])
    with target.app_context():
        upgrade()
        db.engine.dispose()
    result = restore_into(target, archive_path)
    assert result.exit_code == 1
    assert "the target database is not empty" in result.output


@pytest.fixture
def damaged(app, recorded, tmp_path) -> str:
    """Bit rot in the source store: one original no longer hashes to its name."""
    sha256 = sorted(recorded.evidence_hashes)[0]
    path = tmp_path / "source-evidence" / sha256[:2] / sha256[2:4] / sha256
    path.chmod(0o640)
    path.write_bytes(b"bit rot")
    return sha256


def test_backup_warns_and_exits_2_when_a_stored_file_is_damaged(runner, damaged, archive_path):
    result = runner.invoke(args=["mediation", "backup", "--to", str(archive_path)])
    assert result.exit_code == 2
    assert archive_path.is_file(), "what there is still gets archived"
    assert f"missing or damaged in the store, e.g. {damaged}" in result.output


def test_restore_exits_2_and_names_a_file_that_does_not_hash_to_its_name(runner, damaged, target, archive_path):
    runner.invoke(args=["mediation", "backup", "--to", str(archive_path)])
    result = restore_into(target, archive_path)
    assert result.exit_code == 2
    assert "2 of 2 case chains verify." in result.output
    assert f"evidence {damaged}: the stored bytes do not hash to their name" in result.output
    assert "2 of 3 evidence files found by their hash." in result.output
