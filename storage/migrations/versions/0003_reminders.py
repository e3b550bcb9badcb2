"""reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:13:43.070862
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scheduler_mark',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('reminder_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('deadline_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('due_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('claimed_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['forum_id'], ['forum.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('forum_id', 'kind', 'offset_days', 'deadline_at', 'member_id', name='uq_reminder_delivery_once')
    )
    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_delivery_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_delivery_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_delivery_status'), ['status'], unique=False)

    with op.batch_alter_table('forum', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_review', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_hour', sa.Integer(), nullable=False, server_default='9'))
        batch_op.add_column(sa.Column('muted_kinds', sa.JSON(), nullable=False, server_default='[]'))

    # The GRF progress review is where progress reports are asked for.
    forum = sa.table("forum", sa.column("code", sa.String), sa.column("progress_review", sa.Boolean))
    op.execute(forum.update().where(forum.c.code == "GRFPR2025").values(progress_review=True))


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('muted_kinds')
        batch_op.drop_column('reminder_hour')

    with op.batch_alter_table('forum', schema=None) as batch_op:
        batch_op.drop_column('progress_review')

    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_status'))
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_member_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_due_at'))

    op.drop_table('reminder_delivery')
    op.drop_table('scheduler_mark')

