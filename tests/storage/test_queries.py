"""Status queries: a forum's figures, searching pledges in any language, who has not pledged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from storage.engine import SessionFactory, transaction
from storage.invites import create_invite
from storage.models import Forum, Invite, Member, Pledge, Role, WorkflowState
from storage.pledges import (
    create_draft,
    fold,
    get_pledge_by_reference,
    submit_pledge,
    update_pledge,
    withdraw_pledge,
)
from storage.queries import (
    FindFilters,
    find_facet,
    find_pledges,
    forum_summary,
    missing_localities,
    objective_facet,
    search_words,
)
from storage.reminders import forum_status
from storage.types import utc_now
from tests.storage.helpers import make_locality, make_member


@dataclass
class World:
    grf: int
    imrf: int
    sao_paulo: int
    lyon: int
    beijing: int
    nice: int
    cairo: int
    rome: int
    sp_official: Member
    lyon_official: Member
    beijing_official: Member
    nice_official: Member
    staff: Member
    coordinator: Member
    newcomer: Member
    titles: dict[str, int]  # title → pledge id


async def _forum(sessions: SessionFactory, code: str) -> int:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == code))).one()
        assert forum.id is not None
        return forum.id


async def _pledge(
    sessions: SessionFactory,
    official: Member,
    *,
    state: WorkflowState,
    stage: str = "planning",
    **changes: object,
) -> Pledge:
    """A pledge written the way the wizard writes it, then moved to `state`."""
    assert official.id is not None
    async with transaction(sessions) as session:
        pledge = await create_draft(session=session, member=official, language="en")
        await update_pledge(session=session, pledge=pledge, changes=changes, member_id=official.id)
        if state is not WorkflowState.DRAFT:
            await submit_pledge(session=session, pledge=pledge, member_id=official.id)
        if state is WorkflowState.WITHDRAWN:
            await withdraw_pledge(session=session, pledge=pledge, member_id=official.id)
        elif state not in (WorkflowState.DRAFT, WorkflowState.SUBMITTED):
            pledge.state = state.value
        pledge.stage = stage
        session.add(pledge)
    return pledge


@pytest.fixture
async def world(sessions: SessionFactory) -> World:
    grf, imrf = await _forum(sessions, "GRF2027"), await _forum(sessions, "IMRF2026")
    async with transaction(sessions) as session:
        places = {
            name: await make_locality(session, name, country)
            for name, country in (
                ("São Paulo", "BR"),
                ("Lyon", "FR"),
                ("Beijing", "CN"),
                ("Nice", "FR"),
                ("Cairo", "EG"),
                ("Rome", "IT"),
            )
        }
        ids = {name: loc.id or 0 for name, loc in places.items()}
        officials = {
            name: await make_member(session, Role.OFFICIAL, locality_id=ids[name], name=name)
            for name in ("São Paulo", "Lyon", "Beijing", "Nice")
        }
        staff = await make_member(session, Role.STAFF)
        coordinator = await make_member(session, Role.COORDINATOR)
        newcomer = await make_member(session, None)
        # Cairo is invited and has not joined yet; Rome's invitation has expired.
        await create_invite(session=session, role=Role.OFFICIAL, locality_id=ids["Cairo"])
        await create_invite(
            session=session,
            role=Role.OFFICIAL,
            locality_id=ids["Rome"],
            expires_in=timedelta(seconds=-1),
        )
    p1 = await _pledge(
        sessions,
        officials["São Paulo"],
        state=WorkflowState.SUBMITTED,
        stage="in_progress",
        forum_id=grf,
        compacts=["gcr"],
        gcr_objectives=[2],
        title="Centro de acolhimento em São Paulo",
        description="Abrigo para refugiados",
        amount=Decimal("1000"),
        currency="BRL",
    )
    p2 = await _pledge(
        sessions,
        officials["Lyon"],
        state=WorkflowState.APPROVED,
        forum_id=grf,
        compacts=["gcm", "gcr"],
        gcm_objectives=[15, 16],
        gcr_objectives=[1],
        title="Welcome centre",
        description="Language classes in Lyon",
        amount=Decimal("500.50"),
        currency="EUR",
        partner_ids=[ids["São Paulo"]],
    )
    p3 = await _pledge(
        sessions,
        officials["Beijing"],
        state=WorkflowState.DRAFT,
        forum_id=grf,
        compacts=["gcr"],
        title="城市难民融合计划",
        description="为难民提供语言课程",
        amount=Decimal("99"),
        currency="CNY",
    )
    p4 = await _pledge(
        sessions,
        officials["Lyon"],
        state=WorkflowState.DELIVERED,
        stage="fulfilled",
        forum_id=imrf,
        compacts=["gcm"],
        gcm_objectives=[16],
        title="مركز استقبال المهاجرين",
        description="دروس اللغة",
        amount=Decimal("200"),
        currency="EUR",
    )
    p5 = await _pledge(
        sessions,
        officials["Nice"],
        state=WorkflowState.WITHDRAWN,
        forum_id=grf,
        compacts=["gcm"],
        title="Withdrawn welcome centre",
        description="No longer",
    )
    p6 = await _pledge(
        sessions,
        officials["Beijing"],
        state=WorkflowState.SUBMITTED,
        forum_id=imrf,
        compacts=["gcm"],
        gcm_objectives=[1],
        title="Beijing integration 北京融合",
        description="Data for newcomers",
    )
    return World(
        grf=grf,
        imrf=imrf,
        sao_paulo=ids["São Paulo"],
        lyon=ids["Lyon"],
        beijing=ids["Beijing"],
        nice=ids["Nice"],
        cairo=ids["Cairo"],
        rome=ids["Rome"],
        sp_official=officials["São Paulo"],
        lyon_official=officials["Lyon"],
        beijing_official=officials["Beijing"],
        nice_official=officials["Nice"],
        staff=staff,
        coordinator=coordinator,
        newcomer=newcomer,
        titles={p.title: p.id or 0 for p in (p1, p2, p3, p4, p5, p6)},
    )


async def _find(
    sessions: SessionFactory,
    viewer: Member,
    text: str = "",
    filters: FindFilters | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> list[str]:
    async with transaction(sessions) as session:
        page = await find_pledges(
            session=session,
            words=search_words(text),
            filters=filters or FindFilters(),
            viewer=viewer,
            offset=offset,
            limit=limit,
        )
    return sorted(p.title for p in page.pledges)


# --- folding --------------------------------------------------------------------------------


def test_fold_ignores_case_accents_and_spacing() -> None:
    assert fold("  São   PAULO ") == "sao paulo"
    assert fold("Straße") == "strasse"
    assert search_words("Sao sao  PAULO") == ["sao", "paulo"]


async def test_search_text_follows_edits(sessions: SessionFactory, world: World) -> None:
    async with transaction(sessions) as session:
        pledge = await session.get(Pledge, world.titles["Welcome centre"])
        assert pledge is not None
        assert pledge.search_text == "welcome centre language classes in lyon"
        await update_pledge(
            session=session,
            pledge=pledge,
            changes={"title": "Accueil à Lyon"},
            member_id=world.lyon_official.id or 0,
        )
        assert pledge.search_text == "accueil a lyon language classes in lyon"
    assert await _find(sessions, world.staff, "ACCUEIL") == ["Accueil à Lyon"]


# --- search ---------------------------------------------------------------------------------


async def test_search_ignores_case_and_accents(sessions: SessionFactory, world: World) -> None:
    expected = ["Centro de acolhimento em São Paulo"]
    assert await _find(sessions, world.staff, "sao paulo") == expected
    assert await _find(sessions, world.staff, "SÃO") == expected
    assert await _find(sessions, world.staff, "refugiados") == expected  # in the description


async def test_search_finds_arabic_and_chinese(sessions: SessionFactory, world: World) -> None:
    assert await _find(sessions, world.staff, "المهاجرين") == ["مركز استقبال المهاجرين"]
    assert await _find(sessions, world.staff, "北京") == ["Beijing integration 北京融合"]
    # A draft is its locality's own: its officials find it, staff do not.
    assert await _find(sessions, world.beijing_official, "难民") == ["城市难民融合计划"]
    assert await _find(sessions, world.staff, "难民") == []


async def test_every_word_must_match(sessions: SessionFactory, world: World) -> None:
    assert await _find(sessions, world.staff, "centre lyon") == ["Welcome centre"]
    assert await _find(sessions, world.staff, "welcome classes") == ["Welcome centre"]
    assert await _find(sessions, world.staff, "welcome abrigo") == []
    # % and _ are letters to look for, not patterns.
    assert await _find(sessions, world.staff, "%") == []
    assert await _find(sessions, world.staff, "_") == []


async def test_each_filter(sessions: SessionFactory, world: World) -> None:
    staff = world.staff
    assert await _find(sessions, staff, filters=FindFilters(forum_id=world.imrf)) == [
        "Beijing integration 北京融合",
        "مركز استقبال المهاجرين",
    ]
    assert await _find(sessions, staff, filters=FindFilters(country="br")) == [
        "Centro de acolhimento em São Paulo"
    ]
    assert await _find(sessions, staff, filters=FindFilters(locality_id=world.lyon)) == [
        "Welcome centre",
        "مركز استقبال المهاجرين",
    ]
    assert await _find(sessions, staff, filters=FindFilters(compact="gcm")) == [
        "Beijing integration 北京融合",
        "Welcome centre",
        "مركز استقبال المهاجرين",
    ]
    assert await _find(sessions, staff, filters=FindFilters(objective="gcm16")) == [
        "Welcome centre",
        "مركز استقبال المهاجرين",
    ]
    assert await _find(sessions, staff, filters=FindFilters(objective="gcr2")) == [
        "Centro de acolhimento em São Paulo"
    ]
    assert await _find(sessions, staff, filters=FindFilters(objective="gcx2")) == []
    assert await _find(sessions, staff, filters=FindFilters(stage="fulfilled")) == [
        "مركز استقبال المهاجرين"
    ]
    both = FindFilters(forum_id=world.grf, compact="gcm")
    assert await _find(sessions, staff, "centre", both) == ["Welcome centre"]


async def test_visibility_per_role(sessions: SessionFactory, world: World) -> None:
    readers = [
        "Beijing integration 北京融合",
        "Centro de acolhimento em São Paulo",
        "Welcome centre",
        "مركز استقبال المهاجرين",
    ]
    assert await _find(sessions, world.staff) == readers
    assert await _find(sessions, world.coordinator) == readers
    # Officials: their locality's pledges (drafts and withdrawn ones too) and joint ones.
    assert await _find(sessions, world.lyon_official) == [
        "Welcome centre",
        "مركز استقبال المهاجرين",
    ]
    assert await _find(sessions, world.sp_official) == [
        "Centro de acolhimento em São Paulo",
        "Welcome centre",
    ]
    assert await _find(sessions, world.nice_official) == ["Withdrawn welcome centre"]
    assert await _find(sessions, world.newcomer) == []


async def test_pages(sessions: SessionFactory, world: World) -> None:
    async with transaction(sessions) as session:
        first = await find_pledges(
            session=session,
            words=[],
            filters=FindFilters(),
            viewer=world.staff,
            offset=0,
            limit=3,
        )
        rest = await find_pledges(
            session=session,
            words=[],
            filters=FindFilters(),
            viewer=world.staff,
            offset=3,
            limit=3,
        )
    assert first.total == rest.total == 4
    assert len(first.pledges) == 3 and len(rest.pledges) == 1
    ids = [p.pledge_id for p in (*first.pledges, *rest.pledges)]
    assert ids == sorted(ids, reverse=True)  # newest first
    line = rest.pledges[0]
    assert (line.locality, line.country) in {("São Paulo", "BR"), ("Lyon", "FR"), ("Beijing", "CN")}


async def test_facets_offer_values_present(sessions: SessionFactory, world: World) -> None:
    async with transaction(sessions) as session:

        async def facet(name: str, filters: FindFilters | None = None) -> dict[str, int]:
            values = await find_facet(
                session=session,
                words=[],
                filters=filters or FindFilters(),
                viewer=world.staff,
                facet=name,
            )
            return {v.code: v.count for v in values}

        assert await facet("country") == {"FR": 2, "BR": 1, "CN": 1}
        assert await facet("forum") == {str(world.grf): 2, str(world.imrf): 2}
        assert await facet("stage") == {"planning": 2, "in_progress": 1, "fulfilled": 1}
        assert await facet("compact") == {"gcm": 3, "gcr": 2}
        assert await facet("locality", FindFilters(country="FR")) == {str(world.lyon): 2}
        objectives = await objective_facet(
            session=session, words=[], filters=FindFilters(), viewer=world.staff
        )
        assert {v.code: v.count for v in objectives} == {
            "gcm16": 2,
            "gcm1": 1,
            "gcm15": 1,
            "gcr1": 1,
            "gcr2": 1,
        }
        assert objectives[0].code == "gcm16"


# --- summary --------------------------------------------------------------------------------


async def test_summary_matches_the_pledges(sessions: SessionFactory, world: World) -> None:
    async with transaction(sessions) as session:
        summary = await forum_summary(session=session, forum_id=world.grf)
        as_staff = await forum_summary(session=session, forum_id=world.grf, viewer=world.staff)
        as_lyon = await forum_summary(
            session=session, forum_id=world.grf, viewer=world.lyon_official
        )
        as_beijing = await forum_summary(
            session=session, forum_id=world.grf, viewer=world.beijing_official
        )
        imrf = await forum_summary(session=session, forum_id=world.imrf)
    # The draft (Beijing) and the withdrawn pledge (Nice) are not counted for readers.
    assert summary == as_staff
    assert summary.total == 2
    assert summary.by_state == {"submitted": 1, "approved": 1}
    assert summary.by_stage == {"in_progress": 1, "planning": 1}
    assert (summary.localities, summary.countries) == (2, 2)
    assert summary.budgets == [("BRL", Decimal("1000")), ("EUR", Decimal("500.50"))]
    assert as_lyon.total == 1 and as_lyon.by_state == {"approved": 1}
    assert as_beijing.by_state == {"draft": 1}
    assert as_beijing.budgets == [("CNY", Decimal("99"))]
    assert imrf.by_state == {"delivered": 1, "submitted": 1}
    assert (imrf.localities, imrf.countries) == (2, 2)
    assert imrf.budgets == [("EUR", Decimal("200"))]


# --- missing --------------------------------------------------------------------------------


async def test_missing_localities(sessions: SessionFactory, world: World) -> None:
    async with transaction(sessions) as session:
        page = await missing_localities(session=session, forum_id=world.grf, offset=0, limit=10)
        second = await missing_localities(session=session, forum_id=world.grf, offset=2, limit=2)
        imrf = await missing_localities(session=session, forum_id=world.imrf, offset=0, limit=10)
    # Beijing has only a draft, Nice only a withdrawn pledge, Cairo an open invitation;
    # Rome's invitation expired, so Rome was never really invited.
    assert [loc.name for loc in page.localities] == ["Beijing", "Cairo", "Nice"]
    assert page.total == 3
    assert page.invited_only == {world.cairo}
    assert [loc.name for loc in second.localities] == ["Nice"] and second.total == 3
    assert [loc.name for loc in imrf.localities] == ["Cairo", "Nice", "São Paulo"]


async def test_stopped_official_and_used_invite_do_not_count(
    sessions: SessionFactory, world: World
) -> None:
    async with transaction(sessions) as session:
        nice = await session.get(Member, world.nice_official.id)
        assert nice is not None
        nice.active = False
        session.add(nice)
        for invite in (await session.exec(select(Invite))).all():
            invite.uses_left = 0
            session.add(invite)
    async with transaction(sessions) as session:
        page = await missing_localities(session=session, forum_id=world.grf, offset=0, limit=10)
    assert [loc.name for loc in page.localities] == ["Beijing"]


async def test_pledge_by_reference(sessions: SessionFactory, world: World) -> None:
    async with transaction(sessions) as session:
        pledge = await session.get(Pledge, world.titles["Welcome centre"])
        assert pledge is not None and pledge.reference is not None
        found = await get_pledge_by_reference(session=session, reference=pledge.reference.lower())
        assert found is not None and found.id == pledge.id
        assert await get_pledge_by_reference(session=session, reference="CLA-1999-0001") is None


async def test_missing_and_the_digest_agree_on_who_has_not_pledged(
    sessions: SessionFactory, world: World
) -> None:
    """A partner in a joint pledge has pledged, its own draft notwithstanding; a draft alone
    is no pledge. /missing and the coordinators' digest once counted these differently."""
    await _pledge(
        sessions,
        world.lyon_official,
        state=WorkflowState.SUBMITTED,
        forum_id=world.grf,
        title="Joint welcome with Beijing",
        partner_ids=[world.beijing],
    )
    async with transaction(sessions) as session:
        page = await missing_localities(session=session, forum_id=world.grf, offset=0, limit=10)
        status = await forum_status(
            session=session, forum_id=world.grf, failures_since=None, now=utc_now()
        )
    assert [loc.name for loc in page.localities] == ["Cairo", "Nice"]
    assert list(status.not_pledged) == ["Cairo", "Nice"] and status.not_pledged_total == 2
