"""Conversation state: the step each person is on, kept in the database across restarts."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.conversation_state import clear_state, get_state, set_state
from storage.engine import SessionFactory, create_engine, session_factory, transaction
from storage.models import ConversationState, Role
from storage.pledges import create_draft
from tests.storage.helpers import make_locality, make_member


async def _member_id(sessions: SessionFactory, role: Role | None = None) -> int:
    async with transaction(sessions) as session:
        member = await make_member(session, role)
    assert member.id is not None
    return member.id


async def test_set_get_clear_round_trip(sessions: SessionFactory) -> None:
    member_id = await _member_id(sessions)
    async with transaction(sessions) as session:
        assert await get_state(session=session, member_id=member_id) is None
        await set_state(
            session=session,
            member_id=member_id,
            flow="onboarding",
            step="name",
            data={"country": "BR", "tries": 1, "picked": [3, 5], "nested": {"a": "São Paulo"}},
        )
    async with transaction(sessions) as session:
        state = await get_state(session=session, member_id=member_id)
        assert state is not None
        assert (state.flow, state.step, state.pledge_id) == ("onboarding", "name", None)
        assert state.data == {
            "country": "BR",
            "tries": 1,
            "picked": [3, 5],
            "nested": {"a": "São Paulo"},
        }
        assert state.updated_at.utcoffset() is not None
        assert await clear_state(session=session, member_id=member_id) is True
    async with transaction(sessions) as session:
        assert await get_state(session=session, member_id=member_id) is None
        assert await clear_state(session=session, member_id=member_id) is False
        assert (await session.exec(select(ConversationState))).all() == []


async def test_a_new_step_replaces_the_data(sessions: SessionFactory) -> None:
    member_id = await _member_id(sessions)
    async with transaction(sessions) as session:
        await set_state(
            session=session,
            member_id=member_id,
            flow="onboarding",
            step="name",
            data={"name": "Ana", "country": "BR"},
        )
    async with transaction(sessions) as session:
        first = await get_state(session=session, member_id=member_id)
        assert first is not None
        before = first.updated_at
        await set_state(
            session=session,
            member_id=member_id,
            flow="onboarding",
            step="position",
            data={"position": "Focal point"},
        )
    async with transaction(sessions) as session:
        state = await get_state(session=session, member_id=member_id)
        assert state is not None
        assert state.step == "position"
        assert state.data == {"position": "Focal point"}  # replaced, not merged
        assert state.updated_at >= before
        await set_state(session=session, member_id=member_id, flow="admin", step="menu")
    async with transaction(sessions) as session:
        state = await get_state(session=session, member_id=member_id)
        assert state is not None
        assert (state.flow, state.step, state.data) == ("admin", "menu", {})
        assert len((await session.exec(select(ConversationState))).all()) == 1


async def test_each_member_has_their_own_state(sessions: SessionFactory) -> None:
    first, second = await _member_id(sessions), await _member_id(sessions)
    async with transaction(sessions) as session:
        await set_state(session=session, member_id=first, flow="wizard", step="title")
        await set_state(session=session, member_id=second, flow="onboarding", step="name")
        await clear_state(session=session, member_id=first)
    async with transaction(sessions) as session:
        assert await get_state(session=session, member_id=first) is None
        kept = await get_state(session=session, member_id=second)
        assert kept is not None and kept.flow == "onboarding"


async def test_state_survives_a_restart(database_url: str, sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        locality = await make_locality(session)
        member = await make_member(session, Role.OFFICIAL, locality_id=locality.id)
        pledge = await create_draft(session=session, member=member, language="es")
        assert member.id is not None
        await set_state(
            session=session,
            member_id=member.id,
            flow="wizard",
            step="description",
            pledge_id=pledge.id,
            data={"title": "Centro de acogida", "back": ["title"]},
        )
    # A new process: a fresh engine on the same database.
    restarted = create_engine(database_url)
    try:
        async with transaction(session_factory(restarted)) as session:
            state = await get_state(session=session, member_id=member.id)
    finally:
        await restarted.dispose()
    assert state is not None
    assert (state.flow, state.step, state.pledge_id) == ("wizard", "description", pledge.id)
    assert state.data == {"title": "Centro de acogida", "back": ["title"]}


async def test_state_for_an_unknown_member_is_refused(sessions: SessionFactory) -> None:
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            await set_state(session=session, member_id=424_242, flow="wizard", step="title")
    async with transaction(sessions) as session:
        assert (await session.exec(select(ConversationState))).all() == []
