"""Reminder deliveries: planned per member, claimed before sending, each sent at most once.

The database is the source of truth; the scheduler only wakes the sender. A delivery moves
pending → claimed → sending → sent. Only the claim can be taken back (after a crash, a
claimed delivery was never handed to Telegram); a delivery caught in `sending` is recorded as
failed, not resent, because Telegram may already have shown it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import (
    DeliveryStatus,
    Forum,
    Locality,
    Member,
    Pledge,
    ProgressReport,
    ReminderDelivery,
    ReminderKind,
    Role,
    SchedulerMark,
    WorkflowState,
)
from storage.queries import not_pledged
from storage.zones import zone_or_utc

PLANNER_MARK = "planner"
BEFORE_DEADLINE = (
    ReminderKind.DIGEST,
    ReminderKind.DRAFT,
    ReminderKind.INVITATION,
    ReminderKind.PROGRESS,
)
CLOSING_OFFSET = 0
PROGRESS_SILENCE = timedelta(days=180)
# Deliveries are planned shortly before they fall due, so recipients are who they are then.
LOOKAHEAD = timedelta(minutes=15)
# Members' local 09:00 spreads a day's reminders over about a day either side of UTC.
ZONE_SPREAD = timedelta(hours=27)
LIVE_STATES = (
    WorkflowState.SUBMITTED.value,
    WorkflowState.CHANGES_REQUESTED.value,
    WorkflowState.APPROVED.value,
    WorkflowState.DELIVERED.value,
)


def due_before(deadline: datetime, offset_days: int, time_zone: str, hour: int) -> datetime:
    """`hour`:00 in the member's zone, `offset_days` days before the deadline's local date."""
    tz = zone_or_utc(time_zone)
    day = deadline.astimezone(tz).date() - timedelta(days=offset_days)
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def due_after(deadline: datetime, time_zone: str, hour: int) -> datetime:
    """The first `hour`:00 in the member's zone after the deadline."""
    tz = zone_or_utc(time_zone)
    local = deadline.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return candidate.astimezone(UTC)


# ---------------------------------------------------------------- who receives what


def _active(role: Role) -> Any:
    return and_(col(Member.role) == role.value, col(Member.active).is_(True))


def _among(
    statement: SelectOfScalar[Member], among: Collection[int] | None
) -> SelectOfScalar[Member]:
    """Restricted to some members, when checking a batch rather than planning for everyone."""
    return statement if among is None else statement.where(col(Member.id).in_(among))


async def coordinators(
    *, session: AsyncSession, among: Collection[int] | None = None
) -> Sequence[Member]:
    """Active coordinators: digests and closing summaries."""
    statement = _among(select(Member).where(_active(Role.COORDINATOR)), among)
    return (await session.exec(statement)).all()


async def officials_with_drafts(
    *, session: AsyncSession, forum_id: int, among: Collection[int] | None = None
) -> Sequence[Member]:
    """Active officials whose locality has an unfinished draft for the forum."""
    drafts = select(Pledge.locality_id).where(
        Pledge.forum_id == forum_id, Pledge.state == WorkflowState.DRAFT.value
    )
    statement = select(Member).where(_active(Role.OFFICIAL), col(Member.locality_id).in_(drafts))
    return (await session.exec(statement)).all()


async def officials_without_pledge(
    *, session: AsyncSession, forum_id: int, among: Collection[int] | None = None
) -> Sequence[Member]:
    """Active officials whose locality has nothing for the forum yet, not even a draft."""
    pledged = select(Pledge.locality_id).where(
        Pledge.forum_id == forum_id, Pledge.state != WorkflowState.WITHDRAWN.value
    )
    statement = select(Member).where(
        _active(Role.OFFICIAL),
        col(Member.locality_id).is_not(None),
        col(Member.locality_id).not_in(pledged),
    )
    return (await session.exec(_among(statement, among))).all()


async def silent_pledges(*, session: AsyncSession, now: datetime) -> Sequence[Pledge]:
    """Live pledges with no progress report for PROGRESS_SILENCE (counted from submission)."""
    since = now - PROGRESS_SILENCE
    recent = select(ProgressReport.pledge_id).where(col(ProgressReport.created_at) >= since)
    statement = select(Pledge).where(
        col(Pledge.state).in_(LIVE_STATES),
        col(Pledge.submitted_at) < since,
        col(Pledge.id).not_in(recent),
    )
    return (await session.exec(statement)).all()


