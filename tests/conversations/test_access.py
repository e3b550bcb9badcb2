"""Taking access back: a coordinator deactivates and reactivates members, withdraws invitations."""

from __future__ import annotations

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SentMessage, SimulatedPerson
from storage.engine import SessionFactory
from storage.models import Role
from tests.conftest import Invitations
from tests.conversations.helpers import (
    assert_no_error,
    join,
    latest_pledge,
    member,
    state_of,
    texts,
    walk_to,
)

ENDED = "Your access to this bot has been ended by a coordinator"
RESTORED = "given you your access back"


async def _card(coordinator: SimulatedPerson, name: str) -> list[SentMessage]:
    """The coordinator opens /members, then the card of the member called `name`."""
    listing = await coordinator.send("/members")
    assert name in texts(listing) or any(name in b.text for b in listing[-1].buttons())
    return await coordinator.press(name, message=listing[-1])


async def _deactivate(coordinator: SimulatedPerson, name: str) -> list[SentMessage]:
    card = await _card(coordinator, name)
    confirm = await coordinator.press("🚫 Deactivate", message=card[-1])
    assert "lose access at once" in texts(confirm)
    return await coordinator.press("Yes, deactivate", message=confirm[-1])


async def test_a_deactivated_official_is_told_once_and_is_a_stranger_from_then_on(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    olga = await join(standin, app, invitations, user_id=41, first_name="Olga")
    await walk_to(olga, "title")  # a draft in progress
    draft = await latest_pledge(sessions, 41)
    coco = await join(
        standin, app, invitations, user_id=42, role=Role.COORDINATOR, first_name="Coco"
    )

    done = await _deactivate(coco, "Olga")
    assert "Deactivated" in texts(done) and "Coco" in texts(done)
    told = [m.text for m in standin.chat_messages(41) if ENDED in m.text]
    assert len(told) == 1  # at once, not when she next writes
    assert [c["command"] for c in standin.commands(scope={"type": "chat", "chat_id": 41})] == [
        c["command"] for c in standin.commands()
    ]  # her menu is a newcomer's again

    for command in ("/pledge", "/mypledges", "/export", "/status"):
        replies = await olga.send(command)
        assert_no_error(replies)
        assert "You need an invitation" in texts(replies), command
    start = await olga.send("/start")
    assert ENDED in texts(start)
    assert not any(b.text == "🙋 Request access" for m in start for b in m.buttons())
    assert await state_of(sessions, 41) is None
    assert sum(ENDED in m.text for m in standin.chat_messages(41)) == 2  # notice + her /start
    kept = await latest_pledge(sessions, 41)
    assert kept.id == draft.id and kept.locality_id == draft.locality_id  # stays with Lyon

    again = await coco.press("♻️ Reactivate", message=done[-1])
    assert "Has access" in texts(again)
    assert RESTORED in standin.chat_messages(41)[-1].text
    assert "draft" in texts(await olga.send("/pledge")).lower()
    assert (await member(sessions, 41)).role == Role.OFFICIAL.value


async def test_a_member_who_stopped_messages_is_told_when_they_next_write_and_only_then(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> None:
    olga = await join(standin, app, invitations, user_id=43, first_name="Olga")
    await olga.send("/stop")
    coco = await join(
        standin, app, invitations, user_id=44, role=Role.COORDINATOR, first_name="Coco"
    )
    await _deactivate(coco, "Olga")
    assert not any(ENDED in m.text for m in standin.chat_messages(43))
    assert ENDED in texts(await olga.send("hello"))
    assert ENDED not in texts(await olga.send("hello again"))


async def test_only_a_new_invitation_or_a_coordinator_lets_a_deactivated_member_back(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    olga = await join(standin, app, invitations, user_id=45, first_name="Olga")
    coco = await join(
        standin, app, invitations, user_id=46, role=Role.COORDINATOR, first_name="Coco"
    )
    await _deactivate(coco, "Olga")
    token = await invitations.make(Role.STAFF)
    assert "Welcome" in texts(await olga.send(f"/start {token}"))
    back = await member(sessions, 45)
    assert back.role == Role.STAFF.value and back.revoked_at is None


async def test_a_coordinator_cannot_lock_themselves_out_and_others_cannot_press(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    coco = await join(
        standin, app, invitations, user_id=47, role=Role.COORDINATOR, first_name="Coco"
    )
    olga = await join(standin, app, invitations, user_id=48, first_name="Olga")
    own = await _card(coco, "Coco")
    assert not any("Deactivate" in b.text for b in own[-1].buttons())
    coco_id = (await member(sessions, 47)).id
    await coco.press_data(f"mb.set:{coco_id}:0:0")
    assert coco.last_answer == "You cannot take your own access away."
    for data in (f"mb.set:{coco_id}:0:0", f"mb.ask:{coco_id}:0", "mb.page:0", "iv.rev:1"):
        assert_no_error(await olga.press_data(data))
        assert olga.last_answer == "Only coordinators manage access.", data
    assert (await member(sessions, 47)).role == Role.COORDINATOR.value
    assert (await member(sessions, 48)).role == Role.OFFICIAL.value


async def test_an_invitation_withdrawn_in_chat_no_longer_opens_the_door(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> None:
    coco = await join(
        standin, app, invitations, user_id=49, role=Role.COORDINATOR, first_name="Coco"
    )
    token = await invitations.make(Role.OFFICIAL, locality="Quito", country="EC")
    listing = await coco.send("/invitations")
    assert "1 open invitation" in texts(listing) and "Quito" in texts(listing)
    withdrawn = await coco.press("Withdraw 1", message=listing[-1])
    assert "No invitation is open" in texts(withdrawn)
    newcomer = standin.person(app, user_id=50, first_name="Nina", language_code="en")
    assert "withdrawn by a coordinator" in texts(await newcomer.send(f"/start {token}"))
