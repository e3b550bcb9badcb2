"""/forums: coordinators list, add and edit forums, one field at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.callbacks import Callback
from conversations.cards import compacts_text
from conversations.common import ack, close_keyboard, problem_text, replace, say, typed_text
from conversations.context import PledgeContext
from conversations.flow import COORDINATORS, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import SELECTED_MARK, button, page_count, pager_row, rows
from conversations.parsing import (
    AmbiguousDate,
    check_length,
    read_date,
    read_date_time,
    read_offsets,
)
from conversations.pledge_steps import EARLIEST_YEAR, LATEST_YEAR
from conversations.time_zones import read_time_zone
from storage.conversation_state import clear_state, set_state
from storage.forums import (
    ForumError,
    create_forum,
    forum_name,
    get_forum,
    get_forum_by_code,
    list_forums,
    normalize_code,
    normalize_offsets,
    update_forum,
)
from storage.models import Compact, ConversationState, Forum, Role

STATE = "forum"
CODE, NEW_NAME = "code", "newname"
NAME, LOCATION, STARTS, ENDS = "name", "location", "starts", "ends"
DEADLINE, TIME_ZONE, OFFSETS, COMPACTS = "deadline", "tz", "offsets", "compacts"
TYPED_FIELDS = (NAME, LOCATION, STARTS, ENDS, DEADLINE, OFFSETS)
DATE_FIELDS = {STARTS: "starts_on", ENDS: "ends_on"}
PER_PAGE = 8
CLEAR = "-"
NAME_LIMITS = (2, 200)
LOCATION_LIMITS = (2, 200)
BOTH = "both"
COMPACT_CHOICES = {
    Compact.GCM.value: [Compact.GCM.value],
    Compact.GCR.value: [Compact.GCR.value],
    BOTH: [Compact.GCM.value, Compact.GCR.value],
}
FIELD_LABELS = {
    NAME: N_("Name"),
    LOCATION: N_("Location"),
    COMPACTS: N_("Compacts"),
    STARTS: N_("Start date"),
    ENDS: N_("End date"),
    DEADLINE: N_("Pledge deadline"),
    OFFSETS: N_("Reminders"),
}
EXAMPLE_DATE = "2027-03-15"
EXAMPLE_DEADLINE = f"{EXAMPLE_DATE} 17:00"


def is_coordinator(ctx: PledgeContext) -> bool:
    return ctx.has_member and ctx.member.role == Role.COORDINATOR.value


def name_language(t: Translator) -> str:
    """The key a name in the reader's language is kept under (zh_Hans → zh)."""
    return t.language.split("_", 1)[0]


def deadline_text(t: Translator, forum: Forum) -> str:
    """The pledge deadline in the forum's own time zone, or 'not set'."""
    if forum.pledge_deadline is None:
        return t.plain("not set")
    return t.plain(
        "%(when)s (%(zone)s)",
        when=t.moment(forum.pledge_deadline, time_zone=forum.deadline_time_zone),
        zone=forum.deadline_time_zone,
    )


def status_text(t: Translator, forum: Forum) -> str:
    return t.plain("open for pledges") if forum.is_open else t.plain("closed")


def _day(t: Translator, value: date | None) -> str:
    return t.date(value) if value is not None else "—"


def offsets_text(t: Translator, offsets: Sequence[int]) -> str:
    if not offsets:
        return t.plain("none")
    return t.plain(
        "%(days)s days before the deadline", days=", ".join(t.number(d) for d in offsets)
    )


def forum_card(t: Translator, forum: Forum) -> Html:
    """Everything a coordinator can change about a forum."""
    names = "; ".join(
        f"{t.language_name(language)}: {name}" for language, name in sorted(forum.names.items())
    )
    lines = [
        t.gettext(
            "<b>%(name)s</b> · %(code)s", name=forum_name(forum, t.language), code=forum.code
        ),
        t.gettext("Names: %(names)s", names=names or "—"),
        t.gettext("Location: %(location)s", location=forum.location or "—"),
        t.gettext("Compacts: %(compacts)s", compacts=compacts_text(t, forum.compacts)),
        t.gettext(
            "Dates: %(start)s – %(end)s",
            start=_day(t, forum.starts_on),
            end=_day(t, forum.ends_on),
        ),
        t.gettext("Pledge deadline: %(deadline)s", deadline=deadline_text(t, forum)),
        t.gettext("Reminders: %(offsets)s", offsets=offsets_text(t, forum.reminder_offsets)),
        t.gettext("Status: %(status)s", status=status_text(t, forum)),
    ]
    return Html("\n".join(lines))


