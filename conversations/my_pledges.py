"""/mypledges: the locality's pledges, a card for each, edits, progress and withdrawal."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.buttons import OpenPledge, PledgeList, ReportProgress
from conversations.cards import pledge_line
from conversations.common import ack, close_keyboard, problem_text, replace, say, typed_text
from conversations.context import PledgeContext
from conversations.flow import OFFICIALS, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import button, page_count, pager_row, rows
from conversations.parsing import check_length
from conversations.pledge_card import EditPledge, WithdrawPledge, show_pledge_card
from conversations.pledge_steps import EDIT, STEPS, applies, hidden_steps, step_name
from conversations.pledge_wizard import go_to
from conversations.vocabulary import STAGES, label
from storage.conversation_state import clear_state, set_state
from storage.models import ConversationState, Pledge, Stage
from storage.pledges import (
    PledgePage,
    add_progress_report,
    can_edit,
    can_report,
    get_visible_pledge,
    list_locality_pledges,
    withdraw_pledge,
)

PER_PAGE = 8
PROGRESS = "progress"
NARRATIVE = "narrative"
NARRATIVE_LIMITS = (10, 2000)
# What anyone but an official is told when pressing a button that names a pledge (a forged
# one, since only officials are shown them): the same as for a pledge they may not see.
NOT_AVAILABLE = N_("That pledge is not available.")


@dataclass(frozen=True)
class EditField(ButtonData, prefix="m.field"):
    """Change this field (a step of the wizard) of a submitted pledge."""

    pledge: int
    step: str


@dataclass(frozen=True)
class ReachStage(ButtonData, prefix="m.stage"):
    """The stage a pledge has reached, for a progress report."""

    pledge: int
    stage: str


@dataclass(frozen=True)
class ConfirmWithdraw(ButtonData, prefix="m.withdrawyes"):
    """Yes, withdraw it."""

    pledge: int


def list_message(t: Translator, page: PledgePage, number: int) -> tuple[Html, InlineKeyboardMarkup]:
    """One page of the list: a numbered line per pledge and a button for each."""
    pages = page_count(page.total, PER_PAGE)
    first = number * PER_PAGE + 1
    lines = [
        t.ngettext(
            "<b>Your locality's pledges</b>: %(count)s pledge",
            "<b>Your locality's pledges</b>: %(count)s pledges",
            page.total,
        )
    ]
    lines += [pledge_line(t, p, first + i) for i, p in enumerate(page.pledges)]
    buttons = [
        button(
            f"{t.number(first + i)}. {p.reference or p.title or t.plain('(untitled)')}",
            OpenPledge(pledge=p.id or 0, page=number),
        )
        for i, p in enumerate(page.pledges)
    ]
    keyboard = rows(buttons, 2)
    pager = pager_row(t, page=number, pages=pages, to_page=lambda target: PledgeList(page=target))
    if pager:
        keyboard.append(pager)
    return Html("\n".join(lines)), InlineKeyboardMarkup(keyboard)


async def _page(ctx: PledgeContext, session: AsyncSession, number: int) -> PledgePage:
    return await list_locality_pledges(
        session=session,
        locality_id=ctx.member.locality_id or 0,
        offset=number * PER_PAGE,
        limit=PER_PAGE,
    )


async def my_pledges(update: Update, ctx: PledgeContext) -> None:
    """/mypledges: the first page of the locality's pledges."""
    async with ctx.db() as session:
        await clear_state(session=session, member_id=ctx.member.id or 0)
        page = await _page(ctx, session, 0)
    if page.total == 0:
        say(ctx, ctx.t.gettext("Your locality has no pledges yet. /pledge starts one."))
        return
    text, keyboard = list_message(ctx.t, page, 0)
    say(ctx, text, keyboard)


async def on_list(update: Update, ctx: PledgeContext, data: PledgeList) -> None:
    """Button: another page of the list (or back to it from a card)."""
    number = max(data.page, 0)
    async with ctx.db() as session:
        page = await _page(ctx, session, number)
        if number and not page.pledges:  # the list shrank since that button was made
            number = max(page_count(page.total, PER_PAGE) - 1, 0)
            page = await _page(ctx, session, number)
    ack(ctx)
    if page.total == 0:
        replace(ctx, ctx.t.gettext("Your locality has no pledges yet. /pledge starts one."))
        return
    text, keyboard = list_message(ctx.t, page, number)
    replace(ctx, text, keyboard)


