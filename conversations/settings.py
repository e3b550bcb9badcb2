"""/settings (time zone, reminder hour, reminder kinds, language) and /stop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, time

from babel.dates import format_time
from telegram import InlineKeyboardMarkup, Update

from conversations import onboarding
from conversations.common import ack, close_keyboard, replace, say, typed_text
from conversations.context import PledgeContext
from conversations.flow import MEMBERS, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import SELECTED_MARK, button, rows
from conversations.time_zones import (
    NotWholeHours,
    city_zone,
    country_zones,
    likely_country,
    read_time_zone,
    zone_label,
)
from storage.conversation_state import clear_state, set_state
from storage.localities import get_locality
from storage.members import set_muted_kinds, set_reminder_hour, set_time_zone, stop_member
from storage.models import ConversationState, Member, ReminderKind, Role
from storage.types import utc_now
from storage.zones import time_zone_names

SETTINGS = "settings"
TIME_ZONE = "tz"
HOURS = range(7, 21)  # the hours offered on buttons: 07:00 to 20:00 local time
HOUR_COLUMNS = 4
# What someone without a role is told, pressing a settings button.
MAX_ZONES = 24  # zones offered as buttons; a country with more is asked for a city
REFUSAL = N_("Only registered members have settings.")

KIND_LABELS = {
    ReminderKind.DIGEST.value: N_("Forum digests"),
    ReminderKind.CLOSING.value: N_("Deadline closing notes"),
    ReminderKind.DRAFT.value: N_("Unfinished drafts"),
    ReminderKind.INVITATION.value: N_("Invitations to pledge"),
    ReminderKind.PROGRESS.value: N_("Progress report reminders"),
}

# The reminders each role can receive, in the order the card lists them.
ROLE_KINDS: dict[str | None, tuple[str, ...]] = {
    Role.COORDINATOR.value: (ReminderKind.DIGEST.value, ReminderKind.CLOSING.value),
    Role.OFFICIAL.value: (
        ReminderKind.DRAFT.value,
        ReminderKind.INVITATION.value,
        ReminderKind.PROGRESS.value,
    ),
}


@dataclass(frozen=True)
class SettingsCard(ButtonData, prefix="set.card"):
    """Back to the settings card, in place."""


@dataclass(frozen=True)
class AskTimeZone(ButtonData, prefix="set.tz"):
    """🌍 Time zone: asked, and answered by a text message."""


@dataclass(frozen=True)
class SetTimeZone(ButtonData, prefix="set.tzz"):
    """One of the zones offered when a typed name was not found."""

    zone: str


@dataclass(frozen=True)
class ShowHours(ButtonData, prefix="set.hr"):
    """🕘 Reminder hour: the hours to choose from."""


@dataclass(frozen=True)
class SetHour(ButtonData, prefix="set.h"):
    """The hour of the day (local time) reminders arrive at."""

    hour: int


@dataclass(frozen=True)
class Mute(ButtonData, prefix="set.mute"):
    """Turn one kind of reminder off (`mute`) or back on."""

    kind: str
    mute: bool


@dataclass(frozen=True)
class ChooseLanguage(ButtonData, prefix="set.lang"):
    """🗣 Language: the /language choice."""


def kinds_for(role: str | None) -> tuple[str, ...]:
    """The reminder kinds that apply to a role (none for staff)."""
    return ROLE_KINDS.get(role, ())


def hour_label(t: Translator, hour: int) -> str:
    """An hour of the day as the reader writes it: `9:00 AM`, `09:00`."""
    return str(format_time(time(hour, 0), format="short", locale=t.locale))


def settings_card(
    t: Translator, member: Member, now: datetime, note: Html | None = None
) -> tuple[Html, InlineKeyboardMarkup]:
    """The member's settings and a button for each change."""
    lines = [note, ""] if note else []
    lines += [
        t.gettext("⚙️ <b>Your settings</b>"),
        t.gettext("Language: %(language)s", language=t.language_name(member.language)),
        t.gettext(
            "Time zone: %(zone)s — local time now: %(now)s",
            zone=zone_label(t, member.time_zone),
            now=t.datetime(now, time_zone=member.time_zone, format="short"),
        ),
        t.gettext(
            "Reminders arrive at: %(hour)s, local time",
            hour=hour_label(t, member.reminder_hour),
        ),
        "",
    ]
    kinds = kinds_for(member.role)
    if kinds:
        lines.append(t.gettext("<b>Reminders</b>"))
        for kind in kinds:
            name = t.plain(KIND_LABELS[kind])
            if kind in member.muted_kinds:
                lines.append(t.gettext("🔕 %(kind)s: off", kind=name))
            else:
                lines.append(t.gettext("🔔 %(kind)s: on", kind=name))
    else:
        lines.append(t.gettext("There are no reminders for your role."))
    if not member.active:
        lines += ["", stopped_note(t)]
    keyboard = [
        [
            button(t.plain("🌍 Time zone"), AskTimeZone()),
            button(t.plain("🕘 Reminder hour"), ShowHours()),
        ]
    ]
    for kind in kinds:
        name = t.plain(KIND_LABELS[kind])
        if kind in member.muted_kinds:
            toggle = button(t.plain("🔔 Turn on: %(kind)s", kind=name), Mute(kind, False))
        else:
            toggle = button(t.plain("🔕 Turn off: %(kind)s", kind=name), Mute(kind, True))
        keyboard.append([toggle])
    keyboard.append([button(t.plain("🗣 Language"), ChooseLanguage())])
    return Html("\n".join(lines)), InlineKeyboardMarkup(keyboard)


