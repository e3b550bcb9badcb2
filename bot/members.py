"""Before any handler: who sent the update, in which language, and where they are."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from conversations.context import PledgeContext
from storage.conversation_state import get_state
from storage.members import get_or_create_member


async def load_member(update: Update, ctx: PledgeContext) -> None:
    """Load (or create) the member once per update and put them on the context."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    catalogs = ctx.services.catalogs
    async with ctx.db() as session:
        language = catalogs.negotiate(user.language_code) or catalogs.default_language
        member, _created = await get_or_create_member(
            session=session, telegram_id=user.id, display_name=user.full_name, language=language
        )
        # A stopped member (who opted out with /stop, or blocked the bot) is still answered,
        # but stays stopped until /start: writing is not asking for reminders again.
        ctx.conversation = await get_state(session=session, member_id=member.id or 0)
    ctx.set_member(member, catalogs.translator(member.language))
    if chat is not None and chat.type != ChatType.PRIVATE:
        if update.effective_message is not None and (
            update.effective_message.text or ""
        ).startswith("/"):
            await update.effective_message.reply_text(
                ctx.t.gettext("Please write to me in a private chat.")
            )
        raise ApplicationHandlerStop
