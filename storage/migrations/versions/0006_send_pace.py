"""send_pace: one pace for every worker's deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('send_pace',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('next_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # The row exists from the start, so that two workers never race to insert it.
    pace = sa.table(
        'send_pace',
        sa.column('name', sa.String()),
        sa.column('next_at', storage.types.UtcDateTime(timezone=True)),
    )
    op.bulk_insert(pace, [{'name': 'deliveries', 'next_at': datetime(2000, 1, 1, tzinfo=UTC)}])


def downgrade() -> None:
    op.drop_table('send_pace')
