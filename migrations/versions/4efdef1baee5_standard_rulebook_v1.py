"""the standard rulebook, version 1, published

Revision ID: 4efdef1baee5
Revises: e2eb58e59693
Create Date: 2026-12-03 09:00:00.000000

Data only. Reads a frozen copy of the rulebook (migrations/data/standard_rulebook_v1.json), never the
product file or the models, so this revision inserts the same rows however both evolve later. It inserts
nothing when any rulebook exists already: an installation that wrote its own keeps it as it is.
"""
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4efdef1baee5'
down_revision = 'e2eb58e59693'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')
DATA = Path(__file__).resolve().parent.parent / 'data' / 'standard_rulebook_v1.json'

rulebooks = sa.table(
    'rulebooks',
    sa.column('id', sa.Integer), sa.column('slug', sa.String), sa.column('title', sa.JSON),
    sa.column('created_at', sa.DateTime(timezone=True)),
)
versions = sa.table(
    'rulebook_versions',
    sa.column('id', sa.Integer), sa.column('rulebook_id', sa.Integer), sa.column('number', sa.Integer),
    sa.column('summary', sa.JSON), sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('created_by', sa.Integer), sa.column('published_at', sa.DateTime(timezone=True)),
)
clauses = sa.table(
    'clauses',
    sa.column('id', sa.Integer), sa.column('version_id', sa.Integer), sa.column('number', sa.String),
    sa.column('position', sa.Integer), sa.column('title', sa.JSON), sa.column('body', sa.JSON),
)
cases = sa.table('cases', sa.column('rulebook_version_id', sa.Integer))
platforms = sa.table('platforms', sa.column('rulebook_id', sa.Integer))


def _now(bind):
    # The application stores UTC; on SQLite without an offset (see mediation.models.types.UTCDateTime).
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if bind.dialect.name == 'sqlite' else now


def upgrade():
    bind = op.get_bind()
    if bind.scalar(sa.select(sa.func.count()).select_from(rulebooks)):
        return
    data = json.loads(DATA.read_text(encoding='utf-8'))
    now = _now(bind)
    bind.execute(rulebooks.insert().values(slug=data['slug'], title=data['title'], created_at=now))
    rulebook_id = bind.scalar(sa.select(rulebooks.c.id).where(rulebooks.c.slug == data['slug']))
    bind.execute(versions.insert().values(rulebook_id=rulebook_id, number=data['version'], summary=data['summary'],
                                          created_at=now, created_by=None, published_at=now))
    version_id = bind.scalar(sa.select(versions.c.id).where(versions.c.rulebook_id == rulebook_id,
                                                            versions.c.number == data['version']))
    op.bulk_insert(clauses, [
        {'version_id': version_id, 'number': clause['number'], 'position': position,
         'title': clause['title'], 'body': clause['body']}
        for position, clause in enumerate(data['clauses'], start=1)
    ])


def downgrade():
    """Deletes the rows upgrade() inserted, recognised by slug, title, number and no author. Rows that
    cases or platforms refer to stay: rulings cite them, and the record must keep meaning what it said."""
    bind = op.get_bind()
    data = json.loads(DATA.read_text(encoding='utf-8'))
    rulebook_id = bind.scalar(sa.select(rulebooks.c.id).where(rulebooks.c.slug == data['slug']))
    if rulebook_id is None:
        return
    found = bind.execute(sa.select(versions.c.id, versions.c.number, versions.c.created_by)
                         .where(versions.c.rulebook_id == rulebook_id)).all()
    title = bind.scalar(sa.select(rulebooks.c.title).where(rulebooks.c.id == rulebook_id))
    ours = len(found) == 1 and found[0].number == data['version'] and found[0].created_by is None
    if not ours or title != data['title']:
        log.warning('The standard rulebook has versions written since; leaving it in place.')
        return
    version_id = found[0].id
    used = (bind.scalar(sa.select(sa.func.count()).select_from(cases).where(cases.c.rulebook_version_id == version_id))
            or bind.scalar(sa.select(sa.func.count()).select_from(platforms)
                           .where(platforms.c.rulebook_id == rulebook_id)))
    if used:
        log.warning('Cases or platforms refer to the standard rulebook; leaving it in place.')
        return
    bind.execute(clauses.delete().where(clauses.c.version_id == version_id))
    bind.execute(versions.delete().where(versions.c.id == version_id))
    bind.execute(rulebooks.delete().where(rulebooks.c.id == rulebook_id))
