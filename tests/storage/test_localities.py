"""Localities: one row per name and country, found whatever the spelling."""

from __future__ import annotations

from sqlmodel import select

from storage.engine import SessionFactory, transaction
from storage.localities import (
    find_or_create_locality,
    get_localities,
    name_key,
    search_localities,
)
from storage.models import Locality, LocalityKind


def test_name_key_folds_case_accents_and_spacing() -> None:
    assert name_key("  São   Paulo ") == name_key("sao paulo") == "sao paulo"
    assert name_key("MÜNCHEN") == name_key("munchen")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Zürich") != name_key("Zurich-Land")


async def test_find_or_create_ignores_case_accents_and_spaces(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        first = await find_or_create_locality(session=session, name="São Paulo", country="BR")
    async with transaction(sessions) as session:
        again = await find_or_create_locality(session=session, name="sao  paulo", country="br")
        shouting = await find_or_create_locality(session=session, name=" SÃO PAULO ", country="BR")
        rows = (await session.exec(select(Locality))).all()
    assert again.id == first.id == shouting.id
    assert len(rows) == 1
    assert rows[0].name == "São Paulo"  # the first spelling is kept, as typed
    assert rows[0].country == "BR"


async def test_the_same_name_in_another_country_is_another_locality(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        texas = await find_or_create_locality(session=session, name="Paris", country="US")
        france = await find_or_create_locality(session=session, name="Paris", country="FR")
        region = await find_or_create_locality(
            session=session, name="Catalunya", country="es", kind=LocalityKind.REGIONAL_GOVERNMENT
        )
    assert texas.id != france.id
    assert (texas.country, france.country) == ("US", "FR")
    assert region.country == "ES"
    assert region.kind == LocalityKind.REGIONAL_GOVERNMENT.value


async def test_spacing_in_a_new_name_is_tidied(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        locality = await find_or_create_locality(
            session=session, name="  New   York  City ", country="US"
        )
    assert locality.name == "New York City"


async def _seed(sessions: SessionFactory, *names: str, country: str = "FR") -> dict[str, int]:
    async with transaction(sessions) as session:
        made = [
            await find_or_create_locality(session=session, name=n, country=country) for n in names
        ]
    return {loc.name: loc.id for loc in made if loc.id is not None}


async def _search(sessions: SessionFactory, text: str, **kwargs: object) -> list[str]:
    async with transaction(sessions) as session:
        found = await search_localities(session=session, text=text, **kwargs)  # type: ignore[arg-type]
    return [loc.name for loc in found]


async def test_search_matches_substrings_ignoring_accents(sessions: SessionFactory) -> None:
    await _seed(sessions, "São Paulo", "Saint-Paul", "Montpellier", "Lyon")
    assert await _search(sessions, "PAUL") == ["Saint-Paul", "São Paulo"]
    assert await _search(sessions, "são") == ["São Paulo"]
    assert await _search(sessions, "sao") == ["São Paulo"]
    assert await _search(sessions, "pellié") == ["Montpellier"]
    assert await _search(sessions, "xyz") == []
    assert await _search(sessions, "   ") == []


async def test_search_treats_percent_and_underscore_as_text(sessions: SessionFactory) -> None:
    await _seed(sessions, "100% Town", "Snake_Case City", "Plain", "SnakeXCase")
    assert await _search(sessions, "%") == ["100% Town"]
    assert await _search(sessions, "_") == ["Snake_Case City"]
    assert await _search(sessions, "snake_case") == ["Snake_Case City"]
    assert await _search(sessions, "\\") == []


async def test_search_excludes_the_given_locality(sessions: SessionFactory) -> None:
    ids = await _seed(sessions, "Villeurbanne", "Villejuif", "Villeneuve")
    found = await _search(sessions, "ville", exclude_id=ids["Villejuif"])
    assert found == ["Villeneuve", "Villeurbanne"]


async def test_search_respects_the_limit(sessions: SessionFactory) -> None:
    await _seed(sessions, *[f"Ville {n:02d}" for n in range(12)])
    assert len(await _search(sessions, "ville")) == 8  # the default
    assert await _search(sessions, "ville", limit=3) == ["Ville 00", "Ville 01", "Ville 02"]


async def test_search_spans_countries(sessions: SessionFactory) -> None:
    await _seed(sessions, "Córdoba", country="AR")
    await _seed(sessions, "Córdoba", country="ES")
    async with transaction(sessions) as session:
        found = await search_localities(session=session, text="cordoba")
    assert sorted(loc.country for loc in found) == ["AR", "ES"]


async def test_get_localities_keeps_the_order_asked(sessions: SessionFactory) -> None:
    ids = await _seed(sessions, "Accra", "Tema", "Kumasi")
    async with transaction(sessions) as session:
        asked = [ids["Kumasi"], 999_999, ids["Accra"]]
        found = await get_localities(session=session, ids=asked)
        none = await get_localities(session=session, ids=[])
    assert [loc.name for loc in found] == ["Kumasi", "Accra"]
    assert none == []
