"""Review end to end: submit, send back with a comment, edit, resubmit, approve, deliver."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SentMessage, SimulatedPerson
from conversations.i18n import Catalogs
from conversations.review import changes_notice
from storage.engine import SessionFactory, transaction
from storage.models import Pledge, Role, Stage, WorkflowState
from storage.pledges import add_progress_report, update_pledge
from tests.conftest import Invitations
from tests.conversations.helpers import join, latest_pledge, member, submit_pledge, texts

COMMENT = "Please give the budget in <b>euros</b> & say who runs the centre."
NEW_TITLE = "Centre d'accueil <des> nouveaux arrivants"


@dataclass
class Cast:
    coordinator: SimulatedPerson
    second_coordinator: SimulatedPerson
    official: SimulatedPerson  # Lyon, English: writes the pledge
    french_official: SimulatedPerson  # Lyon, French
    other_official: SimulatedPerson  # Nice
    staff: SimulatedPerson


@pytest.fixture
async def cast(app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations) -> Cast:
    coordinator = await join(
        standin, app, invitations, user_id=11, role=Role.COORDINATOR, first_name="Coco"
    )
    second = await join(
        standin, app, invitations, user_id=12, role=Role.COORDINATOR, first_name="Cleo"
    )
    official = await join(standin, app, invitations, user_id=21, first_name="Olga")
    french = standin.person(app, user_id=22, first_name="Pierre", language_code="fr")
    await french.send("/start " + await invitations.make(Role.OFFICIAL, locality="Lyon"))
    other = await join(
        standin, app, invitations, user_id=23, first_name="Nina", locality="Nice", country="FR"
    )
    staff = await join(standin, app, invitations, user_id=31, role=Role.STAFF, first_name="Sam")
    return Cast(coordinator, second, official, french, other, staff)


def last(standin: BotApiStandIn, person: SimulatedPerson) -> SentMessage:
    message = standin.last_message(person.chat_id)
    assert message is not None
    return message


def data_of(message: SentMessage, prefix: str) -> str:
    """The callback data of the one button whose action is `prefix` (labels may be translated)."""
    found = [
        b.callback_data for b in message.buttons() if (b.callback_data or "").startswith(prefix)
    ]
    assert len(found) == 1, message.buttons()
    assert found[0] is not None
    return found[0]


async def state_of(sessions: SessionFactory, pledge_id: int) -> str:
    async with transaction(sessions) as session:
        pledge = await session.get(Pledge, pledge_id)
        assert pledge is not None
        return pledge.state


async def test_send_back_resubmit_approve_deliver(
    app: PledgeApplication,
    standin: BotApiStandIn,
    cast: Cast,
    sessions: SessionFactory,
    catalogs: Catalogs,
) -> None:
    reference = await submit_pledge(cast.official)
    pledge = await latest_pledge(sessions, 21)
    assert pledge.id is not None

    # Each coordinator receives the review card with its decisions.
    card = last(standin, cast.coordinator)
    assert "New pledge submitted" in card.text and reference in card.text
    assert [b.text for b in card.buttons()] == [
        "✅ Approve",
        "✏️ Request changes",
        "📜 History",
    ]
    second_card = last(standin, cast.second_coordinator)
    assert "New pledge submitted" in second_card.text

    # /review lists it and opens the same card.
    replies = await cast.coordinator.send("/review")
    assert "Awaiting review" in texts(replies) and reference in texts(replies)
    assert "Lyon, France" in texts(replies)  # whose pledge it is, at a glance
    replies = await cast.coordinator.press(reference)
    assert "Approve" in str(replies[-1].buttons()) and reference in replies[-1].text

    # Officials and staff cannot decide, even with forged buttons.
    for intruder in (cast.official, cast.staff):
        await intruder.press_data(f"r.ok:{pledge.id}")
        assert intruder.last_answer == "Only coordinators review pledges."
        await intruder.press_data(f"r.back:{pledge.id}")
        assert intruder.last_answer == "Only coordinators review pledges."
    assert await state_of(sessions, pledge.id) == WorkflowState.SUBMITTED.value

    # Request changes: a comment, checked for length, then sent to every official of Lyon.
    replies = await cast.coordinator.press("✏️ Request changes", message=card)
    assert "What should change" in texts(replies)
    replies = await cast.coordinator.send("ok")
    assert "at least 5" in texts(replies)
    replies = await cast.coordinator.send(COMMENT)
    assert "sent back with your comment; 2 officials were told" in texts(replies)
    assert await state_of(sessions, pledge.id) == WorkflowState.CHANGES_REQUESTED.value

    notice = last(standin, cast.french_official)
    assert COMMENT in notice.text  # shown exactly as written, never interpreted as markup
    fresh = await latest_pledge(sessions, 21)
    assert notice.html == changes_notice(catalogs.translator("fr"), fresh, COMMENT)
    assert COMMENT in last(standin, cast.official).text

    # The other coordinator's card is stale: deciding now is refused with the reason.
    await cast.second_coordinator.press("✅ Approve", message=second_card)
    assert cast.second_coordinator.last_answer is not None
    assert "Already decided" in cast.second_coordinator.last_answer
    assert await state_of(sessions, pledge.id) == WorkflowState.CHANGES_REQUESTED.value

    # The French official opens the pledge, changes the title and resubmits.
    replies = await cast.french_official.press(0, message=notice)
    opened = replies[-1]
    assert "Référence" in opened.text  # the card is in French
    assert "Les coordinateurs ont demandé des modifications" in opened.text
    assert COMMENT in opened.text  # what they asked, on the card while it waits for changes
    replies = await cast.french_official.press_data(data_of(opened, "m.edit"), message=opened)
    replies = await cast.french_official.press_data(
        f"m.field:{pledge.id}:title", message=replies[-1]
    )
    replies = await cast.french_official.send(NEW_TITLE)
    assert "Enregistré" in texts(replies)
    edited_card = replies[-1]
    replies = await cast.french_official.press_data(
        data_of(edited_card, "r.resub"), message=edited_card
    )
    assert "soumis à nouveau" in texts(replies)  # told in French
    pressed = standin.stored_message(edited_card.chat_id, edited_card.message_id)
    assert "Modifications demandées" not in pressed.text  # the old card shows it as it is
    assert "ont demandé des modifications" not in pressed.text
    assert await state_of(sessions, pledge.id) == WorkflowState.SUBMITTED.value
    resubmitted = last(standin, cast.coordinator)
    assert "resubmitted after changes" in resubmitted.text and NEW_TITLE in resubmitted.text
    # What the officials changed since it was sent back, at the top of the card.
    assert "Changed since it was sent back:" in resubmitted.text
    assert f"Title: Welcome centre for newcomers → {NEW_TITLE}" in resubmitted.text

    # Approve: the officials hear of it; the card now offers Mark delivered.
    await cast.coordinator.press("✅ Approve", message=resubmitted)
    assert await state_of(sessions, pledge.id) == WorkflowState.APPROVED.value
    assert "approved" in last(standin, cast.official).text
    assert "approuvé" in last(standin, cast.french_official).text  # in French
    approved_card = standin.stored_message(resubmitted.chat_id, resubmitted.message_id)
    assert [b.text for b in approved_card.buttons()] == [
        "📦 Mark delivered",
        "📜 History",
        "⏭ Next awaiting review",
    ]
    # Nothing else waits: the way on says so.
    await cast.coordinator.press("⏭ Next awaiting review", message=approved_card)
    assert cast.coordinator.last_answer == "No pledge is awaiting review just now."
    # Another pledge comes in: the way on opens it.
    other_reference = await submit_pledge(cast.other_official)
    replies = await cast.coordinator.press("⏭ Next awaiting review", message=approved_card)
    assert other_reference in replies[-1].text and "✅ Approve" in str(replies[-1].buttons())

    await cast.coordinator.press("📦 Mark delivered", message=approved_card)
    assert await state_of(sessions, pledge.id) == WorkflowState.DELIVERED.value
    assert "handed to the forum" in last(standin, cast.official).text

    # A forged Approve on the delivered pledge is refused with its reason.
    await cast.coordinator.press_data(f"r.ok:{pledge.id}")
    assert cast.coordinator.last_answer == ("This pledge is Delivered; it can no longer change.")
    assert await state_of(sessions, pledge.id) == WorkflowState.DELIVERED.value

    # /history: who did what, the comment as written, the title's old → new value.
    replies = await cast.coordinator.send(f"/history {reference.lower()}")
    history = texts(replies)
    for expected in (
        f"History of {reference}",
        "Submitted",
        "Changes requested · ",
        COMMENT,
        f"Title: Welcome centre for newcomers → {NEW_TITLE}",
        "Approved · ",
        "Delivered · ",
        "Coco",
        "Pierre",
    ):
        assert expected in history, (expected, history)
    assert "&lt;b&gt;euros&lt;/b&gt;" in replies[-1].html

    # Staff and the pledge's officials may read it; another locality's official may not.
    assert f"History of {reference}" in texts(await cast.staff.send(f"/history {reference}"))
    assert f"Historique de {reference}" in texts(  # in the French official's language
        await cast.french_official.send(f"/history {reference}")
    )
    for reader, asked in (
        (cast.other_official, reference),
        (cast.coordinator, "CLA-1999-0001"),
    ):
        replies = await reader.send(f"/history {asked}")
        assert f"No pledge {asked} was found." in texts(replies)
        assert "History of" not in texts(replies)
    replies = await cast.other_official.press_data(f"h.open:{pledge.id}")
    assert cast.other_official.last_answer == "That pledge is not available."


async def test_review_and_history_commands_by_role(
    app: PledgeApplication, standin: BotApiStandIn, cast: Cast
) -> None:
    replies = await cast.official.send("/review")
    assert "/review is not available to you." in texts(replies)
    replies = await cast.coordinator.send("/review")
    assert "No pledge is awaiting review just now." in texts(replies)
    replies = await cast.coordinator.send("/history")
    assert "/history followed by a pledge's reference" in texts(replies)


async def test_a_long_history_is_paginated(
    app: PledgeApplication, standin: BotApiStandIn, cast: Cast, sessions: SessionFactory
) -> None:
    reference = await submit_pledge(cast.official)
    olga, pierre = await member(sessions, 21), await member(sessions, 22)
    async with transaction(sessions) as session:
        pledge = await latest_pledge(sessions, 21)
        pledge = await session.get(Pledge, pledge.id)
        assert pledge is not None
        for n in range(40):  # two officials taking turns: forty changes to tell apart
            await update_pledge(
                session=session,
                pledge=pledge,
                changes={"title": f"Title {n} " + "x" * 150, "description": "d" * 300 + str(n)},
                member_id=(olga if n % 2 else pierre).id or 0,
            )
        await add_progress_report(
            session=session,
            pledge=pledge,
            stage=Stage.IN_PROGRESS,
            narrative="Classes started <today> & the centre is open. " * 20,
            member_id=olga.id or 0,
        )
    replies = await cast.staff.send(f"/history {reference}")
    first = replies[-1]
    assert len(first.text) <= 4096
    pages_label = [b.text for b in first.buttons() if " / " in b.text]
    assert pages_label and pages_label[0].startswith("1 / ")
    pages = int(pages_label[0].split(" / ")[1])
    assert pages > 1
    seen = first.text
    message = first
    for _ in range(pages - 1):
        replies = await cast.staff.press("Next ›", message=message)
        message = replies[-1]
        seen += message.text
    assert "Progress report" in seen and "Classes started <today>" in seen
    assert "Title 39" in seen
    # Values are shortened so one change never fills a page.
    assert "x" * 100 not in seen


async def test_history_tells_the_pledge_not_the_drafting(
    app: PledgeApplication, standin: BotApiStandIn, cast: Cast, sessions: SessionFactory
) -> None:
    """Every tap while drafting once made 24 entries; amounts were raw and objectives bare
    numbers. From the submission on, one sitting's changes are one entry, shown as on the card."""
    reference = await submit_pledge(cast.official)
    olga = await member(sessions, 21)
    async with transaction(sessions) as session:
        pledge = await session.get(Pledge, (await latest_pledge(sessions, 21)).id)
        assert pledge is not None
        for changes in (
            {"amount": Decimal("1234.50")},
            {"gcm_objectives": [1, 3]},
            {"gcm_objectives": [1, 3, 7]},
            {"title": "Welcome centre for newcomers"},  # back to what it was: no change
        ):
            await update_pledge(
                session=session, pledge=pledge, changes=changes, member_id=olga.id or 0
            )
    replies = await cast.staff.send(f"/history {reference}")
    history = texts(replies)
    assert history.count("Edited · ") == 1 and "Created" not in history
    assert "Amount: €250,000.00 → €1,234.50" in history
    assert "GCM 1 · " in history and "GCM 7 · " in history
    assert "Title:" not in history
