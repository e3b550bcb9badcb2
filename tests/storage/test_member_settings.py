"""Members' settings: a default time zone from the country, the setters' checks, stop and resume."""

from __future__ import annotations

import pytest
from babel.core import get_global

from storage.engine import SessionFactory, transaction
from storage.members import (
    default_time_zone,
    get_member,
    grant_role,
    is_time_zone,
    list_coordinators,
    resume_member,
    set_muted_kinds,
    set_reminder_hour,
    set_time_zone,
    stop_member,
)
from storage.models import Member, ReminderKind, Role
from tests.storage.helpers import make_locality, make_member


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("FR", "Europe/Paris"),
        ("fr", "Europe/Paris"),
        ("BR", "America/Sao_Paulo"),  # Brasília's zone, not Babel's first (Araguaina)
        ("US", "America/New_York"),
        ("RU", "Europe/Moscow"),
        ("AR", "America/Argentina/Buenos_Aires"),
        ("KE", "Africa/Nairobi"),
        ("UM", "Pacific/Wake"),  # several zones and no capital: Babel's first
        ("ZZ", "UTC"),  # the unknown region
        ("XX", "UTC"),
        ("", "UTC"),
        (None, "UTC"),
    ],
)
def test_default_time_zone(country: str | None, zone: str) -> None:
    assert default_time_zone(country=country) == zone


def test_every_country_gets_a_real_zone_of_its_own() -> None:
    territory_zones: dict[str, list[str]] = get_global("territory_zones")
    for country, zones in territory_zones.items():
        if country in {"001", "ZZ"}:
            continue
        found = default_time_zone(country=country)
        assert is_time_zone(found), country
        assert found in zones, country


async def test_setters_keep_valid_values_and_refuse_the_rest(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member = await make_member(session, Role.COORDINATOR)
        assert (member.time_zone, member.reminder_hour, member.muted_kinds) == ("UTC", 9, [])
        await set_time_zone(session=session, member=member, time_zone="America/Sao_Paulo")
        await set_reminder_hour(session=session, member=member, hour=0)
        await set_reminder_hour(session=session, member=member, hour=23)
        await set_muted_kinds(
            session=session,
            member=member,
            kinds=["closing", ReminderKind.DIGEST, "closing"],
        )
        for bad_zone in ("Mars/Olympus_Mons", "america/sao_paulo", "", "localtime", "../etc"):
            with pytest.raises(ValueError):
                await set_time_zone(session=session, member=member, time_zone=bad_zone)
        for bad_hour in (-1, 24, 100):
            with pytest.raises(ValueError):
                await set_reminder_hour(session=session, member=member, hour=bad_hour)
        with pytest.raises(ValueError):
            await set_muted_kinds(session=session, member=member, kinds=["digest", "weekly"])
    async with transaction(sessions) as session:
        loaded = await get_member(session=session, member_id=member.id or 0)
    assert loaded is not None
    assert loaded.time_zone == "America/Sao_Paulo"
    assert loaded.reminder_hour == 23
    assert loaded.muted_kinds == ["digest", "closing"]  # once each, in the enumeration's order


async def test_muted_kinds_can_be_emptied(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member = await make_member(session, Role.COORDINATOR)
        await set_muted_kinds(session=session, member=member, kinds=["digest"])
    async with transaction(sessions) as session:
        loaded = await get_member(session=session, member_id=member.id or 0)
        assert loaded is not None and loaded.muted_kinds == ["digest"]
        await set_muted_kinds(session=session, member=loaded, kinds=[])
    async with transaction(sessions) as session:
        loaded = await get_member(session=session, member_id=member.id or 0)
    assert loaded is not None and loaded.muted_kinds == []


async def test_stop_and_resume(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member = await make_member(session, Role.COORDINATOR)
        assert await stop_member(session=session, member=member) is True
        assert await stop_member(session=session, member=member) is False
    async with transaction(sessions) as session:
        assert await list_coordinators(session=session) == []
        loaded = await get_member(session=session, member_id=member.id or 0)
        assert loaded is not None and loaded.active is False
        assert await resume_member(session=session, member=loaded) is True
        assert await resume_member(session=session, member=loaded) is False
    async with transaction(sessions) as session:
        assert [m.id for m in await list_coordinators(session=session)] == [member.id]


async def test_an_official_gets_their_countrys_time_zone(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        lyon = await make_locality(session, "Lyon", "FR")
        quito = await make_locality(session, "Quito", "EC")
        official = await make_member(session, Role.OFFICIAL, locality_id=lyon.id)
        coordinator = await make_member(session, Role.COORDINATOR, locality_id=lyon.id)
        chosen = await make_member(session, None)
        await set_time_zone(session=session, member=chosen, time_zone="Asia/Tokyo")
        await grant_role(session=session, member=chosen, role=Role.OFFICIAL, locality_id=quito.id)
    async with transaction(sessions) as session:
        loaded = {
            m.id: m
            for m in [
                await get_member(session=session, member_id=x.id or 0)
                for x in (official, coordinator, chosen)
            ]
            if isinstance(m, Member)
        }
    assert loaded[official.id].time_zone == "Europe/Paris"
    assert loaded[coordinator.id].time_zone == "UTC"  # no locality, no country to go by
    assert loaded[chosen.id].time_zone == "Asia/Tokyo"  # a zone already chosen is kept
