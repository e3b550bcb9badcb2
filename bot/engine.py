"""Commit, then send: what a step said goes to Telegram only after its transaction committed.

Every update is handled the same way: the member is loaded, the route runs the step (which
saves inside short transactions and records its replies as data), then the engine sends the
replies of the transactions that committed, then delivers the notices the step queued for other
members. A Telegram error here can no longer undo a saved answer: the answer is saved, the
failure logged. A database that cannot be reached makes the update wait and try again, with
the person told once; their later updates wait behind it, so they still land in order.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from telegram import BotCommandScopeChat, CallbackQuery, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.inbox import INBOX_KEY, Inbox, OwedReplies
from bot.members import load_member
from bot.metrics import metrics_of
from bot.ordering import PersonByPerson, give_back_slot
from bot.outage import (
    TELEGRAM_PATIENCE,
    Outage,
    backoff,
    maybe_delivered,
    outage_of,
    retry_seconds,
)
from bot.paste import joined
from bot.reminders import SENDER_KEY, ReminderSender
from conversations.common import ack, say
from conversations.context import PledgeContext
from conversations.flow import Step
from conversations.replies import (
    Answer,
    Buttons,
    CommandMenu,
    Replace,
    Reply,
    Send,
    Upload,
    reply_from_json,
    reply_to_json,
)
from storage.engine import DatabaseUnavailable
from storage.inbox import ClaimLost
from storage.members import mark_stopped

log = logging.getLogger(__name__)

MAX_ALERT = 200  # answerCallbackQuery's text limit
ATTEMPTS = 3  # a reply is tried this often when Telegram answers 429
PATIENCE = 30.0  # seconds of a 429's retry_after worth waiting for, with the person waiting too

T = TypeVar("T")


def engine_step(route: Step) -> Step:
    """The route, then its replies and notices, sent after everything it saved is committed."""

    async def handle(update: Update, ctx: PledgeContext) -> None:
        started, outcome = time.perf_counter(), "error"
        inbox: Inbox | None = ctx.application.bot_data.get(INBOX_KEY)
        owed = inbox.owed_replies(update.update_id) if inbox is not None else None
        if inbox is not None and owed is not None:
            await _send_owed(update, ctx, inbox, owed)
            _log_handled(update, ctx, "replies sent after a restart", time.perf_counter() - started)
            return
        update = await _whole_paste(update, ctx)
        try:
            outcome = await _until_the_database_answers(update, ctx, route)
        finally:
            give_back_slot()  # only sending from here: another update may take the slot
            # Also when the route failed: what its committed transactions said is true.
            await _tell(update, ctx, inbox)
            if ctx.replies.notices:
                await _deliver_notices(ctx)
            _log_handled(update, ctx, outcome, time.perf_counter() - started)

    handle.__doc__ = route.__doc__
    handle.__name__ = route.__name__
    return handle


async def _tell(update: Update, ctx: PledgeContext, inbox: Inbox | None) -> None:
    """Send the update's replies; those of an update the inbox holds as handled are kept on
    its row first, so that a crash while they go out leaves them to be sent on restart."""
    replies = ctx.replies.take()
    if inbox is None or not ctx.saved_update or not replies:
        await deliver_replies(update, ctx, replies)
        return
    owed = [reply_to_json(r) for r in replies if not isinstance(r, Answer)]
    kept = bool(owed) and await inbox.keep_replies(update.update_id, owed)
    counted = partial(inbox.count_sent, update.update_id) if kept else None
    await deliver_replies(update, ctx, replies, counted=counted)


async def _send_owed(update: Update, ctx: PledgeContext, inbox: Inbox, owed: OwedReplies) -> None:
    """What an update handled before a crash still owes its person (the answer to a button
    press is not kept: the press is long over)."""
    replies = [reply_from_json(data) for data in owed.replies[owed.sent :]]
    log.info("update %s: sending %s replies owed since a restart", update.update_id, len(replies))

    async def counted(sent: int) -> None:
        await inbox.count_sent(update.update_id, owed.sent + sent)

    await deliver_replies(update, ctx, replies, counted=counted)


async def _whole_paste(update: Update, ctx: PledgeContext) -> Update:
    """The update, with the later parts of a long paste Telegram cut into several messages."""
    processor = ctx.application.update_processor
    if not isinstance(processor, PersonByPerson):
        return update
    rest = await processor.rest_of_paste(update)
    if rest:
        log.info("update %s joined with %s later parts of one paste", update.update_id, len(rest))
    return joined([update, *rest])


def _log_handled(update: Update, ctx: PledgeContext, outcome: str, seconds: float) -> None:
    """One line per update, for operators: who, where, how long, how it ended; never what
    the person typed (a JSON log carries the same as fields)."""
    state = ctx.conversation
    fields = {
        "update_id": update.update_id,
        "member_id": ctx.member.id if ctx.has_member else None,
        "flow": state.flow if state is not None else None,
        "step": state.step if state is not None else None,
        "duration_ms": round(seconds * 1000, 1),
        "outcome": outcome,
    }
    log.info(
        "update %s of member %s (%s/%s): %s in %.1f ms",
        fields["update_id"],
        fields["member_id"],
        fields["flow"],
        fields["step"],
        outcome,
        fields["duration_ms"],
        extra={"fields": fields},
    )


async def _until_the_database_answers(update: Update, ctx: PledgeContext, route: Step) -> str:
    """Load the member, then run the route; while the database is unreachable, try again with
    back-off. Only an attempt that committed nothing is repeated: anything else is an error.
    Returns how it ended: handled, ignored, retried (handled after waiting), held over, taken
    over (by another worker, while this one waited too long)."""
    outage = outage_of(ctx.application)
    for attempt in itertools.count():
        mark = ctx.replies.mark()
        commits = ctx.commits
        try:
            if not await load_member(update, ctx):
                return "ignored"
            commits = ctx.commits  # loading again is harmless; the route's work is not
            inbox: Inbox | None = ctx.application.bot_data.get(INBOX_KEY)
            if inbox is not None:
                ctx.on_first_save = inbox.handled_marker(update.update_id)
            await route(update, ctx)
        except ClaimLost as error:
            ctx.replies.drop_after(mark)  # the worker that took it over answers
            log.warning("update %s taken over by another worker: %s", update.update_id, error)
            return "taken over"
        except DatabaseUnavailable as error:
            if ctx.commits != commits:
                raise
            if outage.stopping:
                ctx.replies.drop_after(mark)
                if await asyncio.to_thread(outage.hold_over, update):
                    log.warning("update %s held over the stop: %s", update.update_id, error)
                    return "held over"  # they were told it would be handled: the next start does
                raise
            metrics_of(ctx.application).database_errors.labels("update").inc()
            log.warning(
                "database unavailable for update %s (attempt %s), trying again: %s",
                update.update_id,
                attempt + 1,
                error,
            )
            ctx.replies.drop_after(mark)
            _say_unavailable(update, ctx, outage)
            await deliver_replies(update, ctx, ctx.replies.take())
            await asyncio.sleep(backoff(attempt))
            continue
        outage.ended()
        return "handled" if attempt == 0 else "retried"
    raise AssertionError("unreachable")


def _say_unavailable(update: Update, ctx: PledgeContext, outage: Outage) -> None:
    """Tell the person, once per outage, that what they sent waits; a button stops spinning."""
    user = update.effective_user
    if user is not None and outage.first_word_to(user.id):
        t = ctx.t if ctx.has_member else ctx.services.catalogs.translator(user.language_code)
        say(
            ctx,
            t.gettext(
                "⏳ I cannot reach my database just now. What you sent is kept and will be "
                "handled as soon as it is back: there is no need to send it again."
            ),
        )
    ack(ctx)


async def _deliver_notices(ctx: PledgeContext) -> None:
    """The notices this update queued, at once; any still pending after a failure here go out
    with the sender's next tick, so the person who caused them is not told of it."""
    sender: ReminderSender | None = ctx.application.bot_data.get(SENDER_KEY)
    if sender is None:
        return
    try:
        await sender.deliver_notices(ids=ctx.replies.notices)
    except Exception:
        log.exception("notices %s left for the sender's next tick", ctx.replies.notices)


