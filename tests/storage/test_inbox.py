"""The shared inbox: one person's updates in order, a dead worker's taken over, and an update
whose answer was saved never handled a second time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from storage.engine import SessionFactory, transaction
from storage.inbox import (
    STALE_CLAIM,
    ClaimLost,
    claim_next,
    done,
    mark_handled,
    receive,
    waiting_people,
)
from storage.models import InboundUpdate

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LATER = NOW + STALE_CLAIM + timedelta(seconds=1)
PERSON = 42


async def _receive(sessions: SessionFactory, *update_ids: int) -> None:
    async with transaction(sessions) as session:
        for update_id in update_ids:
            await receive(
                session=session,
                update_id=update_id,
                person=PERSON,
                payload={"update_id": update_id},
                now=NOW,
            )


async def _claim(sessions: SessionFactory, worker: str, now: datetime) -> int | None:
    async with transaction(sessions) as session:
        head = await claim_next(session=session, person=PERSON, worker=worker, now=now)
        return head.update_id if head is not None else None


async def _left(sessions: SessionFactory) -> list[int]:
    async with transaction(sessions) as session:
        rows = await session.exec(select(InboundUpdate.update_id))
        return sorted(rows.all())


async def test_a_person_s_updates_are_handed_out_oldest_first_one_at_a_time(
    sessions: SessionFactory,
) -> None:
    await _receive(sessions, 12, 11)
    assert await _claim(sessions, "a", NOW) == 11
    assert await _claim(sessions, "b", NOW) is None  # 11 is in hand: 12 waits
    async with transaction(sessions) as session:
        await done(session=session, update_id=11, worker="a")
    assert await _claim(sessions, "b", NOW) == 12


async def test_a_post_telegram_repeats_is_kept_once(sessions: SessionFactory) -> None:
    await _receive(sessions, 11)
    async with transaction(sessions) as session:
        again = await receive(
            session=session, update_id=11, person=PERSON, payload={"update_id": 11}, now=NOW
        )
    assert again is False
    assert await _left(sessions) == [11]


async def test_a_dead_worker_s_unsaved_update_is_handled_by_another(
    sessions: SessionFactory,
) -> None:
    await _receive(sessions, 11)
    assert await _claim(sessions, "a", NOW) == 11
    async with transaction(sessions) as session:
        assert await waiting_people(session=session, now=NOW) == []
        assert await waiting_people(session=session, now=LATER) == [PERSON]
    assert await _claim(sessions, "b", LATER) == 11


async def test_a_dead_worker_s_saved_update_leaves_without_being_handled_again(
    sessions: SessionFactory,
) -> None:
    await _receive(sessions, 11, 12)
    assert await _claim(sessions, "a", NOW) == 11
    async with transaction(sessions) as session:
        await mark_handled(session=session, update_id=11, worker="a", now=NOW)
    # Worker a dies here, before removing 11: b goes straight on with 12.
    assert await _claim(sessions, "b", LATER) == 12
    assert await _left(sessions) == [12]


async def test_a_worker_that_lost_its_claim_cannot_save_or_remove_the_update(
    sessions: SessionFactory,
) -> None:
    await _receive(sessions, 11)
    assert await _claim(sessions, "a", NOW) == 11
    assert await _claim(sessions, "b", LATER) == 11  # a was silent too long
    with pytest.raises(ClaimLost):
        async with transaction(sessions) as session:
            await mark_handled(session=session, update_id=11, worker="a", now=LATER)
    async with transaction(sessions) as session:
        await done(session=session, update_id=11, worker="a")
    assert await _left(sessions) == [11]  # still b's to finish
    async with transaction(sessions) as session:
        await mark_handled(session=session, update_id=11, worker="b", now=LATER)
        await done(session=session, update_id=11, worker="b")
    assert await _left(sessions) == []
