"""mail outbox: notification state, retries, leases; chosen time zones

Revision ID: 451ec7d744fa
Revises: dc61a645699a
Create Date: 2026-12-02 14:43:18.685387

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '451ec7d744fa'
down_revision = 'dc61a645699a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=20), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=500), nullable=True))
        batch_op.drop_index(batch_op.f('ix_notifications_unsent'))
        batch_op.create_index('ix_notifications_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notifications_pending', ['case_id', 'recipient', 'kind', 'state'], unique=False)
    # Rows written before the mail worker existed are due now, or were already sent.
    op.execute("UPDATE notifications SET next_attempt_at = created_at")
    op.execute("UPDATE notifications SET state = 'sent' WHERE sent_at IS NOT NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('next_attempt_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    # A plain ADD COLUMN, not a batch: on SQLite a batch would copy and drop these tables, which other
    # tables' rows refer to.
    op.add_column('parties', sa.Column('timezone_chosen', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('timezone_chosen', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone_chosen')

    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_column('timezone_chosen')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_pending')
        batch_op.drop_index('ix_notifications_due')
        batch_op.create_index(batch_op.f('ix_notifications_unsent'), ['sent_at', 'id'], unique=False)
        batch_op.drop_column('last_error')
        batch_op.drop_column('leased_until')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('state')
