"""pledge search text and status indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 00:36:22.225379
"""
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_pledge = sa.table(
    "pledge",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("description", sa.String),
    sa.column("search_text", sa.Text),
)


def _fold(text: str) -> str:
    # A frozen copy of storage.pledges.fold as it was when this migration was written.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def upgrade() -> None:
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
        batch_op.create_index('ix_pledge_forum_summary', ['forum_id', 'state', 'stage', 'locality_id', 'currency', 'amount'], unique=False)
        batch_op.create_index('ix_pledge_locality_forum_state', ['locality_id', 'forum_id', 'state'], unique=False)

    # Existing pledges become searchable at once.
    connection = op.get_bind()
    rows = connection.execute(sa.select(_pledge.c.id, _pledge.c.title, _pledge.c.description))
    for pledge_id, title, description in rows.all():
        connection.execute(
            _pledge.update()
            .where(_pledge.c.id == pledge_id)
            .values(search_text=_fold(f"{title}\n{description}"))
        )


def downgrade() -> None:
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.drop_index('ix_pledge_locality_forum_state')
        batch_op.drop_index('ix_pledge_forum_summary')
        batch_op.drop_column('search_text')
