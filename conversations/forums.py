"""/forums: coordinators list, add and edit forums, one field at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from conversations.common import ack, close_keyboard, problem_text, replace, say, typed_text
from conversations.context import PledgeContext
from conversations.flow import COORDINATORS, Button, Command, Flow, is_coordinator
from conversations.forum_cards import (
    CODE,
    COMPACT_CHOICES,
    COMPACTS,
    DATE_FIELDS,
    DEADLINE,
    ENDS,
    EXAMPLE_DEADLINE,
    LOCATION,
    NAME,
    NAME_IN,
    NEW_NAME,
    OFFSETS,
    STARTS,
    TIME_ZONE,
    ChooseCompacts,
    ChooseDate,
    ChooseDeadlineDate,
    EditField,
    ForumList,
    KeepZone,
    NewForum,
    OpenForum,
    SkipName,
    ToggleOpen,
    card_keyboard,
    compacts_keyboard,
    date_problem,
    forum_card,
    forum_problem,
    list_message,
    name_language,
    question,
    question_keyboard,
    year_problem,
)
from conversations.i18n import N_
from conversations.keyboards import which_date
from conversations.parsing import (
    AmbiguousDate,
    check_name,
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
    get_forum,
    get_forum_by_code,
    list_forums,
    normalize_code,
    normalize_offsets,
    update_forum,
)
from storage.members import member_languages
from storage.models import ConversationState, Forum

STATE = "forum"
TYPED_FIELDS = (NAME, LOCATION, STARTS, ENDS, DEADLINE, OFFSETS)
CLEAR = "-"
NAME_LIMITS = (2, 200)
LOCATION_LIMITS = (2, 200)
# What anyone but a coordinator is told, pressing a forum's button or answering a forum step.
REFUSAL = N_("Only coordinators manage forums.")


# ---------------------------------------------------------------- list and card


async def forums(update: Update, ctx: PledgeContext) -> None:
    """/forums: every forum, a button for each, and ➕ New forum."""
    async with ctx.db() as session:
        await clear_state(session=session, member_id=ctx.member.id or 0)
        found = await list_forums(session=session)
    text, keyboard = list_message(ctx.t, found, 0)
    say(ctx, text, keyboard)


async def _pressed_forum(ctx: PledgeContext, session: AsyncSession, forum_id: int) -> Forum | None:
    forum = await get_forum(session=session, forum_id=forum_id) if forum_id else None
    if forum is None:
        ack(ctx, ctx.t.plain("That forum is not available."), alert=True)
    return forum


async def on_list(update: Update, ctx: PledgeContext, data: ForumList) -> None:
    """Button: a page of the list (or back to it from a card)."""
    async with ctx.db() as session:
        found = await list_forums(session=session)
    ack(ctx)
    text, keyboard = list_message(ctx.t, found, max(data.page, 0))
    replace(ctx, text, keyboard)


async def on_open(update: Update, ctx: PledgeContext, data: OpenForum) -> None:
    """Button: a forum's card."""
    async with ctx.db() as session:
        forum = await _pressed_forum(ctx, session, data.forum)
    if forum is None:
        return
    ack(ctx)
    replace(ctx, forum_card(ctx.t, forum), card_keyboard(ctx.t, forum, max(data.page, 0)))


async def on_new(update: Update, ctx: PledgeContext, _data: NewForum) -> None:
    """Button: ➕ New forum; first its code."""
    async with ctx.db() as session:
        await set_state(session=session, member_id=ctx.member.id or 0, flow=STATE, step=CODE)
    ack(ctx)
    say(ctx, question(ctx.t, CODE, None))


async def on_field(update: Update, ctx: PledgeContext, data: EditField) -> None:
    """Button: change one field; typed fields are asked, compacts are chosen."""
    field = data.field
    async with ctx.db() as session:
        forum = await _pressed_forum(ctx, session, data.forum)
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


async def on_compacts(update: Update, ctx: PledgeContext, data: ChooseCompacts) -> None:
    """Button: GCM, GCR or both."""
    choice = COMPACT_CHOICES.get(data.choice)
    async with ctx.db() as session:
        forum = await _pressed_forum(ctx, session, data.forum)
        if forum is None:
            return
        if choice is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        await update_forum(session=session, forum=forum, changes={"compacts": choice})
    await _show_saved(update, ctx, forum, edit=True)


