"""/forums for coordinators (add, edit every field, open/close) and /deadlines for members."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import PledgeApplication, register_default_commands
from bot.services import Services
from bot.standin import BotApiStandIn, SentMessage, SimulatedPerson
from storage.engine import SessionFactory, transaction
from storage.forums import forum_name, get_forum_by_code, update_forum
from storage.members import get_member_by_telegram_id
from storage.models import Forum, Role
from tests.conftest import Invitations, on_standin
from tests.conversations.helpers import assert_no_error, join, state_of, texts

ZURICH = ZoneInfo("Europe/Zurich")
TOKYO = ZoneInfo("Asia/Tokyo")


async def forum(sessions: SessionFactory, code: str) -> Forum:
    async with transaction(sessions) as session:
        found = await get_forum_by_code(session=session, code=code)
    assert found is not None, code
    return found


def plain(replies: list[SentMessage]) -> str:
    """What the person reads, with Babel's narrow spaces (before AM/PM) as plain ones."""
    return texts(replies).replace("\u202f", " ").replace("\u00a0", " ")


def english_time(value: datetime) -> str:
    """'5:00 PM', as Babel writes a short time in English."""
    return f"{value.hour % 12 or 12}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


def english_date(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"


async def new_forum(coordinator: SimulatedPerson, code: str, name: str) -> list[SentMessage]:
    await coordinator.send("/forums")
    await coordinator.press("➕ New forum")
    await coordinator.send(code)
    return await coordinator.send(name)


async def test_a_coordinator_adds_a_forum_and_edits_every_field(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)

    replies = await coordinator.send("/forums")
    assert "Forums: 5 forums" in texts(replies)
    assert "Global Refugee Forum 2027" in texts(replies)
    replies = await coordinator.press("➕ New forum")
    assert "Send its code" in texts(replies)
    for bad, why in [
        ("G1", "3 to 16 letters"),
        ("GRF 2031!", "3 to 16 letters"),
        ("grf2027", "already a forum with that code"),
    ]:
        replies = await coordinator.send(bad)
        assert why in texts(replies), bad
    replies = await coordinator.send_photo()
    assert "Please send this as a text message" in texts(replies)
    replies = await coordinator.send("grf2031")
    assert "What is the forum's name in English?" in texts(replies)
    replies = await coordinator.send("F")
    assert "please write at least 2" in texts(replies)
    replies = await coordinator.send("Forum <2031> & Co")
    assert "✅ Forum GRF2031 created." in texts(replies)
    card = replies[-1]
    assert "Forum <2031> & Co · GRF2031" in card.text
    assert "&lt;2031&gt; &amp; Co" in card.html  # a forum's name is user input
    assert "Status: open for pledges" in card.text
    stored = await forum(sessions, "GRF2031")
    assert stored.names == {"en": "Forum <2031> & Co"} and stored.is_open

    # Name: asked in the coordinator's language; the other languages are kept.
    async with transaction(sessions) as session:
        found = await get_forum_by_code(session=session, code="GRF2031")
        assert found is not None
        await update_forum(
            session=session, forum=found, changes={"names": {**found.names, "fr": "Forum 2031"}}
        )
    replies = await coordinator.press("✏️ Name")
    assert "What is the name of GRF2031 in English?" in texts(replies)
    replies = await coordinator.send("Global Refugee Forum 2031")
    assert "✅ Saved." in texts(replies)
    assert (await forum(sessions, "GRF2031")).names == {
        "en": "Global Refugee Forum 2031",
        "fr": "Forum 2031",
    }

    # Location.
    await coordinator.press("✏️ Location")
    replies = await coordinator.send("G")
    assert "please write at least 2" in texts(replies)
    replies = await coordinator.send("Geneva")
    assert "Location: Geneva" in replies[-1].text

    # Compacts: buttons, the current choice marked.
    replies = await coordinator.press("✏️ Compacts")
    assert "Which compacts does GRF2031 serve?" in texts(replies)
    assert "✅ Both, in unison" in [b.text for b in standin.last_message(11).buttons()]  # type: ignore[union-attr]
    replies = await coordinator.press("GCR")
    assert (await forum(sessions, "GRF2031")).compacts == ["gcr"]
    assert "Compact: GCR" in standin.last_message(11).text  # type: ignore[union-attr]

    # Start date: unreadable, then ambiguous (a button for each reading).
    await coordinator.press("✏️ Start date")
    replies = await coordinator.send("31/02/2031")
    assert "I could not read that date" in texts(replies)
    replies = await coordinator.send("1999-01-01")
    assert "between 2000 and 2100" in texts(replies)
    replies = await coordinator.send("05/06/2031")
    assert "Which date do you mean?" in texts(replies)
    replies = await coordinator.press("June 5, 2031")
    assert "Dates: June 5, 2031 – —" in replies[-1].text
    assert (await forum(sessions, "GRF2031")).starts_on == date(2031, 6, 5)

    # End date: not before the start.
    await coordinator.press("✏️ End date")
    replies = await coordinator.send("2031-06-01")
    assert "cannot end before it starts" in texts(replies)
    replies = await coordinator.send("2031-06-07")
    assert "Dates: June 5, 2031 – June 7, 2031" in replies[-1].text

    # Deadline: date and time, then the time zone (IANA name or a city).
    day = datetime.now(UTC).date() + timedelta(days=40)
    await coordinator.press("✏️ Pledge deadline")
    for bad in ("tomorrow", f"{day.isoformat()}", f"{day.isoformat()} 25:00"):
        replies = await coordinator.send(bad)
        assert "Please send the date and the time" in texts(replies), bad
    replies = await coordinator.send(f"{day.isoformat()} 17:00")
    assert "In which time zone is that time?" in texts(replies)
    assert [b.text for b in replies[-1].buttons()] == ["Keep UTC"]
    replies = await coordinator.send("Atlantis/Capital")
    assert "I do not know the time zone “Atlantis/Capital”" in texts(replies)
    replies = await coordinator.send("Geneva")
    assert "✅ Saved." in texts(replies)
    stored = await forum(sessions, "GRF2031")
    deadline = datetime.combine(day, datetime.min.time().replace(hour=17), tzinfo=ZURICH)
    assert stored.pledge_deadline == deadline
    assert stored.deadline_time_zone == "Europe/Zurich"
    card_text = plain(replies[-1:])
    assert f"Pledge deadline: {english_date(day)}, 5:00 PM (Europe/Zurich)" in card_text

    # Reminder offsets.
    await coordinator.press("✏️ Reminders")
    for bad in ("30, x", "0, 400", "-3"):
        replies = await coordinator.send(bad)
        assert "Reminders go out 1 to 365 days before the deadline" in texts(replies), bad
    replies = await coordinator.send("1, 30, 7, 7")
    assert "Reminders: 30, 7, and 1 days before the deadline" in replies[-1].text
    assert (await forum(sessions, "GRF2031")).reminder_offsets == [30, 7, 1]

    # Open / closed.
    replies = await coordinator.press("🔒 Close for pledges")
    assert not (await forum(sessions, "GRF2031")).is_open
    assert "Status: closed" in standin.last_message(11).text  # type: ignore[union-attr]
    await coordinator.press("🔓 Open for pledges")
    assert (await forum(sessions, "GRF2031")).is_open

    replies = await coordinator.press("‹ Back to the forums")
    assert "Forums: 6 forums" in standin.last_message(11).text  # type: ignore[union-attr]
    assert "Global Refugee Forum 2031" in standin.last_message(11).text  # type: ignore[union-attr]
    assert await state_of(sessions, 11) is None
    assert_no_error(replies)


async def test_dash_clears_and_keep_keeps_the_time_zone(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    await new_forum(coordinator, "IMRF2030", "Review Forum")
    await coordinator.press("✏️ Pledge deadline")
    await coordinator.send("2030-03-15 09:30")
    await coordinator.send("New York")
    assert (await forum(sessions, "IMRF2030")).deadline_time_zone == "America/New_York"
    await coordinator.press("✏️ Pledge deadline")
    await coordinator.send("2030-03-16 10:00")
    replies = await coordinator.press("Keep America/New_York")
    assert "✅ Saved." in texts(replies)
    stored = await forum(sessions, "IMRF2030")
    assert stored.pledge_deadline == datetime(
        2030, 3, 16, 10, 0, tzinfo=ZoneInfo("America/New_York")
    )
    await coordinator.press("✏️ Pledge deadline")
    await coordinator.send("-")
    await coordinator.press("✏️ Reminders")
    await coordinator.send("-")
    stored = await forum(sessions, "IMRF2030")
    assert stored.pledge_deadline is None and stored.reminder_offsets == []
    assert "Pledge deadline: not set" in standin.last_message(11).text  # type: ignore[union-attr]


async def test_the_time_zone_step_survives_a_restart_and_help_repeats_it(
    app: PledgeApplication,
    services: Services,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    await new_forum(coordinator, "GRF2033", "Forum 2033")
    await coordinator.press("✏️ Pledge deadline")
    await coordinator.send("2033-10-01 17:00")
    replies = await coordinator.send("/help")
    assert "In which time zone is that time?" in texts(replies)

    await app.shutdown()
    fresh = on_standin(services, standin)
    await fresh.initialize()
    await register_default_commands(fresh)
    try:
        again = standin.person(fresh, user_id=11, first_name="Olga", language_code="en")
        replies = await again.send("Europe/Zurich")
        assert "✅ Saved." in texts(replies)
    finally:
        await fresh.shutdown()
        await app.initialize()  # the fixture shuts it down again
    stored = await forum(sessions, "GRF2033")
    assert stored.pledge_deadline == datetime(2033, 10, 1, 17, 0, tzinfo=ZURICH)


@pytest.mark.parametrize(
    "template",
    [
        "f.list:0",
        "f.open:{id}:0",
        "f.new",
        "f.field:{id}:name",
        "f.field:{id}:compacts",
        "f.comp:{id}:gcm",
        "f.toggle:{id}:0",
        "f.date:{id}:starts:2031-01-01",
        "f.dl:{id}:2031-01-01:1700",
        "f.tz:{id}",
    ],
)
async def test_only_coordinators_manage_forums(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    template: str,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    replies = await official.send("/forums")
    assert "/forums is not available to you." in texts(replies)
    before = (await forum(sessions, "GRF2027")).model_dump()
    replies = await official.press_data(template.format(id=before["id"]))
    assert official.last_answer == "Only coordinators manage forums."
    assert_no_error(replies)
    assert (await forum(sessions, "GRF2027")).model_dump() == before
    assert await state_of(sessions, 22) is None


async def test_coordinators_see_forged_or_stale_buttons_refused(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    await coordinator.send("/forums")
    grf = await forum(sessions, "GRF2027")
    for data, answer in [
        ("f.open:99999:0", "That forum is not available."),
        (f"f.field:{grf.id}:colour", "That button is not valid."),
        (f"f.comp:{grf.id}:all", "That button is not valid."),
        (f"f.date:{grf.id}:starts:2031-02-31", "That button is not valid."),
        (f"f.dl:{grf.id}:2031-01-01:2500", "That button is not valid."),
        (f"f.tz:{grf.id}", "That button is no longer valid."),
    ]:
        replies = await coordinator.press_data(data)
        assert coordinator.last_answer == answer, data
        assert_no_error(replies)
    assert (await forum(sessions, "GRF2027")).model_dump() == grf.model_dump()


async def test_deadlines_in_the_readers_time_zone_with_a_calendar_file(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    official = await join(standin, app, invitations, user_id=22)
    replies = await official.send("/deadlines")
    assert "There are no upcoming pledge deadlines just now." in texts(replies)

    day = datetime.now(UTC).date() + timedelta(days=20)
    await new_forum(coordinator, "GRF2031", "Forum, <Geneva>; 2031")
    await coordinator.press("✏️ Pledge deadline")
    await coordinator.send(f"{day.isoformat()} 17:00")
    await coordinator.send("Europe/Zurich")
    deadline = datetime.combine(day, datetime.min.time().replace(hour=17), tzinfo=ZURICH)
    async with transaction(sessions) as session:
        person = await get_member_by_telegram_id(session=session, telegram_id=22)
        assert person is not None
        person.time_zone = "Asia/Tokyo"
        session.add(person)

    replies = await official.send("/deadlines")
    shown = plain(replies)
    local = deadline.astimezone(TOKYO)
    assert "Upcoming pledge deadlines (times in Asia/Tokyo):" in shown
    assert f"• Forum, <Geneva>; 2031 — {english_date(local.date())}, {english_time(local)}" in (
        shown
    )
    assert re.search(r"in (19|20|21) days", shown), shown
    assert "&lt;Geneva&gt;" in replies[-1].html
    replies = await official.press("📅 Add to my calendar")
    document = replies[-1].document
    assert document is not None and document["file_name"] == "pledgebot-deadlines.ics"
    assert "calendar" in replies[-1].text
    content: bytes = document["content"]
    lines = content.decode().replace("\r\n ", "").split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "UID:GRF2031-deadline@pledgebot" in lines
    assert f"DTSTART:{deadline.astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines
    assert "SUMMARY:Pledge deadline: Forum\\, <Geneva>\\; 2031" in lines

    # Closed forums have no upcoming deadline; people without a role get no list.
    await coordinator.send("/forums")
    await coordinator.press("Forum, <Geneva>; 2031")
    await coordinator.press("🔒 Close for pledges")
    replies = await official.send("/deadlines")
    assert "There are no upcoming pledge deadlines just now." in texts(replies)
    stranger = standin.person(app, user_id=99, first_name="Sam", language_code="en")
    replies = await stranger.send("/deadlines")
    assert "You need an invitation to use /deadlines." in texts(replies)
    await stranger.press_data("d.ics", message=replies[-1])
    assert stranger.last_answer == "/deadlines is for registered members."


async def test_a_new_forum_is_named_in_its_readers_languages_or_marked_where_not(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """French readers once saw only the English name, unmarked, in the wizard and reminders."""
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    for user_id, tag in ((21, "fr"), (22, "ar")):
        reader = standin.person(app, user_id=user_id, first_name="Reader", language_code=tag)
        await reader.send("/start " + await invitations.make(Role.OFFICIAL, locality="Lyon"))
    replies = await new_forum(coordinator, "MMF2027", "Mayors Migration Forum 2027")
    assert "✅ Forum MMF2027 created." in texts(replies)
    asked = replies[-1]
    assert "What is the name of MMF2027 in Arabic?" in asked.text
    assert "readers in Arabic see its name in English" in asked.text
    replies = await coordinator.press("Skip", message=asked)
    assert "What is the name of MMF2027 in French?" in texts(replies)
    replies = await coordinator.send("Forum des maires sur les migrations 2027")
    assert "Mayors Migration Forum 2027 · MMF2027" in replies[-1].text  # the card, at last
    stored = await forum(sessions, "MMF2027")
    assert stored.names == {
        "en": "Mayors Migration Forum 2027",
        "fr": "Forum des maires sur les migrations 2027",
    }
    assert forum_name(stored, "fr") == "Forum des maires sur les migrations 2027"
    assert forum_name(stored, "ar") == "Mayors Migration Forum 2027 (EN)"  # marked as English
