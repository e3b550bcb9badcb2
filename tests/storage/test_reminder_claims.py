"""Two bot processes sharing one database never send the same reminder twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import PledgeApplication
from bot.reminders import Limits, ReminderSender
from bot.services import Services
from bot.standin import BotApiStandIn
from storage.deliveries import claim_due
from storage.engine import SessionFactory, transaction
from storage.models import DeliveryStatus, Forum, ReminderDelivery, Role
from storage.reminders import plan
from tests.bot.test_reminders import TravelClock
from tests.conftest import Invitations

DEADLINE = datetime(2027, 12, 15, 16, 0, tzinfo=UTC)
DUE = datetime(2027, 12, 8, 9, 0, tzinfo=UTC)  # 7 days before, 09:00 in the default zone


async def _forum_with_deadline(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        forum.pledge_deadline, forum.reminder_offsets = DEADLINE, [7]
        session.add(forum)


async def test_two_schedulers_send_each_reminder_once(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    coordinators = range(900, 940)
    for user_id in coordinators:
        person = standin.person(app, user_id=user_id, first_name=f"C{user_id}")
        person.pace = 0.5
        await person.send("/start " + await invitations.make(Role.COORDINATOR))
    standin.rate_limits_enabled = False  # this test is about claims, not pacing
    await _forum_with_deadline(sessions)
    clock = TravelClock(DUE - timedelta(hours=1), standin)
    async with transaction(sessions) as session:
        await plan(session=session, now=clock.now())
    clock.advance(timedelta(hours=1, minutes=1))
    first, second = (
        ReminderSender(
            services,
            app.bot,
            clock=clock,
            worker=name,
            limits=Limits(rate=1000.0, batch=7, concurrency=4),
        )
        for name in ("host-a", "host-b")
    )
    reports = await asyncio.gather(first.tick(), second.tick(), first.tick(), second.tick())
    assert sum(r.sent for r in reports) == len(coordinators)
    received = Counter(
        m.chat_id for chat in coordinators for m in standin.chat_messages(chat) if "📊" in m.text
    )
    assert received == Counter({chat: 1 for chat in coordinators})
    async with transaction(sessions) as session:
        rows = (await session.exec(select(ReminderDelivery))).all()
    assert {r.status for r in rows} == {DeliveryStatus.SENT.value}
    assert {r.claimed_by for r in rows} <= {"host-a", "host-b"}


async def test_concurrent_claims_never_overlap(
    sessions: SessionFactory,
    services: Services,
    invitations: Invitations,
    app: PledgeApplication,
    standin: BotApiStandIn,
) -> None:
    for user_id in range(950, 980):
        person = standin.person(app, user_id=user_id, first_name="C")
        person.pace = 0.5
        await person.send("/start " + await invitations.make(Role.COORDINATOR))
    await _forum_with_deadline(sessions)
    async with transaction(sessions) as session:
        await plan(session=session, now=DUE - timedelta(hours=1))
        await plan(session=session, now=DUE)

    async def claim(worker: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with transaction(sessions) as session:
                batch = await claim_due(
                    session=session, now=DUE, worker=worker, limit=3, table=ReminderDelivery
                )
            if not batch:
                return taken
            taken += [d.id or 0 for d in batch]

    claims = await asyncio.gather(*(claim(f"w{n}") for n in range(4)))
    everything = [i for c in claims for i in c]
    assert len(everything) == len(set(everything)) == 30
