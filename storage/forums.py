"""Forums at which pledges are delivered: listed, created and edited by coordinators."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import MAX_DESCRIPTION, Compact, Forum
from storage.zones import is_time_zone

FORUM_CODE = re.compile(r"^[A-Z0-9]{3,16}$")
LANGUAGE_KEY = re.compile(r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")
MAX_OFFSET_DAYS = 365
MAX_NAME = 200
MAX_LOCATION = 200
EDITABLE = frozenset(
    {
        "code",
        "names",
        "location",
        "compacts",
        "starts_on",
        "ends_on",
        "pledge_deadline",
        "deadline_time_zone",
        "reminder_offsets",
        "is_open",
        "progress_review",
        "description_min",
        "description_max",
        "multistakeholder_pledges",
    }
)


class ForumError(ValueError):
    """A forum value refused: `problem` is a code callers explain; the message is English."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def normalize_code(code: str) -> str:
    """A forum code, upper-cased; refused unless it is 3–16 letters A–Z or digits."""
    cleaned = code.strip().upper()
    if not FORUM_CODE.match(cleaned):
        raise ForumError("code", f"a forum code is 3 to 16 letters A-Z or digits, not {code!r}")
    return cleaned


def normalize_offsets(offsets: Sequence[int]) -> list[int]:
    """Reminder offsets in days: whole numbers 1–365, deduplicated, largest first."""
    kept: set[int] = set()
    for offset in offsets:
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise ForumError("offsets", f"reminder offsets are whole days, not {offset!r}")
        if not 1 <= offset <= MAX_OFFSET_DAYS:
            raise ForumError(
                "offsets", f"reminder offsets are 1 to {MAX_OFFSET_DAYS} days, not {offset}"
            )
        kept.add(offset)
    return sorted(kept, reverse=True)


