"""notifications: the per-recipient index ends with sent_at

Revision ID: 7b1e4c2d9a10
Revises: da800577adcd
Create Date: 2026-12-03 10:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b1e4c2d9a10'
down_revision = 'da800577adcd'
branch_labels = None
depends_on = None


def upgrade():
    # Every chat message asks when the last digest went to each party. With sent_at in the index that is one
    # entry read backwards; before, it was every digest ever sent to that party about the case.
    op.create_index('ix_notifications_recipient', 'notifications',
                    ['case_id', 'recipient', 'kind', 'state', 'sent_at'], unique=False)
    op.drop_index('ix_notifications_pending', table_name='notifications')


def downgrade():
    op.create_index('ix_notifications_pending', 'notifications', ['case_id', 'recipient', 'kind', 'state'],
                    unique=False)
    op.drop_index('ix_notifications_recipient', table_name='notifications')
