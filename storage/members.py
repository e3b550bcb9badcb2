"""Members: the people who talk to the bot."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Member, Role
from storage.types import utc_now


async def get_or_create_member(
    *, session: AsyncSession, telegram_id: int, display_name: str, language: str
) -> tuple[Member, bool]:
    """The member for a Telegram user, created at first contact; True when new."""
    member = await get_member_by_telegram_id(session=session, telegram_id=telegram_id)
    if member is not None:
        member.last_seen_at = utc_now()
        if display_name and member.display_name != display_name:
            member.display_name = display_name[:200]
        session.add(member)
        return member, False
    member = Member(telegram_id=telegram_id, display_name=display_name[:200], language=language)
    session.add(member)
    await session.flush()
    return member, True


async def get_member_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Member | None:
    """The member for a Telegram user, if they have written before."""
    return (await session.exec(select(Member).where(Member.telegram_id == telegram_id))).first()


async def get_member(*, session: AsyncSession, member_id: int) -> Member | None:
    """A member by id."""
    return await session.get(Member, member_id)


async def set_member_language(*, session: AsyncSession, member: Member, language: str) -> None:
    """Change the language a member reads the bot in."""
    member.language = language
    session.add(member)


async def grant_role(
    *, session: AsyncSession, member: Member, role: Role, locality_id: int | None
) -> None:
    """Let a member in with a role (and, for officials, a locality)."""
    member.role = role.value
    member.locality_id = locality_id if role is Role.OFFICIAL else None
    member.active = True
    session.add(member)


async def list_coordinators(*, session: AsyncSession) -> Sequence[Member]:
    """Active coordinators, who receive requests and submissions."""
    statement = (
        select(Member)
        .where(Member.role == Role.COORDINATOR.value, col(Member.active).is_(True))
        .order_by(col(Member.id))
    )
    return (await session.exec(statement)).all()


async def mark_stopped(*, session: AsyncSession, member_ids: Sequence[int]) -> None:
    """Members who blocked the bot: no more messages until they come back."""
    for member_id in member_ids:
        member = await session.get(Member, member_id)
        if member is not None:
            member.active = False
            session.add(member)
