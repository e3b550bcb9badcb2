"""Pledges: drafts, edits with revisions, references, withdrawal, progress, lists, rights."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from storage.engine import SessionFactory, transaction
from storage.models import (
    Compact,
    Forum,
    Member,
    Pledge,
    PledgePartner,
    PledgeRevision,
    ReferenceCounter,
    Role,
    Stage,
    WorkflowState,
)
from storage.pledges import (
    add_progress_report,
    can_edit,
    can_report,
    can_view,
    create_draft,
    get_pledge,
    get_visible_pledge,
    list_locality_pledges,
    list_member_drafts,
    list_progress_reports,
    list_revisions,
    load_pledge_view,
    next_reference,
    submit_pledge,
    update_pledge,
    withdraw_pledge,
)
from storage.types import utc_now
from tests.storage.helpers import make_locality, make_member


@dataclass
class World:
    home: int  # Lyon: the official's locality
    partner: int  # Grenoble: a partner in joint pledges
    other: int  # Nice: an unrelated locality
    official: Member  # of Lyon
    partner_official: Member  # of Grenoble
    other_official: Member  # of Nice
    coordinator: Member
    staff: Member
    newcomer: Member  # no role yet


@pytest.fixture
async def world(sessions: SessionFactory) -> World:
    async with transaction(sessions) as session:
        home = await make_locality(session, "Lyon")
        partner = await make_locality(session, "Grenoble")
        other = await make_locality(session, "Nice")
        assert home.id and partner.id and other.id
        return World(
            home=home.id,
            partner=partner.id,
            other=other.id,
            official=await make_member(session, Role.OFFICIAL, locality_id=home.id),
            partner_official=await make_member(session, Role.OFFICIAL, locality_id=partner.id),
            other_official=await make_member(session, Role.OFFICIAL, locality_id=other.id),
            coordinator=await make_member(session, Role.COORDINATOR),
            staff=await make_member(session, Role.STAFF),
            newcomer=await make_member(session, None),
        )


def _id(member: Member) -> int:
    assert member.id is not None
    return member.id


async def _draft(sessions: SessionFactory, member: Member, **changes: object) -> Pledge:
    async with transaction(sessions) as session:
        pledge = await create_draft(session=session, member=member, language="fr")
        if changes:
            await update_pledge(
                session=session, pledge=pledge, changes=changes, member_id=_id(member)
            )
    return pledge


async def _submit(sessions: SessionFactory, pledge_id: int, member: Member) -> Pledge:
    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=pledge_id)
        assert pledge is not None
        return await submit_pledge(session=session, pledge=pledge, member_id=_id(member))


async def _revisions(sessions: SessionFactory, pledge_id: int) -> list[PledgeRevision]:
    async with transaction(sessions) as session:
        return list(await list_revisions(session=session, pledge_id=pledge_id))


async def _set_state(sessions: SessionFactory, pledge_id: int, state: WorkflowState) -> Pledge:
    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=pledge_id)
        assert pledge is not None
        pledge.state = state.value
        session.add(pledge)
    return pledge


# --- drafts -------------------------------------------------------------------------------


async def test_a_draft_belongs_to_the_officials_locality(
    sessions: SessionFactory, world: World
) -> None:
    pledge = await _draft(sessions, world.official)
    async with transaction(sessions) as session:
        stored = await get_pledge(session=session, pledge_id=pledge.id or 0)
    assert stored is not None
    assert stored.locality_id == world.home
    assert stored.created_by_id == world.official.id
    assert stored.language == "fr"
    assert (stored.state, stored.stage, stored.reference) == ("draft", "planning", None)
    revisions = await _revisions(sessions, stored.id or 0)
    assert [r.action for r in revisions] == ["created"]
    assert revisions[0].member_id == world.official.id


@pytest.mark.parametrize("who", ["coordinator", "staff", "newcomer"])
async def test_only_an_official_with_a_locality_starts_a_draft(
    sessions: SessionFactory, world: World, who: str
) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(ValueError):
            await create_draft(session=session, member=getattr(world, who), language="en")
        assert (await session.exec(select(Pledge))).all() == []


# --- edits and revisions --------------------------------------------------------------------


async def test_update_records_json_safe_old_and_new_values(
    sessions: SessionFactory, world: World
) -> None:
    pledge = await _draft(sessions, world.official)
    async with transaction(sessions) as session:
        loaded = await get_pledge(session=session, pledge_id=pledge.id or 0)
        assert loaded is not None
        changed = await update_pledge(
            session=session,
            pledge=loaded,
            member_id=_id(world.official),
            changes={
                "title": "Welcome centre",
                "starts_on": date(2027, 1, 15),
                "amount": Decimal("150000.50"),
                "currency": "EUR",
                "compacts": [Compact.GCM.value, Compact.GCR.value],
                "gcm_objectives": [15, 16],
            },
        )
    assert changed is True
    revisions = await _revisions(sessions, pledge.id or 0)
    assert [r.action for r in revisions] == ["created", "edited"]
    edit = revisions[-1]
    assert edit.member_id == world.official.id
    assert edit.changes == {
        "title": ["", "Welcome centre"],
        "starts_on": [None, "2027-01-15"],
        "amount": [None, "150000.50"],
        "currency": [None, "EUR"],
        "compacts": [[], ["gcm", "gcr"]],
        "gcm_objectives": [[], [15, 16]],
    }
    json.dumps(edit.changes)  # plain JSON, as stored

    async with transaction(sessions) as session:
        stored = await get_pledge(session=session, pledge_id=pledge.id or 0)
        assert stored is not None
        assert stored.title == "Welcome centre"
        assert stored.starts_on == date(2027, 1, 15)
        assert stored.amount == Decimal("150000.50")
        assert stored.gcm_objectives == [15, 16]
        assert stored.updated_at > stored.created_at
        await update_pledge(
            session=session,
            pledge=stored,
            member_id=_id(world.official),
            changes={"starts_on": date(2027, 2, 1), "amount": None},
        )
    second = (await _revisions(sessions, pledge.id or 0))[-1]
    assert second.changes == {
        "starts_on": ["2027-01-15", "2027-02-01"],
        "amount": ["150000.50", None],
    }


async def test_an_update_that_changes_nothing_records_nothing(
    sessions: SessionFactory, world: World
) -> None:
    pledge = await _draft(sessions, world.official, title="Same", gcr_objectives=[2])
    before = await _revisions(sessions, pledge.id or 0)
    async with transaction(sessions) as session:
        loaded = await get_pledge(session=session, pledge_id=pledge.id or 0)
        assert loaded is not None
        updated_at = loaded.updated_at
        changed = await update_pledge(
            session=session,
            pledge=loaded,
            member_id=_id(world.official),
            changes={"title": "Same", "gcr_objectives": [2]},
        )
        empty = await update_pledge(
            session=session, pledge=loaded, member_id=_id(world.official), changes={}
        )
    assert changed is False and empty is False
    assert len(await _revisions(sessions, pledge.id or 0)) == len(before)
    async with transaction(sessions) as session:
        again = await get_pledge(session=session, pledge_id=pledge.id or 0)
    assert again is not None and again.updated_at == updated_at


@pytest.mark.parametrize(
    "field", ["state", "reference", "locality_id", "created_by_id", "stage", "nonsense"]
)
async def test_fields_outside_the_form_cannot_be_edited(
    sessions: SessionFactory, world: World, field: str
) -> None:
    pledge = await _draft(sessions, world.official)
    async with transaction(sessions) as session:
        loaded = await get_pledge(session=session, pledge_id=pledge.id or 0)
        assert loaded is not None
        with pytest.raises(ValueError, match="not editable"):
            await update_pledge(
                session=session,
                pledge=loaded,
                member_id=_id(world.official),
                changes={"title": "Sneaky", field: "x"},
            )
    async with transaction(sessions) as session:
        stored = await get_pledge(session=session, pledge_id=pledge.id or 0)
    assert stored is not None
    assert stored.title == ""  # nothing applied, not even the editable part
    assert stored.state == "draft" and stored.locality_id == world.home
    assert len(await _revisions(sessions, pledge.id or 0)) == 1


# --- submission and references ------------------------------------------------------------


async def test_submission_gives_increasing_unique_references(
    sessions: SessionFactory, world: World
) -> None:
    year = utc_now().year
    drafts = [await _draft(sessions, world.official, title=f"P{n}") for n in range(3)]
    submitted = [await _submit(sessions, d.id or 0, world.official) for d in drafts]
    assert [p.reference for p in submitted] == [
        f"CLA-{year}-0001",
        f"CLA-{year}-0002",
        f"CLA-{year}-0003",
    ]
    async with transaction(sessions) as session:
        stored = (await session.exec(select(Pledge).order_by(Pledge.id))).all()  # type: ignore[arg-type]
    for pledge in stored:
        assert pledge.state == WorkflowState.SUBMITTED.value
        assert pledge.submitted_at is not None
        assert re.fullmatch(r"CLA-\d{4}-\d{4}", pledge.reference or "")
    last = (await _revisions(sessions, drafts[0].id or 0))[-1]
    assert last.action == "submitted"
    assert last.changes["state"] == ["draft", "submitted"]
    assert last.changes["reference"][1] == f"CLA-{year}-0001"


async def test_a_submitted_pledge_cannot_be_submitted_again(
    sessions: SessionFactory, world: World
) -> None:
    draft = await _draft(sessions, world.official)
    first = await _submit(sessions, draft.id or 0, world.official)
    with pytest.raises(ValueError):
        await _submit(sessions, draft.id or 0, world.official)
    async with transaction(sessions) as session:
        stored = await get_pledge(session=session, pledge_id=draft.id or 0)
        counter = await session.get(ReferenceCounter, utc_now().year)
    assert stored is not None and stored.reference == first.reference
    assert counter is not None and counter.last == 1  # no number was used up


@pytest.mark.parametrize(
    "state", [WorkflowState.APPROVED, WorkflowState.DELIVERED, WorkflowState.WITHDRAWN]
)
async def test_closed_or_approved_pledges_cannot_be_submitted(
    sessions: SessionFactory, world: World, state: WorkflowState
) -> None:
    draft = await _draft(sessions, world.official)
    await _set_state(sessions, draft.id or 0, state)
    with pytest.raises(ValueError):
        await _submit(sessions, draft.id or 0, world.official)


async def test_resubmission_after_changes_keeps_the_reference(
    sessions: SessionFactory, world: World
) -> None:
    draft = await _draft(sessions, world.official)
    reference = (await _submit(sessions, draft.id or 0, world.official)).reference
    await _set_state(sessions, draft.id or 0, WorkflowState.CHANGES_REQUESTED)
    again = await _submit(sessions, draft.id or 0, world.official)
    assert again.reference == reference
    assert again.state == WorkflowState.SUBMITTED.value
    other = await _submit(
        sessions, (await _draft(sessions, world.official)).id or 0, world.official
    )
    assert other.reference == f"CLA-{utc_now().year}-0002"


async def test_resubmission_revision_does_not_claim_a_new_reference(
    sessions: SessionFactory, world: World
) -> None:
    """The history must not say the reference was empty before a resubmission."""
    draft = await _draft(sessions, world.official)
    reference = (await _submit(sessions, draft.id or 0, world.official)).reference
    await _set_state(sessions, draft.id or 0, WorkflowState.CHANGES_REQUESTED)
    await _submit(sessions, draft.id or 0, world.official)
    last = (await _revisions(sessions, draft.id or 0))[-1]
    assert last.changes["state"] == ["changes_requested", "submitted"]
    assert last.changes.get("reference", [reference, reference])[0] == reference


async def _reference(sessions: SessionFactory, year: int) -> str:
    async with transaction(sessions) as session:
        return await next_reference(session=session, year=year)


async def test_concurrent_references_are_distinct(sessions: SessionFactory) -> None:
    await _reference(sessions, 2031)  # the year's counter exists already
    results = await asyncio.gather(*(_reference(sessions, 2031) for _ in range(10)))
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in results)
    assert numbers == list(range(2, 12))


async def test_concurrent_first_references_of_a_year_are_distinct(
    sessions: SessionFactory,
) -> None:
    """The first submissions of a new year race to create its counter: none may fail."""
    results = await asyncio.gather(
        *(_reference(sessions, 2032) for _ in range(10)), return_exceptions=True
    )
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert sorted(results) == [f"CLA-2032-{n:04d}" for n in range(1, 11)]  # type: ignore[type-var]


async def test_concurrent_submissions_get_distinct_references(
    sessions: SessionFactory, world: World
) -> None:
    drafts = [await _draft(sessions, world.official, title=f"P{n}") for n in range(10)]
    await _reference(sessions, utc_now().year)  # uses number 1; the counter exists
    submitted = await asyncio.gather(
        *(_submit(sessions, d.id or 0, world.official) for d in drafts)
    )
    references = [p.reference for p in submitted]
    assert len(set(references)) == 10
    year = utc_now().year
    assert sorted(references) == [f"CLA-{year}-{n:04d}" for n in range(2, 12)]  # type: ignore[type-var]


# --- withdrawal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        WorkflowState.DRAFT,
        WorkflowState.SUBMITTED,
        WorkflowState.CHANGES_REQUESTED,
        WorkflowState.APPROVED,
    ],
)
async def test_withdraw_keeps_the_pledge_and_records_it(
    sessions: SessionFactory, world: World, state: WorkflowState
) -> None:
    draft = await _draft(sessions, world.official)
    await _set_state(sessions, draft.id or 0, state)
    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=draft.id or 0)
        assert pledge is not None
        await withdraw_pledge(session=session, pledge=pledge, member_id=_id(world.official))
    async with transaction(sessions) as session:
        stored = await get_pledge(session=session, pledge_id=draft.id or 0)
    assert stored is not None and stored.state == WorkflowState.WITHDRAWN.value
    last = (await _revisions(sessions, draft.id or 0))[-1]
    assert (last.action, last.changes) == ("withdrawn", {"state": [state.value, "withdrawn"]})


@pytest.mark.parametrize("state", [WorkflowState.DELIVERED, WorkflowState.WITHDRAWN])
async def test_delivered_or_withdrawn_cannot_be_withdrawn(
    sessions: SessionFactory, world: World, state: WorkflowState
) -> None:
    draft = await _draft(sessions, world.official)
    await _set_state(sessions, draft.id or 0, state)
    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=draft.id or 0)
        assert pledge is not None
        with pytest.raises(ValueError):
            await withdraw_pledge(session=session, pledge=pledge, member_id=_id(world.official))
    async with transaction(sessions) as session:
        stored = await get_pledge(session=session, pledge_id=draft.id or 0)
    assert stored is not None and stored.state == state.value
    assert len(await _revisions(sessions, draft.id or 0)) == 1


# --- progress -----------------------------------------------------------------------------


async def test_progress_moves_the_stage_and_is_recorded(
    sessions: SessionFactory, world: World
) -> None:
    draft = await _draft(sessions, world.official)
    await _submit(sessions, draft.id or 0, world.official)
    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=draft.id or 0)
        assert pledge is not None
        report = await add_progress_report(
            session=session,
            pledge=pledge,
            stage=Stage.IN_PROGRESS,
            narrative="Centre opened in March.",
            member_id=_id(world.official),
        )
    assert report.id is not None
    async with transaction(sessions) as session:
        stored = await get_pledge(session=session, pledge_id=draft.id or 0)
        assert stored is not None
        assert stored.stage == Stage.IN_PROGRESS.value
        await add_progress_report(
            session=session,
            pledge=stored,
            stage=Stage.IN_PROGRESS,
            narrative="Still going.",
            member_id=_id(world.official),
        )
        reports = await list_progress_reports(session=session, pledge_id=draft.id or 0)
    assert [(r.stage, r.narrative) for r in reports] == [
        ("in_progress", "Centre opened in March."),
        ("in_progress", "Still going."),
    ]
    assert all(r.member_id == world.official.id for r in reports)
    progress = [r for r in await _revisions(sessions, draft.id or 0) if r.action == "progress"]
    assert [r.changes for r in progress] == [{"stage": ["planning", "in_progress"]}]


# --- lists --------------------------------------------------------------------------------


async def _touch(sessions: SessionFactory, pledge_id: int, member: Member, title: str) -> None:
    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=pledge_id)
        assert pledge is not None
        await update_pledge(
            session=session, pledge=pledge, changes={"title": title}, member_id=_id(member)
        )


async def _page(
    sessions: SessionFactory, locality_id: int, offset: int = 0, limit: int = 50
) -> tuple[list[str], int]:
    async with transaction(sessions) as session:
        page = await list_locality_pledges(
            session=session, locality_id=locality_id, offset=offset, limit=limit
        )
    return [p.title for p in page.pledges], page.total


async def test_locality_pledges_page_newest_first(sessions: SessionFactory, world: World) -> None:
    ids = [(await _draft(sessions, world.official, title=f"Lyon {n}")).id or 0 for n in range(5)]
    await _draft(sessions, world.other_official, title="Nice 0")
    first, total = await _page(sessions, world.home, 0, 2)
    second, _ = await _page(sessions, world.home, 2, 2)
    third, _ = await _page(sessions, world.home, 4, 2)
    beyond, total_beyond = await _page(sessions, world.home, 10, 2)
    assert total == 5 and total_beyond == 5
    assert first == ["Lyon 4", "Lyon 3"]
    assert second == ["Lyon 2", "Lyon 1"]
    assert third == ["Lyon 0"]
    assert beyond == []
    await _touch(sessions, ids[1], world.official, "Lyon 1 (edited)")
    assert (await _page(sessions, world.home, 0, 2))[0] == ["Lyon 1 (edited)", "Lyon 4"]


async def test_locality_pledges_include_joint_pledges_as_partner(
    sessions: SessionFactory, world: World
) -> None:
    await _draft(sessions, world.official, title="Lyon alone")
    joint = await _draft(
        sessions, world.other_official, title="Nice with Lyon", partner_ids=[world.home]
    )
    await _draft(sessions, world.other_official, title="Nice alone")
    await _draft(sessions, world.partner_official, title="Grenoble alone")

    # While it is a draft, the joint pledge is Nice's alone.
    assert await _page(sessions, world.home) == (["Lyon alone"], 1)
    joint = await _submit(sessions, joint.id or 0, world.other_official)
    titles, total = await _page(sessions, world.home)
    assert sorted(titles) == ["Lyon alone", "Nice with Lyon"] and total == 2
    titles, total = await _page(sessions, world.other)
    assert sorted(titles) == ["Nice alone", "Nice with Lyon"] and total == 2
    assert await _page(sessions, world.partner) == (["Grenoble alone"], 1)

    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=joint.id or 0)
        assert pledge is not None
        await update_pledge(
            session=session,
            pledge=pledge,
            member_id=_id(world.other_official),
            changes={"partner_ids": [world.partner]},
        )
    assert await _page(sessions, world.home) == (["Lyon alone"], 1)
    titles, total = await _page(sessions, world.partner)
    assert sorted(titles) == ["Grenoble alone", "Nice with Lyon"] and total == 2


async def test_partners_can_change_twice_in_one_session(
    sessions: SessionFactory, world: World
) -> None:
    draft = await _draft(sessions, world.official)
    async with transaction(sessions) as session:
        pledge = await get_pledge(session=session, pledge_id=draft.id or 0)
        assert pledge is not None
        member_id = _id(world.official)
        await update_pledge(
            session=session,
            pledge=pledge,
            member_id=member_id,
            changes={"partner_ids": [world.partner]},
        )
        await session.flush()
        await update_pledge(
            session=session,
            pledge=pledge,
            member_id=member_id,
            changes={"partner_ids": [world.partner, world.other]},
        )
    async with transaction(sessions) as session:
        rows = (await session.exec(select(PledgePartner))).all()
        view = await load_pledge_view(
            session=session,
            pledge=await get_pledge(session=session, pledge_id=draft.id or 0) or pledge,
        )
    assert {(r.pledge_id, r.locality_id) for r in rows} == {
        (draft.id, world.partner),
        (draft.id, world.other),
    }
    assert [loc.name for loc in view.partners] == ["Grenoble", "Nice"]
    assert view.locality is not None and view.locality.name == "Lyon"
    assert view.forum is None


async def test_pledge_view_has_its_forum(sessions: SessionFactory, world: World) -> None:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
    draft = await _draft(sessions, world.official, forum_id=forum.id)
    async with transaction(sessions) as session:
        view = await load_pledge_view(session=session, pledge=draft)
    assert view.forum is not None and view.forum.code == "GRF2027"
    assert view.partners == []


async def test_member_drafts_are_their_localitys_drafts_latest_first(
    sessions: SessionFactory, world: World
) -> None:
    older = await _draft(sessions, world.official, title="older")
    await _draft(sessions, world.official, title="newer")
    done = await _draft(sessions, world.official, title="submitted")
    await _submit(sessions, done.id or 0, world.official)
    await _draft(sessions, world.other_official, title="elsewhere")
    await _touch(sessions, older.id or 0, world.official, "older, touched")
    async with transaction(sessions) as session:
        drafts = await list_member_drafts(session=session, member=world.official)
        one = await list_member_drafts(session=session, member=world.official, limit=1)
    assert [p.title for p in drafts] == ["older, touched", "newer"]
    assert [p.title for p in one] == ["older, touched"]


# --- rights -------------------------------------------------------------------------------


async def test_who_may_view_edit_and_report(sessions: SessionFactory, world: World) -> None:
    draft = await _draft(sessions, world.official, partner_ids=[world.partner])
    assert can_view(world.official, draft) and can_edit(world.official, draft)
    assert not can_report(world.official, draft)  # a draft has no progress yet

    for outsider in (world.other_official, world.newcomer):
        assert not can_view(outsider, draft)
        assert not can_edit(outsider, draft)
        assert not can_report(outsider, draft)
    # A draft stays with its locality: not the secretariat, not a partner, until submitted.
    for secretariat in (world.coordinator, world.staff):
        assert not can_view(secretariat, draft)
        assert not can_edit(secretariat, draft)
        assert not can_report(secretariat, draft)
    assert not can_view(world.partner_official, draft)
    assert not can_edit(world.partner_official, draft)

    submitted = await _submit(sessions, draft.id or 0, world.official)
    for reader in (world.coordinator, world.staff, world.partner_official):
        assert can_view(reader, submitted)
    assert not can_edit(world.partner_official, submitted)
    assert can_edit(world.official, submitted) and can_report(world.official, submitted)
    assert not can_report(world.other_official, submitted)

    delivered = await _set_state(sessions, draft.id or 0, WorkflowState.DELIVERED)
    assert can_view(world.official, delivered)
    assert not can_edit(world.official, delivered)
    withdrawn = await _set_state(sessions, draft.id or 0, WorkflowState.WITHDRAWN)
    assert can_view(world.official, withdrawn)
    assert not can_edit(world.official, withdrawn)
    assert not can_report(world.official, withdrawn)


async def test_an_official_moved_to_no_locality_sees_nothing(
    sessions: SessionFactory, world: World
) -> None:
    draft = await _draft(sessions, world.official)
    stray = Member(telegram_id=1, role=Role.OFFICIAL.value, locality_id=None)
    assert not can_view(stray, draft) and not can_edit(stray, draft)


async def test_get_visible_pledge_hides_other_localities_pledges(
    sessions: SessionFactory, world: World
) -> None:
    draft = await _draft(sessions, world.official)
    async with transaction(sessions) as session:
        own = await get_visible_pledge(
            session=session, pledge_id=draft.id or 0, member=world.official
        )
        hidden = await get_visible_pledge(
            session=session, pledge_id=draft.id or 0, member=world.other_official
        )
        staff = await get_visible_pledge(
            session=session, pledge_id=draft.id or 0, member=world.staff
        )
        missing = await get_visible_pledge(
            session=session, pledge_id=999_999, member=world.coordinator
        )
    assert own is not None and own.id == draft.id
    assert hidden is None
    assert staff is None  # a draft is its locality's own until it is submitted
    assert missing is None
