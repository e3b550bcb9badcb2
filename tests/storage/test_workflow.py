"""The review workflow: every legal move, every refused one with its reason, and the record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from storage.engine import SessionFactory, transaction
from storage.models import Member, Pledge, Role, WorkflowState
from storage.pledges import create_draft, get_pledge_by_reference, list_revisions, update_pledge
from storage.workflow import (
    IllegalTransition,
    Refusal,
    list_awaiting_review,
    list_pledge_officials,
    refusal,
    transition,
)
from tests.storage.helpers import make_locality, make_member

S = WorkflowState
# Each state and the moves that lead there from a fresh draft.
PATHS: dict[WorkflowState, tuple[WorkflowState, ...]] = {
    S.DRAFT: (),
    S.SUBMITTED: (S.SUBMITTED,),
    S.CHANGES_REQUESTED: (S.SUBMITTED, S.CHANGES_REQUESTED),
    S.APPROVED: (S.SUBMITTED, S.APPROVED),
    S.DELIVERED: (S.SUBMITTED, S.APPROVED, S.DELIVERED),
    S.WITHDRAWN: (S.WITHDRAWN,),
}
LEGAL = {
    (S.DRAFT, S.SUBMITTED),
    (S.DRAFT, S.WITHDRAWN),
    (S.SUBMITTED, S.APPROVED),
    (S.SUBMITTED, S.CHANGES_REQUESTED),
    (S.SUBMITTED, S.WITHDRAWN),
    (S.CHANGES_REQUESTED, S.SUBMITTED),
    (S.CHANGES_REQUESTED, S.WITHDRAWN),
    (S.APPROVED, S.DELIVERED),
    (S.APPROVED, S.WITHDRAWN),
}
EXPECTED_REFUSAL = {
    (S.DRAFT, S.DRAFT): Refusal.ALREADY,
    (S.DRAFT, S.APPROVED): Refusal.NOT_SUBMITTED,
    (S.DRAFT, S.CHANGES_REQUESTED): Refusal.NOT_SUBMITTED,
    (S.DRAFT, S.DELIVERED): Refusal.NOT_APPROVED,
    (S.SUBMITTED, S.DRAFT): Refusal.NO_WAY_BACK,
    (S.SUBMITTED, S.SUBMITTED): Refusal.ALREADY,
    (S.SUBMITTED, S.DELIVERED): Refusal.NOT_APPROVED,
    (S.CHANGES_REQUESTED, S.DRAFT): Refusal.NO_WAY_BACK,
    (S.CHANGES_REQUESTED, S.CHANGES_REQUESTED): Refusal.ALREADY,
    (S.CHANGES_REQUESTED, S.APPROVED): Refusal.NOT_SUBMITTED,
    (S.CHANGES_REQUESTED, S.DELIVERED): Refusal.NOT_APPROVED,
    (S.APPROVED, S.DRAFT): Refusal.NO_WAY_BACK,
    (S.APPROVED, S.SUBMITTED): Refusal.NOT_RESUBMITTABLE,
    (S.APPROVED, S.APPROVED): Refusal.ALREADY,
    (S.APPROVED, S.CHANGES_REQUESTED): Refusal.NOT_SUBMITTED,
    **{(S.DELIVERED, to): Refusal.CLOSED for to in S if to is not S.DELIVERED},
    (S.DELIVERED, S.DELIVERED): Refusal.ALREADY,
    **{(S.WITHDRAWN, to): Refusal.CLOSED for to in S if to is not S.WITHDRAWN},
    (S.WITHDRAWN, S.WITHDRAWN): Refusal.ALREADY,
}
ALL_PAIRS = [(a, b) for a in S for b in S]


def test_the_table_covers_every_pair() -> None:
    assert {pair for pair in ALL_PAIRS if pair not in LEGAL} == set(EXPECTED_REFUSAL)
    for start, to in ALL_PAIRS:
        assert refusal(start.value, to) == EXPECTED_REFUSAL.get((start, to))


@dataclass
class People:
    official: Member
    coordinator: Member
    locality_id: int


@pytest.fixture
async def people(sessions: SessionFactory) -> People:
    async with transaction(sessions) as session:
        lyon = await make_locality(session, "Lyon")
        assert lyon.id is not None
        return People(
            official=await make_member(session, Role.OFFICIAL, locality_id=lyon.id),
            coordinator=await make_member(session, Role.COORDINATOR),
            locality_id=lyon.id,
        )


def _actor(people: People, to: WorkflowState) -> int:
    member = people.official if to in (S.SUBMITTED, S.WITHDRAWN) else people.coordinator
    assert member.id is not None
    return member.id


async def _pledge_in(sessions: SessionFactory, people: People, state: WorkflowState) -> int:
    async with transaction(sessions) as session:
        pledge = await create_draft(session=session, member=people.official, language="fr")
        await update_pledge(
            session=session,
            pledge=pledge,
            changes={"title": "Accueil des nouveaux arrivants"},
            member_id=people.official.id or 0,
        )
        for step in PATHS[state]:
            await transition(
                session=session,
                pledge=pledge,
                to=step,
                member_id=_actor(people, step),
                comment="Précisez le budget." if step is S.CHANGES_REQUESTED else None,
            )
        assert pledge.state == state.value and pledge.id is not None
        return pledge.id


@pytest.mark.parametrize(("start", "to"), sorted(LEGAL))
async def test_legal_moves_happen_and_are_recorded(
    sessions: SessionFactory, people: People, start: WorkflowState, to: WorkflowState
) -> None:
    pledge_id = await _pledge_in(sessions, people, start)
    comment = "Please give the amount in euros." if to is S.CHANGES_REQUESTED else None
    async with transaction(sessions) as session:
        pledge = await session.get(Pledge, pledge_id)
        assert pledge is not None
        await transition(
            session=session, pledge=pledge, to=to, member_id=_actor(people, to), comment=comment
        )
    async with transaction(sessions) as session:
        stored = await session.get(Pledge, pledge_id)
        assert stored is not None and stored.state == to.value
        last = (await list_revisions(session=session, pledge_id=pledge_id))[-1]
    assert last.member_id == _actor(people, to)
    assert last.changes["state"] == [start.value, to.value]
    assert (
        last.action
        == {
            S.SUBMITTED: "submitted",
            S.APPROVED: "approved",
            S.CHANGES_REQUESTED: "changes_requested",
            S.DELIVERED: "delivered",
            S.WITHDRAWN: "withdrawn",
        }[to]
    )
    if to is S.CHANGES_REQUESTED:
        assert last.changes["comment"] == comment
    if to is S.SUBMITTED:
        assert stored.reference is not None and stored.reference.startswith("CLA-")


@pytest.mark.parametrize(("start", "to"), sorted(EXPECTED_REFUSAL.items(), key=str))
async def test_illegal_moves_are_refused_with_a_reason_and_change_nothing(
    sessions: SessionFactory,
    people: People,
    start: tuple[WorkflowState, WorkflowState],
    to: Refusal,
) -> None:
    (state, target), reason = start, to
    pledge_id = await _pledge_in(sessions, people, state)
    async with transaction(sessions) as session:
        before = len(await list_revisions(session=session, pledge_id=pledge_id))
        pledge = await session.get(Pledge, pledge_id)
        assert pledge is not None
        with pytest.raises(IllegalTransition) as refused:
            await transition(
                session=session,
                pledge=pledge,
                to=target,
                member_id=people.coordinator.id or 0,
                comment="Some comment",
            )
    assert refused.value.reason is reason
    assert refused.value.current == state.value
    async with transaction(sessions) as session:
        stored = await session.get(Pledge, pledge_id)
        assert stored is not None and stored.state == state.value
        assert len(await list_revisions(session=session, pledge_id=pledge_id)) == before


async def test_sending_back_needs_a_comment(sessions: SessionFactory, people: People) -> None:
    pledge_id = await _pledge_in(sessions, people, S.SUBMITTED)
    async with transaction(sessions) as session:
        pledge = await session.get(Pledge, pledge_id)
        assert pledge is not None
        with pytest.raises(IllegalTransition) as refused:
            await transition(
                session=session,
                pledge=pledge,
                to=S.CHANGES_REQUESTED,
                member_id=people.coordinator.id or 0,
                comment="  ",
            )
    assert refused.value.reason is Refusal.NO_COMMENT


async def test_of_two_decisions_at_once_only_one_counts(
    sessions: SessionFactory, people: People
) -> None:
    """Two coordinators decide on one submitted pledge at once; whichever is second is refused."""
    pledge_id = await _pledge_in(sessions, people, S.SUBMITTED)
    coordinator = people.coordinator.id or 0

    async def decide(to: S, comment: str | None = None) -> None:
        async with transaction(sessions) as session:
            pledge = await session.get(Pledge, pledge_id)
            assert pledge is not None
            await transition(
                session=session, pledge=pledge, to=to, member_id=coordinator, comment=comment
            )

    outcomes = await asyncio.gather(
        decide(S.APPROVED), decide(S.CHANGES_REQUESTED, "Too late"), return_exceptions=True
    )
    # Which one the database lets through first is up to it; exactly one must win.
    decisions = (S.APPROVED, S.CHANGES_REQUESTED)
    winners = [to for to, outcome in zip(decisions, outcomes, strict=True) if outcome is None]
    assert len(winners) == 1, outcomes
    winner, loser = winners[0], next(to for to in decisions if to is not winners[0])
    refused = outcomes[decisions.index(loser)]
    assert isinstance(refused, IllegalTransition), outcomes
    assert refused.reason is Refusal.NOT_SUBMITTED
    assert refused.current == winner.value
    async with transaction(sessions) as session:
        actions = [r.action for r in await list_revisions(session=session, pledge_id=pledge_id)]
    assert actions.count(winner.value) == 1 and loser.value not in actions


async def test_references_lists_and_officials(sessions: SessionFactory, people: People) -> None:
    submitted = await _pledge_in(sessions, people, S.SUBMITTED)
    await _pledge_in(sessions, people, S.APPROVED)
    async with transaction(sessions) as session:
        pledge = await session.get(Pledge, submitted)
        assert pledge is not None and pledge.reference is not None
        found = await get_pledge_by_reference(
            session=session, reference=f" {pledge.reference.lower()} "
        )
        assert found is not None and found.id == submitted
        assert await get_pledge_by_reference(session=session, reference="CLA-1999-0001") is None
        assert await get_pledge_by_reference(session=session, reference="x" * 200) is None
        waiting = await list_awaiting_review(session=session, offset=0, limit=10)
        assert [p.id for p in waiting.pledges] == [submitted] and waiting.total == 1
        officials = await list_pledge_officials(session=session, pledge=pledge)
        assert [m.id for m in officials] == [people.official.id]
