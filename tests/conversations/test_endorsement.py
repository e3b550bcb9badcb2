"""The Marrakech Mayors Declaration, asked once per locality: corrected later from the review
card, and a stale card never overwrites a colleague's answer."""

from __future__ import annotations

from sqlmodel import select

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory, transaction
from storage.models import Locality
from tests.conftest import Invitations
from tests.conversations.helpers import join, latest_pledge, walk_to


async def _endorsed(sessions: SessionFactory) -> bool | None:
    async with transaction(sessions) as session:
        lyon = (await session.exec(select(Locality).where(Locality.name == "Lyon"))).one()
        return lyon.endorsed_mmd


async def test_a_not_yet_is_corrected_once_the_locality_endorses(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    replies = await person.press("🏛 Not yet")
    assert "Marrakech Mayors Declaration: not yet endorsed" in replies[-1].text
    assert await _endorsed(sessions) is False
    # Answered: no question, but a button to correct it.
    replies = await person.press("🏛 Marrakech Declaration")
    assert "Has Lyon endorsed the Marrakech Mayors Declaration (2018)?" in replies[-1].text
    replies = await person.press("🏛 Yes, endorsed")
    assert person.last_answer == "Noted for Lyon."
    assert "Marrakech Mayors Declaration: endorsed" in replies[-1].text
    assert await _endorsed(sessions) is True


async def test_a_stale_card_does_not_overwrite_a_colleagues_answer(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    replies = await walk_to(person, "review")
    stale = replies[-1]
    assert "Has Lyon endorsed" in stale.text
    colleague = await join(standin, app, invitations, user_id=23, first_name="Leo")
    await walk_to(colleague, "review")
    await colleague.press("🏛 Yes, endorsed")
    replies = await person.press("🏛 Not yet", message=stale)
    assert person.last_answer == (
        "Someone of Lyon answered this in the meantime; the card shows their answer."
    )
    assert "Marrakech Mayors Declaration: endorsed" in replies[-1].text
    assert await _endorsed(sessions) is True


async def test_the_same_answer_tapped_twice_is_noted_not_blamed_on_a_colleague(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    pid = (await latest_pledge(sessions, 22)).id
    # Both taps leave the phone before the card is redrawn: both carry the unsaid answer.
    await person.press_data(f"w.mmd:{pid}:1:u")
    await person.press_data(f"w.mmd:{pid}:1:u")
    assert person.last_answer == "Noted for Lyon."
    assert await _endorsed(sessions) is True
