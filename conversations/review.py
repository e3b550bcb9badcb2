"""Review: coordinators approve a pledge, send it back with a comment, or mark it delivered;
officials act on the comment and resubmit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.buttons import Approve, Deliver, NextReview, OpenPledge, SendBack
from conversations.cards import locality_text
from conversations.common import ack, notify, problem_text, replace, say, typed_text
from conversations.context import PledgeContext
from conversations.flow import (
    COORDINATORS,
    OFFICIALS,
    Button,
    ButtonData,
    Command,
    Flow,
    is_coordinator,
)
from conversations.i18n import N_, Html, Translator, escape
from conversations.keyboards import button, page_count, pager_row, rows
from conversations.parsing import check_length
from conversations.pledge_card import Resubmit, card_keyboard, card_text
from conversations.review_card import decision_keyboard, review_card
from conversations.vocabulary import WORKFLOW_STATES, label
from storage.conversation_state import clear_state, set_state
from storage.localities import get_localities
from storage.members import list_coordinators
from storage.models import ConversationState, Locality, NoticeKind, Pledge, WorkflowState
from storage.pledges import PledgePage, can_edit, get_pledge, get_visible_pledge, load_pledge_view
from storage.workflow import (
    COMMENT_LIMITS,
    IllegalTransition,
    Refusal,
    list_awaiting_review,
    list_pledge_officials,
    moved_by,
    refusal,
    transition,
)

# The states a coordinator's decision leaves a pledge in.
DECIDED = frozenset(
    {
        WorkflowState.APPROVED.value,
        WorkflowState.CHANGES_REQUESTED.value,
        WorkflowState.DELIVERED.value,
    }
)
STATE = "review"
COMMENT = "comment"
PER_PAGE = 8
ONLY_COORDINATORS = N_("Only coordinators review pledges.")
ONLY_OFFICIALS = N_("Only the pledge's officials can resubmit it.")


@dataclass(frozen=True)
class ReviewList(ButtonData, prefix="r.list"):
    """A page of the pledges awaiting review."""

    page: int


@dataclass(frozen=True)
class OpenReview(ButtonData, prefix="r.open"):
    """A pledge's review card, with the decisions its state allows."""

    pledge: int


def refusal_text(t: Translator, reason: Refusal, current: str, by: str = "") -> str:
    """Why a decision cannot be made, for an alert (plain text); `by` is who made the one
    that was (another coordinator a moment quicker), where known."""
    state = label(t, WORKFLOW_STATES, current)
    if reason is Refusal.ALREADY and by:
        return t.plain(
            "Already decided by %(name)s: this pledge is already %(state)s.", name=by, state=state
        )
    if reason is Refusal.ALREADY:
        return t.plain("Already decided: this pledge is already %(state)s.", state=state)
    if reason is Refusal.NOT_SUBMITTED and by:
        return t.plain(
            "Already decided by %(name)s: this pledge is now %(state)s, no longer awaiting review.",
            name=by,
            state=state,
        )
    if reason is Refusal.NOT_SUBMITTED:
        return t.plain(
            "Already decided: this pledge is now %(state)s, no longer awaiting review.",
            state=state,
        )
    if reason is Refusal.CLOSED:
        return t.plain("This pledge is %(state)s; it can no longer change.", state=state)
    if reason is Refusal.NOT_APPROVED:
        return t.plain(
            "Only an approved pledge can be marked delivered; this one is %(state)s.", state=state
        )
    if reason is Refusal.NOT_RESUBMITTABLE:
        return t.plain(
            "Only a pledge sent back for changes can be resubmitted; this one is %(state)s.",
            state=state,
        )
    if reason is Refusal.NO_COMMENT:
        return t.plain("Please say what should change.")
    return t.plain("A pledge never goes back to being a draft.")


# ------------------------------------------------------------------ /review: the waiting list


