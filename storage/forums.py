"""Forums at which pledges are delivered."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Forum


async def list_open_forums(*, session: AsyncSession) -> Sequence[Forum]:
    """Forums taking pledges now, soonest first (undated last)."""
    statement = (
        select(Forum)
        .where(col(Forum.is_open).is_(True))
        .order_by(col(Forum.starts_on).is_(None), col(Forum.starts_on), col(Forum.code))
    )
    return (await session.exec(statement)).all()


async def get_forum(*, session: AsyncSession, forum_id: int) -> Forum | None:
    """A forum by id."""
    return await session.get(Forum, forum_id)


def forum_name(forum: Forum, language: str) -> str:
    """The forum's name in `language` (zh_Hans finds zh), else in English, else its code."""
    return (
        forum.names.get(language)
        or forum.names.get(language.split("_", 1)[0])
        or forum.names.get("en")
        or forum.code
    )
