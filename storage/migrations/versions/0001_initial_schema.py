"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 23:59:19.837420
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('forum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('compacts', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('pledge_deadline', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('deadline_time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reminder_offsets', sa.JSON(), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('locality',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name_key', 'country', name='uq_locality_name_country')
    )
    with op.batch_alter_table('locality', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locality_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_locality_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_locality_parent_id'), ['parent_id'], unique=False)

    op.create_table('reference_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('locality_id', sa.Integer(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('telegram_id')
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_locality_id'), ['locality_id'], unique=False)

    op.create_table('access_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('locality_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_request_member_id'), ['member_id'], unique=False)

    op.create_table('invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('locality_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('uses_left', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invite_locality_id'), ['locality_id'], unique=False)

    op.create_table('pledge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('locality_id', sa.Integer(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=True),
    sa.Column('compacts', sa.JSON(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
    sa.Column('gcm_objectives', sa.JSON(), nullable=False),
    sa.Column('gcr_objectives', sa.JSON(), nullable=False),
    sa.Column('support_types', sa.JSON(), nullable=False),
    sa.Column('target_groups', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('ongoing', sa.Boolean(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('partner_ids', sa.JSON(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('draft_step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', storage.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['forum_id'], ['forum.id'], ),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_forum_id'), ['forum_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledge_locality_id'), ['locality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledge_state'), ['state'], unique=False)

    op.create_table('conversation_state',
    sa.Column('member_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('flow', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], ),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('conversation_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_state_pledge_id'), ['pledge_id'], unique=False)

    op.create_table('pledge_partner',
    sa.Column('pledge_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('locality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], ),
    sa.PrimaryKeyConstraint('pledge_id', 'locality_id')
    )
    with op.batch_alter_table('pledge_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_partner_locality_id'), ['locality_id'], unique=False)

    op.create_table('pledge_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pledge_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_revision_pledge_id'), ['pledge_id'], unique=False)

    op.create_table('progress_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('narrative', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_report_pledge_id'), ['pledge_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_report_pledge_id'))

    op.drop_table('progress_report')
    with op.batch_alter_table('pledge_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_revision_pledge_id'))

    op.drop_table('pledge_revision')
    with op.batch_alter_table('pledge_partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_partner_locality_id'))

    op.drop_table('pledge_partner')
    with op.batch_alter_table('conversation_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_state_pledge_id'))

    op.drop_table('conversation_state')
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_state'))
        batch_op.drop_index(batch_op.f('ix_pledge_locality_id'))
        batch_op.drop_index(batch_op.f('ix_pledge_forum_id'))

    op.drop_table('pledge')
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invite_locality_id'))
        batch_op.drop_index(batch_op.f('ix_invite_created_by_id'))

    op.drop_table('invite')
    with op.batch_alter_table('access_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_request_member_id'))

    op.drop_table('access_request')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_locality_id'))

    op.drop_table('member')
    op.drop_table('reference_counter')
    with op.batch_alter_table('locality', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locality_parent_id'))
        batch_op.drop_index(batch_op.f('ix_locality_name_key'))
        batch_op.drop_index(batch_op.f('ix_locality_country'))

    op.drop_table('locality')
    op.drop_table('forum')