def list_message(
    t: Translator, page: PledgePage, number: int, localities: Mapping[int, Locality]
) -> tuple[Html, InlineKeyboardMarkup]:
    """One page of the pledges awaiting review, each with its locality; a button to open each."""
    first = number * PER_PAGE + 1
    lines = [
        t.ngettext(
            "<b>Awaiting review</b>: %(count)s pledge",
            "<b>Awaiting review</b>: %(count)s pledges",
            page.total,
        )
    ]
    lines += [
        t.gettext(
            "%(number)s. %(reference)s <b>%(title)s</b> — %(locality)s",
            number=t.number(first + i),
            reference=p.reference or "—",
            title=p.title,
            locality=locality_text(t, localities[p.locality_id])
            if p.locality_id in localities
            else "—",
        )
        for i, p in enumerate(page.pledges)
    ]
    buttons = [
        button(f"{t.number(first + i)}. {p.reference or '—'}", OpenReview(pledge=p.id or 0))
        for i, p in enumerate(page.pledges)
    ]
    keyboard = rows(buttons, 2)
    pager = pager_row(
        t,
        page=number,
        pages=page_count(page.total, PER_PAGE),
        to_page=lambda target: ReviewList(page=target),
    )
    if pager:
        keyboard.append(pager)
    return Html("\n".join(lines)), InlineKeyboardMarkup(keyboard)


def _where(t: Translator, localities: Mapping[int, Locality], pledge: Pledge) -> str:
    found = localities.get(pledge.locality_id or 0)
    return locality_text(t, found) if found is not None else "—"


async def _waiting(ctx: PledgeContext, number: int) -> tuple[PledgePage, int, dict[int, Locality]]:
    async with ctx.db() as session:
        page = await list_awaiting_review(session=session, offset=number * PER_PAGE, limit=PER_PAGE)
        last = page_count(page.total, PER_PAGE) - 1
        if number > last:  # the list shrank since that button was made
            number = last
            page = await list_awaiting_review(
                session=session, offset=number * PER_PAGE, limit=PER_PAGE
            )
        ids = sorted({p.locality_id for p in page.pledges if p.locality_id is not None})
        found = await get_localities(session=session, ids=ids)
        localities = {loc.id: loc for loc in found if loc.id is not None}
    return page, number, localities


async def review(update: Update, ctx: PledgeContext) -> None:
    """/review: the pledges awaiting a decision, longest waiting first."""
    page, number, localities = await _waiting(ctx, 0)
    if page.total == 0:
        say(ctx, ctx.t.gettext("No pledge is awaiting review just now."))
        return
    text, keyboard = list_message(ctx.t, page, number, localities)
    say(ctx, text, keyboard)


async def on_list(update: Update, ctx: PledgeContext, data: ReviewList) -> None:
    """Button: another page of the waiting list."""
    page, number, localities = await _waiting(ctx, max(data.page, 0))
    ack(ctx)
    if page.total == 0:
        replace(ctx, ctx.t.gettext("No pledge is awaiting review just now."))
        return
    text, keyboard = list_message(ctx.t, page, number, localities)
    replace(ctx, text, keyboard)


async def on_open(update: Update, ctx: PledgeContext, data: OpenReview) -> None:
    """Button: one pledge's review card."""
    async with ctx.db() as session:
        pledge = await get_visible_pledge(session=session, pledge_id=data.pledge, member=ctx.member)
        if pledge is None:
            ack(ctx, ctx.t.plain("That pledge is not available."), alert=True)
            return
        view = await load_pledge_view(session=session, pledge=pledge)
    ack(ctx)
    say(ctx, review_card(ctx.t, view), decision_keyboard(ctx.t, pledge))


async def on_next(update: Update, ctx: PledgeContext, _data: NextReview) -> None:
    """Button: the next pledge awaiting review, the one that has waited longest."""
    page, _number, _localities = await _waiting(ctx, 0)
    if not page.pledges:
        ack(ctx, ctx.t.plain("No pledge is awaiting review just now."), alert=True)
        return
    await on_open(update, ctx, OpenReview(pledge=page.pledges[0].id or 0))


# ------------------------------------------------------------------ decisions


def decision_notice(t: Translator, pledge: Pledge, state: str) -> Html:
    """What the officials are told when their pledge is approved (`state`) or delivered."""
    if state == WorkflowState.DELIVERED.value:
        return t.gettext(
            "📦 Your pledge %(reference)s “%(title)s” has been <b>handed to the forum</b>. "
            "Thank you! Keep reporting progress with /mypledges.",
            reference=pledge.reference,
            title=pledge.title,
        )
    return t.gettext(
        "✅ Your pledge %(reference)s “%(title)s” has been <b>approved</b> by the coordinators.",
        reference=pledge.reference,
        title=pledge.title,
    )


