"""Deliveries, reminders and notices alike: claimed before sending, each sent at most once.

A delivery moves pending → claimed → sending → sent. Only the claim can be taken back (after a
crash, a claimed delivery was never handed to Telegram); a delivery caught in `sending` is
recorded as failed, not resent, because Telegram may already have shown it. A delivery turns
`sending` only just before its own call to Telegram, so a worker killed outright leaves few
of those: its claims, renewed while it lives, go stale and back to pending for the others.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeliveryStatus, Notice, ReminderDelivery

DeliveryTable = type[ReminderDelivery] | type[Notice]
D = TypeVar("D", ReminderDelivery, Notice)
STALE_CLAIM = timedelta(seconds=30)  # a live worker renews its claims every RENEW_CLAIMS
RENEW_CLAIMS = timedelta(seconds=10)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))


async def claim_due(
    *,
    session: AsyncSession,
    now: datetime,
    worker: str,
    limit: int,
    table: type[D],
    ids: Collection[int] | None = None,
) -> list[D]:
    """Take up to `limit` due deliveries for this worker; another worker never gets them too.
    Given `ids` (just queued, so due now by definition), those of them still pending."""
    # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT … SKIP LOCKED): PostgreSQL may
    # run such a subquery more than once and so take more rows than asked.
    due = (
        select(table.id)
        .where(
            col(table.status) == DeliveryStatus.PENDING.value,
            col(table.id).in_(ids) if ids is not None else col(table.due_at) <= now,
        )
        .order_by(col(table.due_at), col(table.id))
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
    )
    locked = [i for i in (await session.exec(due)).all() if i is not None]
    if not locked:
        return []
    result = await session.exec(
        update(table)
        .where(
            col(table.id).in_(locked),
            col(table.status) == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CLAIMED.value, claimed_by=worker, claimed_at=now)
        .returning(col(table.id))
    )
    ids = [row[0] for row in result.all()]
    if not ids:
        return []
    statement = (
        select(table)
        .where(col(table.id).in_(ids))
        .order_by(col(table.due_at), col(table.id))
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(statement)).all())


async def mark_sending(
    *, session: AsyncSession, ids: Sequence[int], worker: str, table: DeliveryTable
) -> int:
    """These deliveries are about to reach the Bot API; how many are still this worker's
    (a claim taken back after this worker was silent too long is not)."""
    if not ids:
        return 0
    result = await session.exec(
        update(table)
        .where(
            col(table.id).in_(ids),
            col(table.status) == DeliveryStatus.CLAIMED.value,
            col(table.claimed_by) == worker,
        )
        .values(status=DeliveryStatus.SENDING.value, attempts=table.attempts + 1)
    )
    return max(result.rowcount or 0, 0)


async def renew_claims(
    *, session: AsyncSession, worker: str, now: datetime, table: DeliveryTable
) -> None:
    """The worker is alive: its claims are not stale."""
    await session.exec(
        update(table)
        .where(
            col(table.claimed_by) == worker,
            col(table.status).in_([DeliveryStatus.CLAIMED.value, DeliveryStatus.SENDING.value]),
        )
        .values(claimed_at=now)
    )


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery."""

    delivery_id: int
    status: DeliveryStatus
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None


async def record(
    *, session: AsyncSession, outcomes: Sequence[Outcome], now: datetime, table: DeliveryTable
) -> None:
    """Write down each delivery's outcome; a retry goes back to pending at its new time."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        values: dict[str, Any] = {
            "id": outcome.delivery_id,
            "status": outcome.status.value,
            "last_error": outcome.error,
        }
        if outcome.status is DeliveryStatus.SENT:
            values |= {"message_id": outcome.message_id, "sent_at": now}
        if outcome.retry_at is not None:
            values |= {"due_at": outcome.retry_at, "claimed_by": None}
        groups.setdefault(frozenset(values), []).append(values)
    for rows in groups.values():
        # An ORM bulk update by primary key: one executemany for the whole batch.
        await session.exec(update(table), params=rows)


INTERRUPTED = "interrupted while sending: not resent, to avoid a duplicate"


async def recover_stale(*, session: AsyncSession, now: datetime, table: DeliveryTable) -> int:
    """After a crash: unsent claims go back to pending; a delivery caught mid-send is failed."""
    cutoff = now - STALE_CLAIM
    old = col(table.claimed_at) < cutoff
    released = await session.exec(
        update(table)
        .where(old, col(table.status) == DeliveryStatus.CLAIMED.value)
        .values(status=DeliveryStatus.PENDING.value, claimed_by=None)
    )
    await session.exec(
        update(table)
        .where(old, col(table.status) == DeliveryStatus.SENDING.value)
        .values(status=DeliveryStatus.FAILED.value, last_error=INTERRUPTED)
    )
    return max(released.rowcount or 0, 0)


async def recover_own(*, session: AsyncSession, worker: str, table: DeliveryTable) -> None:
    """At start (a worker whose name survives restarts finds its own): this worker's unsent
    claims from before go back to pending, and what it was caught sending is failed at once
    rather than when the claim goes stale."""
    mine = col(table.claimed_by) == worker
    await session.exec(
        update(table)
        .where(mine, col(table.status) == DeliveryStatus.CLAIMED.value)
        .values(status=DeliveryStatus.PENDING.value, claimed_by=None)
    )
    await session.exec(
        update(table)
        .where(mine, col(table.status) == DeliveryStatus.SENDING.value)
        .values(status=DeliveryStatus.FAILED.value, last_error=INTERRUPTED)
    )


def delivery_kind(table: DeliveryTable) -> str:
    """reminder or notice: how a delivery table is named in logs and metrics."""
    return "reminder" if table is ReminderDelivery else "notice"


async def count_by_status(*, session: AsyncSession, table: DeliveryTable) -> dict[str, int]:
    """How many deliveries of `table` are in each status (every status, zero included)."""
    status = col(table.status)
    rows = await session.exec(select(status, func.count()).group_by(status))
    counts = {s.value: 0 for s in DeliveryStatus}
    for value, count in rows:
        counts[str(value)] = count
    return counts
