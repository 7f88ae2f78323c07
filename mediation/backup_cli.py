"""`flask mediation backup [--to PATH]` and `flask mediation restore ARCHIVE`.

Exit codes: 0 done (and, for a restore, every chain and evidence file checked out); 1 refused or failed,
with the reason on stderr; 2 restored, but a chain or an evidence file did not check out.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from mediation.services import backup as backups
from mediation.services import chain


def _counts(counts: dict[str, int]) -> str:
    return (f"{counts['cases']} case(s), {counts['events']} event(s), {counts['evidence']} evidence row(s), "
            f"{counts['evidence_files']} evidence file(s)")


@click.command("backup")
@click.option("--to", "destination", type=click.Path(path_type=Path),
              help="The archive to write (or a directory for it); default instance/backups/mediation-<UTC>.tar.gz.")
def backup_command(destination: Path | None) -> None:
    """Write the database (a consistent snapshot, also while the app runs) and the evidence store to one
    .tar.gz with a manifest of hashes."""
    destination = destination or Path(current_app.instance_path) / "backups"
    if destination.is_dir() or destination.suffix == "":
        destination = destination / backups.default_name()
    try:
        manifest = backups.backup(current_app.config, destination)
    except backups.BackupError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Backed up to {destination}")
    click.echo(f"  {manifest.dialect}, revision {manifest.alembic_revision}: {_counts(manifest.counts)}")
    if manifest.evidence_problems:
        click.echo(f"warning: {len(manifest.evidence_problems)} evidence file(s) named in the database were missing "
                   f"or damaged in the store, e.g. {manifest.evidence_problems[0]}", err=True)
        sys.exit(2)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(archive: Path) -> None:
    """Restore ARCHIVE into this installation's empty database and evidence directory, then check every case
    chain and every evidence file by its hash."""
    try:
        report = backups.restore(current_app.config, archive)
    except backups.BackupError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Restored {_counts(report.counts)}; revision {report.manifest.alembic_revision}.")
    chains = chain.verify_all()
    broken = [r for r in chains if not r.ok]
    for r in broken:
        click.echo(f"case {r.case_id}: BROKEN at event {r.broken_seq}: {r.problem}")
    click.echo(f"{len(chains) - len(broken)} of {len(chains)} case chains verify.")
    evidence = backups.check_evidence()
    for problem in evidence.problems:
        click.echo(f"evidence {problem}")
    click.echo(f"{evidence.checked - len(evidence.problems)} of {evidence.checked} evidence files found by their hash.")
    if broken or evidence.problems:
        sys.exit(2)
