"""inbound_update.handled_at: an update whose step committed is never handled again

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_update') as batch:
        batch.add_column(
            sa.Column('handled_at', storage.types.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('inbound_update') as batch:
        batch.drop_column('handled_at')
