"""Exports and imports of pledges: one column layout, streamed out, validated whole on the way in.

The layout is data (`PLEDGE_COLUMNS`, `REPORT_COLUMNS`): each column has a stable code, which
is also its header in the "codes" layout that `import_file` reads. Values in that layout are
codes too: lists joined with `;` (`gcm;gcr`, `5;15`), ISO dates, `true`/`false`, amounts with
two decimals, partners as `Name (CC)`. Translated headers and labels are the business of
`conversations/export.py`, which formats the same records for a reader.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Protocol

from babel import Locale
from babel.numbers import list_currencies
from sqlalchemy import String, cast, func, update
from sqlalchemy import select as sa_select  # tuples of 20+ columns, beyond sqlmodel's typing
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.forums import LANGUAGE_KEY
from storage.localities import find_or_create_locality
from storage.models import (
    GCM_OBJECTIVES,
    GCR_OBJECTIVES,
    Compact,
    Forum,
    Locality,
    Member,
    Pledge,
    PledgePartner,
    PledgeRevision,
    ProgressReport,
    ReferenceCounter,
    Stage,
    SupportType,
    TargetGroup,
    WorkflowState,
)
from storage.pledges import search_text_of
from storage.types import utc_now

BATCH = 1000  # rows fetched from the server-side cursor at a time
LIST_SEPARATOR = ";"
TRUE, FALSE = "true", "false"
PLEDGES_SHEET, REPORTS_SHEET = "pledges", "progress_reports"

PLEDGE_COLUMNS = (
    "reference",
    "locality",
    "country",
    "forum",
    "compacts",
    "title",
    "description",
    "gcm_objectives",
    "gcr_objectives",
    "support_types",
    "target_groups",
    "starts_on",
    "ends_on",
    "ongoing",
    "amount",
    "currency",
    "state",
    "stage",
    "submitted_on",
    "last_progress",
    "contact",
    "language",
    "partners",
)
REPORT_COLUMNS = ("reference", "reported_at", "stage", "narrative", "figures", "reported_by")
# Worked out from the progress reports, so an import reads it from the second sheet instead.
DERIVED_COLUMNS = frozenset({"last_progress"})

REFERENCE = re.compile(r"^CLA-(\d{4})-(\d{4,6})$")
PARTNER = re.compile(r"^(.+?)\s*\(([A-Za-z]{2})\)$")
# Values a spreadsheet would run as a formula: a CSV cell starting so gets a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_TITLE, MAX_DESCRIPTION, MAX_NAME = 200, 3000, 200
MAX_AMOUNT = Decimal("9999999999999999.99")  # Numeric(18, 2)


class ExportError(ValueError):
    """An export that cannot be made as asked (an unknown forum code, say)."""


@dataclass(frozen=True)
class ExportFilter:
    """Which pledges to export; None means any. `locality_id` limits an official to theirs."""

    forum: str | None = None  # forum code, e.g. GRF2027
    country: str | None = None  # ISO 3166-1 alpha-2
    locality_id: int | None = None
    compact: str | None = None
    stage: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class PledgeRecord:
    """One exported pledge with the names it refers to."""

    reference: str
    locality: str
    country: str
    forum: Forum | None
    compacts: list[str]
    title: str
    description: str
    gcm_objectives: list[int]
    gcr_objectives: list[int]
    support_types: list[str]
    target_groups: list[str]
    starts_on: date | None
    ends_on: date | None
    ongoing: bool
    amount: Decimal | None
    currency: str | None
    state: str
    stage: str
    submitted_at: datetime | None
    last_progress: datetime | None
    contact: str
    language: str
    partners: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """One exported progress report."""

    reference: str
    reported_at: datetime
    stage: str
    narrative: str
    figures: dict[str, Any] | None
    reported_by: str


class RowFormat(Protocol):
    """How records become spreadsheet rows: as codes here, as labels for a reader elsewhere."""

    pledges_sheet: str
    reports_sheet: str

    def pledge_header(self) -> list[str]: ...
    def pledge_row(self, record: PledgeRecord) -> list[str]: ...
    def report_header(self) -> list[str]: ...
    def report_row(self, record: ReportRecord) -> list[str]: ...


def _joined(values: Iterable[object]) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values)


def _iso(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def utc_day(moment: datetime | None) -> str:
    """The UTC date of a moment, ISO; empty for none."""
    return moment.astimezone(UTC).date().isoformat() if moment is not None else ""


def amount_code(amount: Decimal | None) -> str:
    return f"{amount:.2f}" if amount is not None else ""


def partners_code(partners: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{name} ({country})" for name, country in partners)


def figures_code(figures: Mapping[str, Any] | None) -> str:
    return json.dumps(figures, ensure_ascii=False, sort_keys=True) if figures else ""


class CodeFormat:
    """Stable codes: what systems re-import, and what `import_file` reads."""

    pledges_sheet = PLEDGES_SHEET
    reports_sheet = REPORTS_SHEET

    def pledge_header(self) -> list[str]:
        return list(PLEDGE_COLUMNS)

    def pledge_row(self, r: PledgeRecord) -> list[str]:
        return [
            r.reference,
            r.locality,
            r.country,
            r.forum.code if r.forum is not None else "",
            _joined(r.compacts),
            r.title,
            r.description,
            _joined(r.gcm_objectives),
            _joined(r.gcr_objectives),
            _joined(r.support_types),
            _joined(r.target_groups),
            _iso(r.starts_on),
            _iso(r.ends_on),
            TRUE if r.ongoing else FALSE,
            amount_code(r.amount),
            r.currency or "",
            r.state,
            r.stage,
            utc_day(r.submitted_at),
            utc_day(r.last_progress),
            r.contact,
            r.language,
            partners_code(r.partners),
        ]

    def report_header(self) -> list[str]:
        return list(REPORT_COLUMNS)

    def report_row(self, r: ReportRecord) -> list[str]:
        return [
            r.reference,
            r.reported_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            r.stage,
            r.narrative,
            figures_code(r.figures),
            r.reported_by,
        ]


CODES = CodeFormat()


# --- Reading the database, a batch at a time ------------------------------------------------


async def _forums(session: AsyncSession) -> dict[int, Forum]:
    return {f.id: f for f in (await session.exec(select(Forum))).all() if f.id is not None}


async def _conditions(session: AsyncSession, filters: ExportFilter) -> list[Any]:
    conditions: list[Any] = [col(Pledge.reference).is_not(None)]
    if filters.forum is not None:
        forum_id = (
            await session.exec(select(Forum.id).where(Forum.code == filters.forum.strip().upper()))
        ).first()
        if forum_id is None:
            raise ExportError(f"there is no forum {filters.forum!r}")
        conditions.append(col(Pledge.forum_id) == forum_id)
    if filters.country is not None:
        conditions.append(col(Locality.country) == filters.country.upper())
    if filters.locality_id is not None:
        conditions.append(col(Pledge.locality_id) == filters.locality_id)
    if filters.compact is not None:
        # JSON lists are text on SQLite and cast to text on PostgreSQL: `["gcm", "gcr"]`.
        conditions.append(cast(col(Pledge.compacts), String).like(f'%"{filters.compact}"%'))
    if filters.stage is not None:
        conditions.append(col(Pledge.stage) == filters.stage)
    if filters.state is not None:
        conditions.append(col(Pledge.state) == filters.state)
    return conditions


async def iter_pledges(
    *, session: AsyncSession, filters: ExportFilter = ExportFilter()
) -> AsyncIterator[PledgeRecord]:
    """The pledges with a reference, in submission order, from a server-side cursor."""
    forums = await _forums(session)
    last = (
        select(
            col(ProgressReport.pledge_id).label("pledge_id"),
            func.max(col(ProgressReport.created_at)).label("at"),
        )
        .group_by(col(ProgressReport.pledge_id))
        .subquery()
    )
    statement = (
        sa_select(
            col(Pledge.reference),
            col(Locality.name),
            col(Locality.country),
            col(Pledge.forum_id),
            col(Pledge.compacts),
            col(Pledge.title),
            col(Pledge.description),
            col(Pledge.gcm_objectives),
            col(Pledge.gcr_objectives),
            col(Pledge.support_types),
            col(Pledge.target_groups),
            col(Pledge.starts_on),
            col(Pledge.ends_on),
            col(Pledge.ongoing),
            col(Pledge.amount),
            col(Pledge.currency),
            col(Pledge.state),
            col(Pledge.stage),
            col(Pledge.submitted_at),
            last.c.at,
            col(Member.display_name),
            col(Pledge.language),
            col(Pledge.partner_ids),
        )
        .join(Locality, col(Locality.id) == col(Pledge.locality_id))
        .join(Member, col(Member.id) == col(Pledge.created_by_id))
        .outerjoin(last, last.c.pledge_id == col(Pledge.id))
        .where(*await _conditions(session, filters))
        .order_by(col(Pledge.id))
        .execution_options(yield_per=BATCH)
    )
    partners: dict[int, tuple[str, str]] = {}
    result = await session.stream(statement)
    async for rows in result.partitions():
        wanted = {i for row in rows for i in row[22] if i not in partners}
        if wanted:
            found = await session.exec(
                select(Locality.id, col(Locality.name), col(Locality.country)).where(
                    col(Locality.id).in_(wanted)
                )
            )
            partners.update({i: (name, country) for i, name, country in found if i is not None})
        for row in rows:
            yield PledgeRecord(
                reference=row[0] or "",
                locality=row[1],
                country=row[2],
                forum=forums.get(row[3]) if row[3] is not None else None,
                compacts=row[4],
                title=row[5],
                description=row[6],
                gcm_objectives=row[7],
                gcr_objectives=row[8],
                support_types=row[9],
                target_groups=row[10],
                starts_on=row[11],
                ends_on=row[12],
                ongoing=row[13],
                amount=row[14],
                currency=row[15],
                state=row[16],
                stage=row[17],
                submitted_at=row[18],
                last_progress=row[19],
                contact=row[20],
                language=row[21],
                partners=tuple(partners[i] for i in row[22] if i in partners),
            )


async def iter_reports(
    *, session: AsyncSession, filters: ExportFilter = ExportFilter()
) -> AsyncIterator[ReportRecord]:
    """The progress reports of the exported pledges, oldest first."""
    statement = (
        sa_select(
            col(Pledge.reference),
            col(ProgressReport.created_at),
            col(ProgressReport.stage),
            col(ProgressReport.narrative),
            col(ProgressReport.figures),
            col(Member.display_name),
        )
        .join(Pledge, col(Pledge.id) == col(ProgressReport.pledge_id))
        .join(Locality, col(Locality.id) == col(Pledge.locality_id))
        .join(Member, col(Member.id) == col(ProgressReport.member_id))
        .where(*await _conditions(session, filters))
        .order_by(col(ProgressReport.id))
        .execution_options(yield_per=BATCH)
    )
    result = await session.stream(statement)
    async for rows in result.partitions():
        for row in rows:
            yield ReportRecord(
                reference=row[0],
                reported_at=row[1],
                stage=row[2],
                narrative=row[3],
                figures=row[4],
                reported_by=row[5],
            )


# --- Writing files --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportCounts:
    pledges: int
    reports: int


def guard_formula(value: str) -> str:
    """A CSV value a spreadsheet would not run as a formula; `unguard_formula` undoes it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unguard_formula(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


async def export_csv(
    *,
    session: AsyncSession,
    out: IO[bytes],
    filters: ExportFilter = ExportFilter(),
    row_format: RowFormat = CODES,
) -> int:
    """The pledges as CSV (UTF-8 with a BOM, so spreadsheet programs read it right) into `out`;
    returns how many rows were written. Progress reports travel in the XLSX file only."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(row_format.pledge_header())
        count = 0
        async for record in iter_pledges(session=session, filters=filters):
            writer.writerow([guard_formula(v) for v in row_format.pledge_row(record)])
            count += 1
        text.flush()
    finally:
        text.detach()  # `out` stays open: it is the caller's
    return count


async def export_xlsx(
    *,
    session: AsyncSession,
    out: IO[bytes],
    filters: ExportFilter = ExportFilter(),
    row_format: RowFormat = CODES,
) -> ExportCounts:
    """The pledges and their progress reports as an XLSX workbook of two sheets into `out`."""
    from storage.xlsx import XlsxWriter

    with XlsxWriter(out) as workbook:
        sheet = workbook.open_sheet(row_format.pledges_sheet, row_format.pledge_header())
        async for record in iter_pledges(session=session, filters=filters):
            sheet.append(row_format.pledge_row(record))
        sheet.close()
        reports = workbook.open_sheet(row_format.reports_sheet, row_format.report_header())
        async for report in iter_reports(session=session, filters=filters):
            reports.append(row_format.report_row(report))
        reports.close()
    return ExportCounts(pledges=sheet.count, reports=reports.count)


# --- Reading files --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell (or a whole row or file: row 1 is the header)."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet}, row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Table:
    """A sheet read as text: its header and its rows, each with its row number in the file."""

    sheet: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class ImportReport:
    """What an import found and did."""

    problems: list[Problem] = field(default_factory=list)
    pledges: int = 0  # imported, or that would be on a dry run
    reports: int = 0
    written: bool = False


class ImportFileError(ValueError):
    """A file that cannot be read at all (not CSV or XLSX, unreadable)."""


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text the codes layout has (a program may have typed it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(sheet: str, lines: Iterable[Sequence[object]]) -> Table:
    rows = iter(lines)
    header = [_cell_text(v) for v in next(rows, [])]
    while header and not header[-1]:
        header.pop()
    table = Table(sheet=sheet, header=header, rows=[])
    for number, values in enumerate(rows, start=2):
        texts = [_cell_text(v) for v in values]
        if not any(texts):
            continue  # spreadsheets keep blank rows at the end
        table.rows.append((number, dict(zip(header, texts, strict=False))))
    return table


def read_tables(path: Path) -> tuple[Table, Table | None]:
    """The pledges and, in an XLSX file, the progress reports (the first two sheets)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                lines = [[unguard_formula(v) for v in line] for line in csv.reader(handle)]
            return _table(PLEDGES_SHEET, lines), None
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True, data_only=True)
            try:
                sheets = workbook.worksheets
                if not sheets:
                    raise ImportFileError(f"{path.name} has no sheet")
                pledges = _table(sheets[0].title, sheets[0].iter_rows(values_only=True))
                reports = None
                if len(sheets) > 1:
                    reports = _table(sheets[1].title, sheets[1].iter_rows(values_only=True))
                return pledges, reports
            finally:
                workbook.close()
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError) as error:
        if isinstance(error, ImportFileError):
            raise
        raise ImportFileError(f"cannot read {path.name}: {error}") from None
    raise ImportFileError(f"{path.name}: only .csv and .xlsx files can be imported")


