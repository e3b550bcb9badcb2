"""Updates this PTB cannot read are handed over reduced to who sent them, never dropped."""

from __future__ import annotations

import json
import logging

import pytest
from telegram import Update

from bot.unreadable import readable, readable_batch, reduced

FUTURE_MESSAGE = {
    "update_id": 7,
    "message": {
        "message_id": 3,
        "date": 1_750_000_000,
        "chat": {"id": 42, "type": "private", "first_name": "Ana"},
        "from": {"id": 42, "is_bot": False, "first_name": "Ana", "language_code": "fr"},
        # A poll as an older Bot API sent it: this PTB requires `persistent_id` on its options.
        "poll": {
            "id": "1",
            "question": "secret question /start tok_abc",
            "options": [{"text": "a", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        },
    },
}


def test_an_unreadable_message_keeps_its_chat_and_sender_and_nothing_typed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        update = readable(FUTURE_MESSAGE, None)
    assert update.update_id == 7 and update.effective_chat is not None
    assert update.effective_chat.id == 42 and update.effective_user is not None
    assert update.effective_user.language_code == "fr"
    assert update.effective_message is not None and update.effective_message.poll is None
    assert "cannot be read" in caplog.text and "secret question" not in caplog.text


def test_a_polled_batch_hands_over_every_update_in_order() -> None:
    """One unreadable update once made PTB poll the same batch for ever."""
    good = {**FUTURE_MESSAGE, "update_id": 8}
    good["message"] = {k: v for k, v in FUTURE_MESSAGE["message"].items() if k != "poll"}
    good["message"]["text"] = "hello"
    body = json.dumps({"ok": True, "result": [FUTURE_MESSAGE, good]}).encode()
    result = json.loads(readable_batch(body))["result"]
    updates = [Update.de_json(u, None) for u in result]  # every one of them reads now
    assert [u.update_id for u in updates] == [7, 8]
    assert updates[1].effective_message is not None
    assert updates[1].effective_message.text == "hello"
    assert readable_batch(b"not json") == b"not json"


def test_a_button_press_that_cannot_be_read_keeps_its_data() -> None:
    query = {
        "update_id": 9,
        "callback_query": {
            "id": "77",
            "from": {"id": 42, "is_bot": False, "first_name": "Ana"},
            "chat_instance": "x",
            "data": "w.submit:1",
            "message": {"unexpected": True},
        },
    }
    update = Update.de_json(reduced(query), None)
    assert update.callback_query is not None and update.callback_query.data == "w.submit:1"
