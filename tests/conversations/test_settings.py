"""/settings (time zone, reminder hour, reminder kinds, language) and /stop … /start."""

from __future__ import annotations

import pytest

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SimulatedPerson
from storage.engine import SessionFactory
from storage.models import Role
from tests.conftest import Invitations
from tests.conversations.helpers import assert_no_error, join, member, state_of, texts

NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM and PM
OFFICIAL_KINDS = ["Unfinished drafts", "Invitations to pledge", "Progress report reminders"]


def labels(person: SimulatedPerson, standin: BotApiStandIn) -> list[str]:
    """The buttons of the last message with buttons in the person's chat."""
    message = next(m for m in reversed(standin.chat_messages(person.chat_id)) if m.buttons())
    return [b.text for b in message.buttons()]


async def test_an_official_joining_in_france_gets_paris_time(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22, locality="Lyon", country="FR")
    assert (await member(sessions, 22)).time_zone == "Europe/Paris"
    replies = await official.send("/settings")
    card = replies[-1].text
    assert "Your settings" in card and "Language: English" in card
    assert "Time zone: Paris (Europe/Paris) — local time now:" in card
    assert f"Reminders arrive at: 9:00{NNBSP}AM, local time" in card
    brazil = await join(
        standin, app, invitations, user_id=23, locality="Porto Alegre", country="BR"
    )
    assert brazil.user_id == 23
    assert (await member(sessions, 23)).time_zone == "America/Sao_Paulo"
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    assert coordinator.user_id == 11
    assert (await member(sessions, 11)).time_zone == "UTC"


