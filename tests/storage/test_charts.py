"""What /chart counts: pledges past draft, not withdrawn, by objective and by stage."""

from __future__ import annotations

import pytest
from sqlmodel import select

import storage.charts
from storage.charts import chart_counts, count_objectives
from storage.engine import SessionFactory, transaction
from storage.models import Forum, Member, Role, WorkflowState
from storage.pledges import create_draft, submit_pledge, update_pledge, withdraw_pledge
from tests.storage.helpers import make_locality, make_member


async def _forum_id(sessions: SessionFactory, code: str) -> int:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == code))).one()
        assert forum.id is not None
        return forum.id


async def _pledge(
    sessions: SessionFactory,
    official: Member,
    forum_id: int,
    *,
    state: WorkflowState,
    gcm: list[int],
    gcr: list[int],
    stage: str = "planning",
) -> None:
    assert official.id is not None
    async with transaction(sessions) as session:
        pledge = await create_draft(session=session, member=official, language="en")
        changes = {"forum_id": forum_id, "gcm_objectives": gcm, "gcr_objectives": gcr}
        await update_pledge(session=session, pledge=pledge, changes=changes, member_id=official.id)
        if state is not WorkflowState.DRAFT:
            await submit_pledge(session=session, pledge=pledge, member_id=official.id)
        if state is WorkflowState.WITHDRAWN:
            await withdraw_pledge(session=session, pledge=pledge, member_id=official.id)
        elif state in (WorkflowState.APPROVED, WorkflowState.DELIVERED):
            pledge.state = state.value
        pledge.stage = stage
        session.add(pledge)


async def test_counts_skip_drafts_and_withdrawn_pledges_and_other_forums(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.charts, "STREAM_BATCH", 2)  # several batches from 5 pledges
    grf, imrf = await _forum_id(sessions, "GRF2027"), await _forum_id(sessions, "IMRF2026")
    async with transaction(sessions) as session:
        lyon = await make_locality(session)
        official = await make_member(session, Role.OFFICIAL, locality_id=lyon.id)
    s = WorkflowState
    await _pledge(sessions, official, grf, state=s.SUBMITTED, gcm=[1, 5], gcr=[2])
    await _pledge(sessions, official, grf, state=s.APPROVED, gcm=[5], gcr=[], stage="in_progress")
    await _pledge(sessions, official, grf, state=s.DELIVERED, gcm=[5, 23], gcr=[2, 4],
                  stage="fulfilled")  # fmt: skip
    await _pledge(sessions, official, grf, state=s.SUBMITTED, gcm=[], gcr=[1])
    await _pledge(sessions, official, grf, state=s.DRAFT, gcm=[7], gcr=[3])
    await _pledge(sessions, official, grf, state=s.WITHDRAWN, gcm=[8], gcr=[3])
    await _pledge(sessions, official, imrf, state=s.SUBMITTED, gcm=[9], gcr=[])

    past = await _forum_id(sessions, "GRF2023")
    async with transaction(sessions) as session:
        data = await chart_counts(session=session, forum_id=grf)
        everything = await chart_counts(session=session, forum_id=None)
        nothing = await chart_counts(session=session, forum_id=past)

    assert data.total == 4
    assert data.by_stage == {"planning": 2, "in_progress": 1, "fulfilled": 1}
    assert data.by_objective == {
        ("gcm", 1): 1,
        ("gcm", 5): 3,
        ("gcm", 23): 1,
        ("gcr", 1): 1,
        ("gcr", 2): 2,
        ("gcr", 4): 1,
    }
    # All open forums: GRF 2027 is the only one; the closed IMRF 2026's pledge stays out.
    assert everything == data
    assert nothing.empty and nothing.by_objective == {} and nothing.by_stage == {}


def test_objective_lists_are_counted_once_each_and_bad_values_skipped() -> None:
    counts = count_objectives([([1, 1, 24, "3", True], [2, 9]), (None, [4]), ([23], "x")])
    assert dict(counts) == {("gcm", 1): 1, ("gcm", 23): 1, ("gcr", 2): 1, ("gcr", 4): 1}
