"""Before any handler: who sent the update, in which language, and where they are."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import Update
from telegram.constants import ChatType

from conversations.common import say
from conversations.context import PledgeContext
from conversations.i18n import Html, Translator
from conversations.onboarding import access_ended_text
from storage.conversation_state import clear_state
from storage.members import get_or_create_member
from storage.models import ConversationState
from storage.types import utc_now

# A question left this long is stale: a message now is more likely something new than its answer.
ABANDONED_AFTER = timedelta(days=3)


def welcome_back(t: Translator, state: ConversationState, now: datetime) -> Html:
    """Where someone was when they left a question unanswered long ago, set aside now."""
    text = t.gettext(
        "Welcome back. You left a question unanswered %(when)s; I have set it aside, so what "
        "you send now is not taken as its answer.",
        when=t.relative(state.updated_at - now),
    )
    if state.pledge_id is not None:
        text = Html(
            text + " " + t.gettext("Your pledge is saved as it was; /pledge takes you back to it.")
        )
    return text


async def load_member(update: Update, ctx: PledgeContext) -> bool:
    """Load (or create) the member once per update and put them on the context; False when
    the update is not for the flows (from a bot, or from a group, which is told where to go)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.is_bot:
        return False
    catalogs = ctx.services.catalogs
    async with ctx.db() as session:
        language = catalogs.regional(user.language_code) or catalogs.default_language
        member, _created, state = await get_or_create_member(
            session=session, telegram_id=user.id, display_name=user.full_name, language=language
        )
        # A stopped member (who opted out with /stop, or blocked the bot) is still answered,
        # but stays stopped until /start: writing is not asking for reminders again.
        now = utc_now()
        abandoned = state is not None and now - state.updated_at > ABANDONED_AFTER
        if abandoned:
            await clear_state(session=session, member_id=member.id or 0)
        told_revoked = member.revoked_at is not None and not member.told_revoked
        if told_revoked:  # deactivated while they had stopped messages: told when they write
            member.told_revoked = True
            session.add(member)
    ctx.set_member(member, catalogs.translator(member.language))
    ctx.conversation = None if abandoned else state
    if told_revoked:
        say(ctx, access_ended_text(ctx.t))
    if abandoned and state is not None:
        say(ctx, welcome_back(ctx.t, state, now))
    if chat is not None and chat.type != ChatType.PRIVATE:
        if update.effective_message is not None and (
            update.effective_message.text or ""
        ).startswith("/"):
            say(ctx, ctx.t.gettext("Please write to me in a private chat."))
        return False
    return True
