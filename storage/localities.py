"""Localities: the local and regional governments that pledge."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from sqlalchemy import insert, update
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


async def find_or_create_localities(
    *, session: AsyncSession, places: Iterable[tuple[str, str]], batch: int = 500
) -> dict[tuple[str, str], int]:
    """The ids of the localities named (name, country), by (name_key, country), those that are
    new created: a few statements for many places (an import), `batch` looked up at a time."""
    wanted: dict[tuple[str, str], str] = {}
    for name, country in places:
        wanted.setdefault((name_key(name), country.upper()), name)

    async def look_up(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for start in range(0, len(keys), batch):
            chunk = {key for key, _ in keys[start : start + batch]}
            statement = select(Locality.id, Locality.name_key, Locality.country).where(
                col(Locality.name_key).in_(chunk)
            )
            for locality_id, key, country in await session.exec(statement):
                if (key, country) in wanted and locality_id is not None:
                    found[(key, country)] = locality_id
        return found

    found = await look_up(list(wanted))
    new = [k for k in wanted if k not in found]
    if new:
        # Rows, not models: building thousands of models takes seconds.
        model = Locality(name="", name_key="", country="")
        table = Locality.__table__  # type: ignore[attr-defined]
        defaults = {c.key: getattr(model, c.key) for c in table.columns if not c.primary_key}
        rows = [
            {
                **defaults,
                "name": " ".join(wanted[k].split())[:200],
                "name_key": k[0],
                "country": k[1],
            }
            for k in new
        ]
        await session.exec(insert(table), params=rows)
        found |= await look_up(new)
    return found


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


# How a button carries a locality's answer on the Marrakech Mayors Declaration.
ENDORSEMENT_ANSWERS: dict[str, bool | None] = {"u": None, "y": True, "n": False}


async def set_endorsement(
    *, session: AsyncSession, locality: Locality, endorsed: bool, was: str
) -> bool:
    """Record whether the locality endorsed the Marrakech Mayors Declaration, over the answer
    the person saw (`was`: "u" unsaid, "y", "n"); False, and nothing changed, when a colleague
    answered in between. One conditional UPDATE, so of two answers at once one wins."""
    if was not in ENDORSEMENT_ANSWERS:
        return False
    seen = ENDORSEMENT_ANSWERS[was]
    current = col(Locality.endorsed_mmd)
    statement = (
        update(Locality)
        .where(col(Locality.id) == locality.id)
        .where(current.is_(None) if seen is None else current == seen)
        .values(endorsed_mmd=endorsed)
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(statement)
    await session.refresh(locality)
    return result.rowcount == 1
