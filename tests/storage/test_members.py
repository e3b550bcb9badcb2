"""Members: created at first contact, with roles, languages and a stopped flag."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from storage.access_requests import (
    create_access_request,
    decide_access_request,
    get_access_request,
)
from storage.engine import SessionFactory, transaction
from storage.members import (
    get_member,
    get_member_by_telegram_id,
    get_or_create_member,
    grant_role,
    list_coordinators,
    mark_stopped,
    set_member_language,
)
from storage.models import AccessRequestStatus, Member, Role
from tests.storage.helpers import make_locality, make_member

BIG_TELEGRAM_ID = 7_000_000_001  # above 2**31 and 2**32: needs BigInteger


async def test_get_or_create_creates_once(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member, created, _state = await get_or_create_member(
            session=session, telegram_id=42, display_name="Amina", language="fr"
        )
        first_seen = member.last_seen_at
    assert created is True
    assert member.id is not None
    assert (member.language, member.role, member.active) == ("fr", None, True)
    async with transaction(sessions) as session:
        again, created_again, _state = await get_or_create_member(
            session=session, telegram_id=42, display_name="Amina K.", language="en"
        )
    assert created_again is False
    assert again.id == member.id
    assert again.display_name == "Amina K."
    assert again.language == "fr"  # a later Telegram language does not override a choice
    assert again.last_seen_at >= first_seen
    async with transaction(sessions) as session:
        assert len((await session.exec(select(Member))).all()) == 1


async def test_big_telegram_ids_are_stored(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member, _, _state = await get_or_create_member(
            session=session, telegram_id=BIG_TELEGRAM_ID, display_name="Big", language="en"
        )
    async with transaction(sessions) as session:
        found = await get_member_by_telegram_id(session=session, telegram_id=BIG_TELEGRAM_ID)
        raw = (await session.exec(text("SELECT telegram_id FROM member"))).scalar_one()
        _, created, _state = await get_or_create_member(
            session=session, telegram_id=BIG_TELEGRAM_ID, display_name="Big", language="en"
        )
    assert found is not None and found.id == member.id
    assert found.telegram_id == BIG_TELEGRAM_ID
    assert raw == BIG_TELEGRAM_ID
    assert created is False


async def test_long_display_names_are_cut(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member, _, _state = await get_or_create_member(
            session=session, telegram_id=7, display_name="x" * 500, language="en"
        )
    assert len(member.display_name) == 200


async def test_grant_role_sets_locality_only_for_officials(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        locality = await make_locality(session)
        official = await make_member(session, Role.OFFICIAL, locality_id=locality.id)
        coordinator = await make_member(session, Role.COORDINATOR, locality_id=locality.id)
    async with transaction(sessions) as session:
        loaded_official = await get_member(session=session, member_id=official.id or 0)
        loaded_coordinator = await get_member(session=session, member_id=coordinator.id or 0)
    assert loaded_official is not None and loaded_coordinator is not None
    assert (loaded_official.role, loaded_official.locality_id) == ("official", locality.id)
    assert (loaded_coordinator.role, loaded_coordinator.locality_id) == ("coordinator", None)


async def test_list_coordinators_returns_only_active_coordinators(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        locality = await make_locality(session)
        first = await make_member(session, Role.COORDINATOR, name="first")
        await make_member(session, Role.OFFICIAL, locality_id=locality.id, name="official")
        await make_member(session, Role.STAFF, name="staff")
        await make_member(session, None, name="newcomer")
        stopped = await make_member(session, Role.COORDINATOR, name="stopped")
        second = await make_member(session, Role.COORDINATOR, name="second")
        await mark_stopped(session=session, member_ids=[stopped.id or 0, 999_999])
    async with transaction(sessions) as session:
        coordinators = await list_coordinators(session=session)
    assert [m.display_name for m in coordinators] == ["first", "second"]
    assert {m.id for m in coordinators} == {first.id, second.id}


async def test_a_stopped_member_who_is_let_in_again_is_active(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member = await make_member(session, Role.COORDINATOR)
        await mark_stopped(session=session, member_ids=[member.id or 0])
    async with transaction(sessions) as session:
        loaded = await get_member(session=session, member_id=member.id or 0)
        assert loaded is not None and loaded.active is False
        await grant_role(session=session, member=loaded, role=Role.COORDINATOR, locality_id=None)
    async with transaction(sessions) as session:
        assert [m.id for m in await list_coordinators(session=session)] == [member.id]


async def test_set_member_language_is_kept(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        member = await make_member(session, Role.STAFF)
        await set_member_language(session=session, member=member, language="ar")
    async with transaction(sessions) as session:
        loaded = await get_member(session=session, member_id=member.id or 0)
    assert loaded is not None and loaded.language == "ar"


async def test_access_request_is_decided_once(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        asker = await make_member(session, None)
        coordinator = await make_member(session, Role.COORDINATOR)
        request = await create_access_request(
            session=session,
            member_id=asker.id or 0,
            name="Ana",
            position="Focal point",
            locality_name="Quito",
            country="ec",
        )
    assert request.country == "EC"
    assert request.status == AccessRequestStatus.PENDING.value
    async with transaction(sessions) as session:
        loaded = await get_access_request(session=session, request_id=request.id or 0)
        assert loaded is not None
        assert await decide_access_request(
            session=session, request=loaded, approve=True, decided_by_id=coordinator.id or 0
        )
    async with transaction(sessions) as session:
        loaded = await get_access_request(session=session, request_id=request.id or 0)
        assert loaded is not None
        assert loaded.status == AccessRequestStatus.APPROVED.value
        assert loaded.decided_by_id == coordinator.id
        assert loaded.decided_at is not None
        assert loaded.decided_at - loaded.created_at < timedelta(minutes=1)
        assert not await decide_access_request(
            session=session, request=loaded, approve=False, decided_by_id=coordinator.id or 0
        )
        assert loaded.status == AccessRequestStatus.APPROVED.value
