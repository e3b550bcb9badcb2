"""inbound_update.replies: what a handled update still owes its person, sent again after a crash

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_update') as batch:
        batch.add_column(sa.Column('replies', sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column('replies_sent', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade() -> None:
    with op.batch_alter_table('inbound_update') as batch:
        batch.drop_column('replies_sent')
        batch.drop_column('replies')
