"""What the UN pledge forms ask: contact, pledge type, partners of every kind, scope, link and
documents; a forum's
description limits

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing pledges get the values a pledge made today starts with, so they upgrade in place.
TEXT_COLUMNS = (
    ('matching_reference', 40, ''),
    ('contact_name', 200, ''),
    ('contact_title', 200, ''),
    ('contact_email', 254, ''),
    ('contact_phone', 32, ''),
    ('scope', 16, ''),
    ('project_url', 500, ''),
)


def upgrade() -> None:
    with op.batch_alter_table('pledge') as batch:
        batch.add_column(
            sa.Column(
                'pledge_type', sa.String(length=16), nullable=False, server_default='individual'
            )
        )
        for name, length, default in TEXT_COLUMNS:
            batch.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default=default)
            )
        for name in ('beneficiary_countries', 'other_partners', 'multistakeholder_pledges'):
            batch.add_column(
                sa.Column(name, sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
            )
    op.create_table(
        'attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pledge_id', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('mime_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('stored_as', sa.String(length=300), nullable=False),
        sa.Column('telegram_file_id', sa.String(length=200), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('created_at', storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_attachment_pledge_id', 'attachment', ['pledge_id'])
    with op.batch_alter_table('locality') as batch:
        batch.add_column(sa.Column('endorsed_mmd', sa.Boolean(), nullable=True))
    with op.batch_alter_table('forum') as batch:
        batch.add_column(sa.Column('description_min', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('description_max', sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                'multistakeholder_pledges', sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('locality') as batch:
        batch.drop_column('endorsed_mmd')
    op.drop_index('ix_attachment_pledge_id', table_name='attachment')
    op.drop_table('attachment')
    with op.batch_alter_table('forum') as batch:
        batch.drop_column('multistakeholder_pledges')
        batch.drop_column('description_max')
        batch.drop_column('description_min')
    with op.batch_alter_table('pledge') as batch:
        batch.drop_column('multistakeholder_pledges')
        batch.drop_column('other_partners')
        batch.drop_column('beneficiary_countries')
        for name, _length, _default in reversed(TEXT_COLUMNS):
            batch.drop_column(name)
        batch.drop_column('pledge_type')