async def on_toggle(update: Update, ctx: PledgeContext, data: ToggleOpen) -> None:
    """Button: open or close the forum for pledges."""
    async with ctx.db() as session:
        forum = await _pressed_forum(ctx, session, data.forum)
        if forum is None:
            return
        await update_forum(session=session, forum=forum, changes={"is_open": not forum.is_open})
    t = ctx.t
    ack(ctx, t.plain("🔓 Open for pledges") if forum.is_open else t.plain("🔒 Closed"))
    replace(ctx, forum_card(t, forum), card_keyboard(t, forum, max(data.page, 0)))


async def on_date_choice(update: Update, ctx: PledgeContext, data: ChooseDate) -> None:
    """Button: which of two readings of a typed start or end date was meant."""
    chosen = _iso_date(data.day)
    if data.field not in DATE_FIELDS or chosen is None:
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    async with ctx.db() as session:
        forum = await _pressed_forum(ctx, session, data.forum)
    if forum is None:
        return
    ack(ctx)
    close_keyboard(ctx)
    await _save(update, ctx, forum.id or 0, {DATE_FIELDS[data.field]: chosen})


async def on_deadline_choice(update: Update, ctx: PledgeContext, data: ChooseDeadlineDate) -> None:
    """Button: which reading of the deadline's date was meant; then its time zone."""
    chosen, at = _iso_date(data.day), _hhmm(data.at)
    if chosen is None or at is None:
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    async with ctx.db() as session:
        forum = await _pressed_forum(ctx, session, data.forum)
        if forum is None:
            return
        await _ask_time_zone(update, ctx, session, forum, chosen, at)
    ack(ctx)
    close_keyboard(ctx)


async def on_keep_zone(update: Update, ctx: PledgeContext, data: KeepZone) -> None:
    """Button: the deadline typed is in the forum's current time zone."""
    state = ctx.conversation
    async with ctx.db() as session:
        forum = await _pressed_forum(ctx, session, data.forum)
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
        question(ctx.t, state.step, forum, state.data),
        question_keyboard(ctx.t, state.step, forum, state.data),
    )
    return True


async def _typed(update: Update, ctx: PledgeContext) -> tuple[ConversationState, str] | None:
    """The text answered to a forum step, or None (and why) if there is none to use."""
    state, message, t = ctx.conversation, update.effective_message, ctx.t
    if state is None or message is None:
        return None
    if not is_coordinator(ctx.member.role):
        async with ctx.db() as session:
            await clear_state(session=session, member_id=ctx.member.id or 0)
        say(ctx, t.gettext(REFUSAL))
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


async def _typed_name(update: Update, ctx: PledgeContext) -> tuple[ConversationState, str] | None:
    """A forum name typed for a step, its spacing tidied; None (and why) if it cannot be one."""
    typed = await _typed(update, ctx)
    if typed is None:
        return None
    state, text = typed
    text = " ".join(text.split())
    problem = check_name(text, minimum=NAME_LIMITS[0], maximum=NAME_LIMITS[1])
    if problem:
        say(ctx, problem_text(ctx.t, problem))
        return None
    return state, text


async def on_new_name(update: Update, ctx: PledgeContext) -> None:
    """The new forum's name in the coordinator's language: the forum is created."""
    typed = await _typed_name(update, ctx)
    if typed is None:
        return
    state, text = typed
    t = ctx.t
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
        languages = await member_languages(session=session)
        if await _ask_next_name(ctx, session, forum, languages):
            return
    say(ctx, forum_card(t, forum), card_keyboard(t, forum))


async def _ask_next_name(
    ctx: PledgeContext, session: AsyncSession, forum: Forum, languages: Sequence[str]
) -> bool:
    """Ask for the forum's name in the next of `languages` it has none in (the languages its
    readers use); False when none is left."""
    left = [language for language in languages if not forum.names.get(language)]
    if not left or forum.id is None:
        await clear_state(session=session, member_id=ctx.member.id or 0)
        return False
    data = {"forum": forum.id, "languages": left}
    await set_state(
        session=session, member_id=ctx.member.id or 0, flow=STATE, step=NAME_IN, data=data
    )
    say(ctx, question(ctx.t, NAME_IN, forum, data), question_keyboard(ctx.t, NAME_IN, forum, data))
    return True


