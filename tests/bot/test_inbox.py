"""Two webhook workers on one PostgreSQL database, posts spread over both: each person's
updates are still handled once each, in the order sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from telegram import Update

import storage.inbox
from bot.app import PledgeApplication
from bot.inbox import SWEEP_EVERY, Inbox
from bot.inbox import Inbox as WorkerInbox
from bot.services import Services
from bot.standin import BotApiStandIn, SentMessage, SimUser
from bot.standin.api import JsonDict
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
        await inbox.start()
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


async def _through(inbox: Inbox, standin: BotApiStandIn, update: JsonDict) -> None:
    """Post one update to the worker and wait until it is handled and answered."""
    await inbox.receive(Update.de_json(update, inbox.application.bot), update)
    async with asyncio.timeout(10):
        await asyncio.gather(*inbox._serving.values())


async def test_a_worker_dying_after_saving_an_answer_does_not_get_it_saved_twice(
    app: PledgeApplication,
    services: Services,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    standin.rate_limits_enabled = False  # its clock stands still here
    user = SimUser(user_id=7100, first_name="Ana")
    first = WorkerInbox(app, services.sessions, "worker-a")
    token = await invitations.make(Role.OFFICIAL, locality="Town 7100")
    await _through(first, standin, standin.message_update(user, f"/start {token}"))
    await _through(first, standin, standin.message_update(user, "/pledge"))
    for label in ("Global Refugee Forum 2027", "Both, in unison"):
        message = next(m for m in reversed(standin.chat_messages(user.user_id)) if m.buttons())
        data = next(b.callback_data for b in message.buttons() if label in b.text)
        assert data is not None
        await _through(first, standin, standin.callback_update(user, message, data))

    # Worker a saves the title, asks for the description, and dies before the update leaves
    # the inbox.
    asked = asyncio.Event()

    async def dies(**_: object) -> None:
        asked.set()
        await asyncio.Event().wait()

    monkeypatch.setattr("bot.inbox.done", dies)
    title = standin.message_update(user, "Centre 7100")
    await first.receive(Update.de_json(title, app.bot), title)
    async with asyncio.timeout(10):
        await asked.wait()
    for task in list(first._serving.values()):
        task.cancel()
    monkeypatch.undo()

    # Worker b finds the claim stale: the title must not be taken as the description.
    monkeypatch.setattr(storage.inbox, "STALE_CLAIM", timedelta(0))
    second = WorkerInbox(app, services.sessions, "worker-b")
    await second.start()
    try:
        await asyncio.sleep(SWEEP_EVERY * 2)  # b sweeps, finds a's update and settles it
        assert await _inbox_rows(sessions) == []
    finally:
        await second.stop()

    texts = [m.text for m in standin.chat_messages(user.user_id)]
    assert sum("Describe the pledge" in t for t in texts) == 1
    assert "Describe the pledge" in texts[-1]
    assert (await latest_pledge(sessions, user.user_id)).title == "Centre 7100"
    state = await state_of(sessions, user.user_id)
    assert state is not None and state.step == "description"


async def _inbox_rows(sessions: SessionFactory) -> list[InboundUpdate]:
    async with transaction(sessions) as session:
        return list((await session.exec(select(InboundUpdate))).all())


async def test_a_long_paste_posted_to_two_workers_is_one_answer(
    workers: list[str],
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """Its parts reach different workers; the one holding the first takes the rest with it."""
    pusher = WebhookPusher(standin, *workers)
    pusher.start()
    user = SimUser(user_id=7200, first_name="Pia")
    pasted = " ".join(f"word{n % 97}" for n in range(800))  # 5,500 characters
    cut = pasted.rindex(" ", 0, 4096)
    try:
        token = await invitations.make(Role.OFFICIAL, locality="Town 7200")
        standin.push_update(standin.message_update(user, f"/start {token}"))
        standin.push_update(standin.message_update(user, "/pledge"))
        await _quiet(standin)
        for label in ("Global Refugee Forum 2027", "Both, in unison"):
            await _press(standin, user, label)
            await _quiet(standin)
        standin.push_update(standin.message_update(user, "Centre 7200"))
        await _quiet(standin)
        mark = standin.history_mark()
        standin.push_update(standin.message_update(user, pasted[:cut]))
        standin.push_update(standin.message_update(user, pasted[cut + 1 :]))
        await _quiet(standin)
    finally:
        await pusher.stop()
    said = [m.text for m in standin.messages_since(mark, user.user_id)]
    assert len(said) == 1 and f"That is {len(pasted):,} characters" in said[0], said
    assert (await latest_pledge(sessions, user.user_id)).description == ""
    assert await _inbox_rows(sessions) == []
