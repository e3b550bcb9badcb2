"""Replying, acknowledging buttons and reaching other members: shared by every flow.

Each of these only records what to say (see `conversations.replies`); the engine says it after
the step's transaction is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.cards import MAX_MESSAGE, utf16_length
from conversations.context import PledgeContext
from conversations.i18n import Html, Translator
from conversations.parsing import TextProblem, clean_text
from conversations.replies import Answer, Buttons, Replace, Send, Upload
from storage.models import Member, NoticeKind
from storage.notices import queue_notices
from storage.types import utc_now

log = logging.getLogger(__name__)


def say(ctx: PledgeContext, text: Html, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """A new message in the person's chat, sent once the step's changes are committed."""
    ctx.replies.add(Send(text, keyboard))


def ack(ctx: PledgeContext, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the button press (at most once), so the phone stops its spinner."""
    if not ctx.replies.answered:
        ctx.replies.add(Answer(text, alert))


def close_keyboard(ctx: PledgeContext) -> None:
    """Take the buttons off the pressed message, so it cannot be pressed again."""
    ctx.replies.add(Buttons(None))


def replace(ctx: PledgeContext, text: Html, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Show `text` in place of the pressed message, or as a new one where that cannot be done."""
    ctx.replies.add(Replace(text, keyboard))


def update_keyboard(ctx: PledgeContext, keyboard: InlineKeyboardMarkup) -> None:
    """Change only the buttons of the pressed message (multi-select toggles, pages)."""
    ctx.replies.add(Buttons(keyboard))


def answered_in_place(ctx: PledgeContext, since: tuple[int, int], answered: Html) -> None:
    """A button answered a question: the pressed message becomes the first message said since
    `since` (the next question), headed by what was answered. One edit does what retiring the
    buttons and sending a new message did in two, and the chat still reads question by answer.
    Where the two would not fit one message, the buttons are retired and the message sent."""
    items = ctx.replies.items
    for index in range(since[0], len(items)):
        reply = items[index]
        if isinstance(reply, Send):
            text = Html(f"{answered}\n\n{reply.text}")
            if utf16_length(text) <= MAX_MESSAGE:
                items[index] = Replace(text, reply.keyboard)
                return
            break
    items.insert(since[0], Buttons(None))


def upload(
    ctx: PledgeContext, content: bytes, filename: str, caption: Html, *, picture: bool = False
) -> None:
    """A file (or a picture) for the person, with its caption."""
    ctx.replies.add(Upload(content, filename, caption, picture))


async def notify(
    ctx: PledgeContext,
    session: AsyncSession,
    members: Sequence[Member],
    kind: NoticeKind,
    **payload: Any,
) -> int:
    """Queue a message to each member, in the step's transaction; it goes out, in their own
    language, once that transaction commits. Returns how many were queued."""
    ids = await queue_notices(
        session=session,
        kind=kind,
        member_ids=[m.id for m in members if m.id is not None],
        payload=payload,
        now=utc_now(),
    )
    ctx.replies.notices.extend(ids)
    return len(ids)


def typed_text(update: Update, ctx: PledgeContext) -> str | None:
    """The text a person sent, cleaned; a file, picture or sticker is answered with a request
    for text, and None comes back."""
    message = update.effective_message
    if message is None:
        return None
    if message.text is None:
        say(
            ctx,
            ctx.t.gettext("Please send this as a text message, not a file, picture or sticker."),
        )
        return None
    return clean_text(message.text)


def problem_text(t: Translator, problem: TextProblem) -> Html:
    """A refused text, explained."""
    if problem.code == "empty":
        return t.gettext("Please send some text.")
    if problem.code == "invisible":
        return t.gettext(
            "Nothing in that can be seen: it has only spaces or invisible characters. Please "
            "write it with letters or digits."
        )
    if problem.code == "direction":
        return t.gettext(
            "That has a control character for the direction of text (right-to-left or "
            "left-to-right) that is never closed, and it would turn around the text shown "
            "after it. Please send it again without it."
        )
    if problem.code == "short":
        return t.gettext(
            "That is %(length)s characters; please write at least %(limit)s.",
            length=t.number(problem.length),
            limit=t.number(problem.limit),
        )
    return t.gettext(
        "That is %(length)s characters; the limit is %(limit)s. Please shorten it "
        "and send it again — your message is still above.",
        length=t.number(problem.length),
        limit=t.number(problem.limit),
    )
