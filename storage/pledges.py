"""Pledges: drafts, submission, edits with revisions, progress, withdrawal."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.localities import get_localities
from storage.models import (
    Attachment,
    Forum,
    Locality,
    Member,
    Pledge,
    PledgePartner,
    PledgeRevision,
    ProgressReport,
    ReferenceCounter,
    Role,
    Stage,
    WorkflowState,
)
from storage.types import utc_now

EDITABLE_FIELDS = frozenset(
    {
        "forum_id",
        "compacts",
        "title",
        "description",
        "gcm_objectives",
        "gcr_objectives",
        "support_types",
        "target_groups",
        "starts_on",
        "ends_on",
        "ongoing",
        "amount",
        "currency",
        "partner_ids",
        "other_partners",
        "pledge_type",
        "matching_reference",
        "scope",
        "beneficiary_countries",
        "refugee_situations",
        "contact_name",
        "contact_title",
        "contact_email",
        "contact_phone",
        "project_url",
        "multistakeholder_pledges",
    }
)
CLOSED_STATES = frozenset({WorkflowState.WITHDRAWN.value, WorkflowState.DELIVERED.value})


@dataclass(frozen=True)
class PledgeView:
    """A pledge with the rows it refers to."""

    pledge: Pledge
    locality: Locality | None
    forum: Forum | None
    partners: Sequence[Locality]
    attachments: Sequence[str] = ()  # the documents' names


@dataclass(frozen=True)
class PledgePage:
    pledges: Sequence[Pledge]
    total: int


def _json_safe(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return list(value)
    return value


def fold(text: str) -> str:
    """Text folded for searching: case, accents and spacing ignored, in any script."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def search_text_of(title: str, description: str) -> str:
    """What `Pledge.search_text` holds: title and description, folded; set with either."""
    return fold(f"{title}\n{description}")


def can_view(member: Member, pledge: Pledge) -> bool:
    """Officials see their locality's pledges and joint pledges they are partner to; a draft
    stays with its own locality until it is submitted, whoever else asks."""
    own = member.role == Role.OFFICIAL.value and member.locality_id == pledge.locality_id
    if pledge.state == WorkflowState.DRAFT.value:
        return own and member.locality_id is not None
    if member.role in (Role.COORDINATOR.value, Role.STAFF.value):
        return True
    if member.role != Role.OFFICIAL.value or member.locality_id is None:
        return False
    return own or member.locality_id in pledge.partner_ids


def can_edit(member: Member, pledge: Pledge) -> bool:
    """Only officials of the pledging locality change a pledge, and never a closed one."""
    return (
        member.role == Role.OFFICIAL.value
        and member.locality_id == pledge.locality_id
        and pledge.state not in CLOSED_STATES
    )


def can_report(member: Member, pledge: Pledge) -> bool:
    """Officials of the pledging locality report progress on any pledge past the draft."""
    return (
        member.role == Role.OFFICIAL.value
        and member.locality_id == pledge.locality_id
        and pledge.state not in (WorkflowState.DRAFT.value, WorkflowState.WITHDRAWN.value)
    )


async def get_pledge(*, session: AsyncSession, pledge_id: int) -> Pledge | None:
    """A pledge by id, whoever asks."""
    return await session.get(Pledge, pledge_id)


# A public reference: CLA, the year it was issued, a number within that year.
REFERENCE = re.compile(r"^CLA-(\d{4})-(\d{4,6})$")
# A contact's address as the UN forms accept it: no spaces, one @, a dot in the domain.
EMAIL = re.compile(r"[^@\s,;<>()]+@[^@\s,;<>()]+\.[^@\s,;<>().]{2,}")


def looks_like_reference(text: str) -> bool:
    """Whether `text` is written as a reference (CLA-2027-0042, in any case)."""
    return REFERENCE.match(normalise_reference(text)) is not None


def normalise_reference(text: str) -> str:
    """A reference as stored: CLA-2027-0042, whatever the case or spacing it was typed in."""
    return "".join(text.split()).upper()


async def get_pledge_by_reference(*, session: AsyncSession, reference: str) -> Pledge | None:
    """A pledge by its public reference (typed in any case), whoever asks."""
    wanted = normalise_reference(reference)
    if not wanted or len(wanted) > 20:
        return None
    return (await session.exec(select(Pledge).where(Pledge.reference == wanted))).first()


