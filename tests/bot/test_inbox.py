"""Two webhook workers on one PostgreSQL database, posts spread over both: each person's
updates are still handled once each, in the order sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import PledgeApplication
from bot.inbox import Inbox
from bot.services import Services
from bot.standin import BotApiStandIn, SentMessage, SimUser
from bot.standin.webhooks import WebhookPusher
from bot.webhook import WebhookServer
from storage.engine import SessionFactory, transaction
from storage.models import InboundUpdate, Role
from tests.conftest import Invitations, on_standin, postgres_url
from tests.conversations.helpers import GOOD_DESCRIPTION, latest_pledge, state_of

SECRET = "two_workers_secret"
PEOPLE = 8


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return postgres_url(request)


@pytest.fixture
async def workers(services: Services, standin: BotApiStandIn) -> AsyncIterator[list[str]]:
    """Two workers, each an application with its inbox behind its own webhook listener."""
    standin.rate_limits_enabled = False  # its clock stands still here; order is under test
    await standin.dispatch(
        "setWebhook", {"url": "https://pledgebot.example.org/hook", "secret_token": SECRET}
    )
    running: list[tuple[PledgeApplication, WebhookServer]] = []
    bases = []
    for name in ("worker-a", "worker-b"):
        application = on_standin(services, standin)
        await application.initialize()
        inbox = Inbox(application, services.sessions, name)
        inbox.start()
        server = WebhookServer(
            application, path="/hook", secret=SECRET, host="127.0.0.1", port=0, inbox=inbox
        )
        bases.append(f"http://127.0.0.1:{await server.start()}")
        running.append((application, server))
    yield bases
    for application, server in running:
        await server.stop()
        await application.shutdown()


async def _quiet(standin: BotApiStandIn) -> None:
    """Until the bot has gone quiet and Telegram has nothing left to post."""
    last, calm = -1, 0
    async with asyncio.timeout(30):
        while calm < 8:
            await asyncio.sleep(0.05)
            now = len(standin.calls)
            busy = now != last or standin.pending_updates()
            calm, last = (0, now) if busy else (calm + 1, now)


async def _press(standin: BotApiStandIn, user: SimUser, label: str) -> None:
    message: SentMessage = next(
        m for m in reversed(standin.chat_messages(user.user_id)) if m.buttons()
    )
    button = next(b for b in message.buttons() if label in b.text)
    assert button.callback_data is not None
    standin.push_update(standin.callback_update(user, message, button.callback_data))


async def test_one_persons_updates_stay_in_order_across_two_workers(
    workers: list[str],
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    pusher = WebhookPusher(standin, *workers)
    pusher.start()
    people = [SimUser(user_id=7000 + n, first_name=f"P{n}") for n in range(PEOPLE)]
    try:
        for user in people:
            token = await invitations.make(Role.OFFICIAL, locality=f"Town {user.user_id}")
            standin.push_update(standin.message_update(user, f"/start {token}"))
            standin.push_update(standin.message_update(user, "/pledge"))
        await _quiet(standin)
        for label in ("Global Refugee Forum 2027", "Both, in unison"):
            for user in people:
                await _press(standin, user, label)
            await _quiet(standin)
        # Title and description back to back: the two posts reach different workers.
        for user in people:
            standin.push_update(standin.message_update(user, f"Centre {user.user_id}"))
            standin.push_update(standin.message_update(user, GOOD_DESCRIPTION))
        await _quiet(standin)
    finally:
        await pusher.stop()

    assert pusher.failed == 0
    for user in people:
        draft = await latest_pledge(sessions, user.user_id)
        assert (draft.title, draft.description) == (f"Centre {user.user_id}", GOOD_DESCRIPTION)
        state = await state_of(sessions, user.user_id)
        assert state is not None and state.step == "gcm"
        texts = [m.text for m in standin.chat_messages(user.user_id)]
        assert sum("Describe the pledge" in t for t in texts) == 1  # each question asked once
    async with transaction(sessions) as session:
        assert (await session.exec(select(InboundUpdate))).all() == []  # all handled
