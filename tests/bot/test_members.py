"""Who sent an update, and where they were: a question left for days is set aside."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn
from storage.engine import SessionFactory, transaction
from storage.models import ConversationState
from storage.types import utc_now
from tests.conftest import Invitations
from tests.conversations.helpers import join, latest_pledge, member, state_of, texts, walk_to


async def _age(sessions: SessionFactory, user_id: int, days: int) -> None:
    found = await member(sessions, user_id)
    async with transaction(sessions) as session:
        await session.exec(  # type: ignore[call-overload]
            update(ConversationState)
            .where(ConversationState.member_id == found.id)  # type: ignore[arg-type]
            .values(updated_at=utc_now() - timedelta(days=days))
        )


async def test_a_question_left_for_days_is_set_aside_and_the_draft_kept(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "description")
    await _age(sessions, 22, days=5)
    replies = await official.send("Hello, is anyone there?")
    assert "Welcome back. You left a question unanswered 5 days ago" in texts(replies)
    assert "/pledge takes you back to it" in texts(replies)
    assert "I am not waiting for an answer from you just now" in texts(replies)
    assert await state_of(sessions, 22) is None
    draft = await latest_pledge(sessions, 22)
    assert draft.description == "" and draft.title  # the old answer is kept, nothing new taken
    replies = await official.send("/pledge")
    assert "saved drafts" in texts(replies) or "Continue" in texts(replies)


async def test_a_question_left_for_a_day_is_still_open(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "description")
    await _age(sessions, 22, days=1)
    replies = await official.send("We will open a centre with classes and legal advice.")
    assert "Welcome back" not in texts(replies)
    state = await state_of(sessions, 22)
    assert state is not None and state.step != "description"
