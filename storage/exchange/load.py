"""Validated rows written to the database in one go: the import itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.exchange.read import Table, read_tables
from storage.exchange.validate import Problem, _PledgeIn, _ReportIn, validate
from storage.localities import find_or_create_locality
from storage.models import (
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

    problems: list[Problem] = field(default_factory=list)
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
