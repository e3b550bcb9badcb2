"""Telegram down for 20 s in the middle of conversations and of a reminder run, with
`pledgebot run` as a real process, long polling or on a webhook: afterwards every update has
been answered once, and every reminder has arrived once."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import col, select

from benchmarks.reminders import FIRST_USER, seed_due_reminders
from bot.standin import SimUser
from bot.standin.crowd import MeteredStandIn, Person, wizard_steps
from bot.standin.webhooks import WebhookPusher
from bot.standin_server import StandInServer
from storage.engine import SessionFactory, transaction
from storage.invites import create_invite
from storage.localities import find_or_create_locality
from storage.models import DeliveryStatus, Pledge, ReminderDelivery, Role
from tests.bot.test_runner import launch, logged

OUTAGE = 20.0  # seconds
OFFICIALS = 6
# At 25 a second they take about 48 s: still going out when Telegram goes down, after the
# lone official's walk (about 35 s, each step settling past the per-chat pacing).
REMINDERS = 1200
SECRET = "outage_secret"


async def _invitations(sessions: SessionFactory) -> list[str]:
    async with transaction(sessions) as session:
        tokens = []
        for n in range(OFFICIALS + 1):
            town = await find_or_create_locality(
                session=session, name=f"Outville {n}", country="FR"
            )
            invite = await create_invite(session=session, role=Role.OFFICIAL, locality_id=town.id)
            tokens.append(invite.token)
    return tokens


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_nothing_is_lost_or_repeated_across_a_telegram_outage(
    mode: str, tmp_path: Path, database_url: str, sessions: SessionFactory
) -> None:
    tokens = await _invitations(sessions)
    await seed_due_reminders(sessions, REMINDERS, first_locality=10_000)
    standin = MeteredStandIn()
    for n in range(REMINDERS):  # each official has talked to the bot before
        standin.message_update(SimUser(FIRST_USER + n, f"Official {n}"), "/start")
    server = StandInServer(standin)
    port = await server.start()
    webhook = {
        "WEBHOOK_URL": "https://pledgebot.example.org/telegram",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1:0",
    }
    args, env = (("--webhook",), webhook) if mode == "webhook" else ((), {})
    process, log = await launch(
        tmp_path, standin, port, database_url, *args, DATA_DIR=str(tmp_path), **env
    )
    pusher = None
    try:
        if mode == "webhook":
            listening = await logged(log, r"taking updates from Telegram on [\d.]+:(\d+)")
            pusher = WebhookPusher(standin, f"http://127.0.0.1:{listening.group(1)}")
            pusher.start()
        alone = Person(standin, 8_100_000, "Alone", echo=False, steps=wizard_steps(tokens[0]))
        await alone.walk(None, patience=30)
        learnt = [o.calls for o in alone.outcomes]
        people = [
            Person(standin, 8_100_001 + n, f"P{n}", echo=False, steps=wizard_steps(token))
            for n, token in enumerate(tokens[1:])
        ]
        standin.go_down(OUTAGE)  # the first tick's reminders are still going out
        async with asyncio.TaskGroup() as group:
            for person in people:
                group.create_task(person.walk(learnt, patience=OUTAGE + 60))
        async with asyncio.timeout(60):
            while await _unfinished(sessions):  # noqa: ASYNC110
                await asyncio.sleep(0.5)
    finally:
        if pusher is not None:
            await pusher.stop()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
        await server.stop()

    assert process.returncode == 0, log.read_text()[-3000:]
    assert standin.failed_calls > 0  # the bot did meet the outage
    # Each step answered with exactly the calls it had before the outage: none twice or lost.
    assert {p.chat: len(standin.chat_calls[p.chat]) for p in people} == {
        p.chat: sum(learnt) for p in people
    }
    async with transaction(sessions) as session:
        references = (await session.exec(select(Pledge.reference))).all()
        statuses = Counter((await session.exec(select(ReminderDelivery.status))).all())
    assert len(references) == OFFICIALS + 1 and len(set(references)) == len(references)
    for person in people:
        told = [m.text for m in standin.chat_messages(person.chat) if "CLA-" in m.text]
        assert told and re.search(r"CLA-\d{4}-\d{4}", told[-1])
    received = Counter(
        m.chat_id for n in range(REMINDERS) for m in standin.chat_messages(FIRST_USER + n)
    )
    assert statuses == Counter({DeliveryStatus.SENT.value: REMINDERS})
    assert len(received) == REMINDERS and set(received.values()) == {1}
    assert standin.violations == []


async def _unfinished(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        rows = await session.exec(
            select(ReminderDelivery.id).where(
                col(ReminderDelivery.status) != DeliveryStatus.SENT.value
            )
        )
        return len(rows.all())