async def officials_with_silent_pledges(
    *, session: AsyncSession, now: datetime, among: Collection[int] | None = None
) -> Sequence[Member]:
    """Active officials of localities that owe a progress report."""
    localities = {p.locality_id for p in await silent_pledges(session=session, now=now)}
    if not localities:
        return []
    statement = select(Member).where(
        _active(Role.OFFICIAL), col(Member.locality_id).in_(localities)
    )
    return (await session.exec(_among(statement, among))).all()


async def recipients(
    *,
    session: AsyncSession,
    forum: Forum,
    kind: ReminderKind,
    now: datetime,
    among: Collection[int] | None = None,
) -> Sequence[Member]:
    """Who a kind of reminder for this forum goes to, as things stand at `now`."""
    assert forum.id is not None
    if kind in (ReminderKind.DIGEST, ReminderKind.CLOSING):
        found = await coordinators(session=session, among=among)
    elif kind is ReminderKind.DRAFT:
        found = await officials_with_drafts(session=session, forum_id=forum.id, among=among)
    elif kind is ReminderKind.INVITATION:
        found = await officials_without_pledge(session=session, forum_id=forum.id, among=among)
    elif forum.progress_review:
        found = await officials_with_silent_pledges(session=session, now=now, among=among)
    else:
        found = []
    return [m for m in found if kind.value not in m.muted_kinds]


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlanResult:
    planned: int
    withdrawn: int


async def _mark(session: AsyncSession, now: datetime) -> datetime:
    """The previous planning time (now, the first time), moved on to `now`."""
    mark = await session.get(SchedulerMark, PLANNER_MARK)
    if mark is None:
        session.add(SchedulerMark(name=PLANNER_MARK, at=now))
        return now
    previous = mark.at
    if now > previous:
        mark.at = now
        session.add(mark)
    return previous


async def plan(*, session: AsyncSession, now: datetime) -> PlanResult:
    """Add the deliveries that fall due after the last planning, and drop stale ones.

    A delivery whose due time fell between the last planning and now (the bot was stopped,
    or the deadline was set while it was) is planned too: the sender decides if it is still
    useful. Pending deliveries of a deadline that has moved or a forum that has closed go.
    """
    since = await _mark(session, now)
    until = now + LOOKAHEAD
    forums = (await session.exec(select(Forum))).all()
    withdrawn = await _drop_stale(session, forums, now)
    rows: list[dict[str, Any]] = []
    for forum in forums:
        if not forum.is_open or forum.pledge_deadline is None or forum.id is None:
            continue
        deadline = forum.pledge_deadline
        for kind in (*BEFORE_DEADLINE, ReminderKind.CLOSING):
            offsets = [CLOSING_OFFSET] if kind is ReminderKind.CLOSING else forum.reminder_offsets
            offsets = [o for o in offsets if _may_fall_in(deadline, o, kind, since, until)]
            if not offsets:
                continue
            members = await recipients(session=session, forum=forum, kind=kind, now=now)
            for member in members:
                for offset in offsets:
                    if kind is ReminderKind.CLOSING:
                        due = due_after(deadline, member.time_zone, member.reminder_hour)
                    else:
                        due = due_before(deadline, offset, member.time_zone, member.reminder_hour)
                    if since < due <= until:
                        rows.append(
                            {
                                "forum_id": forum.id,
                                "kind": kind.value,
                                "offset_days": offset,
                                "deadline_at": deadline,
                                "member_id": member.id,
                                "due_at": due,
                                "status": DeliveryStatus.PENDING.value,
                                "attempts": 0,
                                "created_at": now,
                            }
                        )
    planned = await _insert_new(session, rows)
    return PlanResult(planned=planned, withdrawn=withdrawn)


def _may_fall_in(
    deadline: datetime, offset: int, kind: ReminderKind, since: datetime, until: datetime
) -> bool:
    """Whether some member's local reminder time for this offset can fall in (since, until]."""
    sign = 1 if kind is ReminderKind.CLOSING else -1
    centre = deadline + sign * timedelta(days=offset)
    return centre - ZONE_SPREAD <= until and centre + ZONE_SPREAD > since


