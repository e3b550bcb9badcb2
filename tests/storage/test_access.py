"""Access taken back and given back; invitations withdrawn — on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.access import (
    deactivate_member,
    list_members,
    list_open_invites,
    reactivate_member,
    revoke_invite,
)
from storage.conversation_state import get_state, set_state
from storage.engine import SessionFactory, transaction
from storage.invites import InviteProblem, create_invite, redeem_invite
from storage.models import Member, Notice, Role
from storage.types import utc_now
from tests.storage.helpers import make_locality, make_member


async def test_deactivation_takes_the_role_away_and_reactivation_gives_it_back(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        lyon = await make_locality(session)
        olga = await make_member(session, locality_id=lyon.id, name="Olga")
        coco = await make_member(session, Role.COORDINATOR, name="Coco")
        await make_member(session, None, name="Someone who only wrote")
        await set_state(session=session, member_id=olga.id or 0, flow="wizard", step="title")
        told = await deactivate_member(session=session, member=olga, by_id=coco.id, now=utc_now())
        assert told is not None and len(told) == 1
        again = await deactivate_member(session=session, member=olga, by_id=coco.id, now=utc_now())
        assert again is None  # nothing left to take back
    async with transaction(sessions) as session:
        stored = await session.get(Member, olga.id)
        assert stored is not None
        assert (stored.role, stored.locality_id) == (None, None)
        assert (stored.revoked_role, stored.revoked_locality_id) == ("official", lyon.id)
        assert stored.revoked_by_id == coco.id and stored.told_revoked
        assert await get_state(session=session, member_id=olga.id or 0) is None
        notice = await session.get(Notice, told[0])
        assert notice is not None and notice.kind == "access_ended"
        rows, total = await list_members(session=session)
        # The deactivated last; people who only wrote are nobody's business here.
        assert [r.member.display_name for r in rows] == ["Coco", "Olga"] and total == 2
        assert rows[1].role == "official" and rows[1].locality is not None
        back = await reactivate_member(session=session, member=stored, now=utc_now())
        assert back is not None and len(back) == 1
        assert (stored.role, stored.locality_id, stored.revoked_at) == ("official", lyon.id, None)
        assert await reactivate_member(session=session, member=stored, now=utc_now()) is None


async def test_a_member_who_stopped_messages_gets_no_notice(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        lyon = await make_locality(session)
        olga = await make_member(session, locality_id=lyon.id, name="Olga")
        olga.active = False
        told = await deactivate_member(session=session, member=olga, by_id=None, now=utc_now())
        assert told == [] and not olga.told_revoked  # told when she next writes


async def test_of_two_deactivations_at_once_one_counts(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        lyon = await make_locality(session)
        olga_id = (await make_member(session, locality_id=lyon.id)).id

    async def deactivate() -> list[int] | None:
        async with transaction(sessions) as session:
            olga = await session.get(Member, olga_id, with_for_update=True)
            assert olga is not None
            return await deactivate_member(session=session, member=olga, by_id=None, now=utc_now())

    outcomes = await asyncio.gather(deactivate(), deactivate())
    assert sorted(outcome is None for outcome in outcomes) == [False, True], outcomes


async def test_a_withdrawn_invitation_is_refused_and_no_longer_listed(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        lyon = await make_locality(session)
        kept = await create_invite(session=session, role=Role.OFFICIAL, locality_id=lyon.id)
        withdrawn = await create_invite(session=session, role=Role.STAFF, locality_id=None)
        expired = await create_invite(
            session=session, role=Role.STAFF, locality_id=None, expires_in=timedelta(seconds=-1)
        )
        assert await revoke_invite(
            session=session, invite_id=withdrawn.invite.id or 0, now=utc_now()
        )
        assert not await revoke_invite(
            session=session, invite_id=withdrawn.invite.id or 0, now=utc_now()
        )
        assert not await revoke_invite(
            session=session, invite_id=expired.invite.id or 0, now=utc_now()
        )
        listed = await list_open_invites(session=session, now=utc_now())
        assert [row.invite.id for row in listed] == [kept.invite.id]
        assert listed[0].locality is not None and listed[0].locality.name == "Lyon"
        assert await redeem_invite(session=session, token=withdrawn.token) is InviteProblem.REVOKED
