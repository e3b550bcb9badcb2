"""The pledge wizard: one step per field, every answer saved to the draft at once.

The same steps serve three flows: the first pass through a new pledge (`wizard`), a
change made from the review card (`wizard` with `revisit` set), and a change to a pledge
already submitted (`edit`), which returns to the pledge card instead of the review.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.callbacks import Callback
from conversations.cards import compacts_text, pledge_card
from conversations.common import (
    ack,
    close_keyboard,
    notify,
    problem_text,
    replace,
    say,
    typed_text,
    update_keyboard,
)
from conversations.context import PledgeContext
from conversations.flow import Flow
from conversations.i18n import Html
from conversations.keyboards import Option, button, choice_keyboard
from conversations.parsing import (
    AmbiguousDate,
    check_length,
    read_date,
    read_money,
)
from conversations.pledge_card import show_pledge_card
from conversations.pledge_steps import (
    BUDGET,
    COMPACTS,
    DESCRIPTION,
    DESCRIPTION_LIMITS,
    DISCARD,
    EARLIEST_YEAR,
    EDIT,
    END,
    FORUM,
    GCM,
    GCR,
    LATEST_YEAR,
    MAX_PARTNERS,
    MULTI_FIELDS,
    PARTNERS,
    REVIEW,
    START,
    STEPS,
    SUPPORT,
    TITLE,
    TITLE_LIMITS,
    WIZARD,
    applies,
    budget_example,
    build_prompt,
    date_example,
    header,
    missing_steps,
    multi_keyboard,
    next_step,
    partners_prompt,
    review_keyboard,
    step_name,
)
from conversations.vocabulary import (
    OBJECTIVES,
    SUPPORT_TYPES,
    TARGET_GROUPS,
)
from storage.conversation_state import clear_state, get_state, set_state
from storage.forums import forum_name, get_forum, list_open_forums
from storage.localities import get_locality, search_localities
from storage.members import list_coordinators
from storage.models import ConversationState, NoticeKind, Pledge, Role, WorkflowState
from storage.pledges import (
    can_edit,
    create_draft,
    get_pledge,
    list_member_drafts,
    load_pledge_view,
    submit_pledge,
    update_pledge,
    withdraw_pledge,
)

# ---------------------------------------------------------------- showing steps


async def go_to(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    step: str,
    *,
    flow: str,
    revisit: bool = False,
    data: dict[str, Any] | None = None,
) -> None:
    """Record the step in the database first, then ask its question."""
    assert pledge.id is not None
    if step == REVIEW:
        await show_review(update, ctx, session, pledge)
        return
    if flow == WIZARD:
        _remember_step(session, pledge, step)
    state_data = {"revisit": revisit, **(data or {})}
    await set_state(
        session=session,
        member_id=ctx.member.id or 0,
        flow=flow,
        step=step,
        pledge_id=pledge.id,
        data=state_data,
    )
    prompt = await build_prompt(ctx.t, session, pledge, step, flow, state_data)
    say(ctx, prompt.text, prompt.keyboard)


def _remember_step(session: AsyncSession, pledge: Pledge, step: str) -> None:
    # Where a draft resumes after /cancel or Save draft: bookkeeping, not content, so no revision.
    if pledge.draft_step != step:
        pledge.draft_step = step
        session.add(pledge)


async def advance(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
) -> None:
    """After a saved answer: the next step, the review card, or back to the pledge card."""
    if state.flow == EDIT:
        nxt = next_step(pledge, state.step, revisit=True)
        if nxt != REVIEW:
            await go_to(update, ctx, session, pledge, nxt, flow=EDIT, revisit=True)
            return
        await clear_state(session=session, member_id=ctx.member.id or 0)
        say(ctx, ctx.t.gettext("Saved. The change is recorded in the pledge's history."))
        await show_pledge_card(update, ctx, session, pledge)
        return
    revisit = bool(state.data.get("revisit"))
    await go_to(
        update,
        ctx,
        session,
        pledge,
        next_step(pledge, state.step, revisit=revisit),
        flow=WIZARD,
        revisit=revisit,
    )


async def reask(update: Update, ctx: PledgeContext, state: ConversationState) -> bool:
    """Ask the pledge step's question again."""
    async with ctx.db() as session:
        return await resend_current(update, ctx, session)


