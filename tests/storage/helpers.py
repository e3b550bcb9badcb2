"""Small builders for storage tests: localities and members with a role."""

from __future__ import annotations

import itertools

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.localities import find_or_create_locality
from storage.members import get_or_create_member, grant_role
from storage.models import Locality, Member, Role

_telegram_ids = itertools.count(100_001)


def is_postgres(database_url: str) -> bool:
    """True when the test runs on PostgreSQL."""
    return database_url.startswith("postgresql")


async def make_locality(session: AsyncSession, name: str = "Lyon", country: str = "FR") -> Locality:
    """A locality, created if new."""
    return await find_or_create_locality(session=session, name=name, country=country)


async def make_member(
    session: AsyncSession,
    role: Role | None = Role.OFFICIAL,
    *,
    locality_id: int | None = None,
    telegram_id: int | None = None,
    name: str = "Ana",
) -> Member:
    """A member let in with `role` (officials need `locality_id`)."""
    member, _, _state = await get_or_create_member(
        session=session,
        telegram_id=telegram_id if telegram_id is not None else next(_telegram_ids),
        display_name=name,
        language="en",
    )
    if role is not None:
        await grant_role(session=session, member=member, role=role, locality_id=locality_id)
        await session.flush()
    return member


async def count(session: AsyncSession, model: type) -> int:
    """How many rows a table holds."""
    return (await session.exec(select(func.count()).select_from(model))).one()