async def _insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert what is not planned yet; the unique key makes planning idempotent."""
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = 0
    for start in range(0, len(rows), 500):
        statement = (
            insert(ReminderDelivery)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(constraint="uq_reminder_delivery_once")
            if insert is pg_insert
            else insert(ReminderDelivery).values(rows[start : start + 500]).on_conflict_do_nothing()
        )
        result = await session.exec(statement)
        inserted += max(result.rowcount or 0, 0)
    return inserted


async def _drop_stale(session: AsyncSession, forums: Sequence[Forum], now: datetime) -> int:
    """Pending deliveries of a moved deadline or a closed forum will not be sent."""
    dropped = 0
    for forum in forums:
        stale = col(ReminderDelivery.forum_id) == forum.id
        if forum.is_open and forum.pledge_deadline is not None:
            stale = and_(stale, col(ReminderDelivery.deadline_at) != forum.pledge_deadline)
        result = await session.exec(
            update(ReminderDelivery)
            .where(stale, col(ReminderDelivery.status) == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.SKIPPED.value, last_error="deadline changed")
        )
        dropped += max(result.rowcount or 0, 0)
    return dropped


async def failures_since_for(
    *, session: AsyncSession, forum_id: int, since: datetime | None
) -> int:
    """Deliveries of a forum that failed since a moment (for the coordinators' digest)."""
    statement = select(func.count()).where(
        col(ReminderDelivery.forum_id) == forum_id,
        col(ReminderDelivery.status) == DeliveryStatus.FAILED.value,
    )
    if since is not None:
        statement = statement.where(col(ReminderDelivery.claimed_at) >= since)
    return int((await session.exec(statement)).one())


async def last_digest_sent(
    *, session: AsyncSession, forum_id: int, member_id: int
) -> datetime | None:
    """When this coordinator last received a digest for this forum."""
    statement = select(func.max(ReminderDelivery.sent_at)).where(
        col(ReminderDelivery.forum_id) == forum_id,
        col(ReminderDelivery.member_id) == member_id,
        col(ReminderDelivery.kind) == ReminderKind.DIGEST.value,
        col(ReminderDelivery.status) == DeliveryStatus.SENT.value,
    )
    return (await session.exec(statement)).one()


async def superseded(
    *, session: AsyncSession, deliveries: Sequence[ReminderDelivery], now: datetime
) -> set[int]:
    """Those of `deliveries` that a later reminder of the same kind, also due now, replaces."""
    if not deliveries:
        return set()
    later = aliased(ReminderDelivery)
    statement = select(ReminderDelivery.id).where(
        col(ReminderDelivery.id).in_([d.id for d in deliveries]),
        exists().where(
            col(later.forum_id) == col(ReminderDelivery.forum_id),
            col(later.member_id) == col(ReminderDelivery.member_id),
            col(later.kind) == col(ReminderDelivery.kind),
            col(later.deadline_at) == col(ReminderDelivery.deadline_at),
            col(later.due_at) > col(ReminderDelivery.due_at),
            col(later.due_at) <= now,
        ),
    )
    return {i for i in (await session.exec(statement)).all() if i is not None}


# ---------------------------------------------------------------- where a forum stands


@dataclass(frozen=True)
class ForumStatus:
    """The numbers of a coordinators' digest, straight from the database."""

    submitted: int
    drafts: int
    approved: int
    delivered: int
    not_pledged: Sequence[str]
    not_pledged_total: int
    failed_deliveries: int


async def forum_status(
    *,
    session: AsyncSession,
    forum_id: int,
    failures_since: datetime | None,
    now: datetime,
    listed: int = 15,
) -> ForumStatus:
    """Pledges by state, and the invited localities that have not pledged (as /missing counts
    them: `storage.queries.not_pledged`)."""
    counts = dict(
        (
            await session.exec(
                select(Pledge.state, func.count())
                .where(Pledge.forum_id == forum_id)
                .group_by(col(Pledge.state))
            )
        ).all()
    )
    missing = (
        select(Locality.name).where(not_pledged(forum_id, now)).order_by(col(Locality.name_key))
    )
    total = int((await session.exec(select(func.count()).select_from(missing.subquery()))).one())
    names = (await session.exec(missing.limit(listed))).all()
    return ForumStatus(
        submitted=int(counts.get(WorkflowState.SUBMITTED.value, 0))
        + int(counts.get(WorkflowState.CHANGES_REQUESTED.value, 0)),
        drafts=int(counts.get(WorkflowState.DRAFT.value, 0)),
        approved=int(counts.get(WorkflowState.APPROVED.value, 0)),
        delivered=int(counts.get(WorkflowState.DELIVERED.value, 0)),
        not_pledged=list(names),
        not_pledged_total=total,
        failed_deliveries=await failures_since_for(
            session=session, forum_id=forum_id, since=failures_since
        ),
    )