def card_keyboard(t: Translator, forum: Forum, page: int = 0) -> InlineKeyboardMarkup:
    """A button per field, the open/close toggle and the way back to the list."""
    assert forum.id is not None
    fields = [
        button(f"✏️ {t.plain(FIELD_LABELS[field])}", "f.field", forum.id, field)
        for field in (NAME, LOCATION, COMPACTS, STARTS, ENDS, DEADLINE, OFFSETS)
    ]
    toggle = (
        button(t.plain("🔒 Close for pledges"), "f.toggle", forum.id, page)
        if forum.is_open
        else button(t.plain("🔓 Open for pledges"), "f.toggle", forum.id, page)
    )
    back = button(t.plain("‹ Back to the forums"), "f.list", page)
    return InlineKeyboardMarkup([*rows(fields, 2), [toggle], [back]])


def list_message(
    t: Translator, forums: Sequence[Forum], page: int
) -> tuple[Html, InlineKeyboardMarkup]:
    """One page of forums: a line and a button for each, and ➕ New forum."""
    pages = page_count(len(forums), PER_PAGE)
    page = min(max(page, 0), pages - 1)
    first = page * PER_PAGE + 1
    shown = forums[page * PER_PAGE : (page + 1) * PER_PAGE]
    lines = [
        t.ngettext("<b>Forums</b>: %(count)s forum", "<b>Forums</b>: %(count)s forums", len(forums))
    ]
    lines += [
        t.gettext(
            "%(number)s. <b>%(name)s</b> (%(code)s) — deadline: %(deadline)s · %(status)s",
            number=t.number(first + i),
            name=forum_name(forum, t.language),
            code=forum.code,
            deadline=deadline_text(t, forum),
            status=status_text(t, forum),
        )
        for i, forum in enumerate(shown)
    ]
    buttons = [
        button(
            f"{t.number(first + i)}. {forum_name(forum, t.language)}", "f.open", forum.id or 0, page
        )
        for i, forum in enumerate(shown)
    ]
    keyboard = rows(buttons, 1)
    pager = pager_row(t, page=page, pages=pages, action="f.list")
    if pager:
        keyboard.append(pager)
    keyboard.append([button(t.plain("➕ New forum"), "f.new")])
    return Html("\n".join(lines)), InlineKeyboardMarkup(keyboard)


def question(t: Translator, step: str, forum: Forum | None) -> Html:
    """What a step asks, with the value it would replace."""
    code = forum.code if forum is not None else ""
    if step == CODE:
        return t.gettext(
            "➕ New forum. Send its code: 3 to 16 letters A–Z or digits, for example GRF2029."
        )
    if step == NEW_NAME:
        return t.gettext(
            "What is the forum's name in %(language)s?", language=t.language_name(t.language)
        )
    assert forum is not None
    if step == NAME:
        return t.gettext(
            "What is the name of %(code)s in %(language)s? Now: %(name)s\n"
            "The names in other languages are kept.",
            code=code,
            language=t.language_name(t.language),
            name=forum.names.get(name_language(t)) or "—",
        )
    if step == LOCATION:
        return t.gettext(
            "Where does %(code)s take place? Send the city, or - for none. Now: %(location)s",
            code=code,
            location=forum.location or "—",
        )
    if step in DATE_FIELDS:
        now = _day(t, forum.starts_on if step == STARTS else forum.ends_on)
        if step == STARTS:
            return t.gettext(
                "On which date does %(code)s start? Send it like %(example)s, or - to clear "
                "it. Now: %(now)s",
                code=code,
                example=EXAMPLE_DATE,
                now=now,
            )
        return t.gettext(
            "On which date does %(code)s end? Send it like %(example)s, or - to clear it. "
            "Now: %(now)s",
            code=code,
            example=EXAMPLE_DATE,
            now=now,
        )
    if step == DEADLINE:
        return t.gettext(
            "When is the pledge deadline for %(code)s? Send the date and the time on a 24-hour "
            "clock, like %(example)s, or - to clear it. Now: %(now)s",
            code=code,
            example=EXAMPLE_DEADLINE,
            now=deadline_text(t, forum),
        )
    if step == TIME_ZONE:
        return t.gettext(
            "In which time zone is that time? Send a name like Europe/Zurich or a city like Geneva."
        )
    return t.gettext(
        "How many days before the deadline should reminders go out? Send numbers like "
        "30, 14, 7, 3, 1, or - for none. Now: %(now)s",
        now=offsets_text(t, forum.reminder_offsets),
    )