async def resend_current(update: Update, ctx: PledgeContext, session: AsyncSession) -> bool:
    """Ask the current step's question again; False when the person is in no pledge step."""
    state = ctx.conversation
    if state is None or state.flow not in (WIZARD, EDIT) or state.pledge_id is None:
        return False
    pledge = await get_pledge(session=session, pledge_id=state.pledge_id)
    if pledge is None or not can_edit(ctx.member, pledge):
        await clear_state(session=session, member_id=ctx.member.id or 0)
        return False
    if state.step == REVIEW:
        await show_review(update, ctx, session, pledge)
    elif state.step == DISCARD:
        await _ask_discard(update, ctx, pledge)
    else:
        prompt = await build_prompt(ctx.t, session, pledge, state.step, state.flow, state.data)
        say(ctx, prompt.text, prompt.keyboard)
    return True


async def show_review(
    update: Update, ctx: PledgeContext, session: AsyncSession, pledge: Pledge
) -> None:
    """The review card: every field, an edit button for each, and the ways out."""
    assert pledge.id is not None
    _remember_step(session, pledge, REVIEW)
    await set_state(
        session=session,
        member_id=ctx.member.id or 0,
        flow=WIZARD,
        step=REVIEW,
        pledge_id=pledge.id,
        data={"revisit": True},
    )
    t = ctx.t
    view = await load_pledge_view(session=session, pledge=pledge)
    heading = t.gettext("<b>Please check your pledge</b> before you submit it.")
    say(ctx, pledge_card(t, view, heading=heading), review_keyboard(t, pledge))


# ---------------------------------------------------------------- /pledge


async def start_pledge(update: Update, ctx: PledgeContext) -> None:
    """/pledge: continue the pledge in progress, offer saved drafts, or start a new one."""
    async with ctx.db() as session:
        if await resend_current(update, ctx, session):
            return
        drafts = await list_member_drafts(session=session, member=ctx.member)
        if drafts:
            t = ctx.t
            options = [Option(str(d.id), d.title or t.plain("(untitled)")) for d in drafts]
            keyboard = choice_keyboard(
                options,
                action="w.resume",
                extra=[[button(t.plain("➕ Start a new pledge"), "w.new")]],
            )
            say(
                ctx,
                t.gettext("You have saved drafts. Continue one, or start a new pledge?"),
                keyboard,
            )
            return
        await _begin(update, ctx, session)


async def _begin(update: Update, ctx: PledgeContext, session: AsyncSession) -> None:
    if not await list_open_forums(session=session):
        say(
            ctx,
            ctx.t.gettext(
                "No forum is taking pledges at the moment. A coordinator opens forums; you will be "
                "able to pledge as soon as one is open."
            ),
        )
        return
    pledge = await create_draft(session=session, member=ctx.member, language=ctx.t.language)
    say(
        ctx,
        ctx.t.gettext(
            "Let's write your pledge. Every answer is saved as you go: you can stop at any time "
            "and continue later with /pledge. /cancel stops here."
        ),
    )
    await go_to(update, ctx, session, pledge, FORUM, flow=WIZARD)


def is_official(ctx: PledgeContext) -> bool:
    return ctx.member.role == Role.OFFICIAL.value and ctx.member.locality_id is not None


