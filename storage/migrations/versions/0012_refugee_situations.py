"""pledge.refugee_situations: the refugee situations a pledge addresses (the GRF form asks);
pledges that name partners but were made "individual" by 0009 become "partnership"

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLEDGE = sa.table(
    "pledge",
    sa.column("id", sa.Integer()),
    sa.column("pledge_type", sa.String()),
    sa.column("partner_ids", sa.JSON()),
    sa.column("other_partners", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("pledge") as batch:
        batch.add_column(
            sa.Column(
                "refugee_situations", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
    # 0009 gave every existing pledge the type "individual", also those with partners, which
    # the wizard never allows: a pledge with partners is common or in partnership, and
    # "partnership" is what the partners step offers first.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(PLEDGE.c.id, PLEDGE.c.partner_ids, PLEDGE.c.other_partners).where(
            PLEDGE.c.pledge_type == "individual"
        )
    )
    partnered = [row.id for row in rows if _listed(row.partner_ids) or _listed(row.other_partners)]
    for start in range(0, len(partnered), 500):
        connection.execute(
            sa.update(PLEDGE)
            .where(PLEDGE.c.id.in_(partnered[start : start + 500]))
            .values(pledge_type="partnership")
        )


def _listed(value: object) -> bool:
    """Whether a JSON list column holds anything (SQLite may hand it back as text)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return bool(value)


def downgrade() -> None:
    with op.batch_alter_table("pledge") as batch:
        batch.drop_column("refugee_situations")
