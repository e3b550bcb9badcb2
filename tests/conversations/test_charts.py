"""/chart end to end: coordinators and staff get a picture; others are refused politely."""

from __future__ import annotations

import io

from PIL import Image

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.models import Role
from tests.conftest import Invitations
from tests.conversations.helpers import assert_no_error, join, submit_pledge, texts


async def test_coordinator_and_staff_get_a_chart_others_are_refused(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    replies = await coordinator.send("/chart GRF2027")
    assert "No pledges to chart for Global Refugee Forum 2027 yet" in texts(replies)
    assert not any(r.photo for r in replies)

    official = await join(standin, app, invitations, user_id=12, role=Role.OFFICIAL)
    await submit_pledge(official)

    replies = await coordinator.send("/chart grf2027")
    photos = [r for r in replies if r.photo]
    assert len(photos) == 1, texts(replies)
    assert "Global Refugee Forum 2027" in photos[0].text and "1 pledge" in photos[0].text
    image = Image.open(io.BytesIO(photos[0].photo["content"]))
    assert image.format == "PNG" and image.width == 1080

    staff = await join(standin, app, invitations, user_id=13, role=Role.STAFF)
    replies = await staff.send("/chart")
    assert_no_error(replies)
    replies = await staff.press(0)  # the first open forum: GRF 2027
    assert [r for r in replies if r.photo], texts(replies)
    replies = await staff.press(-1)  # all open forums together
    assert [r for r in replies if r.photo], texts(replies)

    replies = await official.send("/chart GRF2027")
    assert "/chart is not available to you" in texts(replies)
    replies = await official.press_data("g.f:0")  # all open forums
    assert not any(r.photo for r in replies)
    assert official.last_answer and "coordinators and staff" in official.last_answer

    stranger = standin.person(app, user_id=14, first_name="Zed", language_code="en")
    replies = await stranger.send("/chart")
    assert "You need an invitation to use /chart" in texts(replies)


async def test_unknown_forum_codes_and_buttons_get_a_clear_answer(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> None:
    coordinator = await join(standin, app, invitations, user_id=21, role=Role.COORDINATOR)
    replies = await coordinator.send("/chart <NOPE>")
    assert "There is no forum with the code <NOPE>" in texts(replies)
    replies = await coordinator.press_data("g.f:99999")
    assert coordinator.last_answer == "That forum is not available."
    assert not any(r.photo for r in replies)