def _names(names: Mapping[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for language, name in names.items():
        if not LANGUAGE_KEY.match(language):
            raise ForumError("name", f"unknown language code {language!r} for a forum name")
        text = " ".join(str(name).split())
        if not text:
            continue
        if len(text) > MAX_NAME:
            raise ForumError("name", f"a forum name is at most {MAX_NAME} characters")
        cleaned[language] = text
    if not cleaned:
        raise ForumError("name", "a forum needs a name in at least one language")
    return cleaned


def _compacts(compacts: Sequence[str]) -> list[str]:
    known = {c.value for c in Compact}
    chosen = {str(c).strip().lower() for c in compacts}
    if not chosen or not chosen <= known:
        raise ForumError("compacts", "a forum serves the GCM, the GCR or both")
    return sorted(chosen)


def _deadline(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ForumError("deadline", "a pledge deadline must be an aware datetime")
    return value.astimezone(UTC)


def _date(value: date | None, field: str) -> date | None:
    if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
        raise ForumError("dates", f"{field} must be a date")
    return value


def _check(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Each change validated and normalised; unknown fields are refused."""
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise ForumError("field", f"forums have no field {unknown[0]!r} to change")
    checked: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "code":
            checked[field] = normalize_code(value)
        elif field == "names":
            checked[field] = _names(value)
        elif field == "location":
            location = " ".join(str(value or "").split())
            if len(location) > MAX_LOCATION:
                raise ForumError("location", f"a location is at most {MAX_LOCATION} characters")
            checked[field] = location
        elif field == "compacts":
            checked[field] = _compacts(value)
        elif field in ("starts_on", "ends_on"):
            checked[field] = _date(value, field)
        elif field == "pledge_deadline":
            checked[field] = _deadline(value)
        elif field == "deadline_time_zone":
            if not is_time_zone(str(value)):
                raise ForumError("time_zone", f"unknown time zone {value!r}")
            checked[field] = str(value)
        elif field == "reminder_offsets":
            checked[field] = normalize_offsets(value)
        elif field == "multistakeholder_pledges":
            checked[field] = _multistakeholder(value)
        elif field in ("description_min", "description_max"):
            checked[field] = _description_limit(value)
        else:  # is_open, progress_review
            checked[field] = bool(value)
    return checked


def _description_limit(value: Any) -> int | None:
    """A description length a forum's form asks, within what a pledge can hold."""
    if value is None:
        return None
    if not isinstance(value, int) or not 1 <= value <= MAX_DESCRIPTION:
        raise ForumError(
            "description", f"a description limit is a whole number from 1 to {MAX_DESCRIPTION}"
        )
    return value


MAX_MULTISTAKEHOLDER, MAX_MULTISTAKEHOLDER_NAME = 60, 200


def _multistakeholder(value: Any) -> list[str]:
    """The names of a forum's multistakeholder pledges: tidied, once each, in order."""
    names = [" ".join(str(v).split()) for v in (value or [])]
    kept = list(dict.fromkeys(n for n in names if n))
    if any(";" in n for n in kept):
        raise ForumError("multistakeholder", "a multistakeholder pledge's name has no ';'")
    if len(kept) > MAX_MULTISTAKEHOLDER or any(len(n) > MAX_MULTISTAKEHOLDER_NAME for n in kept):
        raise ForumError(
            "multistakeholder",
            f"at most {MAX_MULTISTAKEHOLDER} multistakeholder pledges of up to "
            f"{MAX_MULTISTAKEHOLDER_NAME} characters each",
        )
    return kept


def _check_description_limits(minimum: int | None, maximum: int | None) -> None:
    if minimum is not None and maximum is not None and maximum < minimum:
        raise ForumError("description", "the longest description cannot be under the shortest")


async def _code_taken(session: AsyncSession, code: str, forum_id: int | None) -> bool:
    statement = select(Forum.id).where(Forum.code == code)
    if forum_id is not None:
        statement = statement.where(Forum.id != forum_id)
    return (await session.exec(statement)).first() is not None


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ForumError("dates", "a forum cannot end before it starts")


async def create_forum(
    *,
    session: AsyncSession,
    code: str,
    names: Mapping[str, str],
    location: str = "",
    compacts: Sequence[str] = (Compact.GCM.value, Compact.GCR.value),
    starts_on: date | None = None,
    ends_on: date | None = None,
    pledge_deadline: datetime | None = None,
    deadline_time_zone: str = "UTC",
    reminder_offsets: Sequence[int] = (30, 14, 7, 3, 1),
    is_open: bool = True,
    progress_review: bool = False,
    description_min: int | None = None,
    description_max: int | None = None,
) -> Forum:
    """A new forum, every value checked; the code must be new."""
    values = _check(
        {
            "code": code,
            "names": names,
            "location": location,
            "compacts": compacts,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "pledge_deadline": pledge_deadline,
            "deadline_time_zone": deadline_time_zone,
            "reminder_offsets": reminder_offsets,
            "is_open": is_open,
            "progress_review": progress_review,
            "description_min": description_min,
            "description_max": description_max,
        }
    )
    _check_dates(values["starts_on"], values["ends_on"])
    _check_description_limits(values["description_min"], values["description_max"])
    if await _code_taken(session, values["code"], None):
        raise ForumError("code_taken", f"there is already a forum {values['code']}")
    forum = Forum(**values)
    session.add(forum)
    await session.flush()
    return forum


async def update_forum(*, session: AsyncSession, forum: Forum, changes: Mapping[str, Any]) -> Forum:
    """Change some of a forum's values, each checked; nothing changes if one is refused."""
    values = _check(changes)
    _check_dates(values.get("starts_on", forum.starts_on), values.get("ends_on", forum.ends_on))
    _check_description_limits(
        values.get("description_min", forum.description_min),
        values.get("description_max", forum.description_max),
    )
    if "code" in values and await _code_taken(session, values["code"], forum.id):
        raise ForumError("code_taken", f"there is already a forum {values['code']}")
    for field, value in values.items():
        setattr(forum, field, value)
    session.add(forum)
    await session.flush()
    return forum


async def list_forums(*, session: AsyncSession) -> Sequence[Forum]:
    """Every forum: open ones first, then by start date (undated last), then by code."""
    statement = select(Forum).order_by(
        col(Forum.is_open).desc(),
        col(Forum.starts_on).is_(None),
        col(Forum.starts_on).desc(),
        col(Forum.code),
    )
    return (await session.exec(statement)).all()


async def list_open_forums(*, session: AsyncSession) -> Sequence[Forum]:
    """Forums taking pledges now, soonest first (undated last)."""
    statement = (
        select(Forum)
        .where(col(Forum.is_open).is_(True))
        .order_by(col(Forum.starts_on).is_(None), col(Forum.starts_on), col(Forum.code))
    )
    return (await session.exec(statement)).all()


async def upcoming_deadlines(*, session: AsyncSession, now: datetime) -> Sequence[Forum]:
    """Open forums whose pledge deadline is still ahead of `now`, soonest first."""
    statement = (
        select(Forum)
        .where(
            col(Forum.is_open).is_(True),
            col(Forum.pledge_deadline).is_not(None),
            col(Forum.pledge_deadline) > _deadline(now),
        )
        .order_by(col(Forum.pledge_deadline), col(Forum.code))
    )
    return (await session.exec(statement)).all()


async def get_forum(*, session: AsyncSession, forum_id: int) -> Forum | None:
    """A forum by id."""
    return await session.get(Forum, forum_id)


async def get_forum_by_code(*, session: AsyncSession, code: str) -> Forum | None:
    """A forum by its code, whatever the case it is typed in."""
    statement = select(Forum).where(Forum.code == code.strip().upper())
    return (await session.exec(statement)).first()


def forum_name(forum: Forum, language: str) -> str:
    """The forum's name in `language` (zh_Hans finds zh); else, marked with the language it is
    in, its name in English or in any language ('Mayors Forum 2027 (EN)'); else its code."""
    own = forum.names.get(language) or forum.names.get(language.split("_", 1)[0])
    if own:
        return own
    other = fallback_language(forum, language)
    name = forum.names.get(other)
    return f"{name} ({other.upper()})" if name else forum.code


def fallback_language(forum: Forum, language: str) -> str:
    """The language of the name shown to readers of `language`: theirs, else English, else
    the first the forum has."""
    for candidate in (language, language.split("_", 1)[0], "en"):
        if forum.names.get(candidate):
            return candidate
    return next((lang for lang, name in forum.names.items() if name), "en")


async def get_forums(*, session: AsyncSession, ids: Collection[int]) -> Sequence[Forum]:
    """Forums by id (for a batch of reminders)."""
    if not ids:
        return []
    return (await session.exec(select(Forum).where(col(Forum.id).in_(ids)))).all()
