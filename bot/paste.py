"""One paste, one answer: Telegram cuts a text longer than 4,096 characters into several
messages, sent one after another within a moment. Read alone, the first part is refused as
too long and the tail taken for the answer; read together, they are what the person pasted.

This module says which updates continue which, and joins them; the update processor (one
person's queue) and the shared inbox (webhook mode) both use it to hand the step one update.
"""

from __future__ import annotations

from typing import Final

from telegram import Message, Update

from conversations.cards import utf16_length

# A text at least this long may be the first part of a longer one: clients cut at 4,096
# UTF-16 units, a little earlier where they find a space or a line break.
MAY_CONTINUE: Final = 3_800
TELEGRAM_CUT: Final = 4_096
# How long to wait for the next part after the first (they are sent together).
WAIT_FOR_PART: Final = 1.5
# Parts of one paste are dated within this many seconds of each other.
SAME_PASTE: Final = 3


def _text_message(update: Update) -> Message | None:
    message = update.message  # an edit is never part of a paste
    if message is None or message.text is None or update.callback_query is not None:
        return None
    return message


def may_continue(update: Update) -> bool:
    """Whether the update is a text long enough that Telegram may have cut it (and not one
    joined already: Telegram sends no message longer than TELEGRAM_CUT)."""
    message = _text_message(update)
    return message is not None and MAY_CONTINUE <= utf16_length(message.text or "") <= TELEGRAM_CUT


def continues(earlier: Update, later: Update) -> bool:
    """Whether `later` is the next part of the paste that `earlier` ended."""
    first, then = _text_message(earlier), _text_message(later)
    if first is None or then is None or not may_continue(earlier):
        return False
    return (
        then.chat.id == first.chat.id
        and then.message_id == first.message_id + 1
        and abs((then.date - first.date).total_seconds()) <= SAME_PASTE
        and not (then.text or "").startswith("/")
    )


def joined(parts: list[Update]) -> Update:
    """The parts as one message: the first one's, carrying the whole text (without entities,
    which the parts' offsets no longer fit)."""
    if len(parts) == 1:
        return parts[0]
    text = ""
    for part in parts:
        piece = (part.message.text if part.message else "") or ""
        # Clients cut at a space or a line break and drop it: one space goes back in.
        glue = "" if not text or text[-1].isspace() or piece[:1].isspace() else " "
        text += glue + piece
    data = parts[0].to_dict()
    data["message"]["text"] = text
    data["message"].pop("entities", None)
    whole = Update.de_json(data, parts[0].get_bot())
    assert whole is not None
    return whole