async def on_new(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: start a new pledge although drafts exist."""
    if not is_official(ctx):
        ack(
            ctx,
            ctx.t.plain("Only officials of a local government write pledges."),
            alert=True,
        )
        return
    ack(ctx)
    close_keyboard(ctx)
    async with ctx.db() as session:
        await _begin(update, ctx, session)


async def on_resume(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: continue a saved draft where it stopped."""
    pledge_id = callback.int_arg(0)
    async with ctx.db() as session:
        pledge = await get_pledge(session=session, pledge_id=pledge_id) if pledge_id else None
        if pledge is None or not can_edit(ctx.member, pledge):
            ack(ctx, ctx.t.plain("That pledge is not available."), alert=True)
            return
        if await _no_longer_a_draft(update, ctx, session, pledge):
            return
        ack(ctx)
        close_keyboard(ctx)
        await resume(update, ctx, session, pledge)


async def _no_longer_a_draft(
    update: Update, ctx: PledgeContext, session: AsyncSession, pledge: Pledge
) -> bool:
    """A draft's button pressed after the pledge was submitted (by a colleague, say): the
    wizard steps aside and shows the pledge as it is now."""
    if pledge.state == WorkflowState.DRAFT.value:
        return False
    ack(ctx, ctx.t.plain("This pledge has already been submitted; here it is."))
    close_keyboard(ctx)
    await clear_state(session=session, member_id=ctx.member.id or 0)
    await show_pledge_card(update, ctx, session, pledge)
    return True


async def resume(update: Update, ctx: PledgeContext, session: AsyncSession, pledge: Pledge) -> None:
    """Open a draft at the step where it stopped, and go on from there in order."""
    step = pledge.draft_step if pledge.draft_step in (*STEPS, REVIEW) else FORUM
    if step != REVIEW and not applies(step, pledge):
        step = next_step(pledge, step, revisit=False)
    await go_to(update, ctx, session, pledge, step, flow=WIZARD)


# ---------------------------------------------------------------- guards


async def _target(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    callback: Callback,
    steps: tuple[str, ...],
) -> tuple[Pledge, ConversationState] | None:
    """The pledge a button acts on, if the button belongs to the step the person is on."""
    pledge_id = callback.int_arg(0)
    pledge = await get_pledge(session=session, pledge_id=pledge_id) if pledge_id else None
    if pledge is None or not can_edit(ctx.member, pledge):
        ack(ctx, ctx.t.plain("That pledge is not available."), alert=True)
        return None
    state = await get_state(session=session, member_id=ctx.member.id or 0)
    if (state is None or state.flow == WIZARD) and await _no_longer_a_draft(
        update, ctx, session, pledge
    ):
        return None
    if (
        state is None
        or state.flow not in (WIZARD, EDIT)
        or state.pledge_id != pledge.id
        or state.step not in steps
    ):
        ack(
            ctx,
            ctx.t.plain("That button belongs to an earlier message; here is where you are now."),
        )
        close_keyboard(ctx)
        if not await resend_current(update, ctx, session):
            say(
                ctx,
                ctx.t.gettext("Nothing is waiting for an answer. /mypledges shows your pledges."),
            )
        return None
    return pledge, state


async def _answered(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    note: str | None = None,
) -> None:
    """A button step done: say so on the button, retire its keyboard, ask the next question."""
    ack(ctx, note)
    close_keyboard(ctx)
    await advance(update, ctx, session, pledge, state)


async def _save(ctx: PledgeContext, session: AsyncSession, pledge: Pledge, **changes: Any) -> None:
    await update_pledge(
        session=session, pledge=pledge, changes=changes, member_id=ctx.member.id or 0
    )


# ---------------------------------------------------------------- button steps


async def on_forum(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: the forum the pledge is for."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (FORUM,))
        if found is None:
            return
        pledge, state = found
        forum_id = callback.int_arg(1)
        forum = await get_forum(session=session, forum_id=forum_id) if forum_id else None
        if forum is None or not forum.is_open:
            ack(ctx, ctx.t.plain("That forum is no longer taking pledges."), alert=True)
            await resend_current(update, ctx, session)
            return
        await _save(ctx, session, pledge, forum_id=forum.id)
        await _answered(update, ctx, session, pledge, state, forum_name(forum, ctx.t.language))


async def on_compact(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: GCM, GCR or both; objectives of a dropped compact go with it."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (COMPACTS,))
        if found is None:
            return
        pledge, state = found
        choice = callback.str_arg(1)
        chosen = {"gcm": ["gcm"], "gcr": ["gcr"], "both": ["gcm", "gcr"]}.get(choice or "")
        if chosen is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        changes: dict[str, Any] = {"compacts": chosen}
        if "gcm" not in chosen:
            changes["gcm_objectives"] = []
        if "gcr" not in chosen:
            changes["gcr_objectives"] = []
        await _save(ctx, session, pledge, **changes)
        await _answered(update, ctx, session, pledge, state, compacts_text(ctx.t, chosen))


def _parse_multi_value(step: str, raw: str | None) -> str | int | None:
    if raw is None:
        return None
    if step in (GCM, GCR):
        number = int(raw) if raw.isdigit() else 0
        return number if number in OBJECTIVES[step] else None
    labels = SUPPORT_TYPES if step == SUPPORT else TARGET_GROUPS
    return raw if raw in labels else None


async def _multi_step(update: Update, ctx: PledgeContext, callback: Callback) -> str | None:
    """The multi-select step a button names; a forged one (say, the title) is refused."""
    step = callback.str_arg(1) or ""
    if step in MULTI_FIELDS:
        return step
    ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
    return None


async def on_toggle(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: choose or unchoose one option of a multi-select step."""
    step = await _multi_step(update, ctx, callback)
    if step is None:
        return
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (step,))
        if found is None:
            return
        pledge, _state = found
        value = _parse_multi_value(step, callback.str_arg(2))
        if value is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        field = MULTI_FIELDS[step]
        current: list[Any] = list(getattr(pledge, field))
        chosen = [v for v in current if v != value] if value in current else [*current, value]
        # Objectives are numbers, the other choices codes: each sorts as what it is.
        await _save(ctx, session, pledge, **{field: sorted(chosen)})
        ack(ctx)
        update_keyboard(ctx, multi_keyboard(ctx.t, pledge, step, callback.int_arg(3) or 0))


async def on_page(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: another page of a multi-select step."""
    step = await _multi_step(update, ctx, callback)
    if step is None:
        return
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (step,))
        if found is None:
            return
        pledge, _state = found
        ack(ctx)
        update_keyboard(ctx, multi_keyboard(ctx.t, pledge, step, callback.int_arg(2) or 0))


async def on_done(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: finish a multi-select step (at least one choice)."""
    step = await _multi_step(update, ctx, callback)
    if step is None:
        return
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (step,))
        if found is None:
            return
        pledge, state = found
        if not getattr(pledge, MULTI_FIELDS[step]):
            ack(ctx, ctx.t.plain("Please choose at least one."), alert=True)
            return
        await _answered(update, ctx, session, pledge, state)


async def on_ongoing(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: the pledge has no end date."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (END,))
        if found is None:
            return
        pledge, state = found
        await _save(ctx, session, pledge, ongoing=True, ends_on=None)
        await _answered(update, ctx, session, pledge, state, ctx.t.plain("Ongoing"))


async def on_no_budget(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: no budget to state."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (BUDGET,))
        if found is None:
            return
        pledge, state = found
        await _save(ctx, session, pledge, amount=None, currency=None)
        await _answered(update, ctx, session, pledge, state)


async def on_partner(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: add or remove a partner locality."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (PARTNERS,))
        if found is None:
            return
        pledge, state = found
        locality_id = callback.int_arg(1)
        locality = await get_locality(session=session, locality_id=locality_id or 0)
        if locality is None or locality.id == pledge.locality_id:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        partners = list(pledge.partner_ids)
        if locality.id in partners:
            partners.remove(locality.id)
        elif len(partners) >= MAX_PARTNERS:
            ack(
                ctx,
                ctx.t.plain("A pledge can name up to %(limit)s partners.", limit=MAX_PARTNERS),
                alert=True,
            )
            return
        else:
            partners.append(locality.id or 0)
        await _save(ctx, session, pledge, partner_ids=partners)
        ack(ctx)
        prompt = await partners_prompt(
            ctx.t, session, pledge, header(ctx.t, pledge, PARTNERS, state.flow), state.data
        )
        replace(ctx, prompt.text, prompt.keyboard)


async def on_partners_done(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: no more partners."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (PARTNERS,))
        if found is None:
            return
        pledge, state = found
        await _answered(update, ctx, session, pledge, state)


# ---------------------------------------------------------------- review card


async def on_edit(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button on the review card: change one field, then come back to the review."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (REVIEW,))
        if found is None:
            return
        pledge, _state = found
        step = callback.str_arg(1) or ""
        if step not in STEPS or not applies(step, pledge):
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        ack(ctx)
        close_keyboard(ctx)
        await go_to(update, ctx, session, pledge, step, flow=WIZARD, revisit=True)


async def on_submit(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: submit the pledge; it gets its reference and coordinators hear of it."""
    t = ctx.t
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (REVIEW,))
        if found is None:
            return
        pledge, _state = found
        gaps = missing_steps(pledge)
        if gaps:
            ack(
                ctx,
                t.plain(
                    "Still missing: %(fields)s", fields=", ".join(step_name(t, s) for s in gaps)
                ),
                alert=True,
            )
            await go_to(update, ctx, session, pledge, gaps[0], flow=WIZARD, revisit=True)
            return
        forum = await get_forum(session=session, forum_id=pledge.forum_id or 0)
        if forum is None or not forum.is_open:
            ack(
                ctx,
                t.plain("That forum is no longer taking pledges; please choose another."),
                alert=True,
            )
            await go_to(update, ctx, session, pledge, FORUM, flow=WIZARD, revisit=True)
            return
        await submit_pledge(session=session, pledge=pledge, member_id=ctx.member.id or 0)
        await clear_state(session=session, member_id=ctx.member.id or 0)
        ack(ctx, t.plain("Submitted"))
        close_keyboard(ctx)
        say(
            ctx,
            t.gettext(
                "✅ <b>Your pledge is submitted.</b> Its reference is <b>%(reference)s</b>. "
                "Coordinators will review it; you can still edit it and report progress with "
                "/mypledges.",
                reference=pledge.reference,
            ),
        )
        coordinators = await list_coordinators(session=session)
        await notify(ctx, session, coordinators, NoticeKind.NEW_PLEDGE, pledge=pledge.id)


async def on_save(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: keep the draft for later."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (REVIEW,))
        if found is None:
            return
        await clear_state(session=session, member_id=ctx.member.id or 0)
    ack(ctx, ctx.t.plain("Draft saved"))
    close_keyboard(ctx)
    say(
        ctx,
        ctx.t.gettext("💾 Draft saved. Continue it any time with /pledge or /mypledges."),
    )


async def _ask_discard(update: Update, ctx: PledgeContext, pledge: Pledge) -> None:
    assert pledge.id is not None
    t = ctx.t
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.plain("Yes, cancel it"), "w.discardyes", pledge.id),
                button(t.plain("No, go back"), "w.back", pledge.id),
            ]
        ]
    )
    say(
        ctx,
        t.gettext("Cancel this pledge? The draft will be set aside as withdrawn."),
        keyboard,
    )


