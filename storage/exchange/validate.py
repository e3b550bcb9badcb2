"""Imported rows checked cell by cell against the codes layout and the database."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

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
    OPTIONAL_COLUMNS,
    OTHER_PARTNER,
    PARTNER,
    PLEDGE_COLUMNS,
    REPORT_COLUMNS,
    TRUE,
)
from storage.exchange.read import Table
from storage.forums import LANGUAGE_KEY
from storage.models import (
    GCM_OBJECTIVES,
    GCR_OBJECTIVES,
    Compact,
    Forum,
    PartnerKind,
    Pledge,
    PledgeType,
    Scope,
    Stage,
    SupportType,
    TargetGroup,
    WorkflowState,
)
from storage.pledges import EMAIL, REFERENCE


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
        if c not in table.header and c not in DERIVED_COLUMNS and c not in OPTIONAL_COLUMNS
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
    un_form = _un_form_fields(cells)
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
        ),
        [],
    )


def _un_form_fields(cells: _Cells) -> dict[str, Any]:
    """Pledge type, scope, countries and contact; absent columns read as a new pledge's."""
    pledge_type = cells.values.get("pledge_type", "").strip() or PledgeType.INDIVIDUAL.value
    if pledge_type not in {t.value for t in PledgeType}:
        cells.choice("pledge_type", [t.value for t in PledgeType])
    scope = cells.values.get("scope", "").strip()
    if scope:
        cells.choice("scope", [s.value for s in Scope])
    countries = cells.codes("beneficiary_countries", COUNTRIES)
    email = cells.text("contact_email", maximum=254).lower()
    if email and not EMAIL.fullmatch(email):
        cells.problem("contact_email", f"{email!r} is not an e-mail address")
    others = []
    for part in cells.values.get("other_partners", "").split("; "):
        if not part.strip():
            continue
        found = OTHER_PARTNER.match(part.strip())
        if found is None or found[2] not in {k.value for k in PartnerKind}:
            cells.problem("other_partners", f"{part.strip()!r} is not like 'Name [un_agency]'")
            continue
        others.append({"name": found[1][:100], "kind": found[2]})
    url = cells.text("project_url", maximum=500)
    if url and not url.lower().startswith(("http://", "https://")):
        cells.problem("project_url", f"{url!r} is not a web address starting with https://")
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
        "contact_name": cells.text("contact_name"),
        "contact_title": cells.text("contact_title"),
        "contact_email": email,
        "contact_phone": cells.text("contact_phone", maximum=32),
    }


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
