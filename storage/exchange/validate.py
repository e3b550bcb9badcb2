"""Imported rows checked cell by cell against the codes layout and the database.

The first pass (`validate`) reads every row once, keeping only what later checks need (each
reference's first row, the rows with problems); the second (`pledges_to_write`,
`reports_to_write`) reads the file again and hands over the rows to write, checked anew."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from babel import Locale
from babel.numbers import list_currencies
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.exchange.layout import (
    DERIVED_COLUMNS,
    FALSE,
    LIST_SEPARATOR,
    MAX_AMOUNT,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_TITLE,
    NO,
    OPTIONAL_COLUMNS,
    OTHER_PARTNER,
    PARTNER,
    PLEDGE_COLUMNS,
    REPORT_COLUMNS,
    TRUE,
    YES,
)
from storage.exchange.problems import Problem, Trouble
from storage.exchange.read import Sheet
from storage.forums import LANGUAGE_KEY
from storage.models import (
    GCM_OBJECTIVES,
    GCR_OBJECTIVES,
    Compact,
    Forum,
    PartnerKind,
    Pledge,
    PledgeType,
    RefugeeSituation,
    Scope,
    Stage,
    SupportType,
    TargetGroup,
    WorkflowState,
)
from storage.pledges import EMAIL, REFERENCE

_T = TypeVar("_T")
BATCH = 500  # rows checked, or written, at a time: references looked up in one IN (...)
MAX_LISTED = 1000  # problems kept to be shown; the others are only counted
# What PostgreSQL cannot keep in a text column (NUL), or UTF-8 cannot encode (lone surrogates).
FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


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
    # Said of the locality, not of the pledge: None leaves what the locality has as it is.
    endorsed_mmd: bool | None = None


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

    def problem(self, column: str, trouble: Trouble, **values: str | int | tuple[str, ...]) -> None:
        self.problems.append(Problem(self.sheet, self.row, column, trouble, values))

    def text(self, column: str, *, required: bool = False, maximum: int = MAX_NAME) -> str:
        value = self.values.get(column, "").strip()
        if required and not value:
            self.problem(column, Trouble.REQUIRED)
        elif len(value) > maximum:
            self.problem(column, Trouble.TOO_LONG, maximum=maximum, length=len(value))
        return value

    def codes(self, column: str, known: Iterable[str]) -> list[str]:
        allowed = set(known)
        found: list[str] = []
        for part in self._parts(column):
            if part not in allowed:
                self.problem(column, Trouble.UNKNOWN_CODE, value=part, codes=tuple(sorted(allowed)))
            elif part not in found:
                found.append(part)
        return found

    def numbers(self, column: str, allowed: range) -> list[int]:
        found: list[int] = []
        for part in self._parts(column):
            if not part.isdigit() or int(part) not in allowed:
                self.problem(
                    column,
                    Trouble.NOT_AN_OBJECTIVE,
                    value=part,
                    first=allowed.start,
                    last=allowed.stop - 1,
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
            self.problem(column, Trouble.NOT_A_DATE, value=value)
            return None

    def flag(self, column: str) -> bool:
        value = self.values.get(column, "").strip().lower()
        if value in ("", FALSE, "no", "0"):
            return False
        if value in (TRUE, "yes", "1"):
            return True
        self.problem(column, Trouble.NOT_A_FLAG, value=value)
        return False

    def answer(self, column: str) -> bool | None:
        """Yes or no; None for an empty cell (or an absent column): not said."""
        value = self.values.get(column, "").strip().lower()
        if not value:
            return None
        if value in (YES, TRUE):
            return True
        if value in (NO, FALSE):
            return False
        self.problem(column, Trouble.NOT_AN_ANSWER, value=value)
        return None

    def choice(self, column: str, known: Iterable[str]) -> str:
        value = self.values.get(column, "").strip()
        allowed = list(known)
        if value not in allowed:
            self.problem(column, Trouble.NOT_A_CHOICE, value=value, choices=tuple(allowed))
        return value

    def _parts(self, column: str) -> list[str]:
        value = self.values.get(column, "")
        return [p.strip() for p in value.split(LIST_SEPARATOR) if p.strip()]


def _check_header(sheet: Sheet, columns: Sequence[str]) -> list[Problem]:
    problems = [
        Problem(sheet.name, 1, c, Trouble.MISSING_COLUMN)
        for c in columns
        if c not in sheet.header and c not in DERIVED_COLUMNS and c not in OPTIONAL_COLUMNS
    ]
    first: dict[str, int] = {}
    for position, c in enumerate(sheet.header, start=1):
        if c not in columns:
            problems.append(Problem(sheet.name, 1, c or "?", Trouble.UNKNOWN_COLUMN))
        elif c in first:
            problems.append(
                Problem(
                    sheet.name,
                    1,
                    c,
                    Trouble.REPEATED_COLUMN,
                    {"first": first[c], "second": position},
                )
            )
        first.setdefault(c, position)
    return problems


def _check_characters(cells: _Cells) -> None:
    """Text PostgreSQL would refuse on writing is refused here, so a dry run says so too."""
    for column, value in cells.values.items():
        found = FORBIDDEN.search(value)
        if found is not None:
            cells.problem(column, Trouble.FORBIDDEN_CHARACTER, character=f"U+{ord(found[0]):04X}")


def _check_pledge(
    sheet: str, row: int, values: Mapping[str, str], forums: Mapping[str, int]
) -> tuple[_PledgeIn | None, list[Problem]]:
    cells = _Cells(sheet, row, values)
    _check_characters(cells)
    reference = cells.text("reference", required=True, maximum=20)
    matched = REFERENCE.match(reference)
    if reference and matched is None:
        cells.problem("reference", Trouble.NOT_A_REFERENCE, value=reference)
    locality = cells.text("locality", required=True)
    country = cells.text("country", required=True).upper()
    if country and country not in COUNTRIES:
        cells.problem("country", Trouble.NOT_A_COUNTRY, value=country)
    forum_code = cells.text("forum").upper()
    if forum_code and forum_code not in forums:
        cells.problem("forum", Trouble.NO_SUCH_FORUM, value=forum_code)
    compacts = cells.codes("compacts", [c.value for c in Compact])
    if not compacts and not cells.values.get("compacts", "").strip():
        cells.problem("compacts", Trouble.REQUIRED)
    title = cells.text("title", required=True, maximum=MAX_TITLE)
    description = cells.text("description", required=True, maximum=MAX_DESCRIPTION)
    gcm = cells.numbers("gcm_objectives", GCM_OBJECTIVES)
    gcr = cells.numbers("gcr_objectives", GCR_OBJECTIVES)
    for compact, chosen in ((Compact.GCM.value, gcm), (Compact.GCR.value, gcr)):
        if chosen and compact not in compacts:
            cells.problem(
                f"{compact}_objectives", Trouble.OBJECTIVES_WITHOUT_COMPACT, compact=compact
            )
    support = cells.codes("support_types", [s.value for s in SupportType])
    groups = cells.codes("target_groups", [g.value for g in TargetGroup])
    starts_on, ends_on = cells.day("starts_on"), cells.day("ends_on")
    ongoing = cells.flag("ongoing")
    if starts_on and ends_on and ends_on < starts_on:
        cells.problem("ends_on", Trouble.ENDS_BEFORE_START)
    if ongoing and ends_on:
        cells.problem("ends_on", Trouble.ONGOING_WITH_END)
    amount = _amount(cells)
    currency = cells.text("currency", maximum=3).upper()
    if currency and currency not in CURRENCIES:
        cells.problem("currency", Trouble.NOT_A_CURRENCY, value=currency)
    if amount is not None and not currency:
        cells.problem("currency", Trouble.REQUIRED_WITH_AMOUNT)
    if currency and amount is None:
        cells.problem("amount", Trouble.REQUIRED_WITH_CURRENCY)
    states = [s.value for s in WorkflowState if s is not WorkflowState.DRAFT]
    state = cells.choice("state", states)
    stage = cells.choice("stage", [s.value for s in Stage])
    submitted_on = cells.day("submitted_on")
    contact = cells.text("contact")
    language = cells.text("language", required=True, maximum=16)
    if language and not LANGUAGE_KEY.match(language):
        cells.problem("language", Trouble.NOT_A_LANGUAGE, value=language)
    partners = _partners(cells, locality, country)
    un_form = _un_form_fields(cells, partnered=bool(partners))
    endorsed_mmd = cells.answer("locality_endorsed_mmd")
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
                **un_form,
            },
            contact=contact,
            partners=partners,
            submitted_at=(
                datetime.combine(submitted_on, time(0), tzinfo=UTC) if submitted_on else None
            ),
            endorsed_mmd=endorsed_mmd,
        ),
        [],
    )


def _un_form_fields(cells: _Cells, *, partnered: bool) -> dict[str, Any]:
    """Pledge type, scope, countries and contact; absent columns read as a new pledge's.
    `partnered`: the row names partner localities."""
    scope = cells.values.get("scope", "").strip()
    if scope:
        cells.choice("scope", [s.value for s in Scope])
    countries = cells.codes("beneficiary_countries", COUNTRIES)
    situations = cells.codes("refugee_situations", [s.value for s in RefugeeSituation])
    email = cells.text("contact_email", maximum=254).lower()
    if email and not EMAIL.fullmatch(email):
        cells.problem("contact_email", Trouble.NOT_AN_EMAIL, value=email)
    others = []
    for part in cells.values.get("other_partners", "").split("; "):
        if not part.strip():
            continue
        found = OTHER_PARTNER.match(part.strip())
        if found is None or found[2] not in {k.value for k in PartnerKind}:
            cells.problem("other_partners", Trouble.NOT_AN_OTHER_PARTNER, value=part.strip())
            continue
        others.append({"name": found[1][:100], "kind": found[2]})
    pledge_type = _pledge_type(cells, partnered=partnered or bool(others))
    url = cells.text("project_url", maximum=500)
    if url and not url.lower().startswith(("http://", "https://")):
        cells.problem("project_url", Trouble.NOT_A_WEB_ADDRESS, value=url)
    return {
        "other_partners": others,
        "matching_reference": cells.text("matching_reference", maximum=40).upper(),
        "project_url": url,
        "multistakeholder_pledges": [
            " ".join(n.split())[:200]
            for n in cells.values.get("multistakeholder_pledges", "").split(LIST_SEPARATOR)
            if n.strip()
        ],
        "pledge_type": pledge_type,
        "scope": scope,
        "beneficiary_countries": countries,
        "refugee_situations": situations,
        "contact_name": cells.text("contact_name"),
        "contact_title": cells.text("contact_title"),
        "contact_email": email,
        "contact_phone": cells.text("contact_phone", maximum=32),
    }


def _pledge_type(cells: _Cells, *, partnered: bool) -> str:
    """As the wizard has it: a pledge with partners is common or in partnership. One without
    a type, or "individual" beside partners (as files exported before migration 0012 say of
    joint pledges), is a partnership when it names partners, as 0012 reads them."""
    given = cells.values.get("pledge_type", "").strip()
    if not given or (given == PledgeType.INDIVIDUAL.value and partnered):
        return PledgeType.PARTNERSHIP.value if partnered else PledgeType.INDIVIDUAL.value
    if given not in {t.value for t in PledgeType}:
        cells.choice("pledge_type", [t.value for t in PledgeType])
    return given


def _amount(cells: _Cells) -> Decimal | None:
    value = cells.values.get("amount", "").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        cells.problem("amount", Trouble.NOT_AN_AMOUNT, value=value)
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        cells.problem("amount", Trouble.AMOUNT_OUT_OF_RANGE, value=value, maximum=str(MAX_AMOUNT))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        cells.problem("amount", Trouble.TOO_MANY_DECIMALS, value=value)
        return None
    return amount.quantize(Decimal("0.01"))


def _partners(cells: _Cells, locality: str, country: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for part in cells._parts("partners"):
        matched = PARTNER.match(part)
        if matched is None:
            cells.problem("partners", Trouble.NOT_A_PARTNER, value=part)
            continue
        name, code = matched.group(1).strip(), matched.group(2).upper()
        if code not in COUNTRIES:
            cells.problem("partners", Trouble.NOT_A_COUNTRY, value=code)
        elif (name.casefold(), code) == (locality.casefold(), country):
            cells.problem("partners", Trouble.OWN_PARTNER)
        elif (name, code) not in found:
            found.append((name, code))
    return found


def _check_report(
    sheet: str, row: int, values: Mapping[str, str]
) -> tuple[_ReportIn | None, list[Problem]]:
    cells = _Cells(sheet, row, values)
    _check_characters(cells)
    reference = cells.text("reference", required=True, maximum=20)
    when_text = cells.text("reported_at", required=True)
    reported_at: datetime | None = None
    if when_text:
        try:
            reported_at = datetime.fromisoformat(when_text.replace("Z", "+00:00"))
        except ValueError:
            cells.problem("reported_at", Trouble.NOT_A_TIME, value=when_text)
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
            cells.problem("figures", Trouble.NOT_FIGURES)
        else:
            figures = parsed
    reported_by = cells.text("reported_by")
    if cells.problems or reported_at is None:
        return None, cells.problems
    return _ReportIn(row, reference, reported_at, stage, narrative, figures, reported_by), []


@dataclass
class Validation:
    """What the first pass found: the problems, how many rows are good, and what the second
    pass needs to hand over the same rows (those with problems, the forums by code)."""

    problems: list[Problem] = field(default_factory=list)  # the first MAX_LISTED
    problem_count: int = 0
    pledges: int = 0
    reports: int = 0
    bad_pledge_rows: set[int] = field(default_factory=set)
    bad_report_rows: set[int] = field(default_factory=set)
    forums: dict[str, int] = field(default_factory=dict)

    def note(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.problem_count += 1
            if len(self.problems) < MAX_LISTED:
                self.problems.append(problem)


def batches(items: Iterable[_T], size: int = BATCH) -> Iterator[list[_T]]:
    """`items` a list of `size` at a time."""
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _existing(session: AsyncSession, references: Iterable[str]) -> set[str]:
    given = {r for r in references if r}
    if not given:
        return set()
    statement = select(Pledge.reference).where(col(Pledge.reference).in_(given))
    return {r for r in (await session.exec(statement)).all() if r is not None}


async def validate(*, session: AsyncSession, pledges: Sheet, reports: Sheet | None) -> Validation:
    """Every row and column checked, reading the file once."""
    found = Validation()
    found.note(_check_header(pledges, PLEDGE_COLUMNS))
    if reports is not None:
        found.note(_check_header(reports, REPORT_COLUMNS))
    if found.problem_count:
        return found  # with columns missing, each row would repeat it
    found.forums = {f.code: f.id for f in (await session.exec(select(Forum))).all() if f.id}
    first_row: dict[str, int] = {}  # each reference's first row
    for batch in batches(pledges.rows()):
        existing = await _existing(session, (v.get("reference", "").strip() for _, v in batch))
        for row, values in batch:
            _, problems = _check_pledge(pledges.name, row, values, found.forums)
            reference = values.get("reference", "").strip()
            if reference in existing:
                problems.append(
                    Problem(
                        pledges.name,
                        row,
                        "reference",
                        Trouble.ALREADY_EXISTS,
                        {"reference": reference},
                    )
                )
            elif reference and reference in first_row:
                problems.append(
                    Problem(
                        pledges.name,
                        row,
                        "reference",
                        Trouble.ALSO_ON_ROW,
                        {"reference": reference, "row": first_row[reference]},
                    )
                )
            if reference:
                first_row.setdefault(reference, row)
            if problems:
                found.bad_pledge_rows.add(row)
                found.note(problems)
            else:
                found.pledges += 1
    for row, values in reports.rows() if reports is not None else ():
        assert reports is not None
        report, problems = _check_report(reports.name, row, values)
        if report is not None:
            first = first_row.get(report.reference)
            if first is None:
                trouble = Trouble.NO_PLEDGE_IN_FILE
            elif first in found.bad_pledge_rows:
                trouble = Trouble.PLEDGE_HAS_PROBLEMS
            else:
                trouble = None
            if trouble is not None:
                problems.append(
                    Problem(
                        reports.name, row, "reference", trouble, {"reference": report.reference}
                    )
                )
        if problems:
            found.bad_report_rows.add(row)
            found.note(problems)
        else:
            found.reports += 1
    return found


def pledges_to_write(sheet: Sheet, found: Validation) -> Iterator[_PledgeIn]:
    """The second pass: the pledges the first found good, read and checked again."""
    for row, values in sheet.rows():
        if row not in found.bad_pledge_rows:
            checked, problems = _check_pledge(sheet.name, row, values, found.forums)
            if checked is not None and not problems:
                yield checked


def reports_to_write(sheet: Sheet, found: Validation) -> Iterator[_ReportIn]:
    """The second pass over the progress reports."""
    for row, values in sheet.rows():
        if row not in found.bad_report_rows:
            checked, problems = _check_report(sheet.name, row, values)
            if checked is not None and not problems:
                yield checked