async def on_discard(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: cancel the pledge (asks first)."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (REVIEW,))
        if found is None:
            return
        pledge, state = found
        await set_state(
            session=session,
            member_id=ctx.member.id or 0,
            flow=WIZARD,
            step=DISCARD,
            pledge_id=pledge.id,
            data=state.data,
        )
        ack(ctx)
        close_keyboard(ctx)
        await _ask_discard(update, ctx, pledge)


async def on_discard_confirmed(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: yes, cancel the pledge."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (DISCARD,))
        if found is None:
            return
        pledge, _state = found
        await withdraw_pledge(session=session, pledge=pledge, member_id=ctx.member.id or 0)
        await clear_state(session=session, member_id=ctx.member.id or 0)
    ack(ctx)
    close_keyboard(ctx)
    say(ctx, ctx.t.gettext("The pledge is cancelled. /pledge starts a new one."))


async def on_back_to_review(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: do not cancel; show the review card again."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (DISCARD,))
        if found is None:
            return
        pledge, _state = found
        ack(ctx)
        close_keyboard(ctx)
        await show_review(update, ctx, session, pledge)


# ---------------------------------------------------------------- text steps


async def _text_target(
    ctx: PledgeContext, session: AsyncSession
) -> tuple[Pledge, ConversationState] | None:
    state = ctx.conversation
    if state is None or state.pledge_id is None:
        return None
    pledge = await get_pledge(session=session, pledge_id=state.pledge_id)
    if pledge is None or not can_edit(ctx.member, pledge):
        await clear_state(session=session, member_id=ctx.member.id or 0)
        return None
    return pledge, state


TextStep = Callable[
    [Update, PledgeContext, AsyncSession, Pledge, ConversationState, str], Awaitable[Html | None]
]


async def _on_title(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> Html | None:
    problem = check_length(text, minimum=TITLE_LIMITS[0], maximum=TITLE_LIMITS[1])
    if problem:
        return problem_text(ctx.t, problem)
    await _save(ctx, session, pledge, title=" ".join(text.split()))
    return None


async def _on_description(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> Html | None:
    problem = check_length(text, minimum=DESCRIPTION_LIMITS[0], maximum=DESCRIPTION_LIMITS[1])
    if problem:
        return problem_text(ctx.t, problem)
    await _save(ctx, session, pledge, description=text)
    return None


async def _date_answer(
    update: Update, ctx: PledgeContext, pledge: Pledge, text: str
) -> tuple[date | None, Html | None]:
    """The date typed, or why not; a date with two readings is asked back with a button each."""
    t = ctx.t
    parsed = read_date(text, t.locale)
    if isinstance(parsed, AmbiguousDate):
        assert pledge.id is not None
        keyboard = InlineKeyboardMarkup(
            [
                [button(t.date(d), "w.date", pledge.id, d.isoformat())]
                for d in (parsed.first, parsed.second)
            ]
        )
        say(ctx, t.gettext("Which date do you mean?"), keyboard)
        return None, Html("")
    if parsed is None:
        return None, t.gettext(
            "I could not read that date. Please send it like %(example)s.", example=date_example(t)
        )
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return None, t.gettext(
            "Please send a date between %(first)s and %(last)s.",
            first=EARLIEST_YEAR,
            last=LATEST_YEAR,
        )
    return parsed, None


async def _on_start(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> Html | None:
    parsed, problem = await _date_answer(update, ctx, pledge, text)
    if parsed is None:
        return problem
    changes: dict[str, Any] = {"starts_on": parsed}
    if pledge.ends_on is not None and pledge.ends_on < parsed:
        changes["ends_on"] = None  # asked again: an end before the start cannot stand
    await _save(ctx, session, pledge, **changes)
    return None


async def _on_end(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> Html | None:
    parsed, problem = await _date_answer(update, ctx, pledge, text)
    if parsed is None:
        return problem
    if pledge.starts_on and parsed < pledge.starts_on:
        return ctx.t.gettext(
            "The end date must be on or after the start date, %(start)s.",
            start=ctx.t.date(pledge.starts_on),
        )
    await _save(ctx, session, pledge, ends_on=parsed, ongoing=False)
    return None


async def _on_budget(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> Html | None:
    money = read_money(text, ctx.t.locale)
    if money is None:
        return ctx.t.gettext(
            "Please send an amount above zero and a three-letter currency code "
            "(ISO 4217), like %(example)s.",
            example=budget_example(ctx.t),
        )
    await _save(ctx, session, pledge, amount=money[0], currency=money[1])
    return None


async def _on_partner_search(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> Html | None:
    found = await search_localities(session=session, text=text, exclude_id=pledge.locality_id)
    if not found:
        return ctx.t.gettext(
            "No registered local government matches “%(text)s”. Try another "
            "part of the name, or tap Done.",
            text=text[:100],
        )
    data = {**state.data, "results": [loc.id for loc in found]}
    await set_state(
        session=session,
        member_id=ctx.member.id or 0,
        flow=state.flow,
        step=state.step,
        pledge_id=pledge.id,
        data=data,
    )
    prompt = await partners_prompt(
        ctx.t, session, pledge, header(ctx.t, pledge, PARTNERS, state.flow), data
    )
    say(ctx, prompt.text, prompt.keyboard)
    return Html("")  # answered: stay on this step


TEXT_STEPS: dict[str, TextStep] = {
    TITLE: _on_title,
    DESCRIPTION: _on_description,
    START: _on_start,
    END: _on_end,
    BUDGET: _on_budget,
    PARTNERS: _on_partner_search,
}


async def on_date_choice(update: Update, ctx: PledgeContext, callback: Callback) -> None:
    """Button: which of two readings of a typed date was meant; checked like a typed date."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, callback, (START, END))
        if found is None:
            return
        pledge, state = found
        chosen = callback.str_arg(1) or ""
        ack(ctx)
        close_keyboard(ctx)
        await _answer_text(update, ctx, session, pledge, state, chosen)


async def _answer_text(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> None:
    handler = TEXT_STEPS[state.step]
    problem = await handler(update, ctx, session, pledge, state, text)
    if problem is None:
        await advance(update, ctx, session, pledge, state)
    elif problem:
        say(ctx, problem)


async def on_message(update: Update, ctx: PledgeContext) -> None:
    """A message while on a pledge step: validate it, save it, move on."""
    message = update.effective_message
    t = ctx.t
    async with ctx.db() as session:
        found = await _text_target(ctx, session)
        if found is None or message is None:
            say(
                ctx,
                t.gettext("That pledge is no longer available. /mypledges shows your pledges."),
            )
            return
        pledge, state = found
        if state.flow == WIZARD and await _no_longer_a_draft(update, ctx, session, pledge):
            return
        handler = TEXT_STEPS.get(state.step)
        if handler is None:
            say(ctx, t.gettext("Please answer with the buttons below."))
            await resend_current(update, ctx, session)
            return
        typed = typed_text(update, ctx)
        if typed is not None:
            await _answer_text(update, ctx, session, pledge, state, typed)


CALLBACKS = {
    "w.new": on_new,
    "w.resume": on_resume,
    "w.forum": on_forum,
    "w.compact": on_compact,
    "w.tog": on_toggle,
    "w.pg": on_page,
    "w.done": on_done,
    "w.ongoing": on_ongoing,
    "w.nobudget": on_no_budget,
    "w.partner": on_partner,
    "w.pdone": on_partners_done,
    "w.edit": on_edit,
    "w.date": on_date_choice,
    "w.submit": on_submit,
    "w.save": on_save,
    "w.discard": on_discard,
    "w.discardyes": on_discard_confirmed,
    "w.back": on_back_to_review,
}
FLOWS = (WIZARD, EDIT)


FLOW = Flow(
    name="pledge wizard",
    legacy_buttons=CALLBACKS,
    states=(WIZARD, EDIT),
    on_text=on_message,
    reask=reask,
)
