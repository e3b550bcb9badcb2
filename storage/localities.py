"""Localities: the local and regional governments that pledge."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Locality, LocalityKind


def name_key(name: str) -> str:
    """A locality name folded for matching: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())[:200]


async def find_or_create_locality(
    *,
    session: AsyncSession,
    name: str,
    country: str,
    kind: LocalityKind = LocalityKind.MUNICIPALITY,
) -> Locality:
    """The locality with this name in this country, created if it is new."""
    key, country = name_key(name), country.upper()
    statement = select(Locality).where(Locality.name_key == key, Locality.country == country)
    locality = (await session.exec(statement)).first()
    if locality is None:
        locality = Locality(
            name=" ".join(name.split())[:200], name_key=key, country=country, kind=kind.value
        )
        session.add(locality)
        await session.flush()
    return locality


async def get_locality(*, session: AsyncSession, locality_id: int) -> Locality | None:
    """A locality by id."""
    return await session.get(Locality, locality_id)


async def get_localities(*, session: AsyncSession, ids: Sequence[int]) -> list[Locality]:
    """Localities by id, in the order asked."""
    if not ids:
        return []
    found = {
        loc.id: loc
        for loc in (await session.exec(select(Locality).where(col(Locality.id).in_(ids)))).all()
    }
    return [found[i] for i in ids if i in found]


async def search_localities(
    *, session: AsyncSession, text: str, exclude_id: int | None = None, limit: int = 8
) -> Sequence[Locality]:
    """Localities whose name contains `text`, ignoring case and accents."""
    key = name_key(text)
    if not key:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    statement = select(Locality).where(col(Locality.name_key).like(f"%{escaped}%", escape="\\"))
    if exclude_id is not None:
        statement = statement.where(Locality.id != exclude_id)
    statement = statement.order_by(col(Locality.name_key)).limit(limit)
    return (await session.exec(statement)).all()


async def set_endorsement(*, session: AsyncSession, locality: Locality, endorsed: bool) -> None:
    """Record whether the locality endorsed the Marrakech Mayors Declaration (asked once)."""
    locality.endorsed_mmd = endorsed
    session.add(locality)