def question_keyboard(t: Translator, step: str, forum: Forum | None) -> InlineKeyboardMarkup | None:
    """The time zone step offers to keep the forum's current zone."""
    if step != TIME_ZONE or forum is None or forum.id is None:
        return None
    keep = t.plain("Keep %(zone)s", zone=forum.deadline_time_zone)
    return InlineKeyboardMarkup([[button(keep, "f.tz", forum.id)]])


def compacts_keyboard(t: Translator, forum: Forum) -> InlineKeyboardMarkup:
    assert forum.id is not None
    current = sorted(forum.compacts)
    options = [
        (Compact.GCM.value, t.plain("GCM")),
        (Compact.GCR.value, t.plain("GCR")),
        (BOTH, t.plain("Both, in unison")),
    ]
    buttons = [
        button(
            (SELECTED_MARK if COMPACT_CHOICES[code] == current else "") + text,
            "f.comp",
            forum.id,
            code,
        )
        for code, text in options
    ]
    return InlineKeyboardMarkup([buttons, [button(t.plain("‹ Back"), "f.open", forum.id, 0)]])


def forum_problem(t: Translator, error: ForumError) -> Html:
    """A refused value, explained in the reader's language."""
    if error.problem == "code":
        return t.gettext(
            "A forum code is 3 to 16 letters A–Z or digits, for example GRF2029. "
            "Please send another."
        )
    if error.problem == "code_taken":
        return t.gettext("There is already a forum with that code. Please send another.")
    if error.problem == "dates":
        return t.gettext(
            "A forum cannot end before it starts. Please check the dates and send it again."
        )
    if error.problem == "offsets":
        return t.gettext(
            "Reminders go out 1 to 365 days before the deadline. Please send whole numbers "
            "like 30, 14, 7, 3, 1."
        )
    return t.gettext("That value cannot be saved. Please check it and send it again.")


# ---------------------------------------------------------------- list and card


async def forums(update: Update, ctx: PledgeContext) -> None:
    """/forums: every forum, a button for each, and ➕ New forum."""
    async with ctx.db() as session:
        await clear_state(session=session, member_id=ctx.member.id or 0)
        found = await list_forums(session=session)
    text, keyboard = list_message(ctx.t, found, 0)
    say(ctx, text, keyboard)


async def _refused(update: Update, ctx: PledgeContext) -> bool:
    """True (and said so) if the person pressing is not a coordinator."""
    if is_coordinator(ctx):
        return False
    ack(ctx, ctx.t.plain("Only coordinators manage forums."), alert=True)
    return True


async def _pressed_forum(
    update: Update, ctx: PledgeContext, session: AsyncSession, callback: Callback
) -> Forum | None:
    forum_id = callback.int_arg(0)
    forum = await get_forum(session=session, forum_id=forum_id) if forum_id else None
    if forum is None:
        ack(ctx, ctx.t.plain("That forum is not available."), alert=True)
    return forum