# --- Validating ----------------------------------------------------------------------------


@dataclass
class _PledgeIn:
    row: int
    reference: str
    year: int
    number: int
    locality: str
    country: str
    forum_id: int | None
    values: dict[str, Any]
    contact: str
    partners: list[tuple[str, str]]
    submitted_at: datetime | None


@dataclass
class _ReportIn:
    row: int
    reference: str
    reported_at: datetime
    stage: str
    narrative: str
    figures: dict[str, Any] | None
    reported_by: str


def _countries() -> frozenset[str]:
    territories = Locale.parse("en").territories
    return frozenset(
        str(c) for c in territories if len(str(c)) == 2 and str(c).isalpha() and c != "ZZ"
    )


COUNTRIES = _countries()
CURRENCIES = frozenset(list_currencies())


class _Cells:
    """The cells of one row, read column by column; each problem is noted with its place."""

    def __init__(self, sheet: str, row: int, values: Mapping[str, str]) -> None:
        self.sheet, self.row, self.values = sheet, row, values
        self.problems: list[Problem] = []

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.sheet, self.row, column, message))

    def text(self, column: str, *, required: bool = False, maximum: int = MAX_NAME) -> str:
        value = self.values.get(column, "").strip()
        if required and not value:
            self.problem(column, "required")
        elif len(value) > maximum:
            self.problem(column, f"at most {maximum} characters, not {len(value)}")
        return value

    def codes(self, column: str, known: Iterable[str]) -> list[str]:
        allowed = set(known)
        found: list[str] = []
        for part in self._parts(column):
            if part not in allowed:
                self.problem(column, f"unknown code {part!r}: use {', '.join(sorted(allowed))}")
            elif part not in found:
                found.append(part)
        return found

    def numbers(self, column: str, allowed: range) -> list[int]:
        found: list[int] = []
        for part in self._parts(column):
            if not part.isdigit() or int(part) not in allowed:
                self.problem(
                    column, f"{part!r} is not an objective {allowed.start}-{allowed.stop - 1}"
                )
            elif int(part) not in found:
                found.append(int(part))
        return found

    def day(self, column: str) -> date | None:
        value = self.values.get(column, "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(column, f"{value!r} is not a date like 2027-03-15")
            return None

    def flag(self, column: str) -> bool:
        value = self.values.get(column, "").strip().lower()
        if value in ("", FALSE, "no", "0"):
            return False
        if value in (TRUE, "yes", "1"):
            return True
        self.problem(column, f"{value!r} is not true or false")
        return False

    def choice(self, column: str, known: Iterable[str]) -> str:
        value = self.values.get(column, "").strip()
        allowed = list(known)
        if value not in allowed:
            self.problem(column, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def _parts(self, column: str) -> list[str]:
        value = self.values.get(column, "")
        return [p.strip() for p in value.split(LIST_SEPARATOR) if p.strip()]


def _check_header(table: Table, columns: Sequence[str]) -> list[Problem]:
    problems = [
        Problem(table.sheet, 1, c, "missing column")
        for c in columns
        if c not in table.header and c not in DERIVED_COLUMNS
    ]
    problems += [
        Problem(table.sheet, 1, c or "?", "unknown column: headers must be the column codes")
        for c in table.header
        if c not in columns
    ]
    return problems


def _check_pledge(
    table: Table, row: int, values: Mapping[str, str], forums: Mapping[str, int]
) -> tuple[_PledgeIn | None, list[Problem]]:
    cells = _Cells(table.sheet, row, values)
    reference = cells.text("reference", required=True, maximum=20)
    matched = REFERENCE.match(reference)
    if reference and matched is None:
        cells.problem("reference", f"{reference!r} is not a reference like CLA-2027-0042")
    locality = cells.text("locality", required=True)
    country = cells.text("country", required=True).upper()
    if country and country not in COUNTRIES:
        cells.problem("country", f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    forum_code = cells.text("forum").upper()
    if forum_code and forum_code not in forums:
        cells.problem("forum", f"there is no forum {forum_code!r}")
    compacts = cells.codes("compacts", [c.value for c in Compact])
    if not compacts and not cells.values.get("compacts", "").strip():
        cells.problem("compacts", "required")
    title = cells.text("title", required=True, maximum=MAX_TITLE)
    description = cells.text("description", required=True, maximum=MAX_DESCRIPTION)
    gcm = cells.numbers("gcm_objectives", GCM_OBJECTIVES)
    gcr = cells.numbers("gcr_objectives", GCR_OBJECTIVES)
    for compact, chosen in ((Compact.GCM.value, gcm), (Compact.GCR.value, gcr)):
        if chosen and compact not in compacts:
            cells.problem(f"{compact}_objectives", f"objectives given but {compact} not chosen")
    support = cells.codes("support_types", [s.value for s in SupportType])
    groups = cells.codes("target_groups", [g.value for g in TargetGroup])
    starts_on, ends_on = cells.day("starts_on"), cells.day("ends_on")
    ongoing = cells.flag("ongoing")
    if starts_on and ends_on and ends_on < starts_on:
        cells.problem("ends_on", "ends before it starts")
    if ongoing and ends_on:
        cells.problem("ends_on", "an ongoing pledge has no end date")
    amount = _amount(cells)
    currency = cells.text("currency", maximum=3).upper()
    if currency and currency not in CURRENCIES:
        cells.problem("currency", f"{currency!r} is not an ISO 4217 currency code")
    if amount is not None and not currency:
        cells.problem("currency", "required with an amount")
    if currency and amount is None:
        cells.problem("amount", "required with a currency")
    states = [s.value for s in WorkflowState if s is not WorkflowState.DRAFT]
    state = cells.choice("state", states)
    stage = cells.choice("stage", [s.value for s in Stage])
    submitted_on = cells.day("submitted_on")
    contact = cells.text("contact")
    language = cells.text("language", required=True, maximum=16)
    if language and not LANGUAGE_KEY.match(language):
        cells.problem("language", f"{language!r} is not a language code like en or pt_BR")
    partners = _partners(cells, locality, country)
    if cells.problems or matched is None:
        return None, cells.problems
    return (
        _PledgeIn(
            row=row,
            reference=reference,
            year=int(matched.group(1)),
            number=int(matched.group(2)),
            locality=locality,
            country=country,
            forum_id=forums[forum_code] if forum_code else None,
            values={
                "compacts": compacts,
                "title": title,
                "description": description,
                "gcm_objectives": gcm,
                "gcr_objectives": gcr,
                "support_types": support,
                "target_groups": groups,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "ongoing": ongoing,
                "amount": amount,
                "currency": currency or None,
                "state": state,
                "stage": stage,
                "language": language,
            },
            contact=contact,
            partners=partners,
            submitted_at=(
                datetime.combine(submitted_on, time(0), tzinfo=UTC) if submitted_on else None
            ),
        ),
        [],
    )


def _amount(cells: _Cells) -> Decimal | None:
    value = cells.values.get("amount", "").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        cells.problem("amount", f"{value!r} is not an amount like 250000.00")
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        cells.problem("amount", f"{value!r} is not an amount from 0 to {MAX_AMOUNT}")
        return None
    if amount != amount.quantize(Decimal("0.01")):
        cells.problem("amount", f"{value!r} has more than two decimals")
        return None
    return amount.quantize(Decimal("0.01"))


def _partners(cells: _Cells, locality: str, country: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for part in cells._parts("partners"):
        matched = PARTNER.match(part)
        if matched is None:
            cells.problem("partners", f"{part!r} is not a partner like Lyon (FR)")
            continue
        name, code = matched.group(1).strip(), matched.group(2).upper()
        if code not in COUNTRIES:
            cells.problem("partners", f"{code!r} is not an ISO 3166-1 alpha-2 country code")
        elif (name.casefold(), code) == (locality.casefold(), country):
            cells.problem("partners", "a locality is not its own partner")
        elif (name, code) not in found:
            found.append((name, code))
    return found


def _check_report(
    table: Table, row: int, values: Mapping[str, str]
) -> tuple[_ReportIn | None, list[Problem]]:
    cells = _Cells(table.sheet, row, values)
    reference = cells.text("reference", required=True, maximum=20)
    when_text = cells.text("reported_at", required=True)
    reported_at: datetime | None = None
    if when_text:
        try:
            reported_at = datetime.fromisoformat(when_text.replace("Z", "+00:00"))
        except ValueError:
            cells.problem("reported_at", f"{when_text!r} is not a time like 2027-03-15T10:00:00Z")
        else:
            if reported_at.tzinfo is None:
                reported_at = reported_at.replace(tzinfo=UTC)
    stage = cells.choice("stage", [s.value for s in Stage])
    narrative = cells.text("narrative", required=True, maximum=MAX_DESCRIPTION)
    figures: dict[str, Any] | None = None
    figures_text = cells.text("figures", maximum=MAX_DESCRIPTION)
    if figures_text:
        try:
            parsed = json.loads(figures_text)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            cells.problem("figures", 'figures are a JSON object like {"people": 200}')
        else:
            figures = parsed
    reported_by = cells.text("reported_by")
    if cells.problems or reported_at is None:
        return None, cells.problems
    return _ReportIn(row, reference, reported_at, stage, narrative, figures, reported_by), []


async def validate(
    *, session: AsyncSession, pledges: Table, reports: Table | None
) -> tuple[list[_PledgeIn], list[_ReportIn], list[Problem]]:
    """Every row and column checked; the good rows and every problem found."""
    problems = _check_header(pledges, PLEDGE_COLUMNS)
    if reports is not None:
        problems += _check_header(reports, REPORT_COLUMNS)
    if problems:
        return [], [], problems  # with columns missing, each row would repeat it
    forums = {f.code: f.id for f in (await session.exec(select(Forum))).all() if f.id}
    given = [v.get("reference", "").strip() for _, v in pledges.rows]
    existing = set(
        (await session.exec(select(Pledge.reference).where(col(Pledge.reference).in_(given)))).all()
    )
    good: list[_PledgeIn] = []
    seen: dict[str, int] = {}
    for row, values in pledges.rows:
        checked, found = _check_pledge(pledges, row, values, forums)
        reference = values.get("reference", "").strip()
        if reference in existing:
            found.append(Problem(pledges.sheet, row, "reference", f"{reference} already exists"))
        elif reference and reference in seen:
            found.append(
                Problem(
                    pledges.sheet, row, "reference", f"{reference} is also on row {seen[reference]}"
                )
            )
        seen.setdefault(reference, row)
        problems += found
        if checked is not None and not found:
            good.append(checked)
    good_reports: list[_ReportIn] = []
    if reports is not None:
        importable = {p.reference for p in good}
        for row, values in reports.rows:
            report, found = _check_report(reports, row, values)
            if report is not None and report.reference not in seen:
                found.append(
                    Problem(
                        reports.sheet, row, "reference", f"no pledge {report.reference} in the file"
                    )
                )
            elif report is not None and report.reference not in importable:
                found.append(
                    Problem(
                        reports.sheet,
                        row,
                        "reference",
                        f"its pledge {report.reference} has problems",
                    )
                )
            problems += found
            if report is not None and not found:
                good_reports.append(report)
    return good, good_reports, problems


# --- Writing to the database ---------------------------------------------------------------


class _Contacts:
    """Members standing for the people named in a file, who may never use Telegram.

    They are inactive and have no role, so they get no message and no reminder; a negative
    Telegram id (real users' are positive) keeps them apart from anyone who joins later.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.found: dict[str, int] = {}
        self.lowest: int | None = None

    async def member_id(self, name: str) -> int:
        if name in self.found:
            return self.found[name]
        statement = select(Member.id).where(
            col(Member.telegram_id) < 0, col(Member.display_name) == name
        )
        member_id = (await self.session.exec(statement)).first()
        if member_id is None:
            if self.lowest is None:
                lowest = (await self.session.exec(select(func.min(col(Member.telegram_id))))).one()
                self.lowest = min(lowest or 0, 0)
            self.lowest -= 1
            member = Member(telegram_id=self.lowest, display_name=name, active=False)
            self.session.add(member)
            await self.session.flush()
            assert member.id is not None
            member_id = member.id
        self.found[name] = member_id
        return member_id


async def _move_counters(session: AsyncSession, pledges: Sequence[_PledgeIn]) -> None:
    """Each year's reference counter past the numbers imported, so new ones never collide."""
    highest: dict[int, int] = {}
    for p in pledges:
        highest[p.year] = max(highest.get(p.year, 0), p.number)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for year, number in highest.items():
        await session.exec(
            insert(ReferenceCounter)
            .values(year=year, last=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        await session.exec(
            update(ReferenceCounter)
            .where(col(ReferenceCounter.year) == year, col(ReferenceCounter.last) < number)
            .values(last=number)
        )


async def _write(
    session: AsyncSession,
    pledges: Sequence[_PledgeIn],
    reports: Sequence[_ReportIn],
    *,
    member_id: int | None,
    source: str,
) -> None:
    contacts = _Contacts(session)
    localities: dict[tuple[str, str], int] = {}

    async def locality_id(name: str, country: str) -> int:
        key = (name.casefold(), country)
        if key not in localities:
            found = await find_or_create_locality(session=session, name=name, country=country)
            assert found.id is not None
            localities[key] = found.id
        return localities[key]

    now = utc_now()
    ids: dict[str, int] = {}
    for p in pledges:
        partner_ids = [await locality_id(name, country) for name, country in p.partners]
        pledge = Pledge(
            reference=p.reference,
            locality_id=await locality_id(p.locality, p.country),
            forum_id=p.forum_id,
            partner_ids=partner_ids,
            created_by_id=await contacts.member_id(p.contact),
            search_text=search_text_of(p.values["title"], p.values["description"]),
            created_at=p.submitted_at or now,
            updated_at=now,
            submitted_at=p.submitted_at,
            **p.values,
        )
        session.add(pledge)
        await session.flush()
        assert pledge.id is not None
        ids[p.reference] = pledge.id
        for partner in partner_ids:
            session.add(PledgePartner(pledge_id=pledge.id, locality_id=partner))
        session.add(
            PledgeRevision(
                pledge_id=pledge.id,
                member_id=member_id,
                action="imported",
                changes={"file": source, "row": p.row},
            )
        )
    for r in reports:
        session.add(
            ProgressReport(
                pledge_id=ids[r.reference],
                stage=r.stage,
                narrative=r.narrative,
                figures=r.figures,
                member_id=await contacts.member_id(r.reported_by),
                created_at=r.reported_at,
            )
        )
    await _move_counters(session, pledges)
    await session.flush()


async def import_tables(
    *,
    session: AsyncSession,
    pledges: Table,
    reports: Table | None = None,
    source: str = "",
    dry_run: bool = False,
    partial: bool = False,
    member_id: int | None = None,
) -> ImportReport:
    """Validate every row; write all of them, or nothing if any has a problem.

    With `partial`, the good rows are written and the bad ones only reported; with `dry_run`
    nothing is written either way. Writing happens in the caller's transaction.
    """
    good, good_reports, problems = await validate(session=session, pledges=pledges, reports=reports)
    report = ImportReport(problems=problems, pledges=len(good), reports=len(good_reports))
    if problems and not partial:
        report.pledges = report.reports = 0
        return report
    if dry_run or not good:
        return report
    await _write(session, good, good_reports, member_id=member_id, source=source)
    report.written = True
    return report


async def import_file(
    *,
    session: AsyncSession,
    path: Path,
    dry_run: bool = False,
    partial: bool = False,
    member_id: int | None = None,
) -> ImportReport:
    """Import a CSV or XLSX file in the codes layout (see `import_tables`)."""
    pledges, reports = read_tables(path)
    return await import_tables(
        session=session,
        pledges=pledges,
        reports=reports,
        source=path.name,
        dry_run=dry_run,
        partial=partial,
        member_id=member_id,
    )
