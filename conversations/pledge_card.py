"""A submitted pledge's card and the things its officials can do from it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.buttons import PledgeList, ReportProgress, ResumeDraft
from conversations.cards import pledge_card
from conversations.common import say
from conversations.context import PledgeContext
from conversations.flow import ButtonData
from conversations.i18n import Html, Translator
from conversations.keyboards import button
from storage.models import Member, Pledge, WorkflowState
from storage.pledges import can_edit, can_report, load_pledge_view
from storage.workflow import pending_comment

# The card's own buttons, answered by conversations.my_pledges and conversations.review (which
# import this module, so the data is declared here rather than there).


@dataclass(frozen=True)
class EditPledge(ButtonData, prefix="m.edit"):
    """✏️ Edit: choose a field of a submitted pledge to change; `page` is the list page."""

    pledge: int
    page: int = 0


@dataclass(frozen=True)
class WithdrawPledge(ButtonData, prefix="m.withdraw"):
    """🗑 Withdraw (asks first); `page` is the list page to go back to."""

    pledge: int
    page: int = 0


@dataclass(frozen=True)
class Resubmit(ButtonData, prefix="r.resub"):
    """📤 Resubmit for review, after changes were requested."""

    pledge: int


def card_keyboard(
    t: Translator, member: Member, pledge: Pledge, *, page: int = 0
) -> InlineKeyboardMarkup:
    """What the reader may do with this pledge; a partner or a reader sees only Back."""
    assert pledge.id is not None
    rows = []
    actions = []
    if can_edit(member, pledge):
        if pledge.state == WorkflowState.DRAFT.value:
            actions.append(button(t.plain("▶️ Continue this draft"), ResumeDraft(pledge.id)))
        else:
            actions.append(button(t.plain("✏️ Edit"), EditPledge(pledge=pledge.id, page=page)))
    if can_report(member, pledge):
        actions.append(
            button(t.plain("📈 Report progress"), ReportProgress(pledge=pledge.id, page=page))
        )
    if actions:
        rows.append(actions)
    if can_edit(member, pledge) and pledge.state == WorkflowState.CHANGES_REQUESTED.value:
        rows.append([button(t.plain("📤 Resubmit for review"), Resubmit(pledge=pledge.id))])
    if can_edit(member, pledge):
        rows.append([button(t.plain("🗑 Withdraw"), WithdrawPledge(pledge=pledge.id, page=page))])
    rows.append([button(t.plain("‹ Back to the list"), PledgeList(page=page))])
    return InlineKeyboardMarkup(rows)


async def show_pledge_card(
    update: Update, ctx: PledgeContext, session: AsyncSession, pledge: Pledge, *, page: int = 0
) -> None:
    """Send the pledge card with the buttons the reader may use."""
    say(
        ctx,
        await card_text(ctx.t, session, pledge),
        card_keyboard(ctx.t, ctx.member, pledge, page=page),
    )


async def card_text(t: Translator, session: AsyncSession, pledge: Pledge) -> Html:
    """The pledge card, headed by the coordinators' request while it waits for changes."""
    view = await load_pledge_view(session=session, pledge=pledge)
    comment = await pending_comment(session=session, pledge=pledge)
    heading = (
        t.gettext("✏️ <b>The coordinators asked for changes:</b> %(comment)s", comment=comment)
        if comment
        else None
    )
    return pledge_card(t, view, heading=heading)
