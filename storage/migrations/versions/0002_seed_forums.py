"""Seed the forums of DESIGN.md (data, editable by coordinators afterwards)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_forum = sa.table(
    "forum",
    sa.column("code", sa.String),
    sa.column("names", sa.JSON),
    sa.column("location", sa.String),
    sa.column("compacts", sa.JSON),
    sa.column("starts_on", sa.Date),
    sa.column("ends_on", sa.Date),
    sa.column("pledge_deadline", sa.DateTime(timezone=True)),
    sa.column("deadline_time_zone", sa.String),
    sa.column("reminder_offsets", sa.JSON),
    sa.column("is_open", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)

IMRF = {
    "en": "International Migration Review Forum {year}",
    "fr": "Forum d'examen des migrations internationales {year}",
    "es": "Foro de Examen de la Migración Internacional {year}",
    "pt": "Fórum de Revisão da Migração Internacional {year}",
    "ru": "Форум по обзору международной миграции {year} года",
    "ar": "منتدى استعراض الهجرة الدولية {year}",
    "zh": "{year}年国际移民审查论坛",
}
GRF = {
    "en": "Global Refugee Forum {year}",
    "fr": "Forum mondial sur les réfugiés {year}",
    "es": "Foro Mundial sobre los Refugiados {year}",
    "pt": "Fórum Global sobre Refugiados {year}",
    "ru": "Глобальный форум по беженцам {year} года",
    "ar": "المنتدى العالمي للاجئين {year}",
    "zh": "{year}年全球难民论坛",
}
GRF_REVIEW = {
    "en": "Global Refugee Forum Progress Review {year}",
    "fr": "Examen des progrès du Forum mondial sur les réfugiés {year}",
    "es": "Examen de los Progresos del Foro Mundial sobre los Refugiados {year}",
    "pt": "Revisão do Progresso do Fórum Global sobre Refugiados {year}",
    "ru": "Обзор хода выполнения решений Глобального форума по беженцам {year} года",
    "ar": "استعراض التقدم المحرز في المنتدى العالمي للاجئين {year}",
    "zh": "{year}年全球难民论坛进展审查",
}


def _names(template: dict[str, str], year: int) -> dict[str, str]:
    return {language: name.format(year=year) for language, name in template.items()}


FORUMS = [
    ("IMRF2022", _names(IMRF, 2022), "New York", ["gcm"],
     date(2022, 5, 17), date(2022, 5, 20), False),
    ("GRF2023", _names(GRF, 2023), "Geneva", ["gcr"],
     date(2023, 12, 13), date(2023, 12, 15), False),
    ("GRFPR2025", _names(GRF_REVIEW, 2025), "Geneva", ["gcr"],
     date(2025, 12, 15), date(2025, 12, 17), False),
    ("IMRF2026", _names(IMRF, 2026), "New York", ["gcm"],
     date(2026, 5, 5), date(2026, 5, 8), False),
    # Dates to be announced: a coordinator sets them.
    ("GRF2027", _names(GRF, 2027), "", ["gcr", "gcm"], None, None, True),
]


def upgrade() -> None:
    now = datetime.now(UTC)
    op.bulk_insert(
        _forum,
        [
            {
                "code": code,
                "names": names,
                "location": location,
                "compacts": compacts,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "pledge_deadline": None,
                "deadline_time_zone": "UTC",
                "reminder_offsets": [30, 14, 7, 3, 1],
                "is_open": is_open,
                "created_at": now,
            }
            for code, names, location, compacts, starts_on, ends_on, is_open in FORUMS
        ],
    )


def downgrade() -> None:
    op.execute(_forum.delete().where(_forum.c.code.in_([f[0] for f in FORUMS])))
