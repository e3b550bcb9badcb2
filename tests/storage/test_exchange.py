"""Exports (codes and labels, CSV and XLSX) and imports (validated whole), on both databases."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from conversations.export import LabelFormat
from conversations.i18n import Catalogs
from conversations.imports import problem_line
from conversations.vocabulary import REFUGEE_SITUATIONS, STAGES, WORKFLOW_STATES
from storage.engine import SessionFactory, session_factory, transaction
from storage.exchange import (
    PLEDGE_COLUMNS,
    REPORT_COLUMNS,
    ExportFilter,
    Problem,
    RowFormat,
    Trouble,
    export_csv,
    export_xlsx,
    import_file,
)
from storage.forums import get_forum_by_code
from storage.migrate import upgrade
from storage.models import (
    Locality,
    Pledge,
    PledgePartner,
    PledgeRevision,
    ProgressReport,
    Role,
    Stage,
)
from storage.pledges import (
    add_progress_report,
    create_draft,
    next_reference,
    submit_pledge,
    update_pledge,
)
from tests.conftest import fresh_postgres
from tests.storage.helpers import count, is_postgres, make_locality, make_member

EVERY_PLEDGE = ExportFilter()
# The refugee situations the seed's pledges address, by title.
SITUATIONS = {"=Welcome centre, for newcomers": ["syria"], "Casas para familias": ["venezuela"]}


async def seed(sessions: SessionFactory) -> None:
    """Two pledges from Lyon (one joint with Porto Alegre, with progress; one matching another)
    and one from Quito. Lyon endorsed the Marrakech Mayors Declaration, Quito not yet."""
    async with transaction(sessions) as session:
        lyon = await make_locality(session, "Lyon", "FR")
        porto = await make_locality(session, "Porto Alegre", "BR")
        quito = await make_locality(session, "Quito", "EC")
        lyon.endorsed_mmd, quito.endorsed_mmd = True, False
        session.add_all([lyon, quito])
        forum = await get_forum_by_code(session=session, code="GRF2027")
        assert forum is not None and forum.id is not None
        ana = await make_member(session, Role.OFFICIAL, locality_id=lyon.id, name="Ana")
        rui = await make_member(session, Role.OFFICIAL, locality_id=quito.id, name="Rui")
        assert ana.id is not None and rui.id is not None and porto.id is not None
        for who, title, changes in (
            (
                ana,
                "=Welcome centre, for newcomers",
                {
                    "compacts": ["gcm", "gcr"],
                    "gcm_objectives": [5, 15],
                    "gcr_objectives": [2],
                    "support_types": ["financial", "technical"],
                    "target_groups": ["refugees"],
                    "starts_on": date(2027, 1, 15),
                    "ends_on": date(2028, 12, 31),
                    "amount": Decimal("250000.50"),
                    "currency": "EUR",
                    "partner_ids": [porto.id],
                    "pledge_type": "partnership",
                    "scope": "international",
                    "beneficiary_countries": ["LB", "JO"],
                    "contact_name": "Ana Silva",
                    "contact_title": "Deputy Mayor",
                    "contact_email": "ana@lyon.example.org",
                    "contact_phone": "+33 4 72 10 30 30",
                    "other_partners": [{"name": "Forum Réfugiés", "kind": "civil_society"}],
                    "project_url": "https://lyon.example.org/welcome",
                    "multistakeholder_pledges": ["Resettlement", "Refugee Participation"],
                },
            ),
            (
                ana,
                'Language classes "for all"',
                {
                    "compacts": ["gcm"],
                    "gcm_objectives": [16],
                    "support_types": ["policy"],
                    "target_groups": ["migrants", "host_communities"],
                    "starts_on": date(2027, 3, 1),
                    "ongoing": True,
                    "pledge_type": "matching",
                    "matching_reference": "CLA-2026-0031",
                },
            ),
            (
                rui,
                "Casas para familias",
                {"compacts": ["gcr"], "gcr_objectives": [1, 3], "support_types": ["material"]},
            ),
        ):
            assert who.id is not None
            pledge = await create_draft(session=session, member=who, language="en")
            await update_pledge(
                session=session,
                pledge=pledge,
                changes={
                    "forum_id": forum.id,
                    "title": title,
                    "description": "A one-stop centre;\nwith classes & legal advice.",
                    **changes,
                },
                member_id=who.id,
            )
            pledge.refugee_situations = SITUATIONS.get(title, [])
            session.add(pledge)
            await submit_pledge(session=session, pledge=pledge, member_id=who.id)
            if title.startswith("="):
                await add_progress_report(
                    session=session,
                    pledge=pledge,
                    stage=Stage.IN_PROGRESS,
                    narrative="Opened in March.",
                    member_id=who.id,
                )


async def csv_rows(
    sessions: SessionFactory,
    filters: ExportFilter = EVERY_PLEDGE,
    row_format: RowFormat | None = None,
) -> list[list[str]]:
    out = io.BytesIO()
    async with transaction(sessions) as session:
        if row_format is None:
            await export_csv(session=session, out=out, filters=filters)
        else:
            await export_csv(session=session, out=out, filters=filters, row_format=row_format)
    raw = out.getvalue()
    assert raw.startswith("\ufeff".encode())  # the BOM spreadsheet programs need
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


async def xlsx_bytes(sessions: SessionFactory, row_format: RowFormat | None = None) -> bytes:
    out = io.BytesIO()
    async with transaction(sessions) as session:
        if row_format is None:
            await export_xlsx(session=session, out=out)
        else:
            await export_xlsx(session=session, out=out, row_format=row_format)
    return out.getvalue()


def sheets(content: bytes) -> dict[str, list[list[str]]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    found = {
        ws.title: [
            [c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)
        ]
        for ws in workbook.worksheets
    }
    workbook.close()
    return found


async def test_export_in_codes(sessions: SessionFactory) -> None:
    await seed(sessions)
    header, *rows = await csv_rows(sessions)
    assert header == list(PLEDGE_COLUMNS)
    first = dict(zip(header, rows[0], strict=True))
    today = datetime.now(UTC).date().isoformat()
    assert first == {
        "reference": first["reference"],
        "locality": "Lyon",
        "country": "FR",
        "forum": "GRF2027",
        "compacts": "gcm;gcr",
        "title": "'=Welcome centre, for newcomers",  # a spreadsheet does not run it
        "description": "A one-stop centre;\nwith classes & legal advice.",
        "gcm_objectives": "5;15",
        "gcr_objectives": "2",
        "support_types": "financial;technical",
        "target_groups": "refugees",
        "starts_on": "2027-01-15",
        "ends_on": "2028-12-31",
        "ongoing": "false",
        "amount": "250000.50",
        "currency": "EUR",
        "state": "submitted",
        "stage": "in_progress",
        "submitted_on": today,
        "last_progress": today,
        "contact": "Ana",
        "language": "en",
        "partners": "Porto Alegre (BR)",
        "pledge_type": "partnership",
        "scope": "international",
        "beneficiary_countries": "LB;JO",
        "contact_name": "Ana Silva",
        "contact_title": "Deputy Mayor",
        "contact_email": "ana@lyon.example.org",
        "contact_phone": "'+33 4 72 10 30 30",  # guarded: a spreadsheet reads + as a formula
        "other_partners": "Forum Réfugiés [civil_society]",
        "matching_reference": "",
        "project_url": "https://lyon.example.org/welcome",
        "multistakeholder_pledges": "Resettlement;Refugee Participation",
        "refugee_situations": "syria",
        "locality_endorsed_mmd": "yes",
    }
    assert first["reference"].startswith("CLA-")
    second, third = (dict(zip(header, row, strict=True)) for row in rows[1:])
    assert (second["pledge_type"], second["matching_reference"]) == ("matching", "CLA-2026-0031")
    assert (second["refugee_situations"], second["locality_endorsed_mmd"]) == ("", "yes")
    assert (third["refugee_situations"], third["locality_endorsed_mmd"]) == ("venezuela", "no")
    assert [r[PLEDGE_COLUMNS.index("ongoing")] for r in rows] == ["false", "true", "false"]
    # Filters: a country, a compact, a locality.
    assert len(await csv_rows(sessions, ExportFilter(country="EC"))) == 2
    assert len(await csv_rows(sessions, ExportFilter(compact="gcm"))) == 3
    async with transaction(sessions) as session:
        lyon = await make_locality(session, "Lyon", "FR")
    assert len(await csv_rows(sessions, ExportFilter(locality_id=lyon.id, forum="grf2027"))) == 3


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_export_in_a_readers_language(
    sessions: SessionFactory, catalogs: Catalogs, language: str
) -> None:
    await seed(sessions)
    t = catalogs.translator(language)
    header, first, *_ = await csv_rows(sessions, row_format=LabelFormat(t))
    assert header[0] == t.plain("Reference")
    values = dict(zip(PLEDGE_COLUMNS, first, strict=True))
    assert values["state"] == t.plain(WORKFLOW_STATES["submitted"])
    assert values["stage"] == t.plain(STAGES["in_progress"])
    assert values["starts_on"] == t.date(date(2027, 1, 15), format="medium")
    assert values["country"] == ("France" if language in ("en", "fr") else values["country"])
    assert values["refugee_situations"] == t.plain(REFUGEE_SITUATIONS["syria"])
    assert values["locality_endorsed_mmd"] == t.plain("Yes")
    if language == "fr":
        assert values["starts_on"] == "15 janv. 2027" and values["amount"] == "250\u202f000,50"
        assert values["locality_endorsed_mmd"] == "Oui"
    else:
        assert values["starts_on"] == "Jan 15, 2027" and values["amount"] == "250,000.50"
    book = sheets(await xlsx_bytes(sessions, LabelFormat(t)))
    assert list(book) == [t.plain("Pledges"), t.plain("Progress reports")]


async def test_xlsx_reads_back_with_openpyxl(sessions: SessionFactory) -> None:
    await seed(sessions)
    book = sheets(await xlsx_bytes(sessions))
    assert list(book) == ["pledges", "progress_reports"]
    pledges, reports = book["pledges"], book["progress_reports"]
    assert pledges[0] == list(PLEDGE_COLUMNS) and len(pledges) == 4
    # No formula guard in XLSX: cells are text, never formulas.
    assert pledges[1][PLEDGE_COLUMNS.index("title")] == "=Welcome centre, for newcomers"
    assert reports[0] == list(REPORT_COLUMNS)
    assert reports[1][0] == pledges[1][0] and reports[1][2:4] == ["in_progress", "Opened in March."]


async def reset(engine: AsyncEngine, database_url: str, tmp_path: Path) -> SessionFactory:
    """A fresh, migrated, empty database (the same server for PostgreSQL)."""
    await engine.dispose()
    if is_postgres(database_url):
        fresh = await fresh_postgres(database_url)
    else:
        from storage.engine import create_engine

        fresh = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}")
    await upgrade(fresh)
    return session_factory(fresh)


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
async def test_round_trip_into_a_fresh_database(
    sessions: SessionFactory, engine: AsyncEngine, database_url: str, tmp_path: Path, suffix: str
) -> None:
    await seed(sessions)
    before_csv = await csv_rows(sessions)
    before_book = sheets(await xlsx_bytes(sessions))
    path = tmp_path / f"pledges.{suffix}"
    if suffix == "xlsx":
        path.write_bytes(await xlsx_bytes(sessions))
    else:
        async with transaction(sessions) as session:
            with path.open("wb") as out:
                await export_csv(session=session, out=out)
    fresh = await reset(engine, database_url, tmp_path)
    async with transaction(fresh) as session:
        report = await import_file(session=session, path=path)
    assert report.problems == [] and report.written and report.pledges == 3
    after_csv = await csv_rows(fresh)
    if suffix == "xlsx":
        assert after_csv == before_csv
        assert sheets(await xlsx_bytes(fresh)) == before_book
    else:
        # A CSV has no progress sheet: everything but the date of the last report comes back.
        last = PLEDGE_COLUMNS.index("last_progress")
        strip = [[v for i, v in enumerate(r) if i != last] for r in before_csv]
        assert [[v for i, v in enumerate(r) if i != last] for r in after_csv] == strip
    async with transaction(fresh) as session:
        revisions = (await session.exec(select(PledgeRevision))).all()
        assert {r.action for r in revisions} == {"imported"}
        assert await count(session, PledgePartner) == 1
        # What the UN forms ask came back, not only as the same text.
        pledges = (await session.exec(select(Pledge).order_by(col(Pledge.id)))).all()
        assert [
            (p.project_url, p.multistakeholder_pledges, p.matching_reference, p.refugee_situations)
            for p in pledges
        ] == [
            (
                "https://lyon.example.org/welcome",
                ["Resettlement", "Refugee Participation"],
                "",
                ["syria"],
            ),
            ("", [], "CLA-2026-0031", []),
            ("", [], "", ["venezuela"]),
        ]
        endorsed = (await session.exec(select(Locality.name, Locality.endorsed_mmd))).all()
        assert dict(endorsed) == {"Lyon": True, "Porto Alegre": None, "Quito": False}
        # New submissions continue after the imported numbers.
        year, highest = max(
            (int(r[0].split("-")[1]), int(r[0].split("-")[2])) for r in before_csv[1:]
        )
        assert await next_reference(session=session, year=year) == f"CLA-{year}-{highest + 1:04d}"


GOOD = {
    "reference": "CLA-2022-0007",
    "locality": "Montréal",
    "country": "CA",
    "forum": "IMRF2022",
    "compacts": "gcm",
    "title": "Newcomer services",
    "description": "One desk for every service.",
    "gcm_objectives": "15;16",
    "gcr_objectives": "",
    "support_types": "technical",
    "target_groups": "migrants",
    "starts_on": "2022-05-01",
    "ends_on": "2024-05-01",
    "ongoing": "false",
    "amount": "1000.00",
    "currency": "CAD",
    "state": "delivered",
    "stage": "fulfilled",
    "submitted_on": "2022-04-01",
    "last_progress": "",
    "contact": "Marie",
    "language": "fr",
    "partners": "Lyon (FR)",
}
BAD_ROWS: list[tuple[dict[str, str], str, str]] = [
    ({"reference": "X-1"}, "reference", "not a reference"),
    ({"country": "XX"}, "country", "ISO 3166-1"),
    ({"forum": "NOPE2030"}, "forum", "no forum"),
    ({"compacts": "gcm;gcx"}, "compacts", "unknown code 'gcx'"),
    ({"title": ""}, "title", "required"),
    ({"gcm_objectives": "24"}, "gcm_objectives", "not an objective"),
    ({"gcr_objectives": "2"}, "gcr_objectives", "gcr not chosen"),
    ({"support_types": "money"}, "support_types", "unknown code"),
    ({"target_groups": "aliens"}, "target_groups", "unknown code"),
    ({"starts_on": "01/05/2022"}, "starts_on", "not a date"),
    ({"ends_on": "2021-01-01"}, "ends_on", "ends before it starts"),
    ({"currency": "XYZ"}, "currency", "ISO 4217"),
    ({"amount": "12,5"}, "amount", "not an amount"),
    ({"state": "draft"}, "state", "not one of"),
    ({"stage": "done"}, "stage", "not one of"),
    ({"partners": "Lyon"}, "partners", "not a partner"),
    ({"locality_endorsed_mmd": "maybe"}, "locality_endorsed_mmd", "not yes, no or empty"),
    ({"refugee_situations": "syria;atlantis"}, "refugee_situations", "unknown code 'atlantis'"),
    ({"reference": "CLA-2022-0007"}, "reference", "also on row 2"),
]


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(PLEDGE_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


async def totals(sessions: SessionFactory) -> tuple[int, int, int]:
    async with transaction(sessions) as session:
        return (
            await count(session, Pledge),
            await count(session, Locality),
            await count(session, ProgressReport),
        )


def said(catalogs: Catalogs, problem: Problem) -> str:
    """A problem as `pledgebot import` words it in English."""
    return problem_line(catalogs.translator("en"), problem, file="pledges.csv")


async def test_each_bad_row_is_reported_and_nothing_is_written(
    sessions: SessionFactory, tmp_path: Path, catalogs: Catalogs
) -> None:
    path = tmp_path / "pledges.csv"
    rows = [
        GOOD,
        *(
            {**GOOD, "reference": f"CLA-2022-{i + 100:04d}", **bad}
            for i, (bad, _, _) in enumerate(BAD_ROWS)
        ),
    ]
    rows[-1] = {**GOOD, **BAD_ROWS[-1][0]}  # the duplicate keeps the first row's reference
    write_csv(path, rows)
    before = await totals(sessions)
    async with transaction(sessions) as session:
        report = await import_file(session=session, path=path)
    assert not report.written and report.pledges == 0
    found = {(p.row, p.column) for p in report.problems}
    for number, (_, column, message) in enumerate(BAD_ROWS, start=3):
        assert (number, column) in found, (number, column, report.problems)
        assert any(p.row == number and message in said(catalogs, p) for p in report.problems)
    assert all(p.row != 2 for p in report.problems)  # the good row has none
    assert await totals(sessions) == before


async def test_partial_keeps_the_good_rows(
    sessions: SessionFactory, tmp_path: Path, catalogs: Catalogs
) -> None:
    path = tmp_path / "pledges.csv"
    write_csv(path, [GOOD, {**GOOD, "reference": "CLA-2022-0008", "country": "XX"}])
    async with transaction(sessions) as session:
        report = await import_file(session=session, path=path, partial=True)
    assert report.written and report.pledges == 1
    assert [(p.row, p.column) for p in report.problems] == [(3, "country")]
    async with transaction(sessions) as session:
        [pledge] = (await session.exec(select(Pledge))).all()
        assert (pledge.reference, pledge.state, pledge.stage) == (
            "CLA-2022-0007",
            "delivered",
            "fulfilled",
        )
        assert pledge.amount == Decimal("1000.00") and pledge.currency == "CAD"
    # Importing the same file again: the reference exists already.
    async with transaction(sessions) as session:
        again = await import_file(session=session, path=path, partial=True)
    assert any("already exists" in said(catalogs, p) for p in again.problems)
    assert not again.written


async def test_partners_make_a_pledge_without_a_type_a_partnership(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    """As the wizard: a pledge with partners is common or in partnership, never individual;
    a file exported before migration 0012 says "individual" of a joint pledge, and is read as
    0012 reads the database."""
    alone = {**GOOD, "reference": "CLA-2022-0009", "partners": ""}
    others = {**alone, "reference": "CLA-2022-0010", "other_partners": "UNHCR [un_agency]"}
    path = tmp_path / "pledges.csv"
    write_csv(
        path,
        [
            GOOD,
            alone,
            others,
            {**others, "reference": "CLA-2022-0011", "pledge_type": "individual"},
            {**GOOD, "reference": "CLA-2022-0012", "pledge_type": "common"},
            {**alone, "reference": "CLA-2022-0013", "pledge_type": "individual"},
        ],
    )
    async with transaction(sessions) as session:
        report = await import_file(session=session, path=path, partial=True)
    assert report.problems == []
    async with transaction(sessions) as session:
        found = (await session.exec(select(Pledge.reference, Pledge.pledge_type))).all()
    assert dict(found) == {
        "CLA-2022-0007": "partnership",
        "CLA-2022-0009": "individual",
        "CLA-2022-0010": "partnership",
        "CLA-2022-0011": "partnership",
        "CLA-2022-0012": "common",
        "CLA-2022-0013": "individual",
    }


async def test_an_import_says_which_localities_endorsed_the_marrakech_declaration(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    async with transaction(sessions) as session:
        quito = await make_locality(session, "Quito", "EC")
        quito.endorsed_mmd = True
        session.add(quito)
    rows = [
        {**GOOD, "locality_endorsed_mmd": "yes"},
        {**GOOD, "reference": "CLA-2022-0008", "locality_endorsed_mmd": ""},  # unsaid: kept
        {
            **GOOD,
            "reference": "CLA-2022-0009",
            "locality": "Toronto",
            "locality_endorsed_mmd": "no",
        },
        {**GOOD, "reference": "CLA-2022-0010", "locality": "Quito", "country": "EC"},
        {**GOOD, "reference": "CLA-2022-0011", "locality": "Ottawa"},
    ]
    path = tmp_path / "pledges.csv"
    write_csv(path, rows)
    async with transaction(sessions) as session:
        report = await import_file(session=session, path=path)
    assert report.problems == [] and report.written
    async with transaction(sessions) as session:
        found = (await session.exec(select(Locality.name, Locality.endorsed_mmd))).all()
    assert dict(found) == {
        "Montréal": True,
        "Toronto": False,
        "Quito": True,
        "Ottawa": None,
        "Lyon": None,  # a partner
    }


async def test_dry_run_writes_nothing(sessions: SessionFactory, tmp_path: Path) -> None:
    path = tmp_path / "pledges.csv"
    write_csv(path, [GOOD])
    before = await totals(sessions)
    async with transaction(sessions) as session:
        report = await import_file(session=session, path=path, dry_run=True)
    assert report.problems == [] and report.pledges == 1 and not report.written
    assert await totals(sessions) == before


async def test_a_file_with_translated_headers_is_refused(
    sessions: SessionFactory, tmp_path: Path, catalogs: Catalogs
) -> None:
    await seed(sessions)
    path = tmp_path / "labels.csv"
    async with transaction(sessions) as session:
        with path.open("wb") as out:
            await export_csv(
                session=session, out=out, row_format=LabelFormat(catalogs.translator("en"))
            )
    async with transaction(sessions) as session:
        report = await import_file(session=session, path=path)
    assert report.problems and all(p.row == 1 for p in report.problems)
    assert any(
        p.column == "reference" and p.trouble is Trouble.MISSING_COLUMN for p in report.problems
    )


def test_the_readme_lists_every_codes_column_in_order() -> None:
    """Whoever fills a file by hand reads the columns in the README: it must not fall behind."""
    from pathlib import Path

    from storage.exchange.layout import PLEDGE_COLUMNS

    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").split())
    listed = readme.split("Codes: one column per field (", 1)[1].split(")", 1)[0]
    assert re.findall(r"`([a-z_]+)`", listed) == list(PLEDGE_COLUMNS)
