"""Joining: invitations, requests for access, /invite, /language, /help, stray messages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.app import PledgeApplication
from bot.routing import build_router
from bot.standin import BotApiStandIn, SimulatedPerson
from conversations.i18n import Catalogs
from storage.engine import SessionFactory, transaction
from storage.models import Pledge, Role
from tests.conftest import Invitations
from tests.conversations.helpers import (
    GOOD_DESCRIPTION,
    GOOD_TITLE,
    answer,
    assert_no_error,
    join,
    latest_pledge,
    member,
    send_edit,
    send_in_group,
    start_pledge,
    state_of,
    texts,
    walk_to,
)

DEEP_LINK = re.compile(r"https://t\.me/pledgebot_sim_bot\?start=([A-Za-z0-9_-]+)")


async def request_access(
    person: SimulatedPerson,
    *,
    name: str = "Nadia Haddad",
    locality: str = "Saint-Étienne",
    country: str = "France",
) -> None:
    replies = await person.send("/start")
    assert "you can ask for access" in texts(replies)
    replies = await person.press("🙋 Request access")
    assert "Request access · 1 of 4" in texts(replies) and "full name" in texts(replies)
    replies = await person.send(name)
    assert "Request access · 2 of 4" in texts(replies)
    replies = await person.send("Migration focal point, Mayor's office")
    assert "Request access · 3 of 4" in texts(replies)
    replies = await person.send(locality)
    assert "Request access · 4 of 4" in texts(replies)
    replies = await person.send(country)
    assert "Your request has gone to the coordinators" in texts(replies)


async def coordinators(
    standin: BotApiStandIn, app: PledgeApplication, invitations: Invitations
) -> tuple[SimulatedPerson, SimulatedPerson]:
    first = await join(
        standin, app, invitations, user_id=11, role=Role.COORDINATOR, first_name="Coco"
    )
    second = await join(
        standin, app, invitations, user_id=12, role=Role.COORDINATOR, first_name="Cleo"
    )
    return first, second


# ---------------------------------------------------------------- invitations


async def test_invite_registers_an_official_with_their_locality_and_menu(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    official = standin.person(app, user_id=22, first_name="Olga")
    token = await invitations.make(Role.OFFICIAL, locality="Lyon", country="FR")
    replies = await official.send(f"/start {token}")
    assert "You have joined as Official for Lyon, France" in texts(replies)
    assert "/pledge" in texts(replies) and "/invite" not in texts(replies)
    menu = standin.commands(scope={"type": "chat", "chat_id": 22})
    assert [c["command"] for c in menu][:2] == ["pledge", "mypledges"]


async def test_expired_used_and_unknown_invites_are_refused_with_request_access(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    from datetime import timedelta

    expired = await invitations.make(
        Role.OFFICIAL, locality="Lyon", expires_in=timedelta(seconds=-1)
    )
    person = standin.person(app, user_id=30, first_name="Eve")
    replies = await person.send(f"/start {expired}")
    assert "This invitation has expired" in texts(replies)
    assert [b.text for b in replies[-1].buttons()] == ["🙋 Request access"]

    token = await invitations.make(Role.OFFICIAL, locality="Lyon")
    await join_with(standin, app, token, user_id=31)
    replies = await person.send(f"/start {token}")
    assert "This invitation has already been used" in texts(replies)
    assert [b.text for b in replies[-1].buttons()] == ["🙋 Request access"]

    replies = await person.send("/start not-a-real-token_0123456789")
    assert "This invitation is not valid" in texts(replies)
    replies = await person.send("/start " + "<b>&" * 40)
    assert "This invitation is not valid" in texts(replies)
    replies = await person.send("/pledge")
    assert "You need an invitation to use /pledge" in texts(replies)


async def join_with(
    standin: BotApiStandIn, app: PledgeApplication, token: str, *, user_id: int
) -> SimulatedPerson:
    person = standin.person(app, user_id=user_id, first_name="Someone")
    replies = await person.send(f"/start {token}")
    assert "Welcome" in texts(replies), texts(replies)
    return person


async def test_registered_person_does_not_use_up_an_invitation(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    token = await invitations.make(Role.COORDINATOR)
    replies = await official.send(f"/start {token}")
    assert "You are already registered as Official; the invitation was not used." in texts(replies)
    await join_with(standin, app, token, user_id=23)  # still works for its addressee


async def test_coordinator_invites_in_chat_with_a_working_deep_link(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    replies = await coordinator.send("/invite")
    assert "Whom do you want to invite?" in texts(replies)
    replies = await coordinator.press("Official")
    assert "Which city, region or association" in texts(replies)
    replies = await coordinator.send_photo()
    assert "Please send this as a text message" in texts(replies)
    replies = await coordinator.send("S")
    assert "please write at least 2" in texts(replies)
    replies = await coordinator.send("Saint-Étienne <Métropole> & co")
    assert "In which country?" in texts(replies)
    replies = await coordinator.send("Narnia")
    assert "I do not know the country “Narnia”" in texts(replies)
    replies = await coordinator.send("fr")
    text = texts(replies)
    assert "Invitation for a new Official for Saint-Étienne <Métropole> & co, France" in text
    assert "&lt;Métropole&gt; &amp; co" in replies[-1].html
    match = DEEP_LINK.search(text)
    assert match is not None, text
    token = match[1]
    assert len(token) <= 64
    assert await state_of_member_is_clear(coordinator)

    newcomer = standin.person(app, user_id=40, first_name="Nico")
    replies = await newcomer.send(f"/start {token}")
    assert "You have joined as Official for Saint-Étienne <Métropole> & co, France" in texts(
        replies
    )
    replies = await newcomer.send("/pledge")
    assert "Which forum" in texts(replies)
    late = standin.person(app, user_id=41, first_name="Late")
    replies = await late.send(f"/start {token}")
    assert "already been used" in texts(replies)

    # A coordinator's invitation needs no locality.
    replies = await coordinator.send("/invite")
    replies = await coordinator.press("Coordinator")
    match = DEEP_LINK.search(texts(replies))
    assert match is not None and "Invitation for a new Coordinator" in texts(replies)
    colleague = standin.person(app, user_id=42, first_name="Col")
    replies = await colleague.send(f"/start {match[1]}")
    assert "You have joined as Coordinator" in texts(replies)
    assert "/invite" in texts(replies)


async def state_of_member_is_clear(person: SimulatedPerson) -> bool:
    replies = await person.send("/cancel")
    return "There is nothing to cancel." in texts(replies)


async def test_invite_role_button_is_checked(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    await coordinator.send("/invite")
    await coordinator.press_data("i.role:emperor")
    assert coordinator.last_answer == "That button is not valid."


# ---------------------------------------------------------------- requests for access


async def test_access_request_approved_then_the_person_can_pledge(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    first, second = await coordinators(standin, app, invitations)
    person = standin.person(app, user_id=33, first_name="Nadia")
    await request_access(person, name="Nadia <b>Haddad</b> & co")

    card_first = standin.last_message(11)
    card_second = standin.last_message(12)
    assert card_first is not None and card_second is not None
    assert "Request for access" in card_first.text
    assert "Nadia <b>Haddad</b> & co" in card_first.text  # shown as typed, escaped
    assert "Locality: Saint-Étienne, France" in card_first.text
    assert [b.text for b in card_first.buttons()] == ["✅ Approve", "✖️ Reject"]

    mark = standin.history_mark()
    replies = await first.press("✅ Approve", message=card_first)
    assert "✅ Approved: Nadia <b>Haddad</b> & co, Saint-Étienne." in texts(replies)
    told = standin.messages_since(mark, 33)
    assert len(told) == 1 and "Your request has been approved" in told[0].text
    assert (await member(sessions, 33)).role == Role.OFFICIAL.value
    assert standin.commands(scope={"type": "chat", "chat_id": 33})

    # The second coordinator was a moment too late.
    replies = await second.press("✅ Approve", message=card_second)
    assert second.last_answer == "Already decided by Coco: approved."
    assert standin.stored_message(12, card_second.message_id).buttons() == []
    await second.press_data(card_second.buttons()[1].callback_data or "", message=card_second)
    assert second.last_answer == "Already decided by Coco: approved."

    replies = await person.send("/pledge")
    assert "Which forum" in texts(replies)
    replies = await answer(person, "forum")
    assert "Which compact" in texts(replies)


async def test_access_request_rejected(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    first, second = await coordinators(standin, app, invitations)
    person = standin.person(app, user_id=33, first_name="Rita")
    await request_access(person, country="fr")
    card_first, card_second = standin.last_message(11), standin.last_message(12)
    assert card_first is not None and card_second is not None
    mark = standin.history_mark()
    replies = await first.press("✖️ Reject", message=card_first)
    assert "✖️ Rejected: Nadia Haddad, Saint-Étienne." in texts(replies)
    told = standin.messages_since(mark, 33)
    assert len(told) == 1 and "was not approved" in told[0].text
    await second.press("✅ Approve", message=card_second)
    assert second.last_answer == "Already decided by Coco: rejected."
    assert (await member(sessions, 33)).role is None
    replies = await person.send("/pledge")
    assert "You need an invitation to use /pledge" in texts(replies)


async def test_only_coordinators_decide(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    await coordinators(standin, app, invitations)
    person = standin.person(app, user_id=33, first_name="Nadia")
    await request_access(person)
    official = await join(standin, app, invitations, user_id=22)
    card = standin.last_message(11)
    assert card is not None
    approve = card.buttons()[0].callback_data or ""
    await official.press_data(approve)
    assert official.last_answer == "Only coordinators decide on requests."
    await person.press_data(approve)  # the requester approving themselves
    assert person.last_answer == "Only coordinators decide on requests."
    assert (await member(sessions, 33)).role is None
    first = standin.person(app, user_id=11, first_name="Coco")
    await first.press_data("a.dec:99999:1", message=card)
    assert first.last_answer == "That request is not available."


async def test_access_request_answers_are_checked_and_survive_interruptions(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    await coordinators(standin, app, invitations)
    person = standin.person(app, user_id=33, first_name="Nadia")
    await person.send("hello")
    replies = await person.press("🙋 Request access")
    assert "full name" in texts(replies)
    replies = await person.send_document()
    assert "Please send this as a text message" in texts(replies)
    replies = await person.send("N")
    assert "please write at least 2" in texts(replies)
    replies = await person.send("n" * 121)
    assert "the limit is 120" in texts(replies)
    replies = await person.send("نادية حداد 🌍")
    assert "2 of 4" in texts(replies)
    replies = await person.send("/help")
    assert "You were in the middle of something" in texts(replies)
    assert "2 of 4" in texts(replies)
    await person.send("Focal point")
    await person.send("Lyon")
    replies = await person.send("<script>")
    assert "I do not know the country “<script>”" in texts(replies)
    replies = await person.send("Deutschland")
    assert "I do not know the country" in texts(replies)  # English or own-language names
    replies = await person.send("Germany")
    assert "Your request has gone to the coordinators" in texts(replies)
    card = standin.last_message(11)
    assert card is not None and "Name: نادية حداد 🌍" in card.text
    assert "Lyon, Germany" in card.text
    assert_no_error(standin.chat_messages(33))


async def test_registered_person_cannot_request_access_again(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await official.press_data("a.req")
    assert official.last_answer == "You are already registered."


# ---------------------------------------------------------------- language


async def test_language_choice(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    catalogs: Catalogs,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    replies = await official.send("/language")
    assert "Choose your language:" in texts(replies)
    labels = [b.text for b in replies[-1].buttons()]
    assert "✅ English" in labels and len(labels) == len(catalogs.languages)
    await official.press_data("l.set:xx")
    assert official.last_answer == "That language is not available."
    await official.press_data("l.set")  # no language at all: a malformed button
    assert official.last_answer == "That button is no longer valid."
    replies = await official.press("✅ English")
    assert "I will write to you in English from now on." in texts(replies)
    assert (await member(sessions, 22)).language == "en"


async def test_language_switch_changes_replies_and_menu(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    catalogs: Catalogs,
    sessions: SessionFactory,
) -> None:
    others = [code for code in catalogs.languages if code != "en"]
    if not others:
        pytest.skip("only English is translated so far (locales/ has no catalog)")
    code = others[0]
    official = await join(standin, app, invitations, user_id=22)
    english_help = texts(await official.send("/help"))
    await official.send("/language")
    replies = await official.press(catalogs.native_name(code))
    assert (await member(sessions, 22)).language == code
    assert "in English from now on" not in texts(replies)
    assert texts(await official.send("/help")) != english_help
    menu = standin.commands(scope={"type": "chat", "chat_id": 22})
    t = catalogs.translator(code)
    declared = build_router().commands[menu[0]["command"]].description
    assert menu[0]["description"] == t.plain(declared)
    assert menu[0]["description"] != declared  # translated


async def test_newcomer_is_answered_in_their_telegram_language(
    app: PledgeApplication,
    standin: BotApiStandIn,
    catalogs: Catalogs,
    sessions: SessionFactory,
) -> None:
    person = standin.person(app, user_id=50, first_name="Pt", language_code="pt-br")
    replies = await person.send("/start")
    # Kept with the region, which decides how numbers and dates are written to them.
    assert (await member(sessions, 50)).language == "pt_BR"
    t = catalogs.translator("pt_BR")
    assert t.language == "pt"
    assert t.plain("🙋 Request access") in [b.text for b in replies[-1].buttons()]


# ---------------------------------------------------------------- help, cancel, stray messages


async def test_help_lists_each_roles_commands(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    text = texts(await official.send("/help"))
    assert "You are registered as Official" in text
    assert "/pledge" in text and "/mypledges" in text and "/invite" not in text
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    text = texts(await coordinator.send("/help"))
    assert "/invite" in text and "/pledge — Write a pledge (officials), or show one" in text
    newcomer = standin.person(app, user_id=33, first_name="New")
    replies = await newcomer.send("/help")
    assert "you can ask for access" in texts(replies)
    assert [b.text for b in replies[-1].buttons()] == ["🙋 Request access"]


async def test_text_outside_any_flow_gets_a_helpful_answer(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    newcomer = standin.person(app, user_id=33, first_name="New")
    replies = await newcomer.send("Hello, I want to pledge <3")
    assert "you can ask for access" in texts(replies)
    assert [b.text for b in replies[-1].buttons()] == ["🙋 Request access"]
    replies = await newcomer.send_photo()
    assert "you can ask for access" in texts(replies)

    official = await join(standin, app, invitations, user_id=22)
    replies = await official.send("what now?")
    assert "I am not waiting for an answer from you just now" in texts(replies)
    assert "/pledge" in texts(replies)
    replies = await official.send_sticker()
    assert "I am not waiting for an answer from you just now" in texts(replies)
    replies = await official.send("/cancel")
    assert "There is nothing to cancel." in texts(replies)


async def test_cancel_mid_wizard_keeps_the_draft_and_pledge_offers_it(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "description")
    replies = await official.send("/cancel")
    assert "Stopped. Your pledge is saved as it was; /pledge continues it." in texts(replies)
    assert await state_of(sessions, 22) is None
    replies = await official.send("Another text, outside the wizard now")
    assert "I am not waiting for an answer" in texts(replies)
    assert (await latest_pledge(sessions, 22)).description == ""

    replies = await official.send("/pledge")
    assert "You have saved drafts. Continue one, or start a new pledge?" in texts(replies)
    assert [b.text for b in replies[-1].buttons()] == [GOOD_TITLE, "➕ Start a new pledge"]
    replies = await official.press(GOOD_TITLE)
    assert "Step 4 of 14 · Description" in texts(replies)
    pledge = await latest_pledge(sessions, 22)
    assert pledge.title == GOOD_TITLE and pledge.compacts == ["gcm", "gcr"]
    assert pledge.forum_id is not None
    for step in ("description", "gcm", "gcr", "support", "groups", "start"):
        await answer(official, step)
    # The optional steps never answered (budget, partners) are still asked on a resumed draft.
    replies = await answer(official, "end")
    assert "Does the pledge have a budget" in texts(replies)
    replies = await answer(official, "budget")
    assert "joint pledge" in texts(replies)
    replies = await answer(official, "partners")
    assert "Where will the pledge make a difference" in texts(replies)
    await answer(official, "scope")
    replies = await answer(official, "contact")
    assert "Please check your pledge" in texts(replies)

    # A second pledge can be started beside the draft.
    await official.send("/cancel")
    replies = await start_pledge(official)
    assert len(await _all_drafts(sessions)) == 2


async def _all_drafts(sessions: SessionFactory) -> list[object]:
    from tests.conversations.helpers import pledges_of

    return [p for p in await pledges_of(sessions, 22) if p.state == "draft"]


async def test_edited_message_in_a_step_gets_an_answer(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "title")
    replies = await send_edit(standin, app, official, "Edited title")
    assert "I do not read edits to messages already sent" in texts(replies)
    assert (await latest_pledge(sessions, 22)).title == ""
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "title"


async def test_edited_message_outside_a_flow_gets_an_answer(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    """The issue: an edited message gets an answer — also when no question is open."""
    official = await join(standin, app, invitations, user_id=22)
    await official.send("hello")
    replies = await send_edit(standin, app, official, "hello again")
    assert replies, "an edited message outside any flow was not answered"
    newcomer = standin.person(app, user_id=33, first_name="New")
    await newcomer.send("hi")
    replies = await send_edit(standin, app, newcomer, "hi!")
    assert replies, "an edited message from a newcomer was not answered"


async def test_group_messages_do_not_drive_the_wizard(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "title")
    replies = await send_in_group(standin, app, official, "A title typed in the group")
    assert replies == []
    assert (await latest_pledge(sessions, 22)).title == ""
    replies = await send_in_group(standin, app, official, "/pledge")
    assert texts(replies) == "Please write to me in a private chat."
    replies = await send_in_group(standin, app, official, "/pledge@pledgebot_sim_bot")
    assert "Which forum" not in texts(replies)
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "title"
    stranger = standin.person(app, user_id=60, first_name="Stranger")
    replies = await send_in_group(standin, app, stranger, "/start")
    assert texts(replies) == "Please write to me in a private chat."
    # The private chat was never written to.
    assert standin.chat_messages(60) == []


async def test_help_in_the_middle_of_an_invitation_repeats_the_question(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    await coordinator.send("/invite")
    await coordinator.press("Official")
    replies = await coordinator.send("/help")
    assert "You were in the middle of something" in texts(replies)
    assert "Which city, region or association will the official represent?" in texts(replies)
    await coordinator.send("Lyon")
    replies = await coordinator.send("/help")
    assert "In which country?" in texts(replies)


async def test_a_draft_left_while_changing_one_field_returns_to_the_review_card(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """Review card → ✏️ Description → /cancel → /pledge → the draft: the new description
    leads back to the card, not through every later step again."""
    official = await join(standin, app, invitations, user_id=23)
    await walk_to(official, "review")
    replies = await official.press("✏️ Description")
    assert any(b.text == "↩️ Keep as it is" for b in replies[-1].buttons())
    await official.send("/cancel")
    await official.send("/pledge")
    replies = await official.press(GOOD_TITLE)
    assert "Description" in texts(replies)
    replies = await official.send(GOOD_DESCRIPTION + " Also a library.")
    assert "Please check your pledge" in texts(replies)
    pledge = await latest_pledge(sessions, 23)
    assert pledge.description.endswith("Also a library.")


async def test_every_answered_step_offers_to_keep_its_answer(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """A resumed draft shows each answer with a button that keeps it as it is."""
    official = await join(standin, app, invitations, user_id=24)
    await walk_to(official, "end")
    await official.send("/cancel")
    async with transaction(sessions) as session:  # as if left at the start date
        pledge = await session.get(Pledge, (await latest_pledge(sessions, 24)).id)
        assert pledge is not None
        pledge.draft_step = "start"
        session.add(pledge)
    await official.send("/pledge")
    replies = await official.press(GOOD_TITLE)
    assert "Now: " in texts(replies) and "January 15, 2027" in texts(replies)
    replies = await official.press("↩️ Keep as it is")
    assert "When does it end?" in texts(replies)
    assert (await latest_pledge(sessions, 24)).starts_on == date(2027, 1, 15)