def stopped_note(t: Translator) -> Html:
    return t.gettext("⏸ My messages to you are stopped. /start turns them back on.")


def hour_keyboard(t: Translator, current: int) -> InlineKeyboardMarkup:
    """The hours to choose from, the current one marked, and a way back to the card."""
    buttons = [
        button((SELECTED_MARK if hour == current else "") + hour_label(t, hour), SetHour(hour))
        for hour in HOURS
    ]
    return InlineKeyboardMarkup(
        [*rows(buttons, HOUR_COLUMNS), [button(t.plain("‹ Back"), SettingsCard())]]
    )


def time_zone_question(t: Translator) -> Html:
    return t.gettext(
        "Which time zone are you in? Send a city (for example São Paulo), a time zone name "
        "(for example America/Sao_Paulo) or your offset from UTC (for example +03:00). "
        "/cancel keeps the current one."
    )


async def settings(update: Update, ctx: PledgeContext) -> None:
    """/settings: the member's settings card."""
    text, keyboard = settings_card(ctx.t, ctx.member, utc_now())
    say(ctx, text, keyboard)


async def on_card(update: Update, ctx: PledgeContext, _data: SettingsCard) -> None:
    """Button: back to the settings card, in place."""
    ack(ctx)
    text, keyboard = settings_card(ctx.t, ctx.member, utc_now())
    replace(ctx, text, keyboard)


async def on_mute(update: Update, ctx: PledgeContext, data: Mute) -> None:
    """Button: turn one kind of reminder off or on; the card changes in place."""
    kind = data.kind
    if kind not in kinds_for(ctx.member.role):
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    muted = [k for k in ctx.member.muted_kinds if k != kind] + ([kind] if data.mute else [])
    async with ctx.db() as session:
        await set_muted_kinds(session=session, member=ctx.member, kinds=muted)
    ack(ctx)
    text, keyboard = settings_card(ctx.t, ctx.member, utc_now())
    replace(ctx, text, keyboard)


async def on_hours(update: Update, ctx: PledgeContext, _data: ShowHours) -> None:
    """Button: the hours reminders can arrive at, in place of the card."""
    ack(ctx)
    t = ctx.t
    replace(
        ctx,
        t.gettext(
            "At what time should reminders reach you? Local time in %(zone)s.",
            zone=zone_label(t, ctx.member.time_zone),
        ),
        hour_keyboard(t, ctx.member.reminder_hour),
    )


async def on_hour(update: Update, ctx: PledgeContext, data: SetHour) -> None:
    """Button: an hour; saved, and the card shows it."""
    hour = data.hour
    if not 0 <= hour <= 23:
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    async with ctx.db() as session:
        await set_reminder_hour(session=session, member=ctx.member, hour=hour)
    ack(ctx, hour_label(ctx.t, hour))
    text, keyboard = settings_card(ctx.t, ctx.member, utc_now())
    replace(ctx, text, keyboard)


async def on_time_zone_button(update: Update, ctx: PledgeContext, _data: AskTimeZone) -> None:
    """Button: ask for the time zone; the answer is a text message."""
    ack(ctx)
    async with ctx.db() as session:
        await set_state(
            session=session, member_id=ctx.member.id or 0, flow=SETTINGS, step=TIME_ZONE
        )
    say(ctx, time_zone_question(ctx.t))


async def reask(update: Update, ctx: PledgeContext, state: ConversationState) -> bool:
    """Ask for the time zone again."""
    say(ctx, time_zone_question(ctx.t))
    return True


