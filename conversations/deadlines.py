"""/deadlines: the upcoming pledge deadlines for every member, and an .ics file for a calendar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from conversations.cards import MAX_MESSAGE, utf16_length
from conversations.common import ack, say, upload
from conversations.context import PledgeContext
from conversations.flow import MEMBERS, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import button
from conversations.render.calendar import deadlines_calendar
from storage.forums import forum_name, upcoming_deadlines
from storage.models import Forum
from storage.types import utc_now
from storage.zones import is_time_zone

CALENDAR_FILE = "pledgebot-deadlines.ics"


@dataclass(frozen=True)
class Calendar(ButtonData, prefix="d.ics"):
    """📅 Add to my calendar."""


def reader_zone(zone: str) -> str:
    """The reader's time zone, or UTC if theirs is unknown."""
    return zone if is_time_zone(zone) else "UTC"


def deadline_line(t: Translator, forum: Forum, zone: str, now: datetime) -> Html:
    """'• Name — March 15, 2027, 16:00, in 30 days' in the reader's time zone."""
    assert forum.pledge_deadline is not None
    return t.gettext(
        "• <b>%(name)s</b> — %(when)s, %(relative)s",
        name=forum_name(forum, t.language),
        when=t.moment(forum.pledge_deadline, time_zone=zone),
        relative=t.days_until(forum.pledge_deadline, now, time_zone=zone),
    )


def deadlines_messages(
    t: Translator, forums: Sequence[Forum], zone: str, now: datetime
) -> list[Html]:
    """The heading and a line per deadline, split into messages Telegram accepts."""
    lines = [
        t.gettext("<b>Upcoming pledge deadlines</b> (times in %(zone)s):", zone=zone),
        *(deadline_line(t, forum, zone, now) for forum in forums),
    ]
    messages: list[list[str]] = [[]]
    for line in lines:
        candidate = "\n".join([*messages[-1], line])
        if messages[-1] and utf16_length(candidate) > MAX_MESSAGE:
            messages.append([])
        messages[-1].append(line)
    return [Html("\n".join(m)) for m in messages]


def calendar_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t.plain("📅 Add to my calendar"), Calendar())]])


async def deadlines(update: Update, ctx: PledgeContext) -> None:
    """/deadlines: each upcoming deadline in the reader's time zone, and a calendar button."""
    t, now = ctx.t, utc_now()
    async with ctx.db() as session:
        found = await upcoming_deadlines(session=session, now=now)
    if not found:
        say(ctx, t.gettext("There are no upcoming pledge deadlines just now."))
        return
    messages = deadlines_messages(t, found, reader_zone(ctx.member.time_zone), now)
    for text in messages[:-1]:
        say(ctx, text)
    say(ctx, messages[-1], calendar_keyboard(t))


async def on_calendar(update: Update, ctx: PledgeContext, _data: Calendar) -> None:
    """Button: the upcoming deadlines as an .ics file, with an alarm a day before each."""
    t, now, chat = ctx.t, utc_now(), update.effective_chat
    async with ctx.db() as session:
        found = await upcoming_deadlines(session=session, now=now)
    if not found:
        ack(ctx, t.plain("There are no upcoming pledge deadlines just now."))
        return
    ack(ctx)
    if chat is None:
        return
    content = deadlines_calendar(
        found,
        now,
        summary=lambda forum: t.plain(
            "Pledge deadline: %(forum)s", forum=forum_name(forum, t.language)
        ),
        alarm=lambda forum: t.plain(
            "The pledge deadline for %(forum)s is tomorrow.", forum=forum_name(forum, t.language)
        ),
    )
    upload(
        ctx,
        content,
        CALENDAR_FILE,
        t.gettext(
            "📅 Open this file to add the pledge deadlines to your calendar, with a reminder "
            "the day before each."
        ),
    )


FLOW = Flow(
    name="deadlines",
    commands=(
        Command(
            "deadlines", N_("Upcoming pledge deadlines, for your calendar"), MEMBERS, deadlines
        ),
    ),
    buttons=(Button(Calendar, on_calendar, MEMBERS, N_("/deadlines is for registered members.")),),
)
