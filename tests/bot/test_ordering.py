"""Everyone at once, each person in order: updates go through the running Application."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from telegram import Update

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SimulatedPerson
from storage.engine import SessionFactory
from storage.exchange import files
from storage.models import Role
from tests.conftest import Invitations
from tests.conversations.helpers import (
    GOOD_DESCRIPTION,
    join,
    latest_pledge,
    state_of,
    submit_pledge,
    walk_to,
)


@pytest.fixture
async def running(app: PledgeApplication) -> AsyncIterator[PledgeApplication]:
    """The application taking updates from its queue, as polling or a webhook feeds it."""
    await app.start()
    yield app
    await app.stop()


async def feed(app: PledgeApplication, *bodies: dict[str, object]) -> None:
    """Updates arriving all at once, in this order; returns when every one is handled."""
    for body in bodies:
        await app.update_queue.put(Update.de_json(body, app.bot))
    await app.update_queue.join()


def text(standin: BotApiStandIn, person: SimulatedPerson, words: str) -> dict[str, object]:
    return standin.message_update(person.user, words)


async def test_two_people_typing_fast_each_get_their_answers_in_order(
    running: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """Title then description, sent before the bot answered the first, by two people whose
    messages interleave: each person's two answers land on the right steps."""
    olga = await join(standin, running, invitations, user_id=21, first_name="Olga")
    nina = await join(standin, running, invitations, user_id=22, first_name="Nina", locality="Nice")
    for person in (olga, nina):
        await walk_to(person, "title")
    standin.clock.advance(5)
    await feed(
        running,
        text(standin, olga, "Olga's welcome centre"),
        text(standin, nina, "Nina's language classes"),
        text(standin, olga, "Olga: " + GOOD_DESCRIPTION),
        text(standin, nina, "Nina: " + GOOD_DESCRIPTION),
    )
    for person, name, title in ((olga, "Olga", "Olga's welcome centre"),
                                (nina, "Nina", "Nina's language classes")):  # fmt: skip
        pledge = await latest_pledge(sessions, person.user_id)
        assert pledge.title == title
        assert pledge.description == f"{name}: {GOOD_DESCRIPTION}"
        state = await state_of(sessions, person.user_id)
        assert state is not None and state.step == "gcm"


async def test_a_slow_export_does_not_hold_up_anyone_else(
    running: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coordinator = await join(standin, running, invitations, user_id=11, role=Role.COORDINATOR)
    official = await join(standin, running, invitations, user_id=21)
    await submit_pledge(official)
    await walk_to(official, "title")
    await coordinator.send("/export")
    choice = standin.last_message(coordinator.chat_id)
    assert choice is not None
    codes = next(b for b in choice.buttons() if (b.callback_data or "").endswith(":1"))
    assert codes.callback_data is not None

    build = files._build_in_thread

    def slow_build(*args: object) -> files.ExportFiles:
        time.sleep(0.5)  # a large export: it must keep only its own thread busy
        return build(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "_build_in_thread", slow_build)
    standin.clock.advance(5)
    mark = len(standin.calls)
    await feed(
        running,
        standin.callback_update(coordinator.user, choice, codes.callback_data),
        text(standin, official, "A title typed during the export"),
    )
    calls = standin.calls[mark:]
    order = [
        (method, params.get("chat_id"))
        for method, params in calls
        if method in ("sendMessage", "sendDocument")
    ]
    assert ("sendDocument", coordinator.chat_id) in order
    answered = order.index(("sendMessage", official.chat_id))
    exported = order.index(("sendDocument", coordinator.chat_id))
    assert answered < exported, order
    assert (await latest_pledge(sessions, 21)).title == "A title typed during the export"