async def on_time_zone(update: Update, ctx: PledgeContext) -> None:
    """The time zone, as a zone name, a city or an offset; then the card with it."""
    message, t = update.effective_message, ctx.t
    if message is None:
        return
    typed = typed_text(update, ctx)
    if typed is None:
        return
    text = " ".join(typed.split())[:60]
    zone = read_time_zone(text, t.locale)
    country = await _home_country(ctx)
    if zone is None:
        zone = await asyncio.to_thread(city_zone, text, country)
    if isinstance(zone, NotWholeHours):
        say(
            ctx,
            t.gettext(
                "For %(offset)s there is no fixed time zone. Please send your city instead "
                "(for example Kolkata or Kathmandu) or a time zone name.",
                offset=zone.offset,
            ),
        )
        return
    if zone is None:
        say(
            ctx,
            t.gettext(
                "I do not know the time zone “%(text)s”. Please send a large city in your "
                "time zone (for example São Paulo), a time zone name (for example "
                "America/Sao_Paulo) or your offset from UTC (for example +03:00).",
                text=text,
            ),
            zones_keyboard(t, country_zones(country)),
        )
        return
    await _save_time_zone(ctx, zone)


async def on_set_time_zone(update: Update, ctx: PledgeContext, data: SetTimeZone) -> None:
    """Button: one of the zones offered for the member's country."""
    if data.zone not in time_zone_names():
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    ack(ctx)
    close_keyboard(ctx)
    await _save_time_zone(ctx, data.zone)


async def _save_time_zone(ctx: PledgeContext, zone: str) -> None:
    t = ctx.t
    async with ctx.db() as session:
        await set_time_zone(session=session, member=ctx.member, time_zone=zone)
        await clear_state(session=session, member_id=ctx.member.id or 0)
    note = t.gettext("✅ Saved: your time zone is %(zone)s.", zone=zone_label(t, zone))
    text_, keyboard = settings_card(t, ctx.member, utc_now(), note)
    say(ctx, text_, keyboard)


async def _home_country(ctx: PledgeContext) -> str | None:
    """The member's locality's country; for staff and coordinators, their language's."""
    if ctx.member.locality_id is not None:
        async with ctx.db() as session:
            locality = await get_locality(session=session, locality_id=ctx.member.locality_id)
        if locality is not None:
            return locality.country
    return likely_country(ctx.t.locale.language)


def zones_keyboard(t: Translator, zones: list[str]) -> InlineKeyboardMarkup | None:
    """A button for each zone (a country has a few; Russia and Brazil have many)."""
    if not zones:
        return None
    buttons = [button(zone_label(t, zone), SetTimeZone(zone)) for zone in zones[:MAX_ZONES]]
    return InlineKeyboardMarkup(rows(buttons, 1))


async def on_language(update: Update, ctx: PledgeContext, _data: ChooseLanguage) -> None:
    """Button: the /language choice."""
    ack(ctx)
    await onboarding.language(update, ctx)


# ---------------------------------------------------------------- stop


async def stop(update: Update, ctx: PledgeContext) -> None:
    """/stop: nothing proactive until /start; what the member asks is still answered."""
    async with ctx.db() as session:
        changed = await stop_member(session=session, member=ctx.member)
    t = ctx.t
    if not changed:
        say(ctx, stopped_note(t))
        return
    say(
        ctx,
        t.gettext(
            "⏸ Stopped. I will not write to you on my own any more: no reminders and no "
            "notifications. I still answer when you write to me, and nothing else changes "
            "until you send /start, which turns my messages back on."
        ),
    )


FLOW = Flow(
    name="settings",
    commands=(
        Command(
            "settings",
            N_("Time zone, reminder hour and which reminders you get"),
            MEMBERS,
            settings,
        ),
        Command("stop", N_("Stop all messages from the bot (/start resumes them)"), MEMBERS, stop),
    ),
    buttons=(
        Button(SettingsCard, on_card, MEMBERS, REFUSAL),
        Button(AskTimeZone, on_time_zone_button, MEMBERS, REFUSAL),
        Button(SetTimeZone, on_set_time_zone, MEMBERS, REFUSAL),
        Button(ShowHours, on_hours, MEMBERS, REFUSAL),
        Button(SetHour, on_hour, MEMBERS, REFUSAL),
        Button(Mute, on_mute, MEMBERS, REFUSAL),
        Button(ChooseLanguage, on_language, MEMBERS, REFUSAL),
    ),
    states=(SETTINGS,),
    text_steps={TIME_ZONE: on_time_zone},
    reask=reask,
)
