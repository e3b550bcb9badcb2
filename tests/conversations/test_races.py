"""Two coordinators deciding at once: one decision is made, the other coordinator is told, in
their language, who made it and what it was, and no call Telegram would refuse is made."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SentMessage, SimulatedPerson
from storage.engine import SessionFactory, transaction
from storage.models import AccessRequest, PledgeRevision, Role
from tests.conftest import Invitations, postgres_url
from tests.conversations.helpers import join, latest_pledge, member, submit_pledge, texts
from tests.conversations.test_onboarding import request_access


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return postgres_url(request)
    return f"sqlite+aiosqlite:///{tmp_path / 'pledgebot.sqlite3'}"


async def _coordinators(
    standin: BotApiStandIn, app: PledgeApplication, invitations: Invitations
) -> tuple[SimulatedPerson, SimulatedPerson]:
    """Coco, who reads English, and Claire, who reads French."""
    coco = await join(
        standin, app, invitations, user_id=11, role=Role.COORDINATOR, first_name="Coco"
    )
    claire = standin.person(app, user_id=12, first_name="Claire", language_code="fr")
    replies = await claire.send("/start " + await invitations.make(Role.COORDINATOR))
    assert "Bienvenue" in texts(replies)
    return coco, claire


def _card(standin: BotApiStandIn, person: SimulatedPerson) -> SentMessage:
    card = standin.last_message(person.chat_id)
    assert card is not None and card.buttons()
    return card


async def test_two_coordinators_answering_one_access_request_at_once(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coco, claire = await _coordinators(standin, app, invitations)
    nadia = standin.person(app, user_id=33, first_name="Nadia")
    await request_access(nadia)
    coco_card, claire_card = _card(standin, coco), _card(standin, claire)
    mark = standin.history_mark()

    await asyncio.gather(
        coco.press("✅ Approve", message=coco_card),
        claire.press("✖️ Rejeter", message=claire_card),
    )

    assert standin.violations == []
    async with transaction(sessions) as session:
        request = (await session.exec(select(AccessRequest))).one()
    approved = request.status == "approved"
    told = standin.messages_since(mark, 33)
    assert len(told) == 1  # one decision, and Nadia hears only it
    assert ("has been approved" if approved else "was not approved") in told[0].text
    assert (await member(sessions, 33)).role == (Role.OFFICIAL.value if approved else None)
    coco_now = standin.stored_message(11, coco_card.message_id)
    claire_now = standin.stored_message(12, claire_card.message_id)
    assert coco_now.buttons() == [] and claire_now.buttons() == []
    if approved:  # Coco was first: Claire is told, in French, that Coco approved it
        assert coco_now.text.startswith("✅ Approved: Nadia Haddad")
        assert claire.last_answer == "Cette demande a déjà été traitée par Coco\u00a0: approuvée."
        assert "Demande d’accès" in claire_now.text  # her card, as it was, without buttons
    else:
        assert claire_now.text.startswith("✖️ Demande rejetée")
        assert coco.last_answer == "Already decided by Claire: rejected."
        assert "Request for access" in coco_now.text


async def test_two_coordinators_deciding_one_pledge_at_once(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coco, claire = await _coordinators(standin, app, invitations)
    olga = await join(standin, app, invitations, user_id=21)
    reference = await submit_pledge(olga)
    pledge = await latest_pledge(sessions, 21)
    coco_card, claire_card = _card(standin, coco), _card(standin, claire)
    mark = standin.history_mark()

    await asyncio.gather(
        coco.press("✅ Approve", message=coco_card),
        claire.press("✅ Approuver", message=claire_card),
    )

    assert standin.violations == []
    async with transaction(sessions) as session:
        decisions = (
            await session.exec(
                select(PledgeRevision).where(
                    col(PledgeRevision.pledge_id) == pledge.id,
                    col(PledgeRevision.action) == "approved",
                )
            )
        ).all()
    assert len(decisions) == 1  # approved once, by one of them
    told = standin.messages_since(mark, 21)
    assert len(told) == 1 and f"{reference}" in told[0].text and "approved" in told[0].text
    coco_won = decisions[0].member_id == (await member(sessions, 11)).id
    if coco_won:
        assert claire.last_answer == (
            "Décision déjà prise par Coco\u00a0: cet engagement a déjà le statut "
            "«\u00a0Approuvé\u00a0»."
        )
        assert "Approve" not in str(standin.stored_message(11, coco_card.message_id).buttons())
    else:
        assert coco.last_answer == ("Already decided by Claire: this pledge is already Approved.")
        assert "Approuver" not in str(standin.stored_message(12, claire_card.message_id).buttons())


async def test_a_request_for_changes_meeting_an_approval(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """Coco approves while Claire asks for changes: whichever comes second is told why not."""
    coco, claire = await _coordinators(standin, app, invitations)
    olga = await join(standin, app, invitations, user_id=21)
    await submit_pledge(olga)
    coco_card, claire_card = _card(standin, coco), _card(standin, claire)

    await asyncio.gather(
        coco.press("✅ Approve", message=coco_card),
        claire.press("✏️ Demander des modifications", message=claire_card),
    )
    replies = []
    if claire.last_answer is None:  # she was asked for her comment before Coco's approval
        replies = await claire.send("Merci de préciser le budget en euros.")

    assert standin.violations == []
    pledge = await latest_pledge(sessions, 21)
    assert pledge.state == "approved"
    said = claire.last_answer if not replies else texts(replies)
    assert said is not None and "Décision déjà prise par Coco" in said, said
    assert "Approuvé" in said
