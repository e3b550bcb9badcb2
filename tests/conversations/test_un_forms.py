"""Exports laid out as the UN's pledge forms: each column where docs/un-form-layouts.md says."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import select

from conversations.un_forms import LAYOUTS, UNHCR_GRF_COLUMNS, UNN_GCM_COLUMNS
from storage.engine import SessionFactory, transaction
from storage.models import Attachment, Pledge
from tests.storage.test_exchange import csv_rows, seed

MAPPING = Path(__file__).resolve().parents[2] / "docs" / "un-form-layouts.md"


def _documented(layout: str) -> list[str]:
    """The columns the mapping document lists for a layout, in its order."""
    text = MAPPING.read_text(encoding="utf-8")
    section = text.split(f"## `{layout}`", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| \d+ \| (.+?) \|", section, flags=re.M)


async def _rows(sessions: SessionFactory, layout: str) -> list[dict[str, str]]:
    header, *rows = await csv_rows(sessions, row_format=LAYOUTS[layout])
    assert header == _documented(layout)
    return [dict(zip(header, row, strict=True)) for row in rows]


async def test_the_unn_gcm_layout_is_the_forms_columns_filled_from_the_pledge(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    async with transaction(sessions) as session:
        pledge = (await session.exec(select(Pledge).where(Pledge.contact_name != ""))).one()
        assert pledge.id is not None
        session.add(
            Attachment(
                pledge_id=pledge.id,
                file_name="plan.pdf",
                size=3,
                sha256="0" * 64,
                stored_as="attachments/1/plan.pdf",
            )
        )
    assert _documented("unn-gcm") == list(UNN_GCM_COLUMNS)
    first = (await _rows(sessions, "unn-gcm"))[0]
    assert first["Contact person: name"] == "Ana Silva"
    assert first["Contact person: e-mail"] == "ana@lyon.example.org"
    assert first["Pledging entity"] == "Lyon" and first["Country"] == "France"
    assert first["Type of pledge"] == "Pledge in partnership"
    assert first["Participating States and Actors"] == (
        "Porto Alegre (Brazil); Forum Réfugiés (NGO or civil society)"
    )
    assert first["Form of pledge"] == "Financial contributions; Human resource contributions"
    assert first["GCM objectives"].startswith("Objective 5: Enhance availability and flexibility")
    objective_15 = "; Objective 15: Provide access to basic services for migrants"
    assert objective_15 in first["GCM objectives"]
    assert first["Level of action"] == "International"
    assert first["Countries"] == "Lebanon; Jordan"
    assert first["Timeframe"] == "2027-01-15 – 2028-12-31"
    assert first["Attachment"] == "plan.pdf"
    assert first["Stage"] == "in progress"
    assert first["pledgebot reference"].startswith("CLA-")


async def test_the_unhcr_grf_layout_is_the_forms_columns_filled_from_the_pledge(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    assert _documented("unhcr-grf") == list(UNHCR_GRF_COLUMNS)
    rows = await _rows(sessions, "unhcr-grf")
    first = rows[0]
    assert first["Name of entity submitting this form"] == "Lyon"
    assert first["Submitting entity type"] == "Local Government"
    assert (first["First Name"], first["Last Name"], first["Position"]) == (
        "Ana",
        "Silva",
        "Deputy Mayor",
    )
    assert first["Summary heading for this pledge"] == "'=Welcome centre, for newcomers"
    assert first["Target population(s)"] == "Refugees"
    assert first["GCR objectives"] == "Objective 2: Enhance refugee self-reliance"
    assert first["Type of contribution"] == "Financial; Technical support"
    assert first["Timeline for implementation(s)"] == "2027-01-15 – 2028-12-31"
    ongoing = rows[1]
    assert ongoing["Timeline for implementation(s)"] == "2027-03-01 – ongoing"
    # No counterpart in pledgebot: left for the secretariat, never made up.
    assert first["Expected impact of the pledge in one sentence"] == ""
    assert first["Number of targeted beneficiaries (if known)"] == ""
