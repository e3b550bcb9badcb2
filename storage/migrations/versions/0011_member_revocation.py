"""member.revoked_*: a coordinator can take a member's access back (and give it back);
invite.revoked_at: an invitation can be withdrawn before it is used

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member') as batch:
        batch.add_column(
            sa.Column('revoked_at', storage.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('revoked_role', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('revoked_locality_id', sa.Integer(), nullable=True))
        batch.add_column(
            # A literal default ('0', false on both databases): an expression would make
            # SQLite rebuild the member table, which every other table refers to.
            sa.Column('told_revoked', sa.Boolean(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('invite') as batch:
        batch.add_column(
            sa.Column('revoked_at', storage.types.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('invite') as batch:
        batch.drop_column('revoked_at')
    with op.batch_alter_table('member') as batch:
        batch.drop_column('told_revoked')
        batch.drop_column('revoked_locality_id')
        batch.drop_column('revoked_role')
        batch.drop_column('revoked_by_id')
        batch.drop_column('revoked_at')
