"""A text longer than Telegram's 4,096 characters arrives as several messages: the step gets
them as one answer, never the tail alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Update

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SimulatedPerson
from storage.engine import SessionFactory
from tests.conftest import Invitations
from tests.conversations.helpers import GOOD_DESCRIPTION, join, latest_pledge, state_of, walk_to

TELEGRAM_CUT = 4096


@pytest.fixture
async def running(app: PledgeApplication) -> AsyncIterator[PledgeApplication]:
    """The application taking updates from its queue, as polling or a webhook feeds it."""
    await app.start()
    yield app
    await app.stop()


def _cut(text: str) -> list[str]:
    """As a Telegram client sends a long text: parts of at most 4,096, cut at a space."""
    parts = []
    while len(text) > TELEGRAM_CUT:
        at = text.rindex(" ", 0, TELEGRAM_CUT)
        parts.append(text[:at])
        text = text[at + 1 :]
    return [*parts, text]


def _paste(words: int) -> str:
    return " ".join(f"word{n % 97}" for n in range(words))


async def _send_together(
    app: PledgeApplication, standin: BotApiStandIn, person: SimulatedPerson, parts: list[str]
) -> None:
    """The parts put on the application's queue at once, as one getUpdates brings them."""
    for part in parts:
        update = Update.de_json(standin.message_update(person.user, part), app.bot)
        await app.update_queue.put(update)
    await app.update_queue.join()


@pytest.mark.parametrize("words", [800, 1500])  # two parts, then three
async def test_a_long_paste_is_refused_whole_never_replaced_by_its_tail(
    running: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    words: int,
) -> None:
    person = await join(standin, running, invitations, user_id=51)
    await walk_to(person, "description")
    pasted = _paste(words)
    parts = _cut(pasted)
    assert len(parts) == (2 if words == 800 else 3)
    mark = standin.history_mark()
    await _send_together(running, standin, person, parts)

    said = [m.text for m in standin.messages_since(mark, 51)]
    assert len(said) == 1, said  # one answer to one paste
    assert f"That is {len(pasted):,} characters; the limit is 2,000" in said[0]
    assert (await latest_pledge(sessions, 51)).description == ""  # not the tail
    state = await state_of(sessions, 51)
    assert state is not None and state.step == "description"


async def test_a_long_text_then_another_message_are_two_answers(
    running: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """A command after a long text is no part of it."""
    person = await join(standin, running, invitations, user_id=52)
    await walk_to(person, "description")
    await _send_together(running, standin, person, [_paste(700)[:3990], "/cancel"])
    state = await state_of(sessions, 52)
    assert state is None or state.flow != "wizard"


async def test_a_paste_that_fits_is_taken_whole(
    running: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """Nothing changes for answers of ordinary length."""
    person = await join(standin, running, invitations, user_id=53)
    await walk_to(person, "description")
    await _send_together(running, standin, person, [GOOD_DESCRIPTION])
    assert (await latest_pledge(sessions, 53)).description == GOOD_DESCRIPTION
