"""Validated rows written to the database in one go: the import itself.

The file is read twice: once to validate it whole (`validate`), once more to write its good
rows a batch at a time, each batch a few statements (`executemany`), so that neither memory
nor a statement's SQL variables grow with the file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.exchange.problems import Problem
from storage.exchange.read import Sheet, open_sheets
from storage.exchange.validate import (
    BATCH,
    Validation,
    _PledgeIn,
    _ReportIn,
    batches,
    pledges_to_write,
    reports_to_write,
    validate,
)
from storage.localities import find_or_create_localities, name_key
from storage.models import (
    Locality,
    Member,
    Pledge,
    PledgePartner,
    PledgeRevision,
    ProgressReport,
    ReferenceCounter,
)
from storage.pledges import search_text_of
from storage.types import utc_now


@dataclass
class ImportReport:
    """What an import found and did."""

    problems: list[Problem] = field(default_factory=list)  # the first ones, if there are many
    problem_count: int = 0
    pledges: int = 0  # imported, or that would be on a dry run
    reports: int = 0
    written: bool = False


class _Contacts:
    """Members standing for the people named in a file, who may never use Telegram.

    They are inactive and have no role, so they get no message and no reminder; a negative
    Telegram id (real users' are positive) keeps them apart from anyone who joins later.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.found: dict[str, int] = {}
        self.lowest: int | None = None

    async def find(self, names: Iterable[str]) -> None:
        """Look up, or create, everyone in `names` not met yet."""
        wanted = sorted({n for n in names if n not in self.found})
        if not wanted:
            return
        statement = (
            select(Member.id, Member.display_name)
            .where(col(Member.telegram_id) < 0, col(Member.display_name).in_(wanted))
            .order_by(col(Member.id).desc())  # the first one made wins, as it did one by one
        )
        self.found.update({name: i for i, name in await self.session.exec(statement) if i})
        new = [n for n in wanted if n not in self.found]
        if not new:
            return
        if self.lowest is None:
            lowest = (await self.session.exec(select(func.min(col(Member.telegram_id))))).one()
            self.lowest = min(lowest or 0, 0)
        members = []
        for name in new:
            self.lowest -= 1
            members.append(Member(telegram_id=self.lowest, display_name=name, active=False))
        self.session.add_all(members)
        await self.session.flush()
        self.found.update({m.display_name: m.id for m in members if m.id is not None})


def _columns(row: SQLModel) -> dict[str, Any]:
    """A new row's values by column, its defaults filled in; an id still to come left out."""
    table = row.__table__  # type: ignore[attr-defined]
    values = {c.key: getattr(row, c.key) for c in table.columns}
    return {k: v for k, v in values.items() if not (v is None and table.c[k].primary_key)}


async def _ids(session: AsyncSession, references: Sequence[str]) -> dict[str, int]:
    statement = select(Pledge.id, Pledge.reference).where(col(Pledge.reference).in_(references))
    return {r: i for i, r in (await session.exec(statement)).all() if r is not None and i}


class _Writer:
    """The good rows written a batch at a time, with the localities and contacts they name
    found or created a batch at a time too. Rows are dicts over one model row's defaults:
    building a model for each of a million rows would take minutes."""

    def __init__(self, session: AsyncSession, *, member_id: int | None, source: str) -> None:
        self.session, self.member_id, self.source = session, member_id, source
        self.contacts = _Contacts(session)
        self.localities: dict[tuple[str, str], int] = {}
        self.highest: dict[int, int] = {}  # the highest number imported, by year
        self.now = utc_now()
        self.pledge = _columns(Pledge(created_at=self.now, updated_at=self.now))
        self.revision = _columns(PledgeRevision(pledge_id=0, action="imported"))
        self.report = _columns(ProgressReport(pledge_id=0, member_id=0, stage="", narrative=""))

    async def _find_localities(self, places: Iterable[tuple[str, str]]) -> None:
        new = {
            (name, country)
            for name, country in places
            if self._key(name, country) not in self.localities
        }
        if new:
            found = await find_or_create_localities(session=self.session, places=new, batch=BATCH)
            self.localities.update(found)

    @staticmethod
    def _key(name: str, country: str) -> tuple[str, str]:
        return name_key(name), country.upper()

    def locality_id(self, name: str, country: str) -> int:
        return self.localities[self._key(name, country)]

    async def pledges(self, batch: Sequence[_PledgeIn]) -> None:
        await self._find_localities(
            place for p in batch for place in ((p.locality, p.country), *p.partners)
        )
        await self.contacts.find(p.contact for p in batch)
        await self._endorsements(batch)
        rows, partners = [], {}
        for p in batch:
            partners[p.reference] = [self.locality_id(n, c) for n, c in p.partners]
            rows.append(
                {
                    **self.pledge,
                    **p.values,
                    "reference": p.reference,
                    "locality_id": self.locality_id(p.locality, p.country),
                    "forum_id": p.forum_id,
                    "partner_ids": partners[p.reference],
                    "created_by_id": self.contacts.found[p.contact],
                    "search_text": search_text_of(p.values["title"], p.values["description"]),
                    "created_at": p.submitted_at or self.now,
                    "submitted_at": p.submitted_at,
                }
            )
            self.highest[p.year] = max(self.highest.get(p.year, 0), p.number)
        await self._insert(Pledge, rows)
        ids = await _ids(self.session, [p.reference for p in batch])
        await self._insert(
            PledgePartner,
            [
                {"pledge_id": ids[p.reference], "locality_id": partner}
                for p in batch
                for partner in partners[p.reference]
            ],
        )
        await self._insert(
            PledgeRevision,
            [
                {
                    **self.revision,
                    "pledge_id": ids[p.reference],
                    "member_id": self.member_id,
                    "changes": {"file": self.source, "row": p.row},
                }
                for p in batch
            ],
        )

    async def _endorsements(self, batch: Sequence[_PledgeIn]) -> None:
        """What the file says of its localities and the Marrakech Mayors Declaration; an empty
        cell leaves what a locality has (the last row saying it wins)."""
        said: dict[int, bool] = {}
        for p in batch:
            if p.endorsed_mmd is not None:
                said[self.locality_id(p.locality, p.country)] = p.endorsed_mmd
        for answer in (True, False):
            ids = sorted(i for i, a in said.items() if a is answer)
            if ids:
                await self.session.exec(
                    update(Locality).where(col(Locality.id).in_(ids)).values(endorsed_mmd=answer)
                )

    async def reports(self, batch: Sequence[_ReportIn]) -> None:
        ids = await _ids(self.session, sorted({r.reference for r in batch}))
        await self.contacts.find(r.reported_by for r in batch)
        rows = [
            {
                **self.report,
                "pledge_id": ids[r.reference],
                "stage": r.stage,
                "narrative": r.narrative,
                "figures": r.figures,
                "member_id": self.contacts.found[r.reported_by],
                "created_at": r.reported_at,
            }
            for r in batch
        ]
        await self._insert(ProgressReport, rows)

    async def move_counters(self) -> None:
        """Each year's reference counter past the numbers imported, so new ones never collide."""
        dialect = self.session.get_bind().dialect.name
        insert_new = pg_insert if dialect == "postgresql" else sqlite_insert
        for year, number in self.highest.items():
            await self.session.exec(
                insert_new(ReferenceCounter)
                .values(year=year, last=0)
                .on_conflict_do_nothing(index_elements=["year"])
            )
            await self.session.exec(
                update(ReferenceCounter)
                .where(col(ReferenceCounter.year) == year, col(ReferenceCounter.last) < number)
                .values(last=number)
            )

    async def _insert(self, model: type[SQLModel], rows: Sequence[Mapping[str, Any]]) -> None:
        # The table, not the model: an ORM bulk insert runs one statement a row here.
        if rows:
            await self.session.exec(insert(model.__table__), params=rows)  # type: ignore[attr-defined]


async def _write(
    session: AsyncSession,
    pledges: Sheet,
    reports: Sheet | None,
    found: Validation,
    *,
    member_id: int | None,
    source: str,
) -> None:
    writer = _Writer(session, member_id=member_id, source=source)
    for batch in batches(pledges_to_write(pledges, found)):
        await writer.pledges(batch)
    for report_batch in batches(reports_to_write(reports, found)) if reports is not None else ():
        await writer.reports(report_batch)
    await writer.move_counters()


async def import_file(
    *,
    session: AsyncSession,
    path: Path,
    dry_run: bool = False,
    partial: bool = False,
    member_id: int | None = None,
) -> ImportReport:
    """Import a CSV or XLSX file in the codes layout: validate every row, then write all of
    them, or nothing if any has a problem.

    With `partial`, the good rows are written and the bad ones only reported; with `dry_run`
    nothing is written either way. Writing happens in the caller's transaction. A file that
    cannot be read at all raises `ImportFileError`, before anything is written.
    """
    with open_sheets(path) as (pledges, reports):
        found = await validate(session=session, pledges=pledges, reports=reports)
        report = ImportReport(
            problems=found.problems,
            problem_count=found.problem_count,
            pledges=found.pledges,
            reports=found.reports,
        )
        if found.problem_count and not partial:
            report.pledges = report.reports = 0
            return report
        if dry_run or not found.pledges:
            return report
        await _write(session, pledges, reports, found, member_id=member_id, source=path.name)
    report.written = True
    return report
