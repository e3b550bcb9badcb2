"""Several workers on one PostgreSQL database: every delivery once, all under one pace."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import PledgeApplication
from bot.reminders import Limits, ReminderSender
from bot.services import Services
from bot.standin import BotApiStandIn, SimUser, VirtualClock
from storage.engine import SessionFactory, transaction
from storage.members import get_or_create_member
from storage.models import DeliveryStatus, Notice, NoticeKind
from storage.notices import queue_notices
from storage.types import utc_now
from tests.conftest import on_standin, postgres_url

PEOPLE = 120
RATE = 25.0  # the senders' shared pace; the stand-in allows 30 a second, as Telegram


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return postgres_url(request)


@pytest.fixture
def timed_standin() -> BotApiStandIn:
    """Telegram's overall limit enforced in real time: a burst beyond it is answered 429."""
    return BotApiStandIn(clock=VirtualClock(real=True))


@pytest.fixture
async def bot(services: Services, timed_standin: BotApiStandIn) -> AsyncIterator[PledgeApplication]:
    # No rate limiter of PTB's: the senders' pace alone is under test.
    application = on_standin(services, timed_standin)
    await application.initialize()
    yield application
    await application.shutdown()


async def _queue(sessions: SessionFactory, standin: BotApiStandIn) -> None:
    """One due notice for each of PEOPLE members who have started the bot."""
    async with transaction(sessions) as session:
        ids = []
        for number in range(PEOPLE):
            user = SimUser(user_id=9000 + number, first_name=f"P{number}")
            standin.message_update(user, "/start")  # they may be messaged
            member, _created, _state = await get_or_create_member(
                session=session,
                telegram_id=user.user_id,
                display_name=user.first_name,
                language="en",
            )
            ids.append(member.id or 0)
        await queue_notices(
            session=session,
            kind=NoticeKind.ACCESS_DECISION,
            member_ids=ids,
            payload={"approved": True},
            now=utc_now(),
        )


async def test_two_workers_send_each_notice_once_and_together_keep_one_pace(
    bot: PledgeApplication,
    services: Services,
    sessions: SessionFactory,
    timed_standin: BotApiStandIn,
) -> None:
    await _queue(sessions, timed_standin)
    workers = [
        ReminderSender(services, bot.bot, worker=name, limits=Limits(rate=RATE, batch=20))
        for name in ("worker-a", "worker-b")
    ]
    loop = asyncio.get_running_loop()
    started = loop.time()
    reports = await asyncio.gather(*(w.deliver_notices() for w in workers))
    elapsed = loop.time() - started

    sends = [p["chat_id"] for method, p in timed_standin.calls if method == "sendMessage"]
    assert Counter(sends) == Counter({9000 + n: 1 for n in range(PEOPLE)})  # each once
    assert timed_standin.rate_limited == 0  # never a 429: the two kept one pace
    assert all(report.sent > PEOPLE // 4 for report in reports)  # both did share the work
    assert elapsed >= (PEOPLE - 1) / RATE * 0.95  # not twice the rate, which 429s would show
    async with transaction(sessions) as session:
        statuses = Counter((await session.exec(select(Notice.status))).all())
    assert statuses == Counter({DeliveryStatus.SENT.value: PEOPLE})


async def test_a_stopping_worker_ends_its_run_at_once_and_gives_back_the_rest(
    bot: PledgeApplication,
    services: Services,
    sessions: SessionFactory,
    timed_standin: BotApiStandIn,
) -> None:
    """SIGTERM must not wait for a long run of reminders: what is not yet at Telegram goes
    back to pending, for another worker or the next start."""
    await _queue(sessions, timed_standin)
    sender = ReminderSender(services, bot.bot, worker="stopping", limits=Limits(rate=RATE))
    run = asyncio.create_task(sender.deliver_notices())
    await asyncio.sleep(1.0)
    sender.stopping = True
    async with asyncio.timeout(2):
        report = await run
    await sender.release()
    async with transaction(sessions) as session:
        statuses = Counter((await session.exec(select(Notice.status))).all())
    assert 0 < report.sent < PEOPLE // 2
    assert statuses == Counter(
        {DeliveryStatus.SENT.value: report.sent, DeliveryStatus.PENDING.value: PEOPLE - report.sent}
    )