async def on_name_in(update: Update, ctx: PledgeContext) -> None:
    """The new forum's name in one more of its readers' languages; then the next one."""
    typed = await _typed_name(update, ctx)
    if typed is None:
        return
    state, text = typed
    await _next_name(ctx, state, name=text)


async def on_skip_name(update: Update, ctx: PledgeContext, data: SkipName) -> None:
    """Button: no name in this language for now."""
    state = ctx.conversation
    languages = state.data.get("languages") if state is not None else None
    if (
        state is None
        or (state.flow, state.step) != (STATE, NAME_IN)
        or state.data.get("forum") != data.forum
        or not languages
        or languages[0] != data.language
    ):
        ack(ctx, ctx.t.plain("That button is no longer valid."), alert=True)
        return
    ack(ctx)
    close_keyboard(ctx)
    await _next_name(ctx, state, name=None)


async def _next_name(ctx: PledgeContext, state: ConversationState, *, name: str | None) -> None:
    """Keep the name given (if any) in the language asked, then ask the next or show the card."""
    languages = [str(language) for language in state.data.get("languages", [])]
    t = ctx.t
    async with ctx.db() as session:
        forum = await get_forum(session=session, forum_id=_forum_id(state))
        if forum is None or not languages:
            await clear_state(session=session, member_id=ctx.member.id or 0)
            say(ctx, t.gettext("That forum is not available. /forums lists them."))
            return
        if name is not None:
            names = {**forum.names, languages[0]: name}
            try:
                await update_forum(session=session, forum=forum, changes={"names": names})
            except ForumError as error:
                say(ctx, forum_problem(t, error))
                return
        if await _ask_next_name(ctx, session, forum, languages[1:]):
            return
    say(ctx, forum_card(t, forum), card_keyboard(t, forum))


async def on_name(update: Update, ctx: PledgeContext) -> None:
    """The forum's name in the coordinator's language; other languages are kept."""
    typed = await _typed_name(update, ctx)
    if typed is None:
        return
    state, text = typed
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
        problem = check_name(text, minimum=LOCATION_LIMITS[0], maximum=LOCATION_LIMITS[1])
        if problem:
            say(ctx, problem_text(ctx.t, problem))
            return
    await _save(update, ctx, _forum_id(state), {"location": "" if text == CLEAR else text})


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
        say(ctx, *which_date(t, parsed, lambda d: ChooseDate(forum_id, field, d.isoformat())))
        return
    if parsed is None:
        say(ctx, date_problem(t))
        return
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        say(ctx, year_problem(t))
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
        hhmm = f"{at.hour:02d}{at.minute:02d}"  # the time typed is kept
        say(
            ctx, *which_date(t, parsed, lambda d: ChooseDeadlineDate(forum_id, d.isoformat(), hhmm))
        )
        return
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        say(ctx, year_problem(t))
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


TEXT_STEPS = {
    (STATE, CODE): on_code,
    (STATE, NEW_NAME): on_new_name,
    (STATE, NAME): on_name,
    (STATE, NAME_IN): on_name_in,
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
    buttons=(
        Button(ForumList, on_list, COORDINATORS, REFUSAL),
        Button(OpenForum, on_open, COORDINATORS, REFUSAL),
        Button(NewForum, on_new, COORDINATORS, REFUSAL),
        Button(EditField, on_field, COORDINATORS, REFUSAL),
        Button(ChooseCompacts, on_compacts, COORDINATORS, REFUSAL),
        Button(ToggleOpen, on_toggle, COORDINATORS, REFUSAL),
        Button(ChooseDate, on_date_choice, COORDINATORS, REFUSAL),
        Button(ChooseDeadlineDate, on_deadline_choice, COORDINATORS, REFUSAL),
        Button(KeepZone, on_keep_zone, COORDINATORS, REFUSAL),
        Button(SkipName, on_skip_name, COORDINATORS, REFUSAL),
    ),
    states=(STATE,),
    text_steps={step: run for (_state, step), run in TEXT_STEPS.items()},
    reask=reask,
)
