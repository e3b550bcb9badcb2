"""One sending pace for every worker, kept in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SendPace


async def _locked(session: AsyncSession, name: str, now: datetime) -> SendPace:
    # Locked until the caller's transaction ends: the next worker reads what this one wrote.
    pace = await session.get(SendPace, name, with_for_update=True)
    if pace is None:
        pace = SendPace(name=name, next_at=now)
    session.add(pace)
    return pace


async def reserve_slot(
    *, session: AsyncSession, name: str, now: datetime, interval: timedelta, count: int = 1
) -> datetime:
    """The first of `count` sending moments `interval` apart, reserved for the caller: no other
    worker gets them. The row is locked until the caller's transaction ends, so keep it short."""
    pace = await _locked(session, name, now)
    slot = max(now, pace.next_at)
    pace.next_at = slot + interval * count
    return slot


async def hold_back(*, session: AsyncSession, name: str, until: datetime) -> None:
    """Nobody sends before `until` (Telegram asked every worker to wait, with a 429)."""
    pace = await _locked(session, name, until)
    pace.next_at = max(pace.next_at, until)
