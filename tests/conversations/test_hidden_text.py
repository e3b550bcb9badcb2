"""Text that cannot be seen, or that would turn the card around: refused where a title or a
name is asked, and closed wherever a person's text is shown."""

from __future__ import annotations

import pytest

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SimulatedPerson
from conversations.i18n import close_directions, escape
from conversations.parsing import check_name
from storage.engine import SessionFactory, transaction
from storage.models import Pledge, Role
from tests.conftest import Invitations
from tests.conversations.helpers import (
    GOOD_TITLE,
    STEP_ORDER,
    answer,
    join,
    latest_pledge,
    state_of,
    texts,
    walk_to,
)
from tests.conversations.test_onboarding import coordinators

ZERO_WIDTH = "\u200b\u200b\u200b"
RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"
INVISIBLE = {
    "en": "Nothing in that can be seen",
    "fr": "Rien de ce texte n’est visible",
}
DIRECTION = {
    "en": "a control character for the direction of text",
    "fr": "un caractère de contrôle du sens d’écriture",
}


async def _official(
    standin: BotApiStandIn, app: PledgeApplication, invitations: Invitations, language: str
) -> SimulatedPerson:
    if language == "en":
        return await join(standin, app, invitations, user_id=22)
    person = standin.person(app, user_id=22, first_name="Pierre", language_code=language)
    await person.send("/start " + await invitations.make(Role.OFFICIAL, locality="Lyon"))
    return person


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    ("title", "problem"),
    [
        (ZERO_WIDTH, INVISIBLE),
        ("\u00a0\u2060\u200d\u3164 \u0301\u0301", INVISIBLE),  # blanks, joiners, a filler, marks
        (f"Homes {RLO}for refugee families", DIRECTION),  # an override never closed
        (f"Homes {RLI}for{PDF} refugees{PDI}", DIRECTION),  # closed in the wrong order
    ],
)
async def test_a_title_that_cannot_be_read_is_refused_and_the_step_kept(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    language: str,
    title: str,
    problem: dict[str, str],
) -> None:
    person = await _official(standin, app, invitations, language)
    await person.send("/pledge")
    await person.press(0)  # the first forum
    await person.press(0)  # the first compact
    before = await state_of(sessions, 22)
    assert before is not None and before.step == "title"
    replies = await person.send(title)
    assert problem[language] in texts(replies), texts(replies)
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "title"
    assert (await latest_pledge(sessions, 22)).title == ""
    # A title whose direction controls pair properly is the person's own: it is kept.
    paired = f"{RLI}بيوت{PDI} for families {RLO}ab{PDF}"
    await person.send(paired)
    assert (await latest_pledge(sessions, 22)).title == paired


async def test_partner_and_contact_names_that_cannot_be_seen_are_refused(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "partners")
    replies = await person.send(ZERO_WIDTH)
    assert INVISIBLE["en"] in texts(replies)
    replies = await person.send(f"Red Cross {RLO}Lyon")
    assert DIRECTION["en"] in texts(replies)
    for step in STEP_ORDER[STEP_ORDER.index("partners") : STEP_ORDER.index("contact")]:
        await answer(person, step)
    replies = await person.send(f"{ZERO_WIDTH}\nDeputy Mayor\nana@example.org")
    assert INVISIBLE["en"] in texts(replies)
    assert (await latest_pledge(sessions, 22)).contact_name == ""


async def test_an_access_request_name_that_cannot_be_seen_is_refused_in_french(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    await coordinators(standin, app, invitations)
    person = standin.person(app, user_id=33, first_name="Nadia", language_code="fr")
    await person.send("/start")
    await person.press(0)  # Request access
    asked = await state_of(sessions, 33)
    assert asked is not None
    replies = await person.send(ZERO_WIDTH)
    assert INVISIBLE["fr"] in texts(replies)
    replies = await person.send(f"Nadia {RLO}Haddad")
    assert DIRECTION["fr"] in texts(replies)
    still = await state_of(sessions, 33)
    assert still is not None and still.step == asked.step and still.data == asked.data
    await person.send("Nadia Haddad")
    moved = await state_of(sessions, 33)
    assert moved is not None and moved.step != asked.step


async def test_an_override_already_saved_cannot_turn_the_card(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """A title saved before titles were checked (or imported) is closed where it is shown."""
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    pledge = await latest_pledge(sessions, 22)
    async with transaction(sessions) as session:
        saved = await session.get(Pledge, pledge.id)
        assert saved is not None
        saved.title = f"{GOOD_TITLE} {RLO}evil"
        session.add(saved)
    replies = await person.send("/mypledges")
    replies = await person.press(0)
    card = replies[-1]
    assert f"{GOOD_TITLE} {RLO}evil{PDF}" in card.text
    assert close_directions(card.text) == card.text  # nothing left open after the title


@pytest.mark.parametrize(
    ("shown", "closed"),
    [
        ("plain text", "plain text"),
        (f"a{RLO}b", f"a{RLO}b{PDF}"),
        (f"a{PDF}b{PDI}c", "abc"),  # closing what was never opened
        (f"{RLI}a{RLO}b{PDI}c", f"{RLI}a{RLO}b{PDF}{PDI}c"),  # an isolate's end closes inside
        (f"{RLI}a{PDI}", f"{RLI}a{PDI}"),
    ],
)
def test_escape_closes_what_a_value_leaves_open(shown: str, closed: str) -> None:
    assert escape(shown) == closed
    assert check_name(closed, minimum=1, maximum=100) is None  # what is shown pairs properly