async def _visible(ctx: PledgeContext, session: AsyncSession, pledge_id: int) -> Pledge | None:
    """The pledge a button names, if the reader may see it; else they are told it is not."""
    pledge = (
        await get_visible_pledge(session=session, pledge_id=pledge_id, member=ctx.member)
        if pledge_id
        else None
    )
    if pledge is None:
        ack(ctx, ctx.t.plain(NOT_AVAILABLE), alert=True)
    return pledge


async def on_open(update: Update, ctx: PledgeContext, data: OpenPledge) -> None:
    """Button: one pledge's card."""
    async with ctx.db() as session:
        pledge = await _visible(ctx, session, data.pledge)
        if pledge is None:
            return
        ack(ctx)
        await show_pledge_card(update, ctx, session, pledge, page=data.page)


async def on_edit(update: Update, ctx: PledgeContext, data: EditPledge) -> None:
    """Button: choose which field of a submitted pledge to change."""
    async with ctx.db() as session:
        pledge = await _visible(ctx, session, data.pledge)
        if pledge is None:
            return
        if not can_edit(ctx.member, pledge):
            ack(ctx, ctx.t.plain("This pledge can no longer be changed."), alert=True)
            return
        ack(ctx)
        assert pledge.id is not None
        t = ctx.t
        hidden = await hidden_steps(session, pledge)
        fields = [
            button(step_name(t, s), EditField(pledge=pledge.id, step=s))
            for s in STEPS
            if applies(s, pledge) and s not in hidden
        ]
        keyboard = InlineKeyboardMarkup(
            [
                *rows(fields, 2),
                [button(t.plain("‹ Back"), OpenPledge(pledge=pledge.id, page=data.page))],
            ]
        )
        replace(
            ctx,
            t.gettext("Which part of <b>%(title)s</b> do you want to change?", title=pledge.title),
            keyboard,
        )


async def on_field(update: Update, ctx: PledgeContext, data: EditField) -> None:
    """Button: change this field; a revision will record it."""
    async with ctx.db() as session:
        pledge = await _visible(ctx, session, data.pledge)
        if pledge is None:
            return
        step = data.step
        if not can_edit(ctx.member, pledge) or step not in STEPS or not applies(step, pledge):
            ack(ctx, ctx.t.plain("This pledge can no longer be changed."), alert=True)
            return
        ack(ctx)
        close_keyboard(ctx)
        await go_to(update, ctx, session, pledge, step, flow=EDIT, revisit=True)


def stage_keyboard(t: Translator, pledge: Pledge) -> InlineKeyboardMarkup:
    assert pledge.id is not None
    return InlineKeyboardMarkup(
        [
            [button(label(t, STAGES, s.value), ReachStage(pledge=pledge.id, stage=s.value))]
            for s in Stage
        ]
    )


async def on_progress(update: Update, ctx: PledgeContext, data: ReportProgress) -> None:
    """Button: report progress; first the stage."""
    async with ctx.db() as session:
        pledge = await _visible(ctx, session, data.pledge)
        if pledge is None:
            return
        if not can_report(ctx.member, pledge):
            ack(
                ctx,
                ctx.t.plain("Progress can be reported once a pledge is submitted."),
                alert=True,
            )
            return
        ack(ctx)
        say(
            ctx,
            ctx.t.gettext("Where does <b>%(title)s</b> stand now?", title=pledge.title),
            stage_keyboard(ctx.t, pledge),
        )


async def on_stage(update: Update, ctx: PledgeContext, data: ReachStage) -> None:
    """Button: the stage reached; then the narrative."""
    stage = data.stage
    async with ctx.db() as session:
        pledge = await _visible(ctx, session, data.pledge)
        if pledge is None:
            return
        if stage not in STAGES or not can_report(ctx.member, pledge):
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        await set_state(
            session=session,
            member_id=ctx.member.id or 0,
            flow=PROGRESS,
            step=NARRATIVE,
            pledge_id=pledge.id,
            data={"stage": stage},
        )
        ack(ctx, label(ctx.t, STAGES, stage))
        close_keyboard(ctx)
        say(ctx, narrative_question(ctx.t, stage))


def narrative_question(t: Translator, stage: str) -> Html:
    return t.gettext(
        "Stage: <b>%(stage)s</b>. Now tell us in a few sentences what has been done "
        "(up to %(limit)s characters).",
        stage=label(t, STAGES, stage),
        limit=t.number(NARRATIVE_LIMITS[1]),
    )


