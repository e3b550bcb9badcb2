"""A submitted pledge's card and the things its officials can do from it."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.cards import pledge_card
from conversations.common import say
from conversations.context import PledgeContext
from conversations.i18n import Translator
from conversations.keyboards import button
from storage.models import Member, Pledge, WorkflowState
from storage.pledges import can_edit, can_report, load_pledge_view


def card_keyboard(
    t: Translator, member: Member, pledge: Pledge, *, page: int = 0
) -> InlineKeyboardMarkup:
    """What the reader may do with this pledge; a partner or a reader sees only Back."""
    assert pledge.id is not None
    rows = []
    actions = []
    if can_edit(member, pledge):
        if pledge.state == WorkflowState.DRAFT.value:
            actions.append(button(t.plain("▶️ Continue this draft"), "w.resume", pledge.id))
        else:
            actions.append(button(t.plain("✏️ Edit"), "m.edit", pledge.id, page))
    if can_report(member, pledge):
        actions.append(button(t.plain("📈 Report progress"), "m.progress", pledge.id, page))
    if actions:
        rows.append(actions)
    if can_edit(member, pledge) and pledge.state == WorkflowState.CHANGES_REQUESTED.value:
        rows.append([button(t.plain("📤 Resubmit for review"), "r.resub", pledge.id)])
    if can_edit(member, pledge):
        rows.append([button(t.plain("🗑 Withdraw"), "m.withdraw", pledge.id, page)])
    rows.append([button(t.plain("‹ Back to the list"), "m.list", page)])
    return InlineKeyboardMarkup(rows)


async def show_pledge_card(
    update: Update, ctx: PledgeContext, session: AsyncSession, pledge: Pledge, *, page: int = 0
) -> None:
    """Send the pledge card with the buttons the reader may use."""
    view = await load_pledge_view(session=session, pledge=pledge)
    say(ctx, pledge_card(ctx.t, view), card_keyboard(ctx.t, ctx.member, pledge, page=page))
