"""What /forums shows: the forum list, a forum's card, its buttons' data and the questions asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup

from conversations.cards import compacts_text
from conversations.flow import ButtonData
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import SELECTED_MARK, button, page_count, pager_row, rows
from conversations.pledge_steps import EARLIEST_YEAR, LATEST_YEAR
from storage.forums import ForumError, fallback_language, forum_name
from storage.models import Compact, Forum

CODE, NEW_NAME, NAME_IN = "code", "newname", "namein"
NAME, LOCATION, STARTS, ENDS = "name", "location", "starts", "ends"
DEADLINE, TIME_ZONE, OFFSETS, COMPACTS = "deadline", "tz", "offsets", "compacts"
DATE_FIELDS = {STARTS: "starts_on", ENDS: "ends_on"}
PER_PAGE = 8
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


# ---------------------------------------------------------------- the buttons' data


@dataclass(frozen=True)
class ForumList(ButtonData, prefix="f.list"):
    """A page of the forums (or back to it from a card)."""

    page: int


@dataclass(frozen=True)
class OpenForum(ButtonData, prefix="f.open"):
    """A forum's card; `page` is the list page to go back to."""

    forum: int
    page: int = 0


@dataclass(frozen=True)
class NewForum(ButtonData, prefix="f.new"):
    """➕ New forum: first its code."""


@dataclass(frozen=True)
class EditField(ButtonData, prefix="f.field"):
    """Change one field of a forum (a step name: NAME, LOCATION, …, or COMPACTS)."""

    forum: int
    field: str


@dataclass(frozen=True)
class ChooseCompacts(ButtonData, prefix="f.comp"):
    """The compacts a forum serves: a code of COMPACT_CHOICES."""

    forum: int
    choice: str


@dataclass(frozen=True)
class ToggleOpen(ButtonData, prefix="f.toggle"):
    """Open or close a forum for pledges; `page` is the list page to go back to."""

    forum: int
    page: int = 0


@dataclass(frozen=True)
class ChooseDate(ButtonData, prefix="f.date"):
    """One reading of an ambiguous start or end date (`field`), as an ISO date."""

    forum: int
    field: str
    day: str


@dataclass(frozen=True)
class ChooseDeadlineDate(ButtonData, prefix="f.dl"):
    """One reading of an ambiguous deadline date (ISO), with the time typed (HHMM)."""

    forum: int
    day: str
    at: str


@dataclass(frozen=True)
class KeepZone(ButtonData, prefix="f.tz"):
    """The deadline typed is in the forum's current time zone."""

    forum: int


@dataclass(frozen=True)
class SkipName(ButtonData, prefix="f.skipname"):
    """No name in this language for now: its readers see the fallback, marked."""

    forum: int
    language: str


# ---------------------------------------------------------------- texts


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
    return t.plain("%(days)s days before the deadline", days=t.join(t.number(d) for d in offsets))


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
        t.ngettext(
            "Compact: %(compacts)s",
            "Compacts: %(compacts)s",
            max(len(forum.compacts), 1),
            compacts=compacts_text(t, forum.compacts),
        ),
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
        button(f"✏️ {t.plain(FIELD_LABELS[field])}", EditField(forum.id, field))
        for field in (NAME, LOCATION, COMPACTS, STARTS, ENDS, DEADLINE, OFFSETS)
    ]
    toggle = (
        button(t.plain("🔒 Close for pledges"), ToggleOpen(forum.id, page))
        if forum.is_open
        else button(t.plain("🔓 Open for pledges"), ToggleOpen(forum.id, page))
    )
    back = button(t.plain("‹ Back to the forums"), ForumList(page))
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
            f"{t.number(first + i)}. {forum_name(forum, t.language)}",
            OpenForum(forum.id or 0, page),
        )
        for i, forum in enumerate(shown)
    ]
    keyboard = rows(buttons, 1)
    pager = pager_row(t, page=page, pages=pages, to_page=ForumList)
    if pager:
        keyboard.append(pager)
    keyboard.append([button(t.plain("➕ New forum"), NewForum())])
    return Html("\n".join(lines)), InlineKeyboardMarkup(keyboard)


def question(
    t: Translator, step: str, forum: Forum | None, data: Mapping[str, Any] | None = None
) -> Html:
    """What a step asks, with the value it would replace."""
    code = forum.code if forum is not None else ""
    if step == NAME_IN and forum is not None:
        language = str((data or {}).get("languages", ["en"])[0])
        return t.gettext(
            "What is the name of %(code)s in %(language)s? Until it is given, readers in "
            "%(language)s see its name in %(fallback)s.",
            code=code,
            language=t.language_name(language),
            fallback=t.language_name(fallback_language(forum, language)),
        )
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


def question_keyboard(
    t: Translator, step: str, forum: Forum | None, data: Mapping[str, Any] | None = None
) -> InlineKeyboardMarkup | None:
    """The time zone step offers to keep the forum's current zone; a name in another
    language can be skipped."""
    if forum is None or forum.id is None:
        return None
    if step == NAME_IN:
        language = str((data or {}).get("languages", ["en"])[0])
        return InlineKeyboardMarkup([[button(t.plain("Skip"), SkipName(forum.id, language))]])
    if step != TIME_ZONE:
        return None
    keep = t.plain("Keep %(zone)s", zone=forum.deadline_time_zone)
    return InlineKeyboardMarkup([[button(keep, KeepZone(forum.id))]])


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
            ChooseCompacts(forum.id, code),
        )
        for code, text in options
    ]
    return InlineKeyboardMarkup([buttons, [button(t.plain("‹ Back"), OpenForum(forum.id, 0))]])


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


def date_problem(t: Translator) -> Html:
    return t.gettext(
        "I could not read that date. Please send it like %(example)s.",
        example=EXAMPLE_DATE,
    )


def year_problem(t: Translator) -> Html:
    return t.gettext(
        "Please send a date between %(first)s and %(last)s.",
        first=EARLIEST_YEAR,
        last=LATEST_YEAR,
    )
