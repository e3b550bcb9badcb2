"""A restart of the Application between two steps loses nothing: the database holds the step."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot import app as bot_app
from bot.app import PledgeApplication
from bot.services import Services
from bot.standin import BotApiStandIn, SimulatedPerson
from storage.engine import SessionFactory
from storage.models import Role
from tests.conftest import Invitations, on_standin
from tests.conversations.helpers import (
    GOOD_DESCRIPTION,
    GOOD_TITLE,
    answer,
    join,
    latest_pledge,
    snapshot,
    state_of,
    texts,
    walk_to,
)

Restart = Callable[[SimulatedPerson], Awaitable[SimulatedPerson]]


async def _register_commands(application: PledgeApplication) -> None:
    """Start the way tests/conftest.py starts `app` (the start-up hook is being renamed)."""
    register = getattr(bot_app, "register_default_commands", None)
    if register is not None:
        await register(application)
    elif application.post_init is not None:
        await application.post_init(application)


@pytest.fixture
async def restart(
    app: PledgeApplication, services: Services, standin: BotApiStandIn
) -> AsyncIterator[Restart]:
    """Shut the running Application down and start a new one on the same database."""
    started: list[PledgeApplication] = []

    async def restart_for(person: SimulatedPerson) -> SimulatedPerson:
        old = started[-1] if started else app
        await old.shutdown()
        fresh = on_standin(services, standin)
        await fresh.initialize()
        await _register_commands(fresh)
        started.append(fresh)
        return standin.person(
            fresh,
            user_id=person.user_id,
            first_name=person.first_name,
            language_code=person.language_code,
        )

    yield restart_for
    for application in started:
        await application.shutdown()


async def test_restart_in_the_middle_of_a_multi_select_step(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    restart: Restart,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    prompt = (await walk_to(person, "gcm"))[-1]
    await person.press("GCM 3")
    before = snapshot(await latest_pledge(sessions, 22))

    person = await restart(person)
    assert snapshot(await latest_pledge(sessions, 22)) == before
    # The keyboard sent before the restart still works, on the same step.
    await person.press("GCM 5", message=prompt)
    replies = await person.press("Done (2 chosen)", message=prompt)
    assert "GCR objectives" in texts(replies)
    for step in ("gcr", "support", "groups", "start", "end", "budget"):
        await answer(person, step)
    for step in ("partners", "scope"):
        await answer(person, step)
    replies = await answer(person, "contact")
    card = replies[-1].text
    for expected in (
        "Forum: Global Refugee Forum 2027",
        "Compacts: GCM and GCR",
        f"Title: {GOOD_TITLE}",
        GOOD_DESCRIPTION,
        "GCM 3 ·",
        "GCM 5 ·",
        "GCR 2 ·",
        "Budget: €250,000.00",
    ):
        assert expected in card, expected
    replies = await person.press("✅ Submit")
    assert "Your pledge is submitted" in texts(replies)


@pytest.mark.parametrize("step", ["title", "description", "start", "end", "budget", "partners"])
async def test_restart_before_a_text_step(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    restart: Restart,
    step: str,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, step)
    before = snapshot(await latest_pledge(sessions, 22))
    person = await restart(person)
    state = await state_of(sessions, 22)
    assert state is not None and state.step == step
    assert snapshot(await latest_pledge(sessions, 22)) == before
    # /pledge after the restart asks the same question again, with nothing lost.
    replies = await person.send("/pledge")
    assert "saved drafts" not in texts(replies)
    replies = await answer(person, step)
    assert "something went wrong" not in texts(replies)
    state = await state_of(sessions, 22)
    assert state is not None and state.step != step
    after = snapshot(await latest_pledge(sessions, 22))
    for field in (
        "forum_id",
        "compacts",
        "title",
        "gcm_objectives",
        "gcr_objectives",
        "support_types",
        "target_groups",
    ):
        assert after[field] == before[field] or not before[field], field


async def test_restart_at_the_review_and_twice(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    restart: Restart,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    review = (await walk_to(person, "review"))[-1]
    person = await restart(person)
    person = await restart(person)
    replies = await person.press("✏️ Title", message=review)
    assert "Now: " + GOOD_TITLE in texts(replies)
    person = await restart(person)
    replies = await person.send("A title written after two restarts")
    assert "Please check your pledge" in texts(replies)
    replies = await person.press("✅ Submit")
    assert "Your pledge is submitted" in texts(replies)


async def test_restart_during_a_request_for_access(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    restart: Restart,
) -> None:
    await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    person = standin.person(app, user_id=33, first_name="Nadia")
    await person.send("/start")
    await person.press("🙋 Request access")
    await person.send("Nadia Haddad")
    person = await restart(person)
    replies = await person.send("Focal point")
    assert "3 of 4" in texts(replies)
    await person.send("Lyon")
    replies = await person.send("FR")
    assert "Your request has gone to the coordinators" in texts(replies)
    card = standin.last_message(11)
    assert card is not None and "Name: Nadia Haddad" in card.text
