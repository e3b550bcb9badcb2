"""Pledges and progress reports read out of the database, a batch at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import String, cast, func
from sqlalchemy import select as sa_select  # tuples of 20+ columns, beyond sqlmodel's typing
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.exchange.layout import EVERY_PLEDGE, PledgeRecord, ReportRecord, Selection
from storage.models import Attachment, Forum, Locality, Member, Pledge, ProgressReport

BATCH = 1000  # rows fetched from the server-side cursor at a time


class ExportError(ValueError):
    """An export that cannot be made as asked (an unknown forum code, say)."""


@dataclass(frozen=True)
class ExportFilter:
    """Which pledges to export; None means any. `locality_id` limits an official to theirs;
    `selection` is what the layout holds at most (a UN form's: `within(row_format.selection)`)."""

    forum: str | None = None  # forum code, e.g. GRF2027
    country: str | None = None  # ISO 3166-1 alpha-2
    locality_id: int | None = None
    compact: str | None = None
    stage: str | None = None
    state: str | None = None
    selection: Selection = EVERY_PLEDGE

    def within(self, selection: Selection) -> ExportFilter:
        """The same filter, narrowed to the pledges a layout holds (one that holds every pledge
        leaves it as it is)."""
        if selection in (EVERY_PLEDGE, self.selection):
            return self
        return replace(self, selection=selection)


def _serves(compact: str) -> Any:
    # JSON lists are text on SQLite and cast to text on PostgreSQL: `["gcm", "gcr"]`.
    return cast(col(Pledge.compacts), String).like(f'%"{compact}"%')


async def _forums(session: AsyncSession) -> dict[int, Forum]:
    return {f.id: f for f in (await session.exec(select(Forum))).all() if f.id is not None}


async def export_conditions(session: AsyncSession, filters: ExportFilter) -> list[Any]:
    """The WHERE of an export (pledges joined with their locality): documents use it too."""
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
        conditions.append(_serves(filters.compact))
    if filters.stage is not None:
        conditions.append(col(Pledge.stage) == filters.stage)
    if filters.state is not None:
        conditions.append(col(Pledge.state) == filters.state)
    selection = filters.selection
    if selection.states is not None:
        conditions.append(col(Pledge.state).in_(sorted(selection.states)))
    if selection.compact is not None:
        conditions.append(_serves(selection.compact))
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
            col(Pledge.pledge_type),
            col(Pledge.scope),
            col(Pledge.beneficiary_countries),
            col(Pledge.contact_name),
            col(Pledge.contact_title),
            col(Pledge.contact_email),
            col(Pledge.contact_phone),
            col(Pledge.matching_reference),
            col(Pledge.project_url),
            col(Locality.kind),
            col(Pledge.id),
            col(Pledge.other_partners),
            col(Pledge.multistakeholder_pledges),
            col(Pledge.refugee_situations),
            col(Locality.endorsed_mmd),
        )
        .join(Locality, col(Locality.id) == col(Pledge.locality_id))
        .join(Member, col(Member.id) == col(Pledge.created_by_id))
        .outerjoin(last, last.c.pledge_id == col(Pledge.id))
        .where(*await export_conditions(session, filters))
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
        documents: dict[int, list[str]] = {}
        attached = await session.exec(
            select(Attachment.pledge_id, col(Attachment.file_name))
            .where(col(Attachment.pledge_id).in_([row[33] for row in rows]))
            .order_by(col(Attachment.id))
        )
        for pledge_id, name in attached:
            documents.setdefault(pledge_id, []).append(name)
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
                pledge_type=row[23],
                scope=row[24],
                beneficiary_countries=tuple(row[25]),
                contact_name=row[26],
                contact_title=row[27],
                contact_email=row[28],
                contact_phone=row[29],
                matching_reference=row[30],
                project_url=row[31],
                locality_kind=row[32],
                attachments=tuple(documents.get(row[33], ())),
                other_partners=tuple((o["name"], o["kind"]) for o in row[34]),
                multistakeholder_pledges=tuple(row[35]),
                refugee_situations=tuple(row[36]),
                locality_endorsed_mmd=row[37],
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
        .where(*await export_conditions(session, filters))
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
