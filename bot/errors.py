"""The last line of defence: log with context, tell the person in their language."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.metrics import metrics_of
from conversations.context import PledgeContext
from conversations.i18n import Translator
from storage.engine import is_unavailable
from storage.members import get_member_by_telegram_id

log = logging.getLogger(__name__)


def describe(update: object, ctx: PledgeContext) -> str:
    """What the update was, without the text people typed."""
    if not isinstance(update, Update):
        return repr(type(update).__name__)
    parts = [f"update={update.update_id}"]
    if update.effective_user:
        parts.append(f"user={update.effective_user.id}")
    if update.callback_query:
        parts.append(f"button={update.callback_query.data!r}")
    elif update.effective_message:
        message = update.effective_message
        kind = (
            "command"
            if (message.text or "").startswith("/")
            else ("text" if message.text else "other")
        )
        parts.append(f"message={kind}")
    if ctx.has_member and ctx.conversation is not None:
        parts.append(f"step={ctx.conversation.flow}/{ctx.conversation.step}")
    return " ".join(parts)


async def on_error(update: object, ctx: PledgeContext) -> None:
    """Log the error with the update's context and apologise to the person."""
    if ctx.error is not None and is_unavailable(ctx.error):
        # Counted, and logged without a traceback: the cause is outside the code.
        where = "update" if isinstance(update, Update) else "background"
        metrics_of(ctx.application).database_errors.labels(where).inc()
        log.warning("database unavailable while handling %s: %s", describe(update, ctx), ctx.error)
    else:
        log.error("error while handling %s", describe(update, ctx), exc_info=ctx.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(ctx.error, Forbidden):
        return  # the person blocked the bot: there is no one to apologise to
    t = await _translator_for(update, ctx)
    # The step's own transaction rolled back; the steps before it were committed.
    text = t.gettext(
        "Sorry, something went wrong on our side and your last message was not "
        "handled. What you entered before it is saved; please try again in a moment."
    )
    try:
        await ctx.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)
    except TelegramError as error:
        log.warning("could not tell %s about the error: %s", describe(update, ctx), error)


async def _translator_for(update: Update, ctx: PledgeContext) -> Translator:
    # The error handler gets a fresh context: find the member's language again.
    catalogs = ctx.services.catalogs
    user = update.effective_user
    if user is None:
        return catalogs.translator(None)
    try:
        async with ctx.db() as session:
            member = await get_member_by_telegram_id(session=session, telegram_id=user.id)
    except Exception:  # the database may be what failed
        member = None
    return catalogs.translator(member.language if member else user.language_code)
