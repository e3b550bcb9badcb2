"""The codes layout: its columns, the records exported, and how they become rows of codes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from storage.models import Compact, Forum, WorkflowState

LIST_SEPARATOR = ";"
TRUE, FALSE = "true", "false"
YES, NO = "yes", "no"  # a locality's answer; empty until it has said
PLEDGES_SHEET, REPORTS_SHEET = "pledges", "progress_reports"

# The UN forms' fields, at the end of the pledges' columns.
UN_FORM_COLUMNS = (
    "pledge_type",
    "scope",
    "beneficiary_countries",
    "contact_name",
    "contact_title",
    "contact_email",
    "contact_phone",
    "other_partners",
    "matching_reference",
    "project_url",
    "multistakeholder_pledges",
    "refugee_situations",
    # Asked by the Call to Local Action, of the locality rather than of the pledge.
    "locality_endorsed_mmd",
)
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
    *UN_FORM_COLUMNS,
)
# Added with the UN forms' fields: a file exported before them still imports without them.
OPTIONAL_COLUMNS = frozenset(UN_FORM_COLUMNS)
REPORT_COLUMNS = ("reference", "reported_at", "stage", "narrative", "figures", "reported_by")
# Worked out from the progress reports, so an import reads it from the second sheet instead.
DERIVED_COLUMNS = frozenset({"last_progress"})

PARTNER = re.compile(r"^(.+?)\s*\(([A-Za-z]{2})\)$")
# Values a spreadsheet would run as a formula: a CSV cell starting so gets a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_TITLE, MAX_DESCRIPTION, MAX_NAME = 200, 3000, 200
MAX_AMOUNT = Decimal("9999999999999999.99")  # Numeric(18, 2)


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
    pledge_type: str = "individual"
    scope: str = ""
    beneficiary_countries: tuple[str, ...] = ()
    contact_name: str = ""
    contact_title: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    # For the UN forms' layouts; the codes layout does not carry them.
    matching_reference: str = ""
    project_url: str = ""
    attachments: tuple[str, ...] = ()
    locality_kind: str = "municipality"
    other_partners: tuple[tuple[str, str], ...] = ()  # (name, kind)
    multistakeholder_pledges: tuple[str, ...] = ()
    refugee_situations: tuple[str, ...] = ()
    # Whether the locality endorsed the Marrakech Mayors Declaration; None until it has said.
    locality_endorsed_mmd: bool | None = None


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """One exported progress report."""

    reference: str
    reported_at: datetime
    stage: str
    narrative: str
    figures: dict[str, Any] | None
    reported_by: str


@dataclass(frozen=True, slots=True)
class Selection:
    """The pledges a layout holds, whatever an export asks: those in one of `states` (None:
    any) that serve `compact` (None: any)."""

    states: frozenset[str] | None = None
    compact: str | None = None


EVERY_PLEDGE = Selection()
# What a UN pledge form takes: a pledge submitted, approved or delivered (not a draft, not one
# sent back for changes, not a withdrawn one), serving the form's compact.
UN_FORM_STATES = frozenset(
    s.value for s in (WorkflowState.SUBMITTED, WorkflowState.APPROVED, WorkflowState.DELIVERED)
)
GCM_FORM = Selection(states=UN_FORM_STATES, compact=Compact.GCM.value)
GCR_FORM = Selection(states=UN_FORM_STATES, compact=Compact.GCR.value)


# A value in a row: text, or an amount or a day or a moment that an XLSX file keeps as a
# number or a date (with a display format) and a CSV file writes as `RowFormat.text` says.
Cell = str | Decimal | date | datetime


class RowFormat(Protocol):
    """How records become spreadsheet rows: as codes here, as labels for a reader elsewhere."""

    pledges_sheet: str
    reports_sheet: str
    time_zone: str  # where a moment is shown (an XLSX date-time has no zone of its own)
    selection: Selection  # the pledges it holds: an export narrows its filter to them

    def pledge_header(self) -> list[str]: ...
    def pledge_row(self, record: PledgeRecord) -> list[Cell]: ...
    def report_header(self) -> list[str]: ...
    def report_row(self, record: ReportRecord) -> list[Cell]: ...
    def text(self, value: Cell) -> str:
        """A cell as a CSV file writes it."""
        ...


def _joined(values: Iterable[object]) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values)


def _utc_date(moment: datetime | None) -> date | str:
    return moment.astimezone(UTC).date() if moment is not None else ""


def answer_code(answer: bool | None) -> str:
    return "" if answer is None else YES if answer else NO


def amount_code(amount: Decimal | None) -> str:
    return f"{amount:.2f}" if amount is not None else ""


def partners_code(partners: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{name} ({country})" for name, country in partners)


# A partner of another kind in the codes layout: `Name [kind]`, several joined by "; ".
OTHER_PARTNER = re.compile(r"^(.+?)\s*\[([a-z_]+)\]$")


def other_partners_code(partners: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{name} [{kind}]" for name, kind in partners)


def figures_code(figures: Mapping[str, Any] | None) -> str:
    return json.dumps(figures, ensure_ascii=False, sort_keys=True) if figures else ""


class CodeFormat:
    """Stable codes: what systems re-import, and what `import_file` reads. In XLSX amounts
    are numbers and days are dates; a progress report's moment stays ISO text, to the second."""

    pledges_sheet = PLEDGES_SHEET
    reports_sheet = REPORTS_SHEET
    time_zone = "UTC"
    selection = EVERY_PLEDGE

    def text(self, value: Cell) -> str:
        if isinstance(value, Decimal):
            return amount_code(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    def pledge_header(self) -> list[str]:
        return list(PLEDGE_COLUMNS)

    def pledge_row(self, r: PledgeRecord) -> list[Cell]:
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
            r.starts_on or "",
            r.ends_on or "",
            TRUE if r.ongoing else FALSE,
            r.amount if r.amount is not None else "",
            r.currency or "",
            r.state,
            r.stage,
            _utc_date(r.submitted_at),
            _utc_date(r.last_progress),
            r.contact,
            r.language,
            partners_code(r.partners),
            r.pledge_type,
            r.scope,
            _joined(r.beneficiary_countries),
            r.contact_name,
            r.contact_title,
            r.contact_email,
            r.contact_phone,
            other_partners_code(r.other_partners),
            r.matching_reference,
            r.project_url,
            _joined(r.multistakeholder_pledges),
            _joined(r.refugee_situations),
            answer_code(r.locality_endorsed_mmd),
        ]

    def report_header(self) -> list[str]:
        return list(REPORT_COLUMNS)

    def report_row(self, r: ReportRecord) -> list[Cell]:
        return [
            r.reference,
            r.reported_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            r.stage,
            r.narrative,
            figures_code(r.figures),
            r.reported_by,
        ]


CODES = CodeFormat()


def guard_formula(value: str) -> str:
    """A CSV value a spreadsheet would not run as a formula; `unguard_formula` undoes it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unguard_formula(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value