async def deliver_replies(
    update: Update,
    ctx: PledgeContext,
    replies: list[Reply],
    *,
    counted: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Send the replies in order; a reply Telegram refuses is logged, not repeated. With
    `counted`, the replies done so far are counted where they are kept (answers to a button
    press aside: they are not kept)."""
    done = 0
    for reply in replies:
        try:
            await _patiently(
                partial(_send, update, ctx, reply),
                stopping=lambda: outage_of(ctx.application).stopping,
            )
        except Forbidden:
            await _blocked(ctx)
            return
        except TelegramError as error:
            # The step's changes are committed; only this message is lost, so say no more.
            log.warning(
                "could not send %s to user %s: %s",
                type(reply).__name__,
                update.effective_user.id if update.effective_user else "?",
                error,
            )
        if counted is not None and not isinstance(reply, Answer):
            done += 1
            await counted(done)


async def _patiently(call: Callable[[], Awaitable[T]], *, stopping: Callable[[], bool]) -> T:
    """The call, tried again after a 429 (within patience) or while Telegram is down (5xx,
    connection refused: with back-off, up to TELEGRAM_PATIENCE, or until the bot is told to
    stop, which must not wait minutes); never after a timeout, when Telegram may have done
    it: twice would show it twice."""
    rate_limited, waited = 0, 0.0
    for attempt in itertools.count():
        try:
            return await call()
        except RetryAfter as error:
            rate_limited += 1
            seconds = retry_seconds(error)
            if rate_limited == ATTEMPTS or seconds > PATIENCE:
                raise
            await asyncio.sleep(seconds)
        except TimedOut:
            raise
        except NetworkError as error:
            if maybe_delivered(error):
                raise  # as after a timeout: it may be on the person's screen already
            pause = backoff(attempt)  # nothing was shown: the same message may be sent again
            if waited + pause > TELEGRAM_PATIENCE or stopping():
                raise
            waited += pause
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


async def _send(update: Update, ctx: PledgeContext, reply: Reply) -> None:
    chat = update.effective_chat
    query = update.callback_query
    pressed = query.message if query is not None and isinstance(query.message, Message) else None
    if isinstance(reply, Answer):
        if query is not None:
            await _answer(query, reply)
    elif isinstance(reply, Buttons):
        if pressed is not None and pressed.reply_markup != reply.keyboard:
            await _edit_buttons(pressed, reply)
    elif isinstance(reply, Replace):
        if pressed is not None and await _edit(pressed, reply):
            return
        if chat is not None:
            await _message(ctx, chat.id, reply.text, reply)
    elif isinstance(reply, Send):
        if chat is not None:
            await _message(ctx, chat.id, reply.text, reply)
    elif isinstance(reply, Upload):
        if chat is not None:
            await _upload(ctx, chat.id, reply)
    elif isinstance(reply, CommandMenu):
        try:
            await ctx.bot.set_my_commands(
                list(reply.commands), scope=BotCommandScopeChat(reply.chat_id)
            )
        except TelegramError as error:  # a menu is a convenience: never worth an apology
            log.warning("could not set the command menu of chat %s: %s", reply.chat_id, error)


async def _answer(query: CallbackQuery, reply: Answer) -> None:
    text = reply.text
    if text is not None and len(text) > MAX_ALERT:
        text = text[: MAX_ALERT - 1] + "…"
    try:
        await query.answer(text, show_alert=reply.alert)
    except BadRequest as error:
        # An old press (after a restart, say) can no longer be answered; nothing is lost.
        log.info("could not answer callback query: %s", error)


async def _edit_buttons(pressed: Message, reply: Buttons) -> None:
    try:
        await pressed.edit_reply_markup(reply_markup=reply.keyboard)
    except BadRequest as error:
        # Not modified (a double tap), or a message too old to edit: the buttons stay.
        log.info("could not change the buttons: %s", error)


async def _edit(pressed: Message, reply: Replace) -> bool:
    """Edit the pressed message; False where it cannot be (a new message is sent instead)."""
    if pressed.text_html == reply.text and pressed.reply_markup == reply.keyboard:
        return True  # a double tap: Telegram would answer "message is not modified"
    try:
        await pressed.edit_text(
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply.keyboard,
            disable_web_page_preview=True,
        )
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return True
        log.info("could not edit message, sending a new one: %s", error)
        return False
    return True


async def _message(ctx: PledgeContext, chat_id: int, text: str, reply: Send | Replace) -> None:
    await ctx.bot.send_message(
        chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=reply.keyboard,
        disable_web_page_preview=True,
    )


async def _upload(ctx: PledgeContext, chat_id: int, reply: Upload) -> None:
    content = InputFile(reply.content, filename=reply.filename)
    if reply.picture:
        await ctx.bot.send_photo(chat_id, content, caption=reply.caption, parse_mode=ParseMode.HTML)
    else:
        await ctx.bot.send_document(
            chat_id, content, caption=reply.caption, parse_mode=ParseMode.HTML
        )


async def _blocked(ctx: PledgeContext) -> None:
    """The person blocked the bot while it answered: no more messages until they /start."""
    if not ctx.has_member or ctx.member.id is None:
        return
    log.info("member %s blocked the bot", ctx.member.id)
    async with ctx.db() as session:
        await mark_stopped(session=session, member_ids=[ctx.member.id])
