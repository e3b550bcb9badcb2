"""The Application as `pledgebot run` builds it: with the production rate limiter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import PledgeApplication, register_default_commands
from bot.services import Services
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory
from storage.models import Role, WorkflowState
from tests.conftest import Invitations, on_standin
from tests.conversations.helpers import join, latest_pledge, submit_pledge, texts


@pytest.fixture
async def app(services: Services, standin: BotApiStandIn) -> AsyncIterator[PledgeApplication]:
    """As in production: PTB's AIORateLimiter, which honours a 429's retry_after."""
    application = on_standin(services, standin, rate_limiter=True)
    async with application:
        await register_default_commands(application)
        yield application
    assert standin.violations == [], "\n".join(standin.violations)


async def test_a_pledge_goes_through_the_production_rate_limiter(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    """Join, submit, and a 429 on the way: the limiter waits it out, nothing is lost."""
    await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    official = await join(standin, app, invitations, user_id=22)
    standin.fail("sendMessage", "429", chat_id=official.chat_id)  # retry after a second
    reference = await submit_pledge(official)
    assert (await latest_pledge(sessions, 22)).state == WorkflowState.SUBMITTED.value
    note = standin.last_message(11)
    assert note is not None and f"New pledge submitted: {reference}" in note.text
    replies = await official.send("/mypledges")
    assert reference in texts(replies)
