"""Generated updates through the real Application (hypothesis): whatever arrives, the bot
neither crashes nor draws a refusal from Telegram, answers every person in a private chat,
and changes nothing on what is not a valid answer.

PLEDGEBOT_FUZZ_EXAMPLES sets how many examples each property runs (CI's fast profile: 25;
before a release: 500, see docs/RELIABILITY.md)."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import PledgeApplication
from bot.standin import BotApiStandIn, SimulatedPerson
from bot.standin.api import EPOCH
from storage.engine import SessionFactory
from tests.conftest import Invitations
from tests.conversations.helpers import (
    assert_no_error,
    deliver,
    join,
    latest_pledge,
    snapshot,
    state_of,
    texts,
    walk_to,
)

BOT_USER = {"id": 1, "is_bot": True, "first_name": "B"}
EXAMPLES = int(os.environ.get("PLEDGEBOT_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # One official, mid-wizard, for every example: each example checks against the state it
    # found, so sharing the fixtures is the point, not a leak.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as people's phones send it: any character, bidi and control marks, combining marks.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
        st.sampled_from("\u0301\u0308\u0651\u200b\u200d\ufeff\x00\x07\n\t"),
    ),
    min_size=1,
    max_size=4096,
)
# What is not a text message: every other kind of content Telegram sends in a private chat.
CONTENT: list[dict[str, Any]] = [
    {"dice": {"emoji": "🎲", "value": 3}},
    {"location": {"latitude": 45.76, "longitude": 4.84}},
    {"contact": {"phone_number": "+33472103030", "first_name": "Ana"}},
    {
        "poll": {
            "id": "5001",
            "question": "Où ?",
            "options": [{"text": "Lyon", "voter_count": 0}, {"text": "Paris", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
    },
    {
        "venue": {
            "location": {"latitude": 45.76, "longitude": 4.84},
            "title": "Hôtel de Ville",
            "address": "1 place de la Comédie",
        }
    },
    {"voice": {"file_id": "VOICE1", "file_unique_id": "UVOICE1", "duration": 3}},
    {"video_note": {"file_id": "VN1", "file_unique_id": "UVN1", "length": 240, "duration": 2}},
    {"story": {"chat": {"id": 77, "type": "private", "first_name": "S"}, "id": 9}},
    {"new_chat_title": "New title"},
]


@st.composite
def events(draw: st.DrawFn) -> tuple[str, Any]:
    """One thing that can reach the bot, as (kind, payload)."""
    kind = draw(
        st.sampled_from(
            [
                "text",
                "text_with_entities",
                "content",
                "callback",
                "forged_callback",
                "edited",
                "channel_post",
                "group",
                "blocked",
            ]
        )
    )
    if kind in ("text", "edited", "group", "text_with_entities"):
        return kind, draw(ANY_TEXT)
    if kind == "content":
        return kind, draw(st.sampled_from(CONTENT))
    if kind == "callback":
        return kind, draw(st.text(min_size=0, max_size=64))
    if kind == "forged_callback":
        prefix = draw(
            st.sampled_from(
                ["w.forum", "w.tog", "w.type", "w.padd", "w.pdel", "w.fget", "m.open", "q.s"]
            )
        )
        parts = draw(st.lists(st.integers(-(2**40), 2**40).map(str), min_size=0, max_size=4))
        return kind, ":".join([prefix, *parts])[:64]
    return kind, None


async def _send(
    standin: BotApiStandIn, app: PledgeApplication, person: SimulatedPerson, event: tuple[str, Any]
) -> tuple[list[Any], bool]:
    """Deliver one event; returns what the person's chat got and whether they must be answered
    (a private message or a button press)."""
    kind, payload = event
    if kind == "text":
        return await person.send(payload), True
    if kind == "text_with_entities":
        body = standin.message_update(person.user, payload)
        length = len(payload.encode("utf-16-le")) // 2
        body["message"]["entities"] = [{"type": "bold", "offset": 0, "length": length}]
        return await deliver(standin, app, body, chat_id=person.chat_id), True
    if kind == "content":
        return await person._send_content(lambda: dict(payload)), True
    if kind in ("callback", "forged_callback"):
        person.last_answer = None
        replies = await person.press_data(payload)
        return replies, True
    if kind == "edited":
        body = standin.message_update(person.user, payload)
        message = body.pop("message")
        message["edit_date"] = message["date"] + 1
        return await deliver(standin, app, {**body, "edited_message": message}, chat_id=22), False
    if kind == "channel_post":
        post = {
            "message_id": 1,
            "date": EPOCH,
            "chat": {"id": -100_777, "type": "channel", "title": "News"},
            "text": "A channel post",
        }
        return await deliver(
            standin, app, {"update_id": 800_001, "channel_post": post}, chat_id=22
        ), False
    if kind == "group":
        from tests.conversations.helpers import send_in_group

        await send_in_group(standin, app, person, payload[:4096] or "x")
        return [], False
    # The person blocks the bot, and unblocks it: Telegram sends chat-member updates.
    member_update = {
        "chat": {"id": person.chat_id, "type": "private", "first_name": person.first_name},
        "from": person.user.to_json(),
        "date": EPOCH,
        "old_chat_member": {
            "status": "member",
            "user": {"id": 1, "is_bot": True, "first_name": "B"},
        },
        "new_chat_member": {
            "status": "kicked",
            "until_date": 0,
            "user": {"id": 1, "is_bot": True, "first_name": "B"},
        },
    }
    await deliver(standin, app, {"update_id": 800_002, "my_chat_member": member_update}, chat_id=22)
    return [], False


@pytest.fixture
async def official(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> SimulatedPerson:
    """An official halfway through a pledge: at the title step, forum and compacts answered."""
    person = await join(standin, app, invitations, user_id=22)
    await walk_to(person, "title")
    return person


# What hypothesis found, kept as regression examples.
# A poll as an older Bot API sends it: PTB could not read it, and the bot answered nothing.
OLD_POLL = CONTENT[3]


@given(event=events())
@example(event=("content", OLD_POLL))
@example(event=("text", "\u202e\u2066/start\u2069 \x00"))
@FUZZ
async def test_anything_sent_mid_wizard_is_answered_and_harms_nothing(
    app: PledgeApplication,
    standin: BotApiStandIn,
    sessions: SessionFactory,
    official: SimulatedPerson,
    caplog: pytest.LogCaptureFixture,
    event: tuple[str, Any],
) -> None:
    caplog.clear()
    before_pledge = snapshot(await latest_pledge(sessions, 22))
    before_state = await state_of(sessions, 22)
    replies, must_answer = await _send(standin, app, official, event)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert standin.violations == [], standin.violations
    assert_no_error(replies)
    if must_answer:
        assert replies or official.last_answer, f"{event[0]}: no answer at all"
    after_pledge = snapshot(await latest_pledge(sessions, 22))
    after_state = await state_of(sessions, 22)
    step_before = before_state.step if before_state else None
    step_after = after_state.step if after_state else None
    changed = {k for k in after_pledge if after_pledge[k] != before_pledge[k]}
    if event[0] in ("text", "text_with_entities") and changed:
        # A valid title: saved as the title, and the wizard on to the description.
        assert changed <= {"title", "search_text", "draft_step"}, (event, changed)
        assert step_after == "description", (event, step_after)
        # Put the step back, so that the next example starts at the title again.
        await _back_to_title(sessions)
    else:
        # Nothing that is not a valid answer to the step changes the draft or the step.
        assert changed == set(), (event, changed, texts(replies))
        assert step_after == step_before, (event, texts(replies))


async def _back_to_title(sessions: SessionFactory) -> None:
    """The conversation put back at the title step, as the example found it."""
    from storage.conversation_state import set_state
    from storage.engine import transaction

    pledge = await latest_pledge(sessions, 22)
    state = await state_of(sessions, 22)
    assert state is not None
    async with transaction(sessions) as session:
        await set_state(
            session=session,
            member_id=state.member_id,
            flow="wizard",
            step="title",
            pledge_id=pledge.id,
            data={},
        )
