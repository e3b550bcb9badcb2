"""Invites: random tokens, stored hashed, single-use by default, that expire."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.localities import find_or_create_locality
from storage.models import Invite, Locality, Role
from storage.types import utc_now

TOKEN_BYTES = 24  # 32 URL-safe characters: well inside Telegram's 64-character start parameter
INVITE_LIFETIME = timedelta(days=14)


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"  # withdrawn by a coordinator before it was used


@dataclass(frozen=True)
class IssuedInvite:
    invite: Invite
    token: str
    locality: Locality | None = None  # an official's, as `issue_invite` found or created it


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256, so a leaked table opens no doors."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invite(
    *,
    session: AsyncSession,
    role: Role,
    locality_id: int | None,
    uses: int = 1,
    expires_in: timedelta = INVITE_LIFETIME,
    created_by_id: int | None = None,
) -> IssuedInvite:
    """A new invite; the token is returned once and never stored."""
    if role is Role.OFFICIAL and locality_id is None:
        raise ValueError("an official's invite needs a locality")
    if uses < 1:
        raise ValueError("an invite needs at least one use")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite = Invite(
        token_hash=hash_token(token),
        role=role.value,
        locality_id=locality_id if role is Role.OFFICIAL else None,
        uses_left=uses,
        expires_at=utc_now() + expires_in,
        created_by_id=created_by_id,
    )
    session.add(invite)
    await session.flush()
    return IssuedInvite(invite=invite, token=token)


async def issue_invite(
    *,
    session: AsyncSession,
    role: Role,
    locality: str | None = None,
    country: str | None = None,
    uses: int = 1,
    expires_in: timedelta = INVITE_LIFETIME,
    created_by_id: int | None = None,
) -> IssuedInvite:
    """A new invite for a role: an official's to the locality of that name in that country
    (found, or created if new); coordinators' and staff's name none, so `locality` and
    `country` are not read for them."""
    found = None
    if role is Role.OFFICIAL:
        if not locality or not country:
            raise ValueError("an official's invite needs a locality and its country")
        found = await find_or_create_locality(session=session, name=locality, country=country)
    issued = await create_invite(
        session=session,
        role=role,
        locality_id=found.id if found is not None else None,
        uses=uses,
        expires_in=expires_in,
        created_by_id=created_by_id,
    )
    return replace(issued, locality=found)


async def redeem_invite(*, session: AsyncSession, token: str) -> Invite | InviteProblem:
    """Use one of an invite's uses, or say why it cannot be used."""
    invite = (
        await session.exec(select(Invite).where(Invite.token_hash == hash_token(token)))
    ).first()
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.revoked_at is not None:
        return InviteProblem.REVOKED
    if invite.expires_at <= utc_now():
        return InviteProblem.EXPIRED
    # Decrement in the database so two people racing for the last use cannot both win.
    result = await session.exec(
        update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.uses_left) > 0)
        .values(uses_left=col(Invite.uses_left) - 1)
    )
    if result.rowcount != 1:
        return InviteProblem.USED
    await session.refresh(invite)
    return invite
