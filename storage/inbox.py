"""Updates posted to any worker, handed out one person at a time, oldest first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboundUpdate

# A claim older than this, not renewed by its worker's heartbeat, is a dead worker's.
STALE_CLAIM = timedelta(seconds=30)


async def receive(
    *,
    session: AsyncSession,
    update_id: int,
    person: int | None,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Keep a posted update; False if it was already kept (Telegram posting it again)."""
    if await session.get(InboundUpdate, update_id) is not None:
        return False
    session.add(InboundUpdate(update_id=update_id, person=person, payload=payload, received_at=now))
    return True


class ClaimLost(Exception):
    """Another worker took the update over (this one was silent too long): its work is not
    saved here, so the update is handled once, by the other."""


async def claim_next(
    *, session: AsyncSession, person: int | None, worker: str, now: datetime
) -> InboundUpdate | None:
    """The person's oldest update, claimed for `worker`, if nobody (alive) holds it: while one
    of their updates is in hand anywhere, their later ones wait. An update a dead worker had
    already handled (it died before removing it) is never handled again: it is claimed only if
    it still owes its person replies (`handled_at` set: send them), otherwise it leaves."""
    while True:
        head = (
            await session.exec(
                select(InboundUpdate)
                .where(_of(person))
                .order_by(col(InboundUpdate.update_id))
                .limit(1)
                .with_for_update()
            )
        ).first()
        if head is None:
            return None
        held = head.claimed_at is not None and now - head.claimed_at < STALE_CLAIM
        if held and head.claimed_by != worker:
            return None  # (a worker serves each person with one task: its own claim is free)
        if head.handled_at is None or owes_replies(head):
            break
        await session.delete(head)
        await session.flush()
    head.claimed_by, head.claimed_at = worker, now
    session.add(head)
    return head


async def following(
    *, session: AsyncSession, person: int | None, after: int
) -> InboundUpdate | None:
    """The person's update right after `after`, locked, whoever holds it (a paste's next part)."""
    return (
        await session.exec(
            select(InboundUpdate)
            .where(_of(person), col(InboundUpdate.update_id) > after)
            .order_by(col(InboundUpdate.update_id))
            .limit(1)
            .with_for_update()
        )
    ).first()


async def mark_handled(
    *, session: AsyncSession, update_id: int, worker: str, now: datetime
) -> None:
    """In the transaction that saves what the update said: it is handled, whatever happens to
    this worker next. Raises ClaimLost if the update is no longer this worker's."""
    result = await session.exec(
        update(InboundUpdate)
        .where(col(InboundUpdate.update_id) == update_id)
        .where(col(InboundUpdate.claimed_by) == worker)
        .where(col(InboundUpdate.handled_at).is_(None))
        .values(handled_at=now)
    )
    if result.rowcount != 1:
        raise ClaimLost(f"update {update_id} is no longer claimed by {worker}")


def owes_replies(row: InboundUpdate) -> bool:
    """Whether a handled update has replies its worker did not get to send."""
    return row.replies is not None and row.replies_sent < len(row.replies)


async def owe_replies(
    *, session: AsyncSession, update_id: int, worker: str, replies: list[dict[str, Any]]
) -> None:
    """Keep what a handled update says back until it is sent (a crash meanwhile: the next
    start sends it)."""
    await session.exec(
        update(InboundUpdate)
        .where(col(InboundUpdate.update_id) == update_id)
        .where(col(InboundUpdate.claimed_by) == worker)
        .values(replies=replies, replies_sent=0)
    )


async def count_sent(*, session: AsyncSession, update_id: int, worker: str, sent: int) -> None:
    """`sent` of the update's owed replies went out."""
    await session.exec(
        update(InboundUpdate)
        .where(col(InboundUpdate.update_id) == update_id)
        .where(col(InboundUpdate.claimed_by) == worker)
        .values(replies_sent=sent)
    )


async def release_claims(*, session: AsyncSession, worker: str) -> int:
    """Claims `worker` holds from before it was restarted: free for anyone at once, rather
    than after they go stale. Returns how many."""
    result = await session.exec(
        update(InboundUpdate)
        .where(col(InboundUpdate.claimed_by) == worker)
        .values(claimed_by=None, claimed_at=None)
    )
    return int(result.rowcount or 0)


def _of(person: int | None) -> ColumnElement[bool]:
    if person is None:
        return col(InboundUpdate.person).is_(None)
    return col(InboundUpdate.person) == person


async def done(*, session: AsyncSession, update_id: int, worker: str) -> None:
    """The worker has finished with the update: it leaves the inbox (unless another worker
    took it over meanwhile: then it is that worker's to finish)."""
    await session.exec(
        delete(InboundUpdate)
        .where(col(InboundUpdate.update_id) == update_id)
        .where(col(InboundUpdate.claimed_by) == worker)
    )


async def renew(
    *, session: AsyncSession, worker: str, update_ids: list[int], now: datetime
) -> None:
    """The worker is alive and still at these updates."""
    if update_ids:
        await session.exec(
            update(InboundUpdate)
            .where(col(InboundUpdate.update_id).in_(update_ids))
            .where(col(InboundUpdate.claimed_by) == worker)
            .values(claimed_at=now)
        )


async def waiting_people(*, session: AsyncSession, now: datetime) -> list[int | None]:
    """People whose oldest update nobody alive holds: a worker should take them up."""
    oldest = (
        select(InboundUpdate.person, func.min(InboundUpdate.update_id).label("first"))
        .group_by(col(InboundUpdate.person))
        .subquery()
    )
    rows = await session.exec(
        select(InboundUpdate.person)
        .join(oldest, col(InboundUpdate.update_id) == oldest.c.first)
        .where(
            or_(
                col(InboundUpdate.claimed_at).is_(None),
                col(InboundUpdate.claimed_at) < now - STALE_CLAIM,
            )
        )
    )
    return list(rows.all())
