"""Invites: tokens that fit a deep link, stored hashed, used up, expiring."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from storage.engine import SessionFactory, transaction
from storage.invites import (
    InviteProblem,
    create_invite,
    hash_token,
    issue_invite,
    redeem_invite,
)
from storage.models import Invite, Locality, Role
from storage.types import utc_now
from tests.storage.helpers import make_locality, make_member

START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def _issue(
    sessions: SessionFactory,
    role: Role = Role.OFFICIAL,
    *,
    uses: int = 1,
    expires_in: timedelta = timedelta(days=14),
) -> str:
    async with transaction(sessions) as session:
        locality_id = None
        if role is Role.OFFICIAL:
            locality_id = (await make_locality(session, "Medellín", "CO")).id
        issued = await create_invite(
            session=session, role=role, locality_id=locality_id, uses=uses, expires_in=expires_in
        )
    return issued.token


async def _redeem(sessions: SessionFactory, token: str) -> Invite | InviteProblem:
    async with transaction(sessions) as session:
        return await redeem_invite(session=session, token=token)


async def test_token_fits_a_telegram_start_parameter(sessions: SessionFactory) -> None:
    tokens = {await _issue(sessions) for _ in range(5)}
    assert len(tokens) == 5
    for token in tokens:
        assert len(token) >= 32
        assert START_PARAMETER.fullmatch(token), token


async def test_only_the_hash_of_the_token_is_stored(sessions: SessionFactory) -> None:
    token = await _issue(sessions)
    async with sessions() as session:
        rows = (await session.exec(text("SELECT * FROM invite"))).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest() == hash_token(token)
    assert all(token not in str(value) for value in row.values())


async def test_redeem_uses_one_use_and_gives_the_role_and_locality(
    sessions: SessionFactory,
) -> None:
    token = await _issue(sessions, uses=3)
    first = await _redeem(sessions, token)
    assert isinstance(first, Invite)
    assert first.uses_left == 2
    assert first.role == Role.OFFICIAL.value
    assert first.locality_id is not None
    second = await _redeem(sessions, token)
    assert isinstance(second, Invite) and second.uses_left == 1
    async with transaction(sessions) as session:
        stored = (await session.exec(select(Invite))).one()
    assert stored.uses_left == 1


async def test_an_invite_is_single_use_by_default(sessions: SessionFactory) -> None:
    token = await _issue(sessions)
    assert isinstance(await _redeem(sessions, token), Invite)
    assert await _redeem(sessions, token) is InviteProblem.USED
    assert await _redeem(sessions, token) is InviteProblem.USED


async def test_a_used_up_invite_stays_at_zero(sessions: SessionFactory) -> None:
    token = await _issue(sessions, uses=2)
    for _ in range(2):
        assert isinstance(await _redeem(sessions, token), Invite)
    assert await _redeem(sessions, token) is InviteProblem.USED
    async with transaction(sessions) as session:
        assert (await session.exec(select(Invite))).one().uses_left == 0


async def test_an_expired_invite_is_refused(sessions: SessionFactory) -> None:
    token = await _issue(sessions, expires_in=timedelta(seconds=-1))
    assert await _redeem(sessions, token) is InviteProblem.EXPIRED
    async with transaction(sessions) as session:
        assert (await session.exec(select(Invite))).one().uses_left == 1


async def test_an_invite_expires_after_its_time(sessions: SessionFactory) -> None:
    token = await _issue(sessions, uses=5)
    assert isinstance(await _redeem(sessions, token), Invite)
    async with transaction(sessions) as session:
        invite = (await session.exec(select(Invite))).one()
        invite.expires_at = utc_now() - timedelta(minutes=1)
        session.add(invite)
    assert await _redeem(sessions, token) is InviteProblem.EXPIRED


async def test_an_unknown_token_is_refused(sessions: SessionFactory) -> None:
    token = await _issue(sessions)
    assert await _redeem(sessions, "nonsense") is InviteProblem.UNKNOWN
    assert await _redeem(sessions, token[:-1]) is InviteProblem.UNKNOWN
    assert await _redeem(sessions, hash_token(token)) is InviteProblem.UNKNOWN
    assert isinstance(await _redeem(sessions, token), Invite)


async def test_an_official_invite_needs_a_locality(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(ValueError, match="locality"):
            await create_invite(session=session, role=Role.OFFICIAL, locality_id=None)
        with pytest.raises(ValueError):
            await create_invite(session=session, role=Role.STAFF, locality_id=None, uses=0)
        assert (await session.exec(select(Invite))).all() == []


async def test_coordinator_and_staff_invites_carry_no_locality(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        locality = await make_locality(session)
        creator = await make_member(session, Role.COORDINATOR)
        issued = await create_invite(
            session=session,
            role=Role.COORDINATOR,
            locality_id=locality.id,
            created_by_id=creator.id,
        )
        staff = await create_invite(session=session, role=Role.STAFF, locality_id=None)
    redeemed = await _redeem(sessions, issued.token)
    assert isinstance(redeemed, Invite)
    assert redeemed.role == Role.COORDINATOR.value
    assert redeemed.locality_id is None
    assert redeemed.created_by_id == creator.id
    assert isinstance(await _redeem(sessions, staff.token), Invite)


async def test_issue_invite_finds_or_creates_an_officials_locality(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        first = await issue_invite(
            session=session, role=Role.OFFICIAL, locality="  Medellín ", country="co", uses=2
        )
        again = await issue_invite(
            session=session, role=Role.OFFICIAL, locality="MEDELLIN", country="CO"
        )
        staff = await issue_invite(session=session, role=Role.STAFF, locality="Lyon", country="FR")
        with pytest.raises(ValueError, match="locality"):
            await issue_invite(session=session, role=Role.OFFICIAL, locality="Lyon")
        localities = (await session.exec(select(Locality))).all()
    assert first.locality is not None and again.locality is not None
    assert (first.locality.name, first.locality.country) == ("Medellín", "CO")
    assert again.locality.id == first.locality.id
    assert [loc.name for loc in localities] == ["Medellín"]  # none for the staff's invite
    assert staff.locality is None and staff.invite.locality_id is None
    assert first.invite.uses_left == 2
    redeemed = await _redeem(sessions, again.token)
    assert isinstance(redeemed, Invite) and redeemed.locality_id == first.locality.id


async def test_two_people_racing_for_the_last_use_only_one_wins(
    sessions: SessionFactory,
) -> None:
    token = await _issue(sessions)
    results = await asyncio.gather(*(_redeem(sessions, token) for _ in range(2)))
    winners = [r for r in results if isinstance(r, Invite)]
    assert len(winners) == 1
    assert [r for r in results if not isinstance(r, Invite)] == [InviteProblem.USED]
    async with transaction(sessions) as session:
        assert (await session.exec(select(Invite))).one().uses_left == 0


async def test_many_racing_for_three_uses_exactly_three_win(sessions: SessionFactory) -> None:
    token = await _issue(sessions, uses=3)
    results = await asyncio.gather(*(_redeem(sessions, token) for _ in range(8)))
    assert sum(isinstance(r, Invite) for r in results) == 3
    assert results.count(InviteProblem.USED) == 5