async def on_approve(update: Update, ctx: PledgeContext, data: Approve) -> None:
    """Button Approve: the first coordinator decides; officials are told."""
    await _decide(ctx, data.pledge, WorkflowState.APPROVED)


async def on_deliver(update: Update, ctx: PledgeContext, data: Deliver) -> None:
    """Button Mark delivered: the first coordinator decides; officials are told."""
    await _decide(ctx, data.pledge, WorkflowState.DELIVERED)


async def _decide(ctx: PledgeContext, pledge_id: int, to: WorkflowState) -> None:
    t = ctx.t
    async with ctx.db() as session:
        pledge = await get_pledge(session=session, pledge_id=pledge_id)
        if pledge is None:
            ack(ctx, t.plain("That pledge is not available."), alert=True)
            return
        try:
            await transition(session=session, pledge=pledge, to=to, member_id=ctx.member.id or 0)
        except IllegalTransition as refused:
            by = await _decider(session, pledge)
            ack(ctx, refusal_text(t, refused.reason, refused.current, by), alert=True)
            return
        view = await load_pledge_view(session=session, pledge=pledge)
        officials = await list_pledge_officials(session=session, pledge=pledge)
        await notify(ctx, session, officials, NoticeKind.DECISION, pledge=pledge.id, state=to.value)
    ack(ctx, label(t, WORKFLOW_STATES, pledge.state))
    replace(ctx, review_card(t, view), decision_keyboard(t, pledge))


async def _decider(session: AsyncSession, pledge: Pledge) -> str:
    """The name of whoever moved the pledge to where it is, if a decision put it there."""
    if pledge.state not in DECIDED:
        return ""
    member = await moved_by(session=session, pledge=pledge)
    return member.display_name if member is not None else ""


async def on_send_back(update: Update, ctx: PledgeContext, data: SendBack) -> None:
    """Button Request changes: ask the coordinator what should change."""
    t = ctx.t
    async with ctx.db() as session:
        pledge = await get_pledge(session=session, pledge_id=data.pledge)
        if pledge is None:
            ack(ctx, t.plain("That pledge is not available."), alert=True)
            return
        reason = refusal(pledge.state, WorkflowState.CHANGES_REQUESTED)
        if reason is not None:
            by = await _decider(session, pledge)
            ack(ctx, refusal_text(t, reason, pledge.state, by), alert=True)
            return
        await set_state(
            session=session,
            member_id=ctx.member.id or 0,
            flow=STATE,
            step=COMMENT,
            pledge_id=pledge.id,
            data={"reference": pledge.reference},
        )
    ack(ctx)
    say(ctx, comment_question(t, pledge.reference or ""))


def comment_question(t: Translator, reference: str) -> Html:
    return t.gettext(
        "What should change in %(reference)s? Write your comment (%(minimum)s–%(maximum)s "
        "characters); the officials receive it as you write it. /cancel to leave it.",
        reference=reference,
        minimum=t.number(COMMENT_LIMITS[0]),
        maximum=t.number(COMMENT_LIMITS[1]),
    )


async def reask(update: Update, ctx: PledgeContext, state: ConversationState) -> bool:
    """Ask for the comment again."""
    say(ctx, comment_question(ctx.t, str(state.data.get("reference", ""))))
    return True


def changes_notice(t: Translator, pledge: Pledge, comment: str) -> Html:
    """What the officials receive: the coordinator's comment, exactly as written."""
    return t.gettext(
        "✏️ <b>Changes requested</b> for your pledge %(reference)s “%(title)s”. "
        "The coordinators wrote:\n\n<blockquote>%(comment)s</blockquote>\n\n"
        "Please edit the pledge, then press “Resubmit for review” on its card.",
        reference=pledge.reference,
        title=pledge.title,
        comment=comment,
    )


def open_keyboard(t: Translator, pledge: Pledge) -> InlineKeyboardMarkup:
    """The button that opens the official's own card of the pledge, to edit and resubmit."""
    return InlineKeyboardMarkup(
        [[button(t.plain("Open the pledge"), OpenPledge(pledge=pledge.id or 0, page=0))]]
    )


