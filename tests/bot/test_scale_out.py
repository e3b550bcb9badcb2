"""Several `pledgebot run --webhook` workers, real processes on one PostgreSQL database, behind
a round-robin balancer (the stand-in's pusher spreads Telegram's posts over them as a load
balancer would): officials through the whole wizard, and 2,000 due reminders with one worker
killed outright in the middle."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import col, select

from benchmarks.reminders import FIRST_USER, seed_due_reminders
from bot.standin import BotApiStandIn, SimUser, VirtualClock
from bot.standin.crowd import CALIBRATION_SETTLE, MeteredStandIn, Person, Step, wizard_steps
from bot.standin.webhooks import WebhookPusher
from bot.standin_server import StandInServer
from storage.engine import SessionFactory, transaction
from storage.invites import create_invite
from storage.localities import find_or_create_locality
from storage.models import DeliveryStatus, Pledge, ReminderDelivery, Role
from tests.bot.test_runner import launch, logged
from tests.conftest import postgres_url

SECRET = "scale_out_secret"
OFFICIALS = 50
REMINDERS = 2_000
STOP_WITHIN = 90.0  # seconds: SIGTERM, finishing what is in hand, exit


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return postgres_url(request)


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    log: Path
    base: str  # where the balancer reaches it


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, standin: BotApiStandIn, url: str, count: int
) -> AsyncIterator[list[Worker]]:
    """`count` webhook workers on the stand-in, each stopped with SIGTERM at the end (a
    worker the test killed is left as it is)."""
    server = StandInServer(standin)
    port = await server.start()
    workers: list[Worker] = []
    try:
        for n in range(count):
            process, log = await launch(
                tmp_path,
                standin,
                port,
                url,
                "--webhook",
                name=f"worker-{n}",
                WEBHOOK_URL="https://pledgebot.example.org/telegram",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN="127.0.0.1:0",
                DATA_DIR=str(tmp_path / f"worker-{n}"),
                LOG_LEVEL="INFO",
            )
            listening = await logged(log, r"taking updates from Telegram on [\d.]+:(\d+)")
            workers.append(Worker(process, log, f"http://127.0.0.1:{listening.group(1)}"))
        yield workers
    finally:
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.process.wait(), STOP_WITHIN)
        await server.stop()


async def _invitations(sessions: SessionFactory, count: int) -> list[str]:
    async with transaction(sessions) as session:
        tokens = []
        for n in range(count):
            town = await find_or_create_locality(session=session, name=f"Town {n}", country="FR")
            invite = await create_invite(session=session, role=Role.OFFICIAL, locality_id=town.id)
            tokens.append(invite.token)
    return tokens


@pytest.mark.parametrize("count", [2, 3])
async def test_officials_complete_pledges_through_several_workers(
    count: int, tmp_path: Path, database_url: str, sessions: SessionFactory
) -> None:
    tokens = await _invitations(sessions, OFFICIALS + 1)
    standin = MeteredStandIn()  # Telegram's limits on content, not on rate: order is under test
    async with running(tmp_path, standin, database_url, count) as workers:
        pusher = WebhookPusher(standin, *(w.base for w in workers), connections=8)
        pusher.start()
        try:
            alone = Person(standin, 8_000_000, "Alone", echo=False, steps=_steps(tokens[0], -1))
            await alone.walk(None, patience=30)
            learnt = [o.calls for o in alone.outcomes]
            people = [
                Person(standin, 8_000_001 + n, f"P{n}", echo=False, steps=_steps(token, n))
                for n, token in enumerate(tokens[1:])
            ]
            async with asyncio.TaskGroup() as group:
                for person in people:
                    group.create_task(person.walk(learnt, patience=60))
            await asyncio.sleep(CALIBRATION_SETTLE * 2)  # time for any call beyond the learnt
        finally:
            await pusher.stop()

    assert [w.process.returncode for w in workers] == [0] * count
    assert standin.violations == [] and standin.failed_calls == 0 and pusher.failed == 0
    # Each step answered with exactly the calls it had alone: no message twice, none missing.
    assert {p.chat: len(standin.chat_calls[p.chat]) for p in people} == {
        p.chat: sum(learnt) for p in people
    }
    async with transaction(sessions) as session:
        pledges = {p.reference: p for p in (await session.exec(select(Pledge))).all()}
    assert len(pledges) == OFFICIALS + 1 and None not in pledges  # every reference unique
    for n, person in enumerate(people):
        told = [m.text for m in standin.chat_messages(person.chat) if "CLA-" in m.text]
        reference = re.search(r"CLA-\d{4}-\d{4}", told[-1])
        assert reference is not None
        pledge = pledges[reference.group(0)]  # the pledge they were told of is theirs
        assert (pledge.title, pledge.ends_on) == (f"Welcome centre {n}", date(2028, 12, 31))
    for worker in workers:  # the balancer did spread the work
        assert ": handled in" in worker.log.read_text()


async def test_reminders_go_out_once_under_one_pace_though_a_worker_is_killed(
    tmp_path: Path, database_url: str, sessions: SessionFactory
) -> None:
    await seed_due_reminders(sessions, REMINDERS)
    standin = BotApiStandIn(clock=VirtualClock(real=True))  # Telegram's 30 a second, enforced
    for n in range(REMINDERS):  # each official has talked to the bot before
        standin.message_update(SimUser(FIRST_USER + n, f"Official {n}"), "/start")
    async with running(tmp_path, standin, database_url, 3) as workers:
        async with asyncio.timeout(60):
            while _sent(standin) < REMINDERS // 4:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        workers[0].process.send_signal(signal.SIGKILL)
        await workers[0].process.wait()
        async with asyncio.timeout(240):
            while await _unfinished(sessions):  # noqa: ASYNC110
                await asyncio.sleep(1)

    async with transaction(sessions) as session:
        deliveries = (await session.exec(select(ReminderDelivery))).all()
    received = Counter(
        m.chat_id for n in range(REMINDERS) for m in standin.chat_messages(FIRST_USER + n)
    )
    assert standin.rate_limited == 0  # three workers, one pace under Telegram's limit
    assert max(received.values()) == 1  # nobody reminded twice
    assert len(deliveries) == REMINDERS
    by_status = Counter(d.status for d in deliveries)
    interrupted = [d for d in deliveries if d.status == DeliveryStatus.FAILED.value]
    # Only what the killed worker had in flight is in doubt: reported failed, never resent.
    assert len(interrupted) <= 16
    assert all("not resent" in (d.last_error or "") for d in interrupted)
    assert by_status[DeliveryStatus.SENT.value] + len(interrupted) == REMINDERS
    assert len(received) >= by_status[DeliveryStatus.SENT.value]
    assert [w.process.returncode for w in workers[1:]] == [0, 0]
    assert standin.violations == []


def _steps(token: str, n: int) -> list[Step]:
    return wizard_steps(token, title=f"Welcome centre {n}")


def _sent(standin: BotApiStandIn) -> int:
    return sum(1 for method, _params in standin.calls if method == "sendMessage")


async def _unfinished(sessions: SessionFactory) -> int:
    """Reminders not yet sent or given up on."""
    final = [DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value, DeliveryStatus.SKIPPED.value]
    async with transaction(sessions) as session:
        rows = await session.exec(
            select(ReminderDelivery.id).where(col(ReminderDelivery.status).not_in(final))
        )
        return len(rows.all())
