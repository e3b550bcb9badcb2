"""The review workflow: which state a pledge may move to next, and the record of each move."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Member, Pledge, PledgeRevision, Role, WorkflowState
from storage.pledges import PledgePage, submit_pledge, withdraw_pledge
from storage.types import utc_now

S = WorkflowState
# DESIGN.md: draft → submitted → changes_requested ↔ submitted → approved → delivered;
# withdrawn from any state but delivered.
LEGAL: Mapping[WorkflowState, frozenset[WorkflowState]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.APPROVED, S.CHANGES_REQUESTED, S.WITHDRAWN}),
    S.CHANGES_REQUESTED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.DELIVERED, S.WITHDRAWN}),
    S.DELIVERED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# The revision each coordinator decision leaves (submission and withdrawal record their own).
ACTIONS: Mapping[WorkflowState, str] = {
    S.APPROVED: "approved",
    S.CHANGES_REQUESTED: "changes_requested",
    S.DELIVERED: "delivered",
}
COMMENT_LIMITS = (5, 1000)


class Refusal(StrEnum):
    """Why a move is not allowed, as a code the conversation layer words for its reader."""

    ALREADY = "already"  # the pledge is already there (often: someone else was quicker)
    CLOSED = "closed"  # delivered or withdrawn pledges never move again
    NOT_SUBMITTED = "not_submitted"  # only a submitted pledge is approved or sent back
    NOT_APPROVED = "not_approved"  # only an approved pledge is delivered
    NOT_RESUBMITTABLE = "not_resubmittable"  # only drafts and sent-back pledges are submitted
    NO_WAY_BACK = "no_way_back"  # nothing returns to draft
    NO_COMMENT = "no_comment"  # sending back needs a comment the officials can act on


class IllegalTransition(Exception):
    """A move the workflow does not allow; `reason` says why, `current` where the pledge is."""

    def __init__(self, reason: Refusal, *, current: str, target: WorkflowState) -> None:
        super().__init__(f"{current} → {target.value}: {reason.value}")
        self.reason = reason
        self.current = current
        self.target = target


def refusal(current: str, to: WorkflowState) -> Refusal | None:
    """Why a pledge in state `current` may not move to `to`; None if it may."""
    state = WorkflowState(current)
    if to in LEGAL[state]:
        return None
    if state is to:
        return Refusal.ALREADY
    if state in (S.DELIVERED, S.WITHDRAWN):
        return Refusal.CLOSED
    if to is S.DRAFT:
        return Refusal.NO_WAY_BACK
    if to in (S.APPROVED, S.CHANGES_REQUESTED):
        return Refusal.NOT_SUBMITTED
    if to is S.DELIVERED:
        return Refusal.NOT_APPROVED
    return Refusal.NOT_RESUBMITTABLE


async def transition(
    *,
    session: AsyncSession,
    pledge: Pledge,
    to: WorkflowState,
    member_id: int,
    comment: str | None = None,
) -> Pledge:
    """Move a pledge along the workflow and record a revision; IllegalTransition if it may not.

    The state is checked again in the database, so of two coordinators deciding at once only
    the first moves the pledge; the second gets the refusal its new state calls for.
    """
    assert pledge.id is not None
    previous = pledge.state
    reason = refusal(previous, to)
    if reason is None and to is S.CHANGES_REQUESTED and not (comment or "").strip():
        reason = Refusal.NO_COMMENT
    if reason is not None:
        raise IllegalTransition(reason, current=previous, target=to)
    now = utc_now()
    # A conditional UPDATE both checks and (on PostgreSQL) locks the row until commit.
    claimed = await session.exec(
        update(Pledge)
        .where(col(Pledge.id) == pledge.id, col(Pledge.state) == previous)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        await session.refresh(pledge)
        raise IllegalTransition(
            refusal(pledge.state, to) or Refusal.ALREADY, current=pledge.state, target=to
        )
    if to is S.SUBMITTED:
        return await submit_pledge(session=session, pledge=pledge, member_id=member_id)
    if to is S.WITHDRAWN:
        await withdraw_pledge(session=session, pledge=pledge, member_id=member_id)
        return pledge
    pledge.state = to.value
    pledge.updated_at = now
    session.add(pledge)
    changes: dict[str, Any] = {"state": [previous, to.value]}
    if comment is not None:
        changes["comment"] = comment
    session.add(
        PledgeRevision(
            pledge_id=pledge.id, member_id=member_id, action=ACTIONS[to], changes=changes
        )
    )
    await session.flush()
    return pledge


async def moved_by(*, session: AsyncSession, pledge: Pledge) -> Member | None:
    """Who moved the pledge into the state it is in (a coordinator's decision, an official's
    submission or withdrawal); None if no one is recorded."""
    revisions = await session.exec(
        select(PledgeRevision)
        .where(col(PledgeRevision.pledge_id) == pledge.id)
        .order_by(col(PledgeRevision.id).desc())
        .limit(50)
    )
    for revision in revisions:
        if "state" in revision.changes:
            if revision.member_id is None:
                return None
            return await session.get(Member, revision.member_id)
    return None


async def list_pledge_officials(*, session: AsyncSession, pledge: Pledge) -> Sequence[Member]:
    """The active officials who answer for a pledge: those of its locality."""
    statement = (
        select(Member)
        .where(
            Member.role == Role.OFFICIAL.value,
            Member.locality_id == pledge.locality_id,
            col(Member.active).is_(True),
        )
        .order_by(col(Member.id))
    )
    return (await session.exec(statement)).all()


async def pending_comment(*, session: AsyncSession, pledge: Pledge) -> str | None:
    """What the coordinators asked when they last sent the pledge back, while it waits for
    the changes; None otherwise."""
    if pledge.state != S.CHANGES_REQUESTED.value or pledge.id is None:
        return None
    revision = (
        await session.exec(
            select(PledgeRevision)
            .where(
                col(PledgeRevision.pledge_id) == pledge.id,
                col(PledgeRevision.action) == ACTIONS[S.CHANGES_REQUESTED],
            )
            .order_by(col(PledgeRevision.id).desc())
            .limit(1)
        )
    ).first()
    comment = revision.changes.get("comment") if revision is not None else None
    return str(comment) if comment else None


async def list_awaiting_review(*, session: AsyncSession, offset: int, limit: int) -> PledgePage:
    """Submitted pledges, longest waiting first."""
    waiting = col(Pledge.state) == S.SUBMITTED.value
    total = (await session.exec(select(func.count()).select_from(Pledge).where(waiting))).one()
    statement = (
        select(Pledge)
        .where(waiting)
        .order_by(col(Pledge.submitted_at), col(Pledge.id))
        .offset(offset)
        .limit(limit)
    )
    return PledgePage(pledges=(await session.exec(statement)).all(), total=total)
