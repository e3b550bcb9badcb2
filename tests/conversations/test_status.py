"""Status by chat, end to end: /status, /pledge <reference>, /find with filters, /missing."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory, transaction
from storage.models import Forum, Locality, Member, Pledge, Role, WorkflowState
from storage.pledges import create_draft, submit_pledge, update_pledge
from tests.conftest import Invitations
from tests.conversations.helpers import join, member, state_of, texts
from tests.storage.helpers import make_locality, make_member


async def _forum_id(sessions: SessionFactory, code: str = "GRF2027") -> int:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == code))).one()
        return forum.id or 0


async def _pledges(
    sessions: SessionFactory,
    author: Member,
    count: int,
    *,
    title: str = "Welcome centre",
    state: WorkflowState = WorkflowState.SUBMITTED,
    forum: str = "GRF2027",
    **changes: object,
) -> list[Pledge]:
    """`count` pledges by `author`'s locality, submitted unless told otherwise."""
    forum_id = await _forum_id(sessions, forum)
    made = []
    async with transaction(sessions) as session:
        for i in range(count):
            pledge = await create_draft(session=session, member=author, language="en")
            values = {
                "forum_id": forum_id,
                "compacts": ["gcm"],
                "gcm_objectives": [16],
                "title": title if count == 1 else f"{title} {i + 1}",
                "description": "Language classes and legal advice",
                **changes,
            }
            await update_pledge(
                session=session, pledge=pledge, changes=values, member_id=author.id or 0
            )
            if state is not WorkflowState.DRAFT:
                await submit_pledge(session=session, pledge=pledge, member_id=author.id or 0)
            made.append(pledge)
    return made


async def test_status_per_role(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=21, locality="Lyon")
    staff = await join(standin, app, invitations, user_id=31, role=Role.STAFF)
    lyon = await member(sessions, 21)
    await _pledges(sessions, lyon, 2, amount=Decimal("1000"), currency="EUR")
    await _pledges(sessions, lyon, 1, title="Unfinished", state=WorkflowState.DRAFT)
    async with transaction(sessions) as session:
        porto = await make_locality(session, "Porto", "PT")
        porto_official = await make_member(session, Role.OFFICIAL, locality_id=porto.id)
    await _pledges(sessions, porto_official, 1, title="Porto shelter")

    replies = await staff.send("/status GRF2027")
    text = texts(replies)
    assert "Global Refugee Forum 2027" in text and "3 pledges" in text
    assert "Submitted: 3" in text and "Draft" not in text  # a draft is its locality's own
    assert "Planning stage: 3" in text
    assert "Localities: 2 · countries: 2" in text
    assert "€2,000.00" in text
    assert "/missing GRF2027" in text

    # Without a forum: every open forum (only GRF 2027 is open in the seeded data).
    assert "3 pledges" in texts(await staff.send("/status"))

    text = texts(await official.send("/status grf2027"))
    assert "3 pledges you can see" in text  # Lyon's two and its draft; not Porto's
    assert "Draft: 1" in text and "/missing" not in text

    assert "There is no forum NOPE" in texts(await staff.send("/status NOPE"))
    assert "3 pledges" in texts(await staff.send("/status grf 2027"))  # typed with a space

    stranger = standin.person(app, user_id=99, first_name="Zed", language_code="en")
    assert "You need an invitation to use /status" in texts(await stranger.send("/status"))


async def test_pledge_by_reference_per_role(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=21, locality="Lyon")
    other = await join(standin, app, invitations, user_id=22, locality="Nice")
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    (pledge,) = await _pledges(sessions, await member(sessions, 21), 1, title="Lyon <welcome>")
    reference = pledge.reference or ""

    for person in (coordinator, official):
        text = texts(await person.send(f"/pledge {reference.lower()}"))
        assert "Lyon &lt;welcome&gt;" not in text  # escaped once, shown as typed
        assert "Lyon <welcome>" in text and f"Reference: {reference}" in text
    assert "There is no pledge" in texts(await other.send(f"/pledge {reference}"))
    # /find with a reference alone shows that pledge, as /pledge does, to whom may see it.
    assert f"Reference: {reference}" in texts(await coordinator.send(f"/find {reference}"))
    assert "There is no pledge" in texts(await other.send(f"/find {reference.lower()}"))
    assert "There is no pledge" in texts(await coordinator.send("/pledge CLA-1999-0001"))

    # Alone, /pledge still starts the officials' wizard; others get a hint.
    assert "Which forum" in texts(await official.send("/pledge"))
    hint = texts(await coordinator.send("/pledge"))
    assert "/pledge CLA-2027-0042" in hint and "Which forum" not in hint