async def on_comment(update: Update, ctx: PledgeContext) -> None:
    """The coordinator's comment: the pledge goes back to its officials with it."""
    state, t = ctx.conversation, ctx.t
    if state is None:
        return
    if not is_coordinator(ctx.member.role):
        async with ctx.db() as session:
            await clear_state(session=session, member_id=ctx.member.id or 0)
        say(ctx, t.gettext(ONLY_COORDINATORS))
        return
    comment = typed_text(update, ctx)
    if comment is None:
        return
    problem = check_length(comment, minimum=COMMENT_LIMITS[0], maximum=COMMENT_LIMITS[1])
    if problem is not None:
        say(ctx, problem_text(t, problem))
        return
    async with ctx.db() as session:
        await clear_state(session=session, member_id=ctx.member.id or 0)
        pledge = await get_pledge(session=session, pledge_id=state.pledge_id or 0)
        if pledge is None:
            say(ctx, t.gettext("That pledge is no longer available."))
            return
        try:
            await transition(
                session=session,
                pledge=pledge,
                to=WorkflowState.CHANGES_REQUESTED,
                member_id=ctx.member.id or 0,
                comment=comment,
            )
        except IllegalTransition as refused:
            by = await _decider(session, pledge)
            say(ctx, escape(refusal_text(t, refused.reason, refused.current, by)))
            return
        officials = await list_pledge_officials(session=session, pledge=pledge)
        reached = await notify(
            ctx, session, officials, NoticeKind.CHANGES, pledge=pledge.id, comment=comment
        )
    say(
        ctx,
        t.ngettext(
            "✏️ %(reference)s is sent back with your comment; %(count)s official was told.",
            "✏️ %(reference)s is sent back with your comment; %(count)s officials were told.",
            reached,
            reference=pledge.reference,
        ),
    )


# ------------------------------------------------------------------ resubmission


async def on_resubmit(update: Update, ctx: PledgeContext, data: Resubmit) -> None:
    """Button Resubmit (officials): the changed pledge goes back to the coordinators."""
    t = ctx.t
    async with ctx.db() as session:
        pledge = await get_visible_pledge(session=session, pledge_id=data.pledge, member=ctx.member)
        if pledge is None:
            ack(ctx, t.plain("That pledge is not available."), alert=True)
            return
        if not can_edit(ctx.member, pledge):
            ack(ctx, t.plain(ONLY_OFFICIALS), alert=True)
            return
        try:
            await transition(
                session=session,
                pledge=pledge,
                to=WorkflowState.SUBMITTED,
                member_id=ctx.member.id or 0,
            )
        except IllegalTransition as refused:
            ack(ctx, refusal_text(t, refused.reason, refused.current), alert=True)
            return
        coordinators = await list_coordinators(session=session)
        await notify(ctx, session, coordinators, NoticeKind.RESUBMITTED, pledge=pledge.id)
        card = await card_text(t, session, pledge)
    ack(ctx, t.plain("Resubmitted"))
    # The pressed card said "Changes requested": it shows the pledge as it is now.
    replace(ctx, card, card_keyboard(t, ctx.member, pledge))
    say(
        ctx,
        t.gettext(
            "📤 %(reference)s is resubmitted; the coordinators will review it again.",
            reference=pledge.reference,
        ),
    )


FLOW = Flow(
    name="review",
    commands=(Command("review", N_("Pledges awaiting your review"), COORDINATORS, review),),
    buttons=(
        Button(ReviewList, on_list, COORDINATORS, ONLY_COORDINATORS),
        Button(OpenReview, on_open, COORDINATORS, ONLY_COORDINATORS),
        Button(NextReview, on_next, COORDINATORS, ONLY_COORDINATORS),
        Button(Approve, on_approve, COORDINATORS, ONLY_COORDINATORS),
        Button(SendBack, on_send_back, COORDINATORS, ONLY_COORDINATORS),
        Button(Deliver, on_deliver, COORDINATORS, ONLY_COORDINATORS),
        Button(Resubmit, on_resubmit, OFFICIALS, ONLY_OFFICIALS),
    ),
    states=(STATE,),
    text_steps={COMMENT: on_comment},
    reask=reask,
)