async def reask(update: Update, ctx: PledgeContext, state: ConversationState) -> bool:
    """Ask for the progress narrative again."""
    say(ctx, narrative_question(ctx.t, state.data.get("stage", Stage.PLANNING.value)))
    return True


async def on_narrative(update: Update, ctx: PledgeContext) -> None:
    """The progress narrative: saved with the stage, and the pledge moves to that stage."""
    state, message, t = ctx.conversation, update.effective_message, ctx.t
    if state is None or message is None:
        return
    typed = typed_text(update, ctx)
    if typed is None:
        return
    text = typed
    problem = check_length(text, minimum=NARRATIVE_LIMITS[0], maximum=NARRATIVE_LIMITS[1])
    if problem:
        say(ctx, problem_text(t, problem))
        return
    async with ctx.db() as session:
        pledge = await get_visible_pledge(
            session=session, pledge_id=state.pledge_id or 0, member=ctx.member
        )
        await clear_state(session=session, member_id=ctx.member.id or 0)
        if pledge is None or not can_report(ctx.member, pledge):
            say(
                ctx,
                t.gettext("That pledge is no longer available. /mypledges shows your pledges."),
            )
            return
        await add_progress_report(
            session=session,
            pledge=pledge,
            stage=Stage(state.data.get("stage", Stage.PLANNING.value)),
            narrative=text,
            member_id=ctx.member.id or 0,
        )
        say(ctx, t.gettext("📈 Progress report saved. Thank you!"))
        await show_pledge_card(update, ctx, session, pledge)


async def _withdrawable(ctx: PledgeContext, session: AsyncSession, pledge_id: int) -> Pledge | None:
    """The pledge a withdraw button names, if the reader may withdraw it; else why not."""
    pledge = await _visible(ctx, session, pledge_id)
    if pledge is not None and not can_edit(ctx.member, pledge):
        ack(ctx, ctx.t.plain("This pledge can no longer be withdrawn."), alert=True)
        return None
    return pledge


async def on_withdraw(update: Update, ctx: PledgeContext, data: WithdrawPledge) -> None:
    """Button: withdraw a pledge (asks first)."""
    async with ctx.db() as session:
        pledge = await _withdrawable(ctx, session, data.pledge)
        if pledge is None:
            return
        assert pledge.id is not None
        t = ctx.t
        keyboard = InlineKeyboardMarkup(
            [
                [
                    button(t.plain("Yes, withdraw it"), ConfirmWithdraw(pledge=pledge.id)),
                    button(t.plain("No, keep it"), OpenPledge(pledge=pledge.id, page=data.page)),
                ]
            ]
        )
        ack(ctx)
        say(
            ctx,
            t.gettext(
                "Withdraw <b>%(title)s</b>? It stays on record as withdrawn and can no longer be "
                "changed.",
                title=pledge.title or t.plain("(untitled)"),
            ),
            keyboard,
        )


async def on_withdraw_confirmed(update: Update, ctx: PledgeContext, data: ConfirmWithdraw) -> None:
    """Button: yes, withdraw."""
    async with ctx.db() as session:
        pledge = await _withdrawable(ctx, session, data.pledge)
        if pledge is None:
            return
        await withdraw_pledge(session=session, pledge=pledge, member_id=ctx.member.id or 0)
        ack(ctx)
        close_keyboard(ctx)
        say(
            ctx,
            ctx.t.gettext("The pledge <b>%(title)s</b> is withdrawn.", title=pledge.title),
        )


FLOW = Flow(
    name="my pledges",
    commands=(
        Command(
            "mypledges",
            N_("Your locality's pledges: edit, report progress, withdraw"),
            OFFICIALS,
            my_pledges,
        ),
    ),
    buttons=(
        Button(PledgeList, on_list, OFFICIALS),  # refused with "That button is not for you."
        Button(OpenPledge, on_open, OFFICIALS, NOT_AVAILABLE),
        Button(EditPledge, on_edit, OFFICIALS, NOT_AVAILABLE),
        Button(EditField, on_field, OFFICIALS, NOT_AVAILABLE),
        Button(ReportProgress, on_progress, OFFICIALS, NOT_AVAILABLE),
        Button(ReachStage, on_stage, OFFICIALS, NOT_AVAILABLE),
        Button(WithdrawPledge, on_withdraw, OFFICIALS, NOT_AVAILABLE),
        Button(ConfirmWithdraw, on_withdraw_confirmed, OFFICIALS, NOT_AVAILABLE),
    ),
    states=(PROGRESS,),
    text_steps={NARRATIVE: on_narrative},
    reask=reask,
)
