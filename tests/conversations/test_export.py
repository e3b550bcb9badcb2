"""/export end to end: two documents for a coordinator, only their own rows for an official."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SentMessage
from conversations.un_forms import UNHCR_GRF_COLUMNS, UNN_GCM_COLUMNS
from storage.exchange import PLEDGE_COLUMNS
from storage.models import Role
from tests.conftest import Invitations
from tests.conversations.helpers import join, submit_pledge, texts


def documents(replies: list[SentMessage]) -> dict[str, bytes]:
    return {
        str(r.document["file_name"]): bytes(r.document["content"])
        for r in replies
        if r.document is not None
    }


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_coordinator_and_official_exports(
    standin: BotApiStandIn, app: PledgeApplication, invitations: Invitations
) -> None:
    lyon = await join(standin, app, invitations, user_id=1, locality="Lyon")
    quito = await join(standin, app, invitations, user_id=2, locality="Quito", country="EC")
    lyon_reference = await submit_pledge(lyon)
    quito_reference = await submit_pledge(quito)
    coordinator = await join(standin, app, invitations, user_id=3, role=Role.COORDINATOR)

    replies = await coordinator.send("/export")
    assert "CSV and an XLSX file" in texts(replies)
    replies = await coordinator.press("In my language")
    files = documents(replies)
    assert len(files) == 2, texts(replies)
    [csv_name] = [n for n in files if n.endswith(".csv")]
    [xlsx_name] = [n for n in files if n.endswith(".xlsx")]
    assert csv_name.startswith("pledges-") and xlsx_name.startswith("pledges-")
    header, *rows = csv_rows(files[csv_name])
    assert header[:3] == ["Reference", "Locality", "Country"]
    assert sorted(r[0] for r in rows) == sorted([lyon_reference, quito_reference])
    assert {r[2] for r in rows} == {"France", "Ecuador"}
    assert "2 pledges" in texts(replies)
    assert {r[header.index("Start date")] for r in rows} == {"Jan 15, 2027"}
    assert {r[header.index("Amount")] for r in rows} == {"250,000.00"}
    workbook = load_workbook(io.BytesIO(files[xlsx_name]))
    assert workbook.sheetnames == ["Pledges", "Progress reports"]
    sheet = workbook["Pledges"]
    columns = [c.value for c in sheet[1]]
    start = sheet.cell(row=2, column=columns.index("Start date") + 1)
    amount = sheet.cell(row=2, column=columns.index("Amount") + 1)
    submitted = sheet.cell(row=2, column=columns.index("Submitted on") + 1)
    # In a spreadsheet, amounts are numbers and days are dates, shown the reader's way.
    assert (start.value, start.is_date) == (datetime(2027, 1, 15), True)
    assert (amount.value, amount.number_format) == (250000, "#,##0.00")
    assert submitted.is_date
    workbook.close()

    # A forum filter names the files after it.
    await coordinator.send("/export GRF2027")
    replies = await coordinator.press("Codes")
    assert any("GRF2027" in name for name in documents(replies))

    # An official gets their own locality's pledges only, whatever the button claims.
    await lyon.send("/export")
    replies = await lyon.press("Codes")
    files = documents(replies)
    [content] = [c for n, c in files.items() if n.endswith(".csv")]
    header, *rows = csv_rows(content)
    assert header == list(PLEDGE_COLUMNS)
    assert [r[0] for r in rows] == [lyon_reference]


async def test_export_is_refused_without_a_role_and_for_forged_buttons(
    standin: BotApiStandIn, app: PledgeApplication, invitations: Invitations
) -> None:
    stranger = standin.person(app, user_id=9, first_name="Eve", language_code="en")
    replies = await stranger.send("/export")
    assert "need an invitation" in texts(replies)
    assert not documents(replies)
    replies = await stranger.press_data("x.go::1")
    assert not documents(replies)

    staff = await join(standin, app, invitations, user_id=4, role=Role.STAFF)
    replies = await staff.press_data("x.go::z")  # forged
    assert not documents(replies)
    await staff.send("/export NOPE2030")
    replies = await staff.press("Codes")
    assert "There is no forum NOPE2030" in texts(replies) and not documents(replies)


async def test_a_coordinator_exports_the_pledges_a_un_form_takes_from_chat(
    standin: BotApiStandIn, app: PledgeApplication, invitations: Invitations
) -> None:
    """The secretariat on a phone: the UNHCR form's columns, only pledges that serve the
    refugee compact and were submitted, in files named after the form."""
    lyon = await join(standin, app, invitations, user_id=1, locality="Lyon")
    reference = await submit_pledge(lyon)  # serves both compacts
    coordinator = await join(standin, app, invitations, user_id=3, role=Role.COORDINATOR)
    replies = await coordinator.send("/export GRF2027")
    assert "laid out as a UN pledge form" in texts(replies)
    replies = await coordinator.press("📋 UNHCR GRF pledge form")
    files = documents(replies)
    [csv_name] = [n for n in files if n.endswith(".csv")]
    assert csv_name.startswith("unhcr-grf-GRF2027-")
    assert any(n.startswith("unhcr-grf-GRF2027-") and n.endswith(".xlsx") for n in files)
    header, *rows = csv_rows(files[csv_name])
    assert header == list(UNHCR_GRF_COLUMNS)
    assert [r[header.index("pledgebot reference")] for r in rows] == [reference]
    # A drafted pledge is not one a form takes.
    await lyon.send("/pledge")
    await coordinator.send("/export")
    replies = await coordinator.press("📋 UN Network GCM pledge form")
    files = documents(replies)
    [content] = [c for n, c in files.items() if n.endswith(".csv")]
    header, *rows = csv_rows(content)
    assert header == list(UNN_GCM_COLUMNS) and len(rows) == 1
    # A forged layout is refused, nothing sent.
    replies = await coordinator.press_data("x.form::codes")
    assert coordinator.last_answer == "That button is no longer valid." and not documents(replies)
