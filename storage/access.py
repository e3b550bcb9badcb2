"""Who has access, and taking it back: members a coordinator deactivates or reactivates, and
invitations withdrawn before they are used. The chat (`conversations/access.py`) and the
command line (`pledgebot member`, `pledgebot invitations`) both go through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.conversation_state import clear_state
from storage.models import Invite, Locality, Member, NoticeKind
from storage.notices import queue_notices


@dataclass(frozen=True)
class MemberRow:
    """A member as listed: with the locality they represent (or represented)."""

    member: Member
    locality: Locality | None

    @property
    def role(self) -> str | None:
        """Their role, or the one they had before they were deactivated."""
        return self.member.role or self.member.revoked_role


@dataclass(frozen=True)
class InviteRow:
    invite: Invite
    locality: Locality | None
    created_by: Member | None


def _listed() -> ColumnElement[bool]:
    """Members with a role, or deactivated: people who only wrote to the bot are not listed."""
    return or_(col(Member.role).is_not(None), col(Member.revoked_at).is_not(None))


async def list_members(
    *, session: AsyncSession, offset: int = 0, limit: int | None = None
) -> tuple[Sequence[MemberRow], int]:
    """One page of members, the deactivated last, then by name; and how many there are."""
    locality_id = func.coalesce(col(Member.locality_id), col(Member.revoked_locality_id))
    statement = (
        select(Member, Locality)
        .outerjoin(Locality, col(Locality.id) == locality_id)
        .where(_listed())
        .order_by(
            col(Member.revoked_at).is_not(None), func.lower(Member.display_name), col(Member.id)
        )
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = [MemberRow(member, locality) for member, locality in await session.exec(statement)]
    total = (await session.exec(select(func.count()).select_from(Member).where(_listed()))).one()
    return rows, int(total)


async def member_row(*, session: AsyncSession, member_id: int) -> MemberRow | None:
    """One listed member, by id."""
    member = await session.get(Member, member_id)
    if member is None or (member.role is None and member.revoked_at is None):
        return None
    locality_id = member.locality_id or member.revoked_locality_id
    locality = await session.get(Locality, locality_id) if locality_id else None
    return MemberRow(member, locality)


async def deactivate_member(
    *, session: AsyncSession, member: Member, by_id: int | None, now: datetime
) -> list[int] | None:
    """Take the member's access back: from now on they are a stranger to every flow (their
    draft set aside, their pledges staying with the locality). Returns the notice that tells
    them (none if they stopped the bot's messages: they are told when they next write), or
    None if they had no access to take back."""
    if member.role is None or member.id is None:
        return None
    member.revoked_role, member.revoked_locality_id = member.role, member.locality_id
    member.role, member.locality_id = None, None
    member.revoked_at, member.revoked_by_id = now, by_id
    member.told_revoked = member.active
    session.add(member)
    await clear_state(session=session, member_id=member.id)
    if not member.active:
        return []
    return await queue_notices(
        session=session, kind=NoticeKind.ACCESS_ENDED, member_ids=[member.id], payload={}, now=now
    )


async def reactivate_member(
    *, session: AsyncSession, member: Member, now: datetime
) -> list[int] | None:
    """Give a deactivated member back the role and locality they had. Returns the notice that
    tells them, or None if they were not deactivated."""
    if member.revoked_at is None or member.revoked_role is None or member.id is None:
        return None
    member.role, member.locality_id = member.revoked_role, member.revoked_locality_id
    forget_revocation(member)
    session.add(member)
    if not member.active:
        return []
    return await queue_notices(
        session=session,
        kind=NoticeKind.ACCESS_RESTORED,
        member_ids=[member.id],
        payload={},
        now=now,
    )


def forget_revocation(member: Member) -> None:
    """The member is let in again (reactivated, or by a new invitation)."""
    member.revoked_at = member.revoked_by_id = None
    member.revoked_role = member.revoked_locality_id = None
    member.told_revoked = False


async def list_open_invites(*, session: AsyncSession, now: datetime) -> Sequence[InviteRow]:
    """Invitations that can still be used, newest first."""
    statement = (
        select(Invite, Locality, Member)
        .outerjoin(Locality, col(Locality.id) == col(Invite.locality_id))
        .outerjoin(Member, col(Member.id) == col(Invite.created_by_id))
        .where(
            col(Invite.revoked_at).is_(None),
            col(Invite.uses_left) > 0,
            col(Invite.expires_at) > now,
        )
        .order_by(col(Invite.created_at).desc(), col(Invite.id).desc())
    )
    return [InviteRow(*row) for row in await session.exec(statement)]


async def revoke_invite(*, session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Withdraw an invitation nobody has used up; False if it could not be used anyway."""
    invite = await session.get(Invite, invite_id)
    if invite is None or invite.revoked_at is not None or invite.uses_left < 1:
        return False
    if invite.expires_at <= now:
        return False
    invite.revoked_at, invite.uses_left = now, 0
    session.add(invite)
    return True