async def test_find_filters_and_cards(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    staff = await join(standin, app, invitations, user_id=31, role=Role.STAFF)
    await join(standin, app, invitations, user_id=21, locality="São Paulo", country="BR")
    await join(standin, app, invitations, user_id=22, locality="Lyon")
    sp, lyon = await member(sessions, 21), await member(sessions, 22)
    await _pledges(sessions, sp, 1, title="Centro de acolhimento São Paulo")
    await _pledges(sessions, lyon, 1, title="Accueil des nouveaux arrivants à Lyon")
    await _pledges(
        sessions,
        lyon,
        1,
        title="Lyon centre de réfugiés",
        compacts=["gcr"],
        gcr_objectives=[2],
        scope="international",
        beneficiary_countries=["LB"],
        refugee_situations=["syria"],
    )
    await _pledges(sessions, lyon, 1, title="Brouillon Lyon", state=WorkflowState.DRAFT)

    replies = await staff.send("/find SAO paulo")
    assert "1 pledge found" in texts(replies)
    assert "Centro de acolhimento São Paulo" in texts(replies)

    replies = await staff.send("/find lyon")
    assert "2 pledges found" in texts(replies)  # the draft is not shown to staff
    assert "Brouillon" not in texts(replies)
    replies = await staff.press("🔎 Objective")
    assert "GCM 16 · Inclusion and social cohesion (1)" in [b.text for b in replies[-1].buttons()]
    replies = await staff.press("GCR 2")
    text = texts(replies)
    assert "1 pledge found" in text and "Lyon centre de réfugiés" in text
    assert "Objective: GCR 2" in text

    # The search and its filters live in the database: they survive a restart.
    state = await state_of(sessions, 31)
    assert state is not None and state.flow == "find"
    assert state.data == {"words": ["lyon"], "filters": {"objective": "gcr2"}}

    replies = await staff.press("✖ clear filters")
    assert "2 pledges found" in texts(replies)
    replies = await staff.press("🔎 Country")
    assert replies[-1].buttons()[0].text == "France (2)"
    replies = await staff.press("France (2)")
    assert "Country: France" in texts(replies)
    replies = await staff.press(1)  # the second result's card
    assert "Reference: CLA-" in texts(replies)

    # Where a pledge acts is a filter too, as the UN forms ask it.
    await staff.press("✖ clear filters")
    replies = await staff.press("🔎 Scope")
    assert replies[-1].buttons()[0].text == "International (1)"
    replies = await staff.press("International (1)")
    assert "1 pledge found" in texts(replies) and "Scope: International" in texts(replies)
    await staff.press_data("q.s:type:nonsense")
    assert staff.last_answer == "That button is not valid."
    # And the refugee situation it addresses, as the GRF form asks it.
    await staff.press("✖ clear filters")
    replies = await staff.press("🔎 Refugee situation")
    assert replies[-1].buttons()[0].text == "Syria situation (1)"
    replies = await staff.press("Syria situation (1)")
    text = texts(replies)
    assert "1 pledge found" in text and "Refugee situation: Syria situation" in text
    assert "Lyon centre de réfugiés" in text
    await staff.press_data("q.s:situation:atlantis")
    assert staff.last_answer == "That button is not valid."

    # Forged presses: a draft's card, a filter that does not exist.
    async with transaction(sessions) as session:
        draft = (await session.exec(select(Pledge).where(Pledge.title == "Brouillon Lyon"))).one()
    await staff.press_data(f"q.o:{draft.id}")
    assert staff.last_answer == "That pledge is not available."
    await staff.press_data("q.s:country:<b>")
    assert staff.last_answer == "That button is not valid."
    await staff.press_data("q.f:nothing")
    assert staff.last_answer == "That button is not valid."

    # Leaving the search ends it: its old buttons say so.
    await staff.send("/cancel")
    await staff.press_data("q.p:0")
    assert staff.last_answer == "That search has ended. Send /find to search again."


async def test_find_per_role(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=21, locality="Lyon")
    await join(standin, app, invitations, user_id=22, locality="Nice")
    await _pledges(sessions, await member(sessions, 21), 1, title="Lyon welcome")
    await _pledges(sessions, await member(sessions, 22), 1, title="Nice welcome")
    await _pledges(
        sessions, await member(sessions, 21), 1, title="Lyon draft", state=WorkflowState.DRAFT
    )
    text = texts(await official.send("/find welcome"))
    assert "Lyon welcome" in text and "Nice welcome" not in text
    assert "Lyon draft" in texts(await official.send("/find"))

    stranger = standin.person(app, user_id=99, first_name="Zed", language_code="en")
    assert "You need an invitation to use /find" in texts(await stranger.send("/find welcome"))
    await stranger.send("/start")
    await stranger.press_data("q.p:0")
    assert stranger.last_answer == "That is not available to you."


async def test_find_pages_at_the_boundaries_with_long_titles(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    async with transaction(sessions) as session:
        long_name = await make_locality(session, "Ŝ" * 200, "FR")
        author = await make_member(session, Role.OFFICIAL, locality_id=long_name.id)
    long_title = "أ" * 190  # Arabic: isolates are added around it in Arabic, too
    await _pledges(sessions, author, 10, title=long_title)

    replies = await coordinator.send("/find")
    assert "10 pledges found" in texts(replies)
    labels = [b.text for b in replies[-1].buttons()]
    assert "Next ›" not in labels  # exactly one page

    await _pledges(sessions, author, 1, title=long_title + " <&>")
    replies = await coordinator.send("/find")
    assert "11 pledges found" in texts(replies)
    replies = await coordinator.press("Next ›")
    text = texts(replies)
    assert "11. " in text and "2 / 2" in [b.text for b in replies[-1].buttons()]
    assert "1. " not in text.replace("11. ", "")
    replies = await coordinator.press("‹ Previous")
    assert "10. " in texts(replies)
    # Standin checks every message: none is over 4096 characters or has broken HTML.


async def test_missing_per_role_and_pages(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    staff = await join(standin, app, invitations, user_id=31, role=Role.STAFF)
    official = await join(standin, app, invitations, user_id=21, locality="Lyon")
    await _pledges(sessions, await member(sessions, 21), 1)
    async with transaction(sessions) as session:
        for i in range(24):  # with Lyon, 25 invited localities: 24 have not pledged
            place = await make_locality(session, f"Town {i:02d} " + "x" * 150, "FR")
            await make_member(session, Role.OFFICIAL, locality_id=place.id)
    await invitations.make(Role.OFFICIAL, locality="Cairo", country="EG")  # 25: one page

    replies = await staff.send("/missing GRF2027")
    text = texts(replies)
    assert "25 invited localities have not pledged" in text
    assert "Cairo, Egypt · invited, not joined yet" in text and "Lyon" not in text
    assert replies[-1].buttons() == []

    await invitations.make(Role.OFFICIAL, locality="Zagreb", country="HR")  # 26: two pages
    replies = await staff.send("/missing")
    replies = await staff.press("Global Refugee Forum 2027")
    assert "26 invited localities" in texts(replies)
    replies = await staff.press("Next ›")
    assert "26. Zagreb, Croatia" in texts(replies)

    assert "/missing is not available to you." in texts(await official.send("/missing GRF2027"))
    forum_id = await _forum_id(sessions)
    await official.press_data(f"q.m:{forum_id}:0")
    assert official.last_answer == "That is not available to you."
    async with transaction(sessions) as session:
        assert (await session.exec(select(Locality).where(Locality.name == "Zagreb"))).one()
