"""Replying, acknowledging buttons and reaching other members: shared by every flow."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.context import PledgeContext
from bot.i18n import Html, Translator
from conversations.parsing import TextProblem, clean_text
from storage.members import mark_stopped
from storage.models import Member

log = logging.getLogger(__name__)

MAX_ALERT = 200  # answerCallbackQuery text limit


async def say(
    update: Update, ctx: PledgeContext, text: Html, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send a new message to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await ctx.bot.send_message(
        chat.id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        disable_web_page_preview=True,
    )


async def ack(
    update: Update, ctx: PledgeContext, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a button press so the phone stops its spinner (at most once per press)."""
    query = update.callback_query
    if query is None or ctx.callback_answered:
        return
    ctx.callback_answered = True
    if text is not None and len(text) > MAX_ALERT:
        text = text[: MAX_ALERT - 1] + "…"
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as error:
        # An old press (after a restart, say) can no longer be answered; nothing is lost.
        log.info("could not answer callback query: %s", error)


async def close_keyboard(update: Update) -> None:
    """Take the buttons off the pressed message, so it cannot be pressed again."""
    query = update.callback_query
    if query is None or query.message is None or not isinstance(query.message, Message):
        return
    if query.message.reply_markup is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        log.info("could not remove keyboard: %s", error)


async def replace(
    update: Update, ctx: PledgeContext, text: Html, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Show `text` in place of the pressed message, or as a new one where that cannot be done."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        if query.message.text_html == text and query.message.reply_markup == keyboard:
            return  # a double tap: Telegram would answer "message is not modified"
        try:
            await query.edit_message_text(
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                disable_web_page_preview=True,
            )
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return
            log.info("could not edit message, sending a new one: %s", error)
    await say(update, ctx, text, keyboard)


async def update_keyboard(update: Update, keyboard: InlineKeyboardMarkup) -> None:
    """Change only the buttons of the pressed message (multi-select toggles, pages)."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    if query.message.reply_markup == keyboard:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


@dataclass(frozen=True)
class Delivery:
    member: Member
    message: Message | None
    blocked: bool


async def notify(
    ctx: PledgeContext,
    members: Sequence[Member],
    render: Callable[[Translator], tuple[Html, InlineKeyboardMarkup | None]],
) -> list[Delivery]:
    """Send each member a message rendered in their own language; a blocked bot is noted."""
    deliveries: list[Delivery] = []
    for member in members:
        text, keyboard = render(ctx.services.catalogs.translator(member.language))
        try:
            message = await ctx.bot.send_message(
                member.telegram_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                disable_web_page_preview=True,
            )
            deliveries.append(Delivery(member, message, blocked=False))
        except Forbidden:
            deliveries.append(Delivery(member, None, blocked=True))
        except TelegramError as error:
            log.warning("could not notify member %s: %s", member.id, error)
            deliveries.append(Delivery(member, None, blocked=False))
    blocked = [d.member.id for d in deliveries if d.blocked and d.member.id is not None]
    if blocked:
        async with ctx.db() as session:
            await mark_stopped(session=session, member_ids=blocked)
    return deliveries


async def typed_text(update: Update, ctx: PledgeContext) -> str | None:
    """The text a person sent, cleaned; a file, picture or sticker is answered with a request
    for text, and None comes back."""
    message = update.effective_message
    if message is None:
        return None
    if message.text is None:
        await say(
            update,
            ctx,
            ctx.t.gettext("Please send this as a text message, not a file, picture or sticker."),
        )
        return None
    return clean_text(message.text)


def problem_text(t: Translator, problem: TextProblem) -> Html:
    """A refused text, explained."""
    if problem.code == "empty":
        return t.gettext("Please send some text.")
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


StepHandler = Callable[[Update, PledgeContext], Awaitable[None]]