async def get_visible_pledge(
    *, session: AsyncSession, pledge_id: int, member: Member
) -> Pledge | None:
    """A pledge by id if `member` may see it; None otherwise, as if it did not exist."""
    pledge = await session.get(Pledge, pledge_id)
    return pledge if pledge is not None and can_view(member, pledge) else None


async def create_draft(*, session: AsyncSession, member: Member, language: str) -> Pledge:
    """A new, empty draft for the member's locality."""
    if member.locality_id is None or member.id is None:
        raise ValueError("only an official with a locality can start a pledge")
    pledge = Pledge(
        locality_id=member.locality_id,
        created_by_id=member.id,
        language=language,
        search_text=search_text_of("", ""),
    )
    session.add(pledge)
    await session.flush()
    await _record(session, pledge, member.id, "created", {})
    return pledge


async def update_pledge(
    *, session: AsyncSession, pledge: Pledge, changes: Mapping[str, Any], member_id: int
) -> bool:
    """Apply field changes and record a revision of what really changed; True if anything did."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    diff: dict[str, list[Any]] = {}
    for field, new in changes.items():
        old = getattr(pledge, field)
        if old != new:
            diff[field] = [_json_safe(old), _json_safe(new)]
            setattr(pledge, field, new)
    if not diff:
        return False
    if "title" in diff or "description" in diff:
        pledge.search_text = search_text_of(pledge.title, pledge.description)
    pledge.updated_at = utc_now()
    session.add(pledge)
    if "partner_ids" in diff:
        await _sync_partners(session, pledge)
    await _record(session, pledge, member_id, "edited", diff)
    return True


async def _sync_partners(session: AsyncSession, pledge: Pledge) -> None:
    await session.exec(delete(PledgePartner).where(col(PledgePartner.pledge_id) == pledge.id))
    for locality_id in pledge.partner_ids:
        assert pledge.id is not None
        session.add(PledgePartner(pledge_id=pledge.id, locality_id=locality_id))


async def next_reference(*, session: AsyncSession, year: int) -> str:
    """The next public reference of a year, e.g. CLA-2027-0042, unique across processes."""
    # Two first submissions of a year may race to create its counter: let one insert win.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.exec(
        insert(ReferenceCounter)
        .values(year=year, last=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    # One UPDATE … RETURNING is atomic on SQLite and PostgreSQL alike.
    result = await session.exec(
        update(ReferenceCounter)
        .where(col(ReferenceCounter.year) == year)
        .values(last=col(ReferenceCounter.last) + 1)
        .returning(col(ReferenceCounter.last))
    )
    return f"CLA-{year}-{result.scalar_one():04d}"


async def submit_pledge(*, session: AsyncSession, pledge: Pledge, member_id: int) -> Pledge:
    """Submit a draft (or a pledge sent back for changes), giving it its reference."""
    if pledge.state not in (WorkflowState.DRAFT.value, WorkflowState.CHANGES_REQUESTED.value):
        raise ValueError(f"a {pledge.state} pledge cannot be submitted")
    now = utc_now()
    changes: dict[str, Any] = {}
    if pledge.reference is None:
        pledge.reference = await next_reference(session=session, year=now.year)
        changes["reference"] = [None, pledge.reference]
    previous = pledge.state
    pledge.state = WorkflowState.SUBMITTED.value
    pledge.submitted_at = now
    pledge.updated_at = now
    session.add(pledge)
    changes["state"] = [previous, pledge.state]
    await _record(session, pledge, member_id, "submitted", changes)
    return pledge


async def withdraw_pledge(*, session: AsyncSession, pledge: Pledge, member_id: int) -> None:
    """Withdraw a pledge: nothing is deleted, the state says it no longer stands."""
    if pledge.state in CLOSED_STATES:
        raise ValueError(f"a {pledge.state} pledge cannot be withdrawn")
    previous = pledge.state
    pledge.state = WorkflowState.WITHDRAWN.value
    pledge.updated_at = utc_now()
    session.add(pledge)
    await _record(session, pledge, member_id, "withdrawn", {"state": [previous, pledge.state]})


async def add_progress_report(
    *, session: AsyncSession, pledge: Pledge, stage: Stage, narrative: str, member_id: int
) -> ProgressReport:
    """Record progress and move the pledge to the reported stage."""
    assert pledge.id is not None
    report = ProgressReport(
        pledge_id=pledge.id, stage=stage.value, narrative=narrative, member_id=member_id
    )
    session.add(report)
    if pledge.stage != stage.value:
        await _record(
            session, pledge, member_id, "progress", {"stage": [pledge.stage, stage.value]}
        )
        pledge.stage = stage.value
    pledge.updated_at = utc_now()
    session.add(pledge)
    await session.flush()
    return report


async def list_locality_pledges(
    *, session: AsyncSession, locality_id: int, offset: int, limit: int
) -> PledgePage:
    """A locality's pledges and the joint pledges it is partner to, newest first."""
    # Another locality's draft is its own business, even when it names this one as partner.
    as_partner = (
        select(PledgePartner.pledge_id)
        .join(Pledge, col(Pledge.id) == col(PledgePartner.pledge_id))
        .where(
            PledgePartner.locality_id == locality_id,
            Pledge.state != WorkflowState.DRAFT.value,
        )
    )
    condition = or_(col(Pledge.locality_id) == locality_id, col(Pledge.id).in_(as_partner))
    total = (await session.exec(select(func.count()).select_from(Pledge).where(condition))).one()
    statement = (
        select(Pledge)
        .where(condition)
        .order_by(col(Pledge.updated_at).desc(), col(Pledge.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return PledgePage(pledges=(await session.exec(statement)).all(), total=total)


async def list_revisions(*, session: AsyncSession, pledge_id: int) -> Sequence[PledgeRevision]:
    """Every recorded change to a pledge, oldest first."""
    statement = (
        select(PledgeRevision)
        .where(PledgeRevision.pledge_id == pledge_id)
        .order_by(col(PledgeRevision.id))
    )
    return (await session.exec(statement)).all()


async def list_progress_reports(
    *, session: AsyncSession, pledge_id: int
) -> Sequence[ProgressReport]:
    """A pledge's progress reports, oldest first."""
    statement = (
        select(ProgressReport)
        .where(ProgressReport.pledge_id == pledge_id)
        .order_by(col(ProgressReport.id))
    )
    return (await session.exec(statement)).all()


async def record_revision(
    *, session: AsyncSession, pledge: Pledge, member_id: int | None, changes: dict[str, Any]
) -> None:
    """An edit made outside the pledge's own columns (its documents), in its history."""
    pledge.updated_at = utc_now()
    session.add(pledge)
    await _record(session, pledge, member_id, "edited", changes)


async def _record(
    session: AsyncSession,
    pledge: Pledge,
    member_id: int | None,
    action: str,
    changes: dict[str, Any],
) -> None:
    assert pledge.id is not None
    session.add(
        PledgeRevision(pledge_id=pledge.id, member_id=member_id, action=action, changes=changes)
    )


async def load_pledge_view(*, session: AsyncSession, pledge: Pledge) -> PledgeView:
    """The pledge with its locality, forum and partners."""
    return PledgeView(
        pledge=pledge,
        locality=await session.get(Locality, pledge.locality_id),
        forum=await session.get(Forum, pledge.forum_id) if pledge.forum_id else None,
        partners=await get_localities(session=session, ids=pledge.partner_ids),
        attachments=(
            await session.exec(
                select(Attachment.file_name)
                .where(Attachment.pledge_id == pledge.id)
                .order_by(col(Attachment.id))
            )
        ).all(),
    )


async def latest_draft(
    *, session: AsyncSession, forum_id: int, locality_id: int | None
) -> Pledge | None:
    """The locality's most recently touched draft for a forum."""
    statement = (
        select(Pledge)
        .where(
            Pledge.forum_id == forum_id,
            Pledge.locality_id == locality_id,
            Pledge.state == WorkflowState.DRAFT.value,
        )
        .order_by(col(Pledge.updated_at).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def list_member_drafts(
    *, session: AsyncSession, member: Member, limit: int = 5
) -> Sequence[Pledge]:
    """The drafts of the member's locality, most recently touched first."""
    statement = (
        select(Pledge)
        .where(Pledge.locality_id == member.locality_id, Pledge.state == WorkflowState.DRAFT.value)
        .order_by(col(Pledge.updated_at).desc())
        .limit(limit)
    )
    return (await session.exec(statement)).all()


async def last_contact(*, session: AsyncSession, member_id: int) -> Pledge | None:
    """The member's latest submitted pledge that names a contact: its contact is offered for
    the next (a draft's is not, as drafts are their author's alone)."""
    statement = (
        select(Pledge)
        .where(
            Pledge.created_by_id == member_id,
            Pledge.contact_email != "",
            col(Pledge.reference).is_not(None),
        )
        .order_by(col(Pledge.updated_at).desc(), col(Pledge.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()
