"""The refugee situations a pledge addresses (the GRF form asks): typed with the countries
of an international pledge, or chosen from the review card, in the reader's language."""

from __future__ import annotations

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory
from tests.conftest import Invitations
from tests.conversations.helpers import (
    STEP_ORDER,
    answer,
    assert_no_error,
    join,
    latest_pledge,
    reads,
    start_pledge,
    submit_pledge,
    texts,
    walk_to,
)


async def test_situations_are_typed_with_the_countries_in_the_readers_language(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "scope")
    await reads(sessions, 22, "fr")
    pid = (await latest_pledge(sessions, 22)).id
    replies = await person.press_data(f"w.scope:{pid}:international")
    assert "Situation en Syrie" in texts(replies)  # the example names a situation too
    replies = await person.send("Liban, situation en syrie, Narnia")
    assert "Narnia" in texts(replies) and "situations de réfugiés" in texts(replies)
    assert (await latest_pledge(sessions, 22)).refugee_situations == []  # nothing half-saved
    replies = await person.send("Liban, situation en syrie, Situation en Ukraine")
    assert_no_error(replies)
    pledge = await latest_pledge(sessions, 22)
    assert pledge.beneficiary_countries == ["LB"]
    assert pledge.refugee_situations == ["syria", "ukraine"]
    replies = await answer(person, "contact")
    assert "International · Liban · Situation en Syrie et Situation en Ukraine" in replies[-1].text


async def test_a_situation_comes_with_a_country_and_is_kept_when_countries_change(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "scope")
    await person.press("International")
    # The UN forms ask which countries: a situation alone does not answer that.
    replies = await person.send("Rohingya situation (Myanmar)")
    assert "Please name at least one country." in texts(replies)
    replies = await person.send("Bangladesh, Rohingya situation (Myanmar)")
    assert "Who is the contact person" in texts(replies)
    pledge = await latest_pledge(sessions, 22)
    assert (pledge.beneficiary_countries, pledge.refugee_situations) == (
        ["BD"],
        ["myanmar_rohingya"],
    )
    await answer(person, "contact")
    # Countries typed again, without situations: the situations stay.
    await person.press("✏️ Countries that benefit")
    replies = await person.send("Bangladesh, India")
    assert "International · Bangladesh and India · Rohingya situation (Myanmar)" in (
        replies[-1].text
    )
    assert (await latest_pledge(sessions, 22)).refugee_situations == ["myanmar_rohingya"]


async def test_local_then_international_asks_the_countries_though_situations_are_chosen(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "review")
    await person.press("✏️ Refugee situations")
    await person.press("Somalia situation")
    await person.press("Done")
    await person.press("✏️ Scope")
    replies = await person.press("International")
    assert "Which countries or refugee situations will benefit?" in texts(replies)
    replies = await person.send("Kenya")
    assert "International · Kenya · Somalia situation" in replies[-1].text


async def test_situations_left_on_a_migration_only_pledge_can_be_taken_off(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await start_pledge(person)
    for step in STEP_ORDER[:-1]:
        if step == "compacts":
            await person.press("Global Compact for Migration (GCM)")
        elif step == "scope":
            await person.press("International")
            await person.send("Lebanon, Syria situation")
        elif step != "gcr":
            replies = await answer(person, step)
    await person.press("✏️ Scope")
    replies = await person.press("Local")
    assert "Scope: Local · France · Syria situation" in replies[-1].text
    await person.press("✏️ Refugee situations")
    await person.press("Next ›")
    await person.press("✅ Syria situation")
    replies = await person.press("Done")
    assert "Scope: Local · France\n" in replies[-1].text + "\n"
    buttons = [b.text for b in replies[-1].buttons()]
    assert "✏️ Refugee situations" not in buttons  # gone with the last situation


async def test_the_review_card_chooses_situations_and_none_is_an_answer(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await start_pledge(person)
    for step in STEP_ORDER[:-1]:
        replies = await answer(person, step)
    # Not asked on the way (the wizard stays as short as before), offered on the card.
    assert "Which refugee situations" not in texts(replies)
    replies = await person.press("✏️ Refugee situations")
    assert "Which refugee situations does the pledge address" in texts(replies)
    await person.press("Somalia situation")
    replies = await person.press("Done")
    assert "Scope: Local · France · Somalia situation" in replies[-1].text
    assert (await latest_pledge(sessions, 22)).refugee_situations == ["somalia"]
    await person.press("✏️ Refugee situations")
    await person.press("✅ Somalia situation")
    replies = await person.press("Done")
    assert person.last_answer != "Please choose at least one."
    assert "Scope: Local · France\n" in replies[-1].text + "\n"
    assert (await latest_pledge(sessions, 22)).refugee_situations == []


async def test_a_migration_only_pledge_is_not_asked_for_situations(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    await start_pledge(person)
    for step in STEP_ORDER[:-1]:
        if step == "compacts":
            replies = await person.press("Global Compact for Migration (GCM)")
        elif step != "gcr":
            replies = await answer(person, step)
    buttons = [b.text for b in replies[-1].buttons()]
    assert "✏️ Refugee situations" not in buttons and "✏️ Scope" in buttons


async def test_a_submitted_pledge_changes_its_situations_with_history(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    person = await join(standin, app, invitations, user_id=22)
    reference = await submit_pledge(person)
    await person.send("/mypledges")
    await person.press(0)
    await person.press("✏️ Edit")
    await person.press("Refugee situations")
    await person.press("Next ›")  # fourteen situations, on two pages
    await person.press("Venezuela situation")
    assert_no_error(await person.press("Done"))
    replies = await person.send(f"/history {reference}")
    assert "Refugee situations: — → Venezuela situation" in texts(replies)
