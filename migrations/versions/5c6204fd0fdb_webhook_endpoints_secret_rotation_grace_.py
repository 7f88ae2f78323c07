"""webhook endpoints: secret rotation grace, disabled reason, pause

Revision ID: 5c6204fd0fdb
Revises: 451ec7d744fa
Create Date: 2026-12-02 14:47:16.137490

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c6204fd0fdb'
down_revision = '451ec7d744fa'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_secret', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disabled_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_column('paused_until')
        batch_op.drop_column('disabled_reason')
        batch_op.drop_column('previous_secret_until')
        batch_op.drop_column('previous_secret')

