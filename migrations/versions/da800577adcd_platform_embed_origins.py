"""platform embed origins

Revision ID: da800577adcd
Revises: 5c6204fd0fdb
Create Date: 2026-12-02 16:17:19.551777

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'da800577adcd'
down_revision = '5c6204fd0fdb'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table copy on SQLite); the server default fills the existing platforms.
    op.add_column('platforms', sa.Column('embed_origins', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    # In place too: a batch would rebuild `platforms` from a reflection that misses its rulebook reference.
    op.drop_column('platforms', 'embed_origins')
