"""Exports laid out as the UN's pledge forms: each column where docs/un-form-layouts.md says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from conversations.un_forms import LAYOUTS, UNHCR_GRF_COLUMNS, UNN_GCM_COLUMNS
from storage.engine import SessionFactory, transaction
from storage.exchange import PLEDGE_COLUMNS
from storage.models import Attachment, Pledge, WorkflowState
from tests.storage.test_exchange import csv_rows, seed, sheets, xlsx_bytes

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


async def _references(sessions: SessionFactory) -> list[str]:
    """The seed's references: Lyon's joint pledge, Lyon's matching one, Quito's."""
    async with transaction(sessions) as session:
        found = await session.exec(select(Pledge.reference).order_by(col(Pledge.id)))
        return [r or "" for r in found.all()]


async def _attach_a_plan(sessions: SessionFactory) -> None:
    """A document for Lyon's joint pledge (the one with a contact person)."""
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


TODAY = datetime.now(UTC).date().isoformat()
DESCRIPTION = "A one-stop centre;\nwith classes & legal advice."


async def test_the_unn_gcm_layout_is_the_forms_columns_filled_from_the_pledge(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    await _attach_a_plan(sessions)
    joint, matching, _quito = await _references(sessions)
    assert _documented("unn-gcm") == list(UNN_GCM_COLUMNS)
    # Quito's pledge serves the refugee compact only: not a GCM pledge.
    first, second = await _rows(sessions, "unn-gcm")
    assert first == {
        "Contact person: name": "Ana Silva",
        "Contact person: title": "Deputy Mayor",
        "Contact person: e-mail": "ana@lyon.example.org",
        "Contact person: phone": "'+33 4 72 10 30 30",  # a spreadsheet reads + as a formula
        "Pledging entity": "Lyon",
        "Country": "France",
        "Type of pledge": "Pledge in partnership",
        "Participating States and Actors": (
            "Porto Alegre (Brazil); Forum Réfugiés (NGO or civil society)"
        ),
        "Matched pledge (title and ID number)": "",
        "Form of pledge": "Financial contributions; Human resource contributions",
        "GCM objectives": (
            "Objective 5: Enhance availability and flexibility of pathways for regular "
            "migration; Objective 15: Provide access to basic services for migrants"
        ),
        "Level of action": "International",
        "Countries": "Lebanon; Jordan",
        "Timeframe": "2027-01-15 – 2028-12-31",
        "Pledge title": "'=Welcome centre, for newcomers",
        "Pledge description": DESCRIPTION,
        "Attachment": "plan.pdf",
        "pledgebot reference": joint,
        "Web page": "https://lyon.example.org/welcome",
        "Budget": "250000.50",
        "Currency": "EUR",
        "Stage": "in progress",
        "Submitted on": TODAY,
        "Submitted after the deadline": "no",  # GRF2027 has no deadline
        "Marrakech Mayors Declaration endorsed": "yes",
    }
    assert second == {
        "Contact person: name": "",
        "Contact person: title": "",
        "Contact person: e-mail": "",
        "Contact person: phone": "",
        "Pledging entity": "Lyon",
        "Country": "France",
        "Type of pledge": "Matching pledge",
        "Participating States and Actors": "",
        "Matched pledge (title and ID number)": "CLA-2026-0031",
        "Form of pledge": "Policy-oriented commitments",
        "GCM objectives": (
            "Objective 16: Empower migrants and societies to realize full inclusion and social "
            "cohesion"
        ),
        "Level of action": "",
        "Countries": "",
        "Timeframe": "2027-03-01 – ongoing",
        "Pledge title": 'Language classes "for all"',
        "Pledge description": DESCRIPTION,
        "Attachment": "",
        "pledgebot reference": matching,
        "Web page": "",
        "Budget": "",
        "Currency": "",
        "Stage": "in the planning stage",
        "Submitted on": TODAY,
        "Submitted after the deadline": "no",
        "Marrakech Mayors Declaration endorsed": "yes",
    }


async def test_the_unhcr_grf_layout_is_the_forms_columns_filled_from_the_pledge(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    await _attach_a_plan(sessions)
    joint, _matching, quito = await _references(sessions)
    assert _documented("unhcr-grf") == list(UNHCR_GRF_COLUMNS)
    # Lyon's matching pledge serves the migration compact only: not a GRF pledge.
    first, second = await _rows(sessions, "unhcr-grf")
    assert first == {
        "Name of entity submitting this form": "Lyon",
        "Country": "France",
        # No counterpart in pledgebot: left for the secretariat, never made up.
        "Institutional (departmental) general email address": "",
        "Submitting entity type": "Local Government",
        "Salutation": "",
        "First Name": "Ana",
        "Last Name": "Silva",
        "Position": "Deputy Mayor",
        "Email": "ana@lyon.example.org",
        "Multistakeholder pledge": "Resettlement; Refugee Participation",
        "Summary heading for this pledge": "'=Welcome centre, for newcomers",
        "Pledge description": DESCRIPTION,
        "Expected impact of the pledge in one sentence": "",
        "Target population(s)": "Refugees",
        "Number of targeted beneficiaries (if known)": "",
        "Timeline for implementation(s)": "2027-01-15 – 2028-12-31",
        "GCR objectives": "Objective 2: Enhance refugee self-reliance",
        "Type of contribution": "Financial; Technical support",
        "Stage of progress": "in progress",
        "Joint pledge partners": "Porto Alegre (Brazil); Forum Réfugiés (NGO or civil society)",
        "pledgebot reference": joint,
        "Web page": "https://lyon.example.org/welcome",
        "Documents": "plan.pdf",
        "Budget": "250000.50",
        "Currency": "EUR",
        "Submitted on": TODAY,
        "Submitted after the deadline": "no",
        "Countries and refugee situations that benefit": "Lebanon; Jordan; Syria situation",
        "Marrakech Mayors Declaration endorsed": "yes",
    }
    assert second == {
        "Name of entity submitting this form": "Quito",
        "Country": "Ecuador",
        "Institutional (departmental) general email address": "",
        "Submitting entity type": "Local Government",
        "Salutation": "",
        "First Name": "",
        "Last Name": "",
        "Position": "",
        "Email": "",
        "Multistakeholder pledge": "",
        "Summary heading for this pledge": "Casas para familias",
        "Pledge description": DESCRIPTION,
        "Expected impact of the pledge in one sentence": "",
        "Target population(s)": "",
        "Number of targeted beneficiaries (if known)": "",
        "Timeline for implementation(s)": "",
        "GCR objectives": (
            "Objective 1: Ease the pressures on host countries; "
            "Objective 3: Expand access to third-country solutions"
        ),
        "Type of contribution": "Material",
        "Stage of progress": "in the planning stage",
        "Joint pledge partners": "",
        "pledgebot reference": quito,
        "Web page": "",
        "Documents": "",
        "Budget": "",
        "Currency": "",
        "Submitted on": TODAY,
        "Submitted after the deadline": "no",
        "Countries and refugee situations that benefit": "Venezuela situation",
        "Marrakech Mayors Declaration endorsed": "no",
    }


async def test_the_un_layouts_hold_only_the_pledges_a_un_form_would_take(
    sessions: SessionFactory,
) -> None:
    """Submitted, approved or delivered, and serving the form's compact; codes hold them all."""
    await seed(sessions)
    joint, matching, quito = await _references(sessions)

    async def states(by_reference: dict[str, WorkflowState]) -> None:
        async with transaction(sessions) as session:
            for reference, state in by_reference.items():
                found = await session.exec(select(Pledge).where(Pledge.reference == reference))
                pledge = found.one()
                pledge.state = state.value
                session.add(pledge)

    async def held(layout: str) -> list[str]:
        return [row["pledgebot reference"] for row in await _rows(sessions, layout)]

    assert await held("unn-gcm") == [joint, matching]
    assert await held("unhcr-grf") == [joint, quito]
    await states(
        {
            joint: WorkflowState.APPROVED,
            matching: WorkflowState.WITHDRAWN,
            quito: WorkflowState.DELIVERED,
        }
    )
    assert await held("unn-gcm") == [joint]
    assert await held("unhcr-grf") == [joint, quito]
    await states({joint: WorkflowState.CHANGES_REQUESTED})
    assert await held("unn-gcm") == []
    assert await held("unhcr-grf") == [quito]
    # The XLSX file's progress reports are those of the pledges it holds: the joint one's
    # report went back with it.
    for layout in ("unn-gcm", "unhcr-grf"):
        book = sheets(await xlsx_bytes(sessions, LAYOUTS[layout]))
        assert [len(rows) for rows in book.values()] == [2 if layout == "unhcr-grf" else 1, 1]
    # The codes layout holds every pledge with a reference, whatever its state.
    header, *rows = await csv_rows(sessions)
    assert header == list(PLEDGE_COLUMNS)
    assert [row[0] for row in rows] == [joint, matching, quito]