@pytest.mark.parametrize(
    ("typed", "zone", "shown"),
    [
        ("America/Sao_Paulo", "America/Sao_Paulo", "São Paulo (America/Sao_Paulo)"),
        ("america/sao paulo", "America/Sao_Paulo", "São Paulo (America/Sao_Paulo)"),
        ("São Paulo", "America/Sao_Paulo", "São Paulo (America/Sao_Paulo)"),
        ("sao paulo", "America/Sao_Paulo", "São Paulo (America/Sao_Paulo)"),
        ("Kiev", "Europe/Kyiv", "Kyiv (Europe/Kyiv)"),
        ("+03:00", "Etc/GMT-3", "UTC+03:00"),
        ("UTC-5", "Etc/GMT+5", "UTC−05:00"),
        ("+0", "UTC", "UTC"),
    ],
)
async def test_time_zone_by_name_city_or_offset(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    typed: str,
    zone: str,
    shown: str,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    await coordinator.send("/settings")
    replies = await coordinator.press("🌍 Time zone")
    assert "Which time zone are you in?" in texts(replies)
    assert (await state_of(sessions, 11)) is not None
    replies = await coordinator.send(typed)
    assert f"Saved: your time zone is {shown}." in texts(replies)
    assert f"Time zone: {shown} — local time now:" in replies[-1].text
    assert (await member(sessions, 11)).time_zone == zone
    assert await state_of(sessions, 11) is None


async def test_bad_time_zones_are_explained_and_asked_again(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await official.send("/settings")
    await official.press("🌍 Time zone")
    replies = await official.send("Atlantis <b>")
    assert "I do not know the time zone “Atlantis <b>”" in texts(replies)
    assert "&lt;b&gt;" in replies[-1].html
    replies = await official.send("+05:30")
    assert "For +05:30 there is no fixed time zone" in texts(replies)
    for typed in ("+15", "-13", "99"):
        replies = await official.send(typed)
        assert f"I do not know the time zone “{typed}”" in texts(replies)
    replies = await official.send_photo()
    assert "Please send this as a text message" in texts(replies)
    replies = await official.send("/help")
    assert "Which time zone are you in?" in texts(replies)  # the question, again
    assert (await member(sessions, 22)).time_zone == "Europe/Paris"
    replies = await official.send("/cancel")
    assert "Stopped." in texts(replies)
    assert await state_of(sessions, 22) is None
    replies = await official.send("Kolkata")
    assert "I am not waiting for an answer from you just now" in texts(replies)
    assert (await member(sessions, 22)).time_zone == "Europe/Paris"


async def test_reminder_hour(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    card = (await official.send("/settings"))[-1]
    replies = await official.press("🕘 Reminder hour")
    assert len(replies) == 1 and replies[0].message_id == card.message_id  # in place
    assert "At what time should reminders reach you? Local time in Paris" in replies[0].text
    hours = labels(official, standin)
    assert hours[0] == f"7:00{NNBSP}AM" and hours[-2] == f"8:00{NNBSP}PM" and hours[-1] == "‹ Back"
    assert f"✅ 9:00{NNBSP}AM" in hours
    replies = await official.press(f"6:00{NNBSP}PM")
    assert official.last_answer == f"6:00{NNBSP}PM"
    assert replies[-1].message_id == card.message_id
    assert f"Reminders arrive at: 6:00{NNBSP}PM, local time" in replies[-1].text
    assert (await member(sessions, 22)).reminder_hour == 18
    await official.press("🕘 Reminder hour")
    assert f"✅ 6:00{NNBSP}PM" in labels(official, standin)
    replies = await official.press("‹ Back")
    assert f"Reminders arrive at: 6:00{NNBSP}PM" in replies[-1].text
    # Forged hours are refused and change nothing.
    for data in ("set.h:24", "set.h:-1"):
        await official.press_data(data)
        assert official.last_answer == "That button is not valid."
    for data in ("set.h:x", "set.h"):  # not an hour's button at all: the router refuses it
        await official.press_data(data)
        assert official.last_answer == "That button is no longer valid."
    assert (await member(sessions, 22)).reminder_hour == 18


async def test_muting_kinds_shows_on_the_card(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    card = (await official.send("/settings"))[-1]
    for kind in OFFICIAL_KINDS:
        assert f"🔔 {kind}: on" in card.text
    assert "Forum digests" not in card.text  # a coordinator's reminder
    assert labels(official, standin) == [
        "🌍 Time zone",
        "🕘 Reminder hour",
        "🔕 Turn off: Unfinished drafts",
        "🔕 Turn off: Invitations to pledge",
        "🔕 Turn off: Progress report reminders",
        "🗣 Language",
    ]
    replies = await official.press("🔕 Turn off: Invitations to pledge")
    assert replies[-1].message_id == card.message_id
    assert "🔕 Invitations to pledge: off" in replies[-1].text
    assert "🔔 Unfinished drafts: on" in replies[-1].text
    assert "🔔 Turn on: Invitations to pledge" in labels(official, standin)
    assert (await member(sessions, 22)).muted_kinds == ["invitation"]
    # A double tap on the same (stale) button sets the same state: no edit, no error.
    stale = standin.stored_message(22, card.message_id)
    replies = await official.press_data("set.mute:invitation:1", message=stale)
    assert_no_error(replies)
    assert (await member(sessions, 22)).muted_kinds == ["invitation"]
    await official.press("🔕 Turn off: Unfinished drafts")
    replies = await official.press("🔔 Turn on: Invitations to pledge")
    assert "🔔 Invitations to pledge: on" in replies[-1].text
    assert "🔕 Unfinished drafts: off" in replies[-1].text
    assert (await member(sessions, 22)).muted_kinds == ["draft"]
    # A kind of another role's, or an unknown one, is refused.
    for data in ("set.mute:digest:1", "set.mute:weekly:1"):
        await official.press_data(data)
        assert official.last_answer == "That button is not valid."
    await official.press_data("set.mute:draft:2")  # neither on nor off: the router refuses it
    assert official.last_answer == "That button is no longer valid."
    assert (await member(sessions, 22)).muted_kinds == ["draft"]


async def test_coordinators_and_staff_see_their_own_kinds(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    card = (await coordinator.send("/settings"))[-1].text
    assert "🔔 Forum digests: on" in card and "🔔 Deadline closing notes: on" in card
    assert "Unfinished drafts" not in card
    replies = await coordinator.press("🔕 Turn off: Deadline closing notes")
    assert "🔕 Deadline closing notes: off" in replies[-1].text
    assert (await member(sessions, 11)).muted_kinds == ["closing"]
    staff = await join(standin, app, invitations, user_id=44, role=Role.STAFF)
    card = (await staff.send("/settings"))[-1].text
    assert "There are no reminders for your role." in card
    assert labels(staff, standin) == ["🌍 Time zone", "🕘 Reminder hour", "🗣 Language"]


async def test_language_button_reuses_the_language_choice(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await official.send("/settings")
    replies = await official.press("🗣 Language")
    assert "Choose your language:" in texts(replies)
    replies = await official.press("Français")
    assert (await member(sessions, 22)).language == "fr"
    card = (await official.send("/settings"))[-1].text
    assert "Français" in card  # the language, named in French
    assert "Europe/Paris" in card


async def test_stop_then_start(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    assert "/stop" in texts(await official.send("/help"))
    replies = await official.send("/stop")
    assert "Stopped. I will not write to you on my own any more" in texts(replies)
    assert "/start" in texts(replies)
    assert (await member(sessions, 22)).active is False
    replies = await official.send("/stop")
    assert "My messages to you are stopped. /start turns them back on." in texts(replies)

    # Still answered, still stopped: only /start resumes.
    replies = await official.send("hello")
    assert "Here is what you can do" in texts(replies)
    replies = await official.send("/mypledges")
    assert "Your locality has no pledges yet" in texts(replies)
    replies = await official.send("/help")
    assert "My messages to you are stopped. /start turns them back on." in texts(replies)
    card = (await official.send("/settings"))[-1].text
    assert "My messages to you are stopped" in card
    await official.press("🔕 Turn off: Unfinished drafts")
    assert (await member(sessions, 22)).active is False

    replies = await official.send("/start")
    assert "Welcome back: my reminders and notifications are on again." in texts(replies)
    assert "You are registered as Official" in texts(replies)
    assert (await member(sessions, 22)).active is True
    replies = await official.send("/start")
    assert "Welcome back" not in texts(replies)
    assert "stopped" not in texts(await official.send("/help"))


async def test_a_stopped_coordinator_gets_no_requests(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    await coordinator.send("/stop")
    before = len(standin.chat_messages(11))
    newcomer = standin.person(app, user_id=33, first_name="New")
    await newcomer.send("/start")
    await newcomer.press("🙋 Request access")
    for answer in ("Nadia Haddad", "Focal point", "Lyon", "FR"):
        await newcomer.send(answer)
    assert len(standin.chat_messages(11)) == before


async def test_a_non_member_has_no_settings(
    app: PledgeApplication,
    standin: BotApiStandIn,
    sessions: SessionFactory,
) -> None:
    person = standin.person(app, user_id=33, first_name="Nobody")
    for command in ("/settings", "/stop"):
        replies = await person.send(command)
        assert f"You need an invitation to use {command}" in texts(replies)
    for data in ("set.card", "set.tz", "set.hr", "set.h:8", "set.mute:draft:1", "set.lang"):
        await person.press_data(data)
        assert person.last_answer == "Only registered members have settings."
    found = await member(sessions, 33)
    assert (found.active, found.reminder_hour, found.muted_kinds) == (True, 9, [])
    assert await state_of(sessions, 33) is None


async def test_a_city_in_any_language_finds_its_zone_and_an_unknown_one_offers_the_countrys(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=23, locality="Recife", country="BR")
    await official.send("/settings")
    await official.press("🌍 Time zone")
    replies = await official.send("Porto Alegre")
    assert "Saved: your time zone is São Paulo (America/Sao_Paulo)." in texts(replies)
    await official.press("🌍 Time zone")
    replies = await official.send("Vila Xyzzy")
    assert "I do not know the time zone “Vila Xyzzy”" in texts(replies)
    offered = [b.text for b in replies[-1].buttons()]
    assert "Manaus (America/Manaus)" in offered and len(offered) > 5  # Brazil's zones
    replies = await official.press("Manaus (America/Manaus)")
    assert "Saved: your time zone is Manaus (America/Manaus)." in texts(replies)
    assert (await member(sessions, 23)).time_zone == "America/Manaus"
    assert await state_of(sessions, 23) is None
