"""A draft belongs to its locality until it is submitted; a submitted pledge leaves the wizard."""

from __future__ import annotations

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory
from storage.models import Role
from tests.conftest import Invitations
from tests.conversations.helpers import GOOD_TITLE, answer, join, latest_pledge, texts, walk_to


async def test_a_stale_draft_button_on_a_submitted_pledge_shows_the_pledge(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    lyon = await join(standin, app, invitations, user_id=22)
    await walk_to(lyon, "review")
    draft = await latest_pledge(sessions, 22)
    assert "CLA-" in texts(await lyon.press("✅ Submit"))
    # The reminder's or the drafts list's "continue" button, pressed afterwards.
    replies = await lyon.press_data(f"w.resume:{draft.id}")
    assert lyon.last_answer == "This pledge has already been submitted; here it is."
    assert "✅ Submit" not in [b.text for m in replies for b in m.buttons()]
    replies = await lyon.press_data(f"w.submit:{draft.id}")
    assert "something went wrong" not in texts(replies)
    assert (await latest_pledge(sessions, 22)).state == "submitted"


async def test_coordinators_and_staff_cannot_open_a_draft(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    lyon = await join(standin, app, invitations, user_id=22)
    await walk_to(lyon, "description")  # the title is typed: a draft with content
    draft = await latest_pledge(sessions, 22)
    coordinator = await join(
        standin, app, invitations, user_id=44, role=Role.COORDINATOR, first_name="Cora"
    )
    staff = await join(standin, app, invitations, user_id=55, role=Role.STAFF, first_name="Sam")
    for person, data in (
        (coordinator, f"m.open:{draft.id}:0"),
        (coordinator, f"r.open:{draft.id}"),
        (coordinator, f"h.open:{draft.id}"),
        (staff, f"m.open:{draft.id}:0"),
        (staff, f"h.open:{draft.id}"),
        (coordinator, f"q.o:{draft.id}"),
    ):
        replies = await person.press_data(data)
        assert GOOD_TITLE not in texts(replies), data


async def test_a_partner_does_not_see_another_localitys_draft(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    paris = await join(standin, app, invitations, user_id=33, locality="Paris", first_name="Pia")
    lyon = await join(standin, app, invitations, user_id=22)
    await walk_to(lyon, "partners")
    await lyon.send("Paris")
    await lyon.press("Paris, France")
    await lyon.press("Done · in partnership")
    await answer(lyon, "scope")
    await answer(lyon, "contact")
    draft = await latest_pledge(sessions, 22)
    assert draft.state == "draft" and draft.partner_ids
    assert GOOD_TITLE not in texts(await paris.send("/mypledges"))
    for data in (f"m.open:{draft.id}:0", f"h.open:{draft.id}"):
        assert GOOD_TITLE not in texts(await paris.press_data(data)), data
    # Once submitted, the joint pledge is the partner's to see.
    await lyon.press("✅ Submit")
    assert GOOD_TITLE in texts(await paris.send("/mypledges"))