async def on_list(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: a page of the list (or back to it from a card)."""
    if await _refused(update, ctx):
        return
    async with ctx.db() as session:
        found = await list_forums(session=session)
    ack(ctx)
    text, keyboard = list_message(ctx.t, found, max(callback.int_arg(0) or 0, 0))
    replace(ctx, text, keyboard)


async def on_open(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: a forum's card."""
    if await _refused(update, ctx):
        return
    async with ctx.db() as session:
        forum = await _pressed_forum(update, ctx, session, callback)
    if forum is None:
        return
    ack(ctx)
    page = max(callback.int_arg(1) or 0, 0)
    replace(ctx, forum_card(ctx.t, forum), card_keyboard(ctx.t, forum, page))


async def on_new(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: ➕ New forum; first its code."""
    if await _refused(update, ctx):
        return
    async with ctx.db() as session:
        await set_state(session=session, member_id=ctx.member.id or 0, flow=STATE, step=CODE)
    ack(ctx)
    say(ctx, question(ctx.t, CODE, None))


async def on_field(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: change one field; typed fields are asked, compacts are chosen."""
    if await _refused(update, ctx):
        return
    field = callback.str_arg(1) or ""
    async with ctx.db() as session:
        forum = await _pressed_forum(update, ctx, session, callback)
        if forum is None:
            return
        if field not in (*TYPED_FIELDS, COMPACTS):
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        if field != COMPACTS:
            await set_state(
                session=session,
                member_id=ctx.member.id or 0,
                flow=STATE,
                step=field,
                data={"forum": forum.id},
            )
    ack(ctx)
    t = ctx.t
    if field == COMPACTS:
        replace(
            ctx,
            t.gettext("Which compacts does %(code)s serve?", code=forum.code),
            compacts_keyboard(t, forum),
        )
        return
    close_keyboard(ctx)
    say(ctx, question(t, field, forum))


async def _show_saved(update: Update, ctx: PledgeContext, forum: Forum, *, edit: bool) -> None:
    """✅ Saved, and the card as it is now."""
    t = ctx.t
    if edit:
        ack(ctx, t.plain("✅ Saved."))
        replace(ctx, forum_card(t, forum), card_keyboard(t, forum))
        return
    say(ctx, t.gettext("✅ Saved."))
    say(ctx, forum_card(t, forum), card_keyboard(t, forum))


async def on_compacts(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: GCM, GCR or both."""
    if await _refused(update, ctx):
        return
    choice = COMPACT_CHOICES.get(callback.str_arg(1) or "")
    async with ctx.db() as session:
        forum = await _pressed_forum(update, ctx, session, callback)
        if forum is None:
            return
        if choice is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        await update_forum(session=session, forum=forum, changes={"compacts": choice})
    await _show_saved(update, ctx, forum, edit=True)


async def on_toggle(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: open or close the forum for pledges."""
    if await _refused(update, ctx):
        return
    async with ctx.db() as session:
        forum = await _pressed_forum(update, ctx, session, callback)
        if forum is None:
            return
        await update_forum(session=session, forum=forum, changes={"is_open": not forum.is_open})
    t = ctx.t
    ack(ctx, t.plain("🔓 Open for pledges") if forum.is_open else t.plain("🔒 Closed"))
    page = max(callback.int_arg(1) or 0, 0)
    replace(ctx, forum_card(t, forum), card_keyboard(t, forum, page))


async def on_date_choice(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: which of two readings of a typed start or end date was meant."""
    if await _refused(update, ctx):
        return
    field = callback.str_arg(1) or ""
    chosen = _iso_date(callback.str_arg(2))
    if field not in DATE_FIELDS or chosen is None:
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    async with ctx.db() as session:
        forum = await _pressed_forum(update, ctx, session, callback)
    if forum is None:
        return
    ack(ctx)
    close_keyboard(ctx)
    await _save(update, ctx, forum.id or 0, {DATE_FIELDS[field]: chosen})


async def on_deadline_choice(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: which reading of the deadline's date was meant; then its time zone."""
    if await _refused(update, ctx):
        return
    chosen, at = _iso_date(callback.str_arg(1)), _hhmm(callback.str_arg(2))
    if chosen is None or at is None:
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    async with ctx.db() as session:
        forum = await _pressed_forum(update, ctx, session, callback)
        if forum is None:
            return
        await _ask_time_zone(update, ctx, session, forum, chosen, at)
    ack(ctx)
    close_keyboard(ctx)


async def on_keep_zone(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: the deadline typed is in the forum's current time zone."""
    if await _refused(update, ctx):
        return
    state = ctx.conversation
    async with ctx.db() as session:
        forum = await _pressed_forum(update, ctx, session, callback)
    if forum is None:
        return
    if (
        state is None
        or (state.flow, state.step) != (STATE, TIME_ZONE)
        or state.data.get("forum") != forum.id
    ):
        ack(ctx, ctx.t.plain("That button is no longer valid."), alert=True)
        return
    ack(ctx)
    close_keyboard(ctx)
    await _save_deadline(update, ctx, forum, state.data, forum.deadline_time_zone)


# ---------------------------------------------------------------- typed answers


def _iso_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


def _hhmm(text: str | None) -> time | None:
    if text is None or len(text) != 4 or not text.isdigit():
        return None
    hour, minute = int(text[:2]), int(text[2:])
    return time(hour, minute) if hour < 24 and minute < 60 else None


async def reask(update: Update, ctx: PledgeContext, state: ConversationState) -> bool:
    """Ask the forum step's question again."""
    forum = None
    if state.data.get("forum"):
        async with ctx.db() as session:
            forum = await get_forum(session=session, forum_id=int(state.data["forum"]))
    if forum is None and state.step not in (CODE, NEW_NAME):
        return False
    say(
        ctx,
        question(ctx.t, state.step, forum),
        question_keyboard(ctx.t, state.step, forum),
    )
    return True


async def _typed(update: Update, ctx: PledgeContext) -> tuple[ConversationState, str] | None:
    """The text answered to a forum step, or None (and why) if there is none to use."""
    state, message, t = ctx.conversation, update.effective_message, ctx.t
    if state is None or message is None:
        return None
    if not is_coordinator(ctx):
        async with ctx.db() as session:
            await clear_state(session=session, member_id=ctx.member.id or 0)
        say(ctx, t.gettext("Only coordinators manage forums."))
        return None
    typed = typed_text(update, ctx)
    return None if typed is None else (state, typed)


async def _save(
    update: Update, ctx: PledgeContext, forum_id: int, changes: Mapping[str, Any]
) -> bool:
    """Save typed changes, leave the step and show the card; False (and why) if refused."""
    t = ctx.t
    async with ctx.db() as session:
        forum = await get_forum(session=session, forum_id=forum_id)
        if forum is None:
            await clear_state(session=session, member_id=ctx.member.id or 0)
            say(ctx, t.gettext("That forum is not available. /forums lists them."))
            return False
        try:
            await update_forum(session=session, forum=forum, changes=changes)
        except ForumError as error:
            say(ctx, forum_problem(t, error))
            return False
        await clear_state(session=session, member_id=ctx.member.id or 0)
    await _show_saved(update, ctx, forum, edit=False)
    return True


def _forum_id(state: ConversationState) -> int:
    value = state.data.get("forum")
    return value if isinstance(value, int) else 0


async def on_code(update: Update, ctx: PledgeContext) -> None:
    """The new forum's code; then its name."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    _state, text = typed
    t = ctx.t
    try:
        code = normalize_code(text)
    except ForumError as error:
        say(ctx, forum_problem(t, error))
        return
    async with ctx.db() as session:
        if await get_forum_by_code(session=session, code=code) is not None:
            say(ctx, forum_problem(t, ForumError("code_taken", f"{code} is taken")))
            return
        await set_state(
            session=session,
            member_id=ctx.member.id or 0,
            flow=STATE,
            step=NEW_NAME,
            data={"code": code},
        )
    say(ctx, question(t, NEW_NAME, None))


async def on_new_name(update: Update, ctx: PledgeContext) -> None:
    """The new forum's name in the coordinator's language: the forum is created."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    state, text = typed
    t = ctx.t
    text = " ".join(text.split())
    problem = check_length(text, minimum=NAME_LIMITS[0], maximum=NAME_LIMITS[1])
    if problem:
        say(ctx, problem_text(t, problem))
        return
    async with ctx.db() as session:
        try:
            forum = await create_forum(
                session=session,
                code=str(state.data.get("code", "")),
                names={name_language(t): text},
            )
        except ForumError as error:
            await set_state(session=session, member_id=ctx.member.id or 0, flow=STATE, step=CODE)
            say(ctx, forum_problem(t, error))
            return
        await clear_state(session=session, member_id=ctx.member.id or 0)
    say(ctx, t.gettext("✅ Forum %(code)s created.", code=forum.code))
    say(ctx, forum_card(t, forum), card_keyboard(t, forum))


async def on_name(update: Update, ctx: PledgeContext) -> None:
    """The forum's name in the coordinator's language; other languages are kept."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    state, text = typed
    text = " ".join(text.split())
    problem = check_length(text, minimum=NAME_LIMITS[0], maximum=NAME_LIMITS[1])
    if problem:
        say(ctx, problem_text(ctx.t, problem))
        return
    async with ctx.db() as session:
        forum = await get_forum(session=session, forum_id=_forum_id(state))
    names = {**(forum.names if forum is not None else {}), name_language(ctx.t): text}
    await _save(update, ctx, _forum_id(state), {"names": names})


async def on_location(update: Update, ctx: PledgeContext) -> None:
    """Where the forum takes place, or - for nowhere yet."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    state, text = typed
    text = " ".join(text.split())
    if text != CLEAR:
        problem = check_length(text, minimum=LOCATION_LIMITS[0], maximum=LOCATION_LIMITS[1])
        if problem:
            say(ctx, problem_text(ctx.t, problem))
            return
    await _save(update, ctx, _forum_id(state), {"location": "" if text == CLEAR else text})


def _date_problem(t: Translator) -> Html:
    return t.gettext(
        "I could not read that date. Please send it like %(example)s.",
        example=EXAMPLE_DATE,
    )


def _year_problem(t: Translator) -> Html:
    return t.gettext(
        "Please send a date between %(first)s and %(last)s.",
        first=EARLIEST_YEAR,
        last=LATEST_YEAR,
    )


async def on_date(update: Update, ctx: PledgeContext) -> None:
    """The start or end date; a date with two readings is asked back with a button each."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    state, text = typed
    t, forum_id, field = ctx.t, _forum_id(state), state.step
    if text == CLEAR:
        await _save(update, ctx, forum_id, {DATE_FIELDS[field]: None})
        return
    parsed = read_date(text, t.locale)
    if isinstance(parsed, AmbiguousDate):
        keyboard = InlineKeyboardMarkup(
            [
                [button(t.date(d), "f.date", forum_id, field, d.isoformat())]
                for d in (parsed.first, parsed.second)
            ]
        )
        say(ctx, t.gettext("Which date do you mean?"), keyboard)
        return
    if parsed is None:
        say(ctx, _date_problem(t))
        return
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        say(ctx, _year_problem(t))
        return
    await _save(update, ctx, forum_id, {DATE_FIELDS[field]: parsed})


async def on_deadline(update: Update, ctx: PledgeContext) -> None:
    """The deadline's date and time (24-hour clock); then its time zone."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    state, text = typed
    t, forum_id = ctx.t, _forum_id(state)
    if text == CLEAR:
        await _save(update, ctx, forum_id, {"pledge_deadline": None})
        return
    parsed, at = read_date_time(text, t.locale)
    if parsed is None or at is None:
        say(
            ctx,
            t.gettext(
                "Please send the date and the time on a 24-hour clock, like %(example)s.",
                example=EXAMPLE_DEADLINE,
            ),
        )
        return
    if isinstance(parsed, AmbiguousDate):
        hhmm = f"{at.hour:02d}{at.minute:02d}"
        keyboard = InlineKeyboardMarkup(
            [
                [button(t.date(d), "f.dl", forum_id, d.isoformat(), hhmm)]
                for d in (parsed.first, parsed.second)
            ]
        )
        say(ctx, t.gettext("Which date do you mean?"), keyboard)
        return
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        say(ctx, _year_problem(t))
        return
    async with ctx.db() as session:
        forum = await get_forum(session=session, forum_id=forum_id)
        if forum is None:
            await clear_state(session=session, member_id=ctx.member.id or 0)
            say(ctx, t.gettext("That forum is not available. /forums lists them."))
            return
        await _ask_time_zone(update, ctx, session, forum, parsed, at)


async def _ask_time_zone(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    forum: Forum,
    day: date,
    at: time,
) -> None:
    await set_state(
        session=session,
        member_id=ctx.member.id or 0,
        flow=STATE,
        step=TIME_ZONE,
        data={"forum": forum.id, "date": day.isoformat(), "time": at.strftime("%H:%M")},
    )
    say(ctx, question(ctx.t, TIME_ZONE, forum), question_keyboard(ctx.t, TIME_ZONE, forum))


async def on_time_zone(update: Update, ctx: PledgeContext) -> None:
    """The deadline's time zone, by IANA name or city: the deadline is saved."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    state, text = typed
    t = ctx.t
    zone = read_time_zone(text, t.locale)
    if not isinstance(zone, str):
        say(
            ctx,
            t.gettext(
                "I do not know the time zone “%(text)s”. Please send a name like "
                "Europe/Zurich or a city like Geneva.",
                text=text[:60],
            ),
        )
        return
    async with ctx.db() as session:
        forum = await get_forum(session=session, forum_id=_forum_id(state))
        if forum is None:
            await clear_state(session=session, member_id=ctx.member.id or 0)
    if forum is None:
        say(ctx, t.gettext("That forum is not available. /forums lists them."))
        return
    await _save_deadline(update, ctx, forum, state.data, zone)


async def _save_deadline(
    update: Update, ctx: PledgeContext, forum: Forum, data: Mapping[str, Any], zone: str
) -> None:
    day = _iso_date(str(data.get("date", "")))
    at = _hhmm(str(data.get("time", "")).replace(":", ""))
    if day is None or at is None:  # a damaged step: ask for the deadline again
        async with ctx.db() as session:
            await set_state(
                session=session,
                member_id=ctx.member.id or 0,
                flow=STATE,
                step=DEADLINE,
                data={"forum": forum.id},
            )
        say(ctx, question(ctx.t, DEADLINE, forum))
        return
    deadline = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    await _save(
        update,
        ctx,
        forum.id or 0,
        {"pledge_deadline": deadline, "deadline_time_zone": zone},
    )


async def on_offsets(update: Update, ctx: PledgeContext) -> None:
    """The reminder offsets, in days before the deadline, or - for none."""
    typed = await _typed(update, ctx)
    if typed is None:
        return
    state, text = typed
    t = ctx.t
    offsets = [] if text == CLEAR else read_offsets(text)
    try:
        if offsets is None:
            raise ForumError("offsets", "not numbers")
        offsets = normalize_offsets(offsets)
    except ForumError as error:
        say(ctx, forum_problem(t, error))
        return
    await _save(update, ctx, _forum_id(state), {"reminder_offsets": offsets})


CALLBACKS = {
    "f.list": on_list,
    "f.open": on_open,
    "f.new": on_new,
    "f.field": on_field,
    "f.comp": on_compacts,
    "f.toggle": on_toggle,
    "f.date": on_date_choice,
    "f.dl": on_deadline_choice,
    "f.tz": on_keep_zone,
}
_MESSAGE_STEPS = {
    (STATE, CODE): on_code,
    (STATE, NEW_NAME): on_new_name,
    (STATE, NAME): on_name,
    (STATE, LOCATION): on_location,
    (STATE, STARTS): on_date,
    (STATE, ENDS): on_date,
    (STATE, DEADLINE): on_deadline,
    (STATE, TIME_ZONE): on_time_zone,
    (STATE, OFFSETS): on_offsets,
}


FLOW = Flow(
    name="forums",
    commands=(
        Command(
            "forums", N_("Forums: names, dates, pledge deadlines, reminders"), COORDINATORS, forums
        ),
    ),
    legacy_buttons=CALLBACKS,
    states=(STATE,),
    text_steps={step: run for (_state, step), run in _MESSAGE_STEPS.items()},
    reask=reask,
)
