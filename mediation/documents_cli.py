"""`flask mediation verify-document FILE`: check a settlement or ruling document (its PDF or JSON) against
the chain. Exit code 0 genuine, 1 altered, 2 unknown; 3 when the file is not a document at all."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from mediation.errors import Invalid, plain
from mediation.services import document_verify


@click.command("verify-document")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_document(file: Path) -> None:
    """Say whether FILE (a document's PDF or JSON) is genuine, altered (and which fields) or unknown."""
    if file.stat().st_size > document_verify.MAX_BYTES:
        click.echo("error: the file is too large to be a document", err=True)
        sys.exit(3)
    try:
        verdict = document_verify.verify(file.read_bytes())
    except Invalid as error:
        details = "; ".join(str(t) for texts in plain(error.errors).values() for t in texts)
        click.echo(f"error: {plain(error.message)} {details}".rstrip(), err=True)
        sys.exit(3)
    click.echo(verdict.status)
    for name in verdict.fields:
        click.echo(f"  differs: {name}")
    sys.exit(verdict.exit_code)
