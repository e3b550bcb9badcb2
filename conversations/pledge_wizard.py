"""The pledge wizard: one step per field, every answer saved to the draft at once.

The same steps serve three flows: the first pass through a new pledge (`wizard`), a
change made from the review card (`wizard` with `revisit` set), and a change to a pledge
already submitted (`edit`), which returns to the pledge card instead of the review.
The fields themselves (what each asks, how it reads an answer) are declared in
conversations/pledge_steps.py; this module runs them and saves the answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from conversations.buttons import NewPledge, ResumeDraft
from conversations.cards import compacts_text, pledge_card
from conversations.common import (
    ack,
    answered_in_place,
    close_keyboard,
    notify,
    replace,
    say,
    typed_text,
    update_keyboard,
    upload,
)
from conversations.context import PledgeContext
from conversations.flow import OFFICIALS, Button, Flow
from conversations.form_rules import form_notes, late_line
from conversations.i18n import N_, Html, Translator, escape
from conversations.keyboards import Option, button, choice_keyboard
from conversations.pledge_card import show_pledge_card
from conversations.pledge_steps import (
    BUDGET,
    COMPACTS,
    CONTACT,
    DISCARD,
    EDIT,
    END,
    FIELDS,
    FIELDS_BY_NAME,
    FILES,
    FORUM,
    MAX_DOWNLOAD_MB,
    MAX_PARTNERS,
    MULTISTAKEHOLDER,
    PARTNERS,
    PLEDGE_TYPE,
    REVIEW,
    SCOPE,
    STEPS,
    WIZARD,
    Accept,
    AddOtherPartner,
    AskAgain,
    BackToReview,
    ChangeEndorsement,
    ChooseCompacts,
    ChooseForum,
    ChoosePledgeType,
    ChooseScope,
    ConfirmDiscard,
    Discard,
    DoneChoosing,
    EditField,
    Endorsed,
    FieldContext,
    FilesDone,
    KeepAnswer,
    MultistakeholderDone,
    NoBudget,
    Ongoing,
    PartnersDone,
    PartnersDoneAs,
    PickDate,
    RemoveAttachment,
    RemoveOtherPartner,
    SaveDraft,
    SendAttachment,
    Submit,
    ToggleMultistakeholder,
    ToggleOption,
    TogglePartner,
    TurnPage,
    UseContact,
    applies,
    build_prompt,
    choices_keyboard,
    context,
    endorsement_answer,
    endorsement_question,
    field_of,
    has_partners,
    hidden_steps,
    kept_kinds,
    missing_steps,
    name_check,
    next_step,
    review_keyboard,
    scope_changes,
    step_name,
)
from conversations.vocabulary import PARTNER_KINDS, PLEDGE_TYPES, SCOPES, label
from storage.attachments import (
    MAX_ATTACHMENTS,
    add_attachment,
    content_matches,
    get_attachment,
    keep_copy,
    kept_name,
    list_attachments,
    read_copy,
    remove_attachment,
    safe_file_name,
)
from storage.conversation_state import clear_state, set_state
from storage.forums import forum_name, get_forum, list_open_forums
from storage.localities import get_locality, set_endorsement
from storage.members import list_coordinators
from storage.models import (
    Attachment,
    ConversationState,
    NoticeKind,
    Pledge,
    PledgeType,
    Role,
    WorkflowState,
)
from storage.pledges import (
    can_edit,
    create_draft,
    get_pledge,
    last_contact,
    list_member_drafts,
    load_pledge_view,
    submit_pledge,
    update_pledge,
    withdraw_pledge,
)
from storage.types import utc_now

log = logging.getLogger(__name__)

# What anyone but an official of the pledge's locality is told of a wizard button: the
# engine says it to other roles, `_target` to officials of another locality, so both read alike.
NOT_AVAILABLE = N_("That pledge is not available.")
ONLY_OFFICIALS = N_("Only officials of a local government write pledges.")
COMMON_NOTE = N_("one common text")
SHARED_NOTE = N_("in partnership")

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
        _remember_step(session, pledge, step, revisit=revisit)
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


# Marks a step reached again from the review card: a draft resumed there returns to the card.
FROM_REVIEW = "r:"


def _remember_step(session: AsyncSession, pledge: Pledge, step: str, *, revisit: bool) -> None:
    # Where a draft resumes after /cancel or Save draft: bookkeeping, not content, so no revision.
    remembered = f"{FROM_REVIEW}{step}" if revisit else step
    if pledge.draft_step != remembered:
        pledge.draft_step = remembered
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
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    *,
    endorsement_again: bool = False,
) -> None:
    """The review card: every field, an edit button for each, and the ways out."""
    assert pledge.id is not None
    _remember_step(session, pledge, REVIEW, revisit=False)
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
    notes = form_notes(t, pledge, view.forum, utc_now())
    question = endorsement_question(t, view.locality, again=endorsement_again)
    heading = Html("\n".join([heading, *notes, *([question] if question else [])]))
    hidden = await hidden_steps(session, pledge)
    keyboard = review_keyboard(
        t,
        pledge,
        ask_endorsement=question is not None,
        endorsement_was=endorsement_answer(view.locality) if view.locality else "u",
        hidden=hidden,
    )
    say(ctx, pledge_card(t, view, heading=heading), keyboard)


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
                action=lambda code: ResumeDraft(int(code)),
                extra=[[button(t.plain("➕ Start a new pledge"), NewPledge())]],
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


async def on_new(update: Update, ctx: PledgeContext, _data: NewPledge) -> None:
    """Button: start a new pledge although drafts exist."""
    if not is_official(ctx):  # the engine checked the role; an official needs a locality too
        ack(ctx, ctx.t.plain(ONLY_OFFICIALS), alert=True)
        return
    ack(ctx)
    close_keyboard(ctx)
    async with ctx.db() as session:
        await _begin(update, ctx, session)


async def on_resume(update: Update, ctx: PledgeContext, data: ResumeDraft) -> None:
    """Button: continue a saved draft where it stopped."""
    async with ctx.db() as session:
        pledge = await _editable(ctx, session, data.pledge)
        if pledge is None:
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
    """Open a draft at the step where it stopped and go on in order; a draft left while
    changing one field from the review card goes back to the card after it."""
    remembered = pledge.draft_step or FORUM
    revisit = remembered.startswith(FROM_REVIEW)
    step = remembered.removeprefix(FROM_REVIEW)
    step = step if step in (*STEPS, REVIEW) else FORUM
    if step != REVIEW and not applies(step, pledge):
        step = next_step(pledge, step, revisit=revisit)
    await go_to(update, ctx, session, pledge, step, flow=WIZARD, revisit=revisit)


# ---------------------------------------------------------------- guards


async def _editable(ctx: PledgeContext, session: AsyncSession, pledge_id: int) -> Pledge | None:
    """The pledge a button names, if the presser may change it; refused with an alert if not."""
    pledge = await get_pledge(session=session, pledge_id=pledge_id) if pledge_id else None
    if pledge is None or not can_edit(ctx.member, pledge):
        ack(ctx, ctx.t.plain(NOT_AVAILABLE), alert=True)
        return None
    return pledge


async def _target(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge_id: int,
    steps: Collection[str],
) -> tuple[Pledge, ConversationState] | None:
    """The pledge a button acts on, if the button belongs to the step the person is on."""
    # A forged pledge is refused before a stale step is, and a stale button is answered with
    # the current question (or the submitted pledge).
    pledge = await _editable(ctx, session, pledge_id)
    if pledge is None:
        return None
    state = await ctx.state_in(session)
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
    """A button step done: say so on the button, and the pressed question becomes the next one,
    headed by the answer (one Bot API call besides the button's answer)."""
    ack(ctx, note)
    answered = answered_line(ctx.t, pledge, state.step, note)  # before the state moves on
    since = ctx.replies.mark()
    await advance(update, ctx, session, pledge, state)
    answered_in_place(ctx, since, answered)


def answered_line(t: Translator, pledge: Pledge, step: str, note: str | None) -> Html:
    """'✔ Target groups: Refugees, Host communities' — what a button step was answered."""
    field = FIELDS_BY_NAME[step]
    answer = note
    if answer is None and field.choices is not None:
        chosen = getattr(pledge, field.choices.attribute)
        answer = t.join(
            o.label for o in field.choices.options(t) if field.choices.value(o.code) in chosen
        )
    if not answer:
        return t.gettext("✔ <b>%(field)s</b>", field=step_name(t, step))
    return t.gettext("✔ <b>%(field)s</b>: %(answer)s", field=step_name(t, step), answer=answer)


async def _save(ctx: PledgeContext, session: AsyncSession, pledge: Pledge, **changes: Any) -> None:
    await update_pledge(
        session=session, pledge=pledge, changes=changes, member_id=ctx.member.id or 0
    )


# ---------------------------------------------------------------- button steps


async def on_forum(update: Update, ctx: PledgeContext, data: ChooseForum) -> None:
    """Button: the forum the pledge is for."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (FORUM,))
        if found is None:
            return
        pledge, state = found
        forum = await get_forum(session=session, forum_id=data.forum) if data.forum else None
        if forum is None or not forum.is_open:
            ack(ctx, ctx.t.plain("That forum is no longer taking pledges."), alert=True)
            await resend_current(update, ctx, session)
            return
        await _save(ctx, session, pledge, forum_id=forum.id)
        await _answered(update, ctx, session, pledge, state, forum_name(forum, ctx.t.language))


async def on_compacts(update: Update, ctx: PledgeContext, data: ChooseCompacts) -> None:
    """Button: GCM, GCR or both; objectives of a dropped compact go with it."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (COMPACTS,))
        if found is None:
            return
        pledge, state = found
        chosen = {"gcm": ["gcm"], "gcr": ["gcr"], "both": ["gcm", "gcr"]}.get(data.choice)
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


async def _choosing(
    update: Update, ctx: PledgeContext, session: AsyncSession, pledge_id: int, step: str
) -> tuple[FieldContext, ConversationState] | None:
    """The multi-select field a button names, at the person's step; a forged name is refused."""
    field = field_of(step)
    if field is None or field.choices is None:
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return None
    found = await _target(update, ctx, session, pledge_id, (step,))
    if found is None:
        return None
    pledge, state = found
    return context(ctx.t, session, pledge, step, state.data), state


async def on_toggle(update: Update, ctx: PledgeContext, data: ToggleOption) -> None:
    """Button: choose or unchoose one option of a multi-select step."""
    async with ctx.db() as session:
        found = await _choosing(update, ctx, session, data.pledge, data.step)
        if found is None:
            return
        c, _state = found
        assert c.field.choices is not None
        value = c.field.choices.value(data.option)
        if value is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        attribute = c.field.choices.attribute
        current: list[Any] = list(getattr(c.pledge, attribute))
        chosen = [v for v in current if v != value] if value in current else [*current, value]
        # Objectives are numbers, the other choices codes: each sorts as what it is.
        await _save(ctx, session, c.pledge, **{attribute: sorted(chosen)})
        ack(ctx)
        update_keyboard(ctx, choices_keyboard(c, data.page))


async def on_page(update: Update, ctx: PledgeContext, data: TurnPage) -> None:
    """Button: another page of a multi-select step."""
    async with ctx.db() as session:
        found = await _choosing(update, ctx, session, data.pledge, data.step)
        if found is None:
            return
        c, _state = found
        ack(ctx)
        update_keyboard(ctx, choices_keyboard(c, data.page))


async def on_done(update: Update, ctx: PledgeContext, data: DoneChoosing) -> None:
    """Button: finish a multi-select step (at least one choice, unless it is optional)."""
    async with ctx.db() as session:
        found = await _choosing(update, ctx, session, data.pledge, data.step)
        if found is None:
            return
        c, state = found
        assert c.field.choices is not None
        if not getattr(c.pledge, c.field.choices.attribute) and not c.field.choices.optional:
            ack(ctx, ctx.t.plain("Please choose at least one."), alert=True)
            return
        await _answered(update, ctx, session, c.pledge, state)


async def on_ongoing(update: Update, ctx: PledgeContext, data: Ongoing) -> None:
    """Button: the pledge has no end date."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (END,))
        if found is None:
            return
        pledge, state = found
        await _save(ctx, session, pledge, ongoing=True, ends_on=None)
        await _answered(update, ctx, session, pledge, state, ctx.t.plain("Ongoing"))


async def on_keep(update: Update, ctx: PledgeContext, data: KeepAnswer) -> None:
    """Button: the step's answer stays as it is."""
    await _step_done(update, ctx, data.pledge, data.step, ctx.t.plain("kept as it was"))


async def _step_done(
    update: Update, ctx: PledgeContext, pledge_id: int, step: str, note: str | None = None
) -> None:
    """A button that ends its step with nothing to save: on to the next step (or the card)."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, pledge_id, (step,))
        if found is None:
            return
        pledge, state = found
        await _answered(update, ctx, session, pledge, state, note)


async def on_no_budget(update: Update, ctx: PledgeContext, data: NoBudget) -> None:
    """Button: no budget to state."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (BUDGET,))
        if found is None:
            return
        pledge, state = found
        await _save(ctx, session, pledge, amount=None, currency=None)
        await _answered(update, ctx, session, pledge, state)


async def on_partner(update: Update, ctx: PledgeContext, data: TogglePartner) -> None:
    """Button: add or remove a partner locality."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (PARTNERS,))
        if found is None:
            return
        pledge, state = found
        locality = await get_locality(session=session, locality_id=data.locality)
        if locality is None or locality.id == pledge.locality_id:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        partners = list(pledge.partner_ids)
        if locality.id in partners:
            partners.remove(locality.id)
        elif _partners_full(ctx, pledge):
            return
        else:
            partners.append(locality.id or 0)
        await _save_partners(ctx, session, pledge, state, partner_ids=partners)


async def on_add_other_partner(update: Update, ctx: PledgeContext, data: AddOtherPartner) -> None:
    """Button: the name last typed at the partners step, added as a partner of a kind."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (PARTNERS,))
        if found is None:
            return
        pledge, state = found
        name = str(state.data.get("typed", ""))
        if not name or data.kind not in PARTNER_KINDS:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        others = [dict(o) for o in pledge.other_partners]
        if any(o.get("name", "").casefold() == name.casefold() for o in others):
            ack(ctx, ctx.t.plain("That partner is already on the pledge."), alert=True)
            return
        if _partners_full(ctx, pledge):
            return
        others.append({"name": name, "kind": data.kind})
        data_left = {k: v for k, v in state.data.items() if k != "typed"}
        await _save_partners(ctx, session, pledge, state, data_left, other_partners=others)


async def on_remove_other_partner(
    update: Update, ctx: PledgeContext, data: RemoveOtherPartner
) -> None:
    """Button: a partner of another kind taken off the pledge."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (PARTNERS,))
        if found is None:
            return
        pledge, state = found
        others = [dict(o) for o in pledge.other_partners]
        in_place = 0 <= data.index < len(others)
        if not in_place or name_check(others[data.index].get("name", "")) != data.check:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        del others[data.index]
        await _save_partners(ctx, session, pledge, state, other_partners=others)


def _partners_full(ctx: PledgeContext, pledge: Pledge) -> bool:
    """True, with the person told so, when the pledge names as many partners as it may."""
    if len(pledge.partner_ids) + len(pledge.other_partners) < MAX_PARTNERS:
        return False
    ack(
        ctx,
        ctx.t.plain("A pledge can name up to %(limit)s partners.", limit=MAX_PARTNERS),
        alert=True,
    )
    return True


async def _save_partners(
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> None:
    """Save a change of partners and show the step again; a pledge shared with partners is,
    until they say it is one common text, in partnership, and alone again, individual."""
    shared = (PledgeType.COMMON.value, PledgeType.PARTNERSHIP.value)
    after = {
        "partner_ids": changes.get("partner_ids", pledge.partner_ids),
        "other_partners": changes.get("other_partners", pledge.other_partners),
    }
    any_partner = bool(after["partner_ids"] or after["other_partners"])
    if any_partner and pledge.pledge_type == PledgeType.INDIVIDUAL.value:
        changes["pledge_type"] = PledgeType.PARTNERSHIP.value
    elif not any_partner and pledge.pledge_type in shared:
        changes["pledge_type"] = PledgeType.INDIVIDUAL.value
    await _save(ctx, session, pledge, **changes)
    if data is not None:
        await set_state(
            session=session,
            member_id=ctx.member.id or 0,
            flow=state.flow,
            step=state.step,
            pledge_id=pledge.id,
            data=data,
        )
    ack(ctx)
    shown = state.data if data is None else data
    prompt = await build_prompt(ctx.t, session, pledge, PARTNERS, state.flow, shown)
    replace(ctx, prompt.text, prompt.keyboard)


async def on_partners_done(update: Update, ctx: PledgeContext, data: PartnersDone) -> None:
    """Button: no more partners."""
    await _step_done(update, ctx, data.pledge, PARTNERS)


async def on_partners_done_as(update: Update, ctx: PledgeContext, data: PartnersDoneAs) -> None:
    """Button: no more partners, and the pledge is one common text or in partnership."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (PARTNERS,))
        if found is None:
            return
        pledge, state = found
        kinds = {PledgeType.COMMON.value: COMMON_NOTE, PledgeType.PARTNERSHIP.value: SHARED_NOTE}
        if data.kind not in kinds or not has_partners(pledge):
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        await _save(ctx, session, pledge, pledge_type=data.kind)
        await _answered(update, ctx, session, pledge, state, ctx.t.plain(kinds[data.kind]))


async def on_scope(update: Update, ctx: PledgeContext, data: ChooseScope) -> None:
    """Button: where the pledge acts; within the home country, that country benefits."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (SCOPE,))
        if found is None:
            return
        pledge, state = found
        if data.scope not in SCOPES:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        locality = await get_locality(session=session, locality_id=pledge.locality_id)
        home = locality.country if locality else ""
        await _save(ctx, session, pledge, **scope_changes(pledge, data.scope, home))
        await _answered(update, ctx, session, pledge, state, label(ctx.t, SCOPES, data.scope))


async def on_use_contact(update: Update, ctx: PledgeContext, data: UseContact) -> None:
    """Button: the contact of the person's previous pledge."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (CONTACT,))
        if found is None:
            return
        pledge, state = found
        # The same lookup the question made for its button: the pledge author's last contact.
        previous = await last_contact(session=session, member_id=pledge.created_by_id)
        if previous is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        await _save(
            ctx,
            session,
            pledge,
            contact_name=previous.contact_name,
            contact_title=previous.contact_title,
            contact_email=previous.contact_email,
            contact_phone=previous.contact_phone,
        )
        await _answered(update, ctx, session, pledge, state, previous.contact_name)


async def on_files_done(update: Update, ctx: PledgeContext, data: FilesDone) -> None:
    """Button: no more documents; back to the review card."""
    await _step_done(update, ctx, data.pledge, FILES)


async def on_remove_attachment(update: Update, ctx: PledgeContext, data: RemoveAttachment) -> None:
    """Button: take one document off the pledge; the list is shown again."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (FILES,))
        if found is None:
            return
        pledge, state = found
        attachment = await get_attachment(
            session=session, pledge_id=data.pledge, attachment_id=data.attachment
        )
        if attachment is None:
            ack(ctx, ctx.t.plain("That document is no longer attached."), alert=True)
        else:
            await remove_attachment(
                session=session, pledge=pledge, attachment=attachment, member_id=ctx.member.id or 0
            )
            ack(ctx, attachment.file_name)
        prompt = await build_prompt(ctx.t, session, pledge, FILES, state.flow, state.data)
        replace(ctx, prompt.text, prompt.keyboard)


async def on_send_attachment(update: Update, ctx: PledgeContext, data: SendAttachment) -> None:
    """Button: one of the pledge's documents, sent back from the project's own copy."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (FILES,))
        if found is None:
            return
        attachment = await get_attachment(
            session=session, pledge_id=data.pledge, attachment_id=data.attachment
        )
    if attachment is None:
        ack(ctx, ctx.t.plain("That document is no longer attached."), alert=True)
        return
    content = await read_copy(ctx.services.data_dir, attachment)
    if content is None:
        log.error("the copy of attachment %s is missing", attachment.id)
        ack(ctx, ctx.t.plain("That document's copy is missing; please send it again."), alert=True)
        return
    ack(ctx)
    upload(ctx, content, attachment.file_name, escape(attachment.file_name))


def _sent_file(message: Message) -> tuple[str, str, str, int] | None:
    """A document or picture in a message: Telegram's file id, a name, its type, its size."""
    if message.document is not None:
        d = message.document
        name = d.file_name or "document"
        return d.file_id, name, d.mime_type or "application/octet-stream", d.file_size or 0
    if message.photo:
        largest = message.photo[-1]
        name = f"picture-{message.message_id}.jpg"
        return largest.file_id, name, "image/jpeg", largest.file_size or 0
    return None


async def _receive_file(
    update: Update, ctx: PledgeContext, sent: tuple[str, str, str, int]
) -> None:
    """A document for the pledge: checked, fetched from Telegram outside any transaction, kept
    on disk, then attached in a transaction of its own."""
    t = ctx.t
    file_id, name, mime_type, size = sent
    async with ctx.db() as session:
        found = await _text_target(ctx, session)
        if found is None:
            return
        pledge, _state = found
        assert pledge.id is not None
        count = len(await list_attachments(session=session, pledge_id=pledge.id))
    kept_as = kept_name(name, mime_type)
    if kept_as is None:
        say(
            ctx,
            t.gettext(
                "I keep only these kinds of files: %(kinds)s. Please send the document in one "
                "of them.",
                kinds=kept_kinds(t),
            ),
        )
        return
    name = kept_as
    if size > MAX_DOWNLOAD_MB * 1024 * 1024:
        say(ctx, file_too_big(t))
        return
    if count >= MAX_ATTACHMENTS:
        say(
            ctx,
            t.gettext(
                "A pledge keeps up to %(count)s documents; take one off first.",
                count=t.number(MAX_ATTACHMENTS),
            ),
        )
        return
    try:
        telegram_file = await ctx.bot.get_file(file_id)
        content = bytes(await telegram_file.download_as_bytearray())
    except BadRequest as error:
        if "too big" in error.message.lower():
            say(ctx, file_too_big(t))
            return
        raise
    if not content_matches(name, content):
        say(
            ctx,
            t.gettext(
                "I did not keep %(name)s: its name says it is a %(kind)s file, but its content "
                "is not. Please send the document itself.",
                name=safe_file_name(name),
                kind=Path(name).suffix.lstrip(".").upper(),
            ),
        )
        return
    stored_as, digest = await asyncio.to_thread(
        keep_copy, ctx.services.data_dir, pledge.id, name, content
    )
    async with ctx.db() as session:
        found = await _text_target(ctx, session)
        if found is None or found[0].id != pledge.id:
            say(
                ctx, t.gettext("That pledge is no longer available. /mypledges shows your pledges.")
            )
            return
        pledge = found[0]
        assert pledge.id is not None
        attachment = Attachment(
            pledge_id=pledge.id,
            file_name=safe_file_name(name),
            mime_type=mime_type[:100],
            size=len(content),
            sha256=digest,
            stored_as=stored_as,
            telegram_file_id=file_id[:200],
            member_id=ctx.member.id,
        )
        added = await add_attachment(
            session=session, pledge=pledge, attachment=attachment, member_id=ctx.member.id or 0
        )
        if added:  # under the name it was kept by (another document may have had its name)
            say(ctx, t.gettext("📎 Attached: %(name)s", name=attachment.file_name))
        else:
            say(ctx, t.gettext("That document is already attached."))
        await resend_current(update, ctx, session)


def file_too_big(t: Translator) -> Html:
    return t.gettext(
        "That file is over %(size)s MB, more than Telegram lets me fetch. Please send a smaller "
        "version, or put it online and send its address.",
        size=t.number(MAX_DOWNLOAD_MB),
    )


# ---------------------------------------------------------------- review card


async def on_pledge_type(update: Update, ctx: PledgeContext, data: ChoosePledgeType) -> None:
    """Button: the kind of pledge; a matching pledge then asks which pledge it matches."""
    t = ctx.t
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (PLEDGE_TYPE,))
        if found is None:
            return
        pledge, state = found
        shared = data.kind in (PledgeType.COMMON.value, PledgeType.PARTNERSHIP.value)
        if data.kind not in PLEDGE_TYPES:
            ack(ctx, t.plain("That button is not valid."), alert=True)
            return
        if shared and not has_partners(pledge):
            ack(ctx, partners_first(t, state.flow), alert=True)
            return
        if data.kind == PledgeType.INDIVIDUAL.value and has_partners(pledge):
            ack(ctx, t.plain("A pledge with partners is common or in partnership."), alert=True)
            return
        if data.kind == PledgeType.MATCHING.value:
            await _save(ctx, session, pledge, pledge_type=data.kind)
            if not pledge.matching_reference:  # the reference is typed next, on this step
                ack(ctx)
                prompt = await build_prompt(t, session, pledge, PLEDGE_TYPE, state.flow, state.data)
                replace(ctx, prompt.text, prompt.keyboard)
                return
        else:
            await _save(ctx, session, pledge, pledge_type=data.kind, matching_reference="")
        await _answered(update, ctx, session, pledge, state, label(t, PLEDGE_TYPES, data.kind))


def partners_first(t: Translator, flow: str) -> str:
    """Where a shared pledge's partners are named, by the buttons of the flow: the review
    card's ✏️ Partners in the wizard; for a submitted pledge, ✏️ Edit on its card, then
    Partners."""
    partners = step_name(t, PARTNERS)
    if flow == EDIT:
        return t.plain(
            "Name its partners first: %(edit)s on the pledge card, then %(partners)s.",
            edit=t.plain("✏️ Edit"),
            partners=partners,
        )
    return t.plain("Name its partners first, with %(button)s.", button="✏️ " + partners)


async def on_multistakeholder(
    update: Update, ctx: PledgeContext, data: ToggleMultistakeholder
) -> None:
    """Button: choose or unchoose one of the forum's multistakeholder pledges."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (MULTISTAKEHOLDER,))
        if found is None:
            return
        pledge, state = found
        forum = await get_forum(session=session, forum_id=pledge.forum_id or 0)
        names = list(forum.multistakeholder_pledges) if forum is not None else []
        if not 0 <= data.index < len(names) or name_check(names[data.index]) != data.check:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        name = names[data.index]
        chosen = list(pledge.multistakeholder_pledges)
        chosen = [n for n in chosen if n != name] if name in chosen else [*chosen, name]
        # Kept in the forum's order, whatever order they were tapped in.
        ordered = [n for n in names if n in chosen]
        await _save(ctx, session, pledge, multistakeholder_pledges=ordered)
        ack(ctx)
        prompt = await build_prompt(
            ctx.t, session, pledge, MULTISTAKEHOLDER, state.flow, state.data
        )
        replace(ctx, prompt.text, prompt.keyboard)


async def on_multistakeholder_done(
    update: Update, ctx: PledgeContext, data: MultistakeholderDone
) -> None:
    """Button: no more multistakeholder pledges; back to the review card."""
    await _step_done(update, ctx, data.pledge, MULTISTAKEHOLDER)


async def on_endorsed(update: Update, ctx: PledgeContext, data: Endorsed) -> None:
    """Button on the review card: the locality did (or did not yet) endorse the Marrakech
    Mayors Declaration; kept on the locality, so it is asked once."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (REVIEW,))
        if found is None:
            return
        pledge, _state = found
        locality = await get_locality(session=session, locality_id=pledge.locality_id)
        if locality is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        changed = await set_endorsement(
            session=session, locality=locality, endorsed=data.endorsed, was=data.was
        )
        # Unchanged but already this answer: the person's own, tapped twice.
        if changed or locality.endorsed_mmd is data.endorsed:
            ack(ctx, ctx.t.plain("Noted for %(locality)s.", locality=locality.name))
        else:  # a colleague answered since this card was shown: theirs stands, shown anew
            ack(
                ctx,
                ctx.t.plain(
                    "Someone of %(locality)s answered this in the meantime; the card shows "
                    "their answer.",
                    locality=locality.name,
                ),
                alert=True,
            )
        close_keyboard(ctx)
        await show_review(update, ctx, session, pledge)


async def on_change_endorsement(
    update: Update, ctx: PledgeContext, data: ChangeEndorsement
) -> None:
    """Button on the review card: ask the Marrakech Mayors Declaration question again."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (REVIEW,))
        if found is None:
            return
        pledge, _state = found
        ack(ctx)
        close_keyboard(ctx)
        await show_review(update, ctx, session, pledge, endorsement_again=True)


async def on_edit(update: Update, ctx: PledgeContext, data: EditField) -> None:
    """Button on the review card: change one field, then come back to the review."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (REVIEW,))
        if found is None:
            return
        pledge, _state = found
        field = field_of(data.step)
        if field is None or not field.applies(pledge):
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        ack(ctx)
        close_keyboard(ctx)
        await go_to(update, ctx, session, pledge, field.name, flow=WIZARD, revisit=True)


async def on_submit(update: Update, ctx: PledgeContext, data: Submit) -> None:
    """Button: submit the pledge; it gets its reference and coordinators hear of it."""
    t = ctx.t
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (REVIEW,))
        if found is None:
            return
        pledge, _state = found
        gaps = missing_steps(pledge)
        if gaps:
            ack(
                ctx,
                t.plain("Still missing: %(fields)s", fields=t.join(step_name(t, s) for s in gaps)),
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
        submitted = t.gettext(
            "✅ <b>Your pledge is submitted.</b> Its reference is <b>%(reference)s</b>. "
            "Coordinators will review it; you can still edit it and report progress with "
            "/mypledges.",
            reference=pledge.reference,
        )
        late = late_line(t, pledge, forum)
        say(ctx, Html("\n".join([submitted, late])) if late else submitted)
        coordinators = await list_coordinators(session=session)
        await notify(ctx, session, coordinators, NoticeKind.NEW_PLEDGE, pledge=pledge.id)


async def on_save(update: Update, ctx: PledgeContext, data: SaveDraft) -> None:
    """Button: keep the draft for later."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (REVIEW,))
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
                button(t.plain("Yes, cancel it"), ConfirmDiscard(pledge.id)),
                button(t.plain("No, go back"), BackToReview(pledge.id)),
            ]
        ]
    )
    say(
        ctx,
        t.gettext("Cancel this pledge? The draft will be set aside as withdrawn."),
        keyboard,
    )


async def on_discard(update: Update, ctx: PledgeContext, data: Discard) -> None:
    """Button: cancel the pledge (asks first)."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (REVIEW,))
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


async def on_discard_confirmed(update: Update, ctx: PledgeContext, data: ConfirmDiscard) -> None:
    """Button: yes, cancel the pledge."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (DISCARD,))
        if found is None:
            return
        pledge, _state = found
        await withdraw_pledge(session=session, pledge=pledge, member_id=ctx.member.id or 0)
        await clear_state(session=session, member_id=ctx.member.id or 0)
    ack(ctx)
    close_keyboard(ctx)
    say(ctx, ctx.t.gettext("The pledge is cancelled. /pledge starts a new one."))


async def on_back_to_review(update: Update, ctx: PledgeContext, data: BackToReview) -> None:
    """Button: do not cancel; show the review card again."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, (DISCARD,))
        if found is None:
            return
        pledge, _state = found
        ack(ctx)
        close_keyboard(ctx)
        await show_review(update, ctx, session, pledge)


# ---------------------------------------------------------------- typed answers


async def _text_target(
    ctx: PledgeContext, session: AsyncSession
) -> tuple[Pledge, ConversationState] | None:
    state = await ctx.state_in(session)
    if state is None or state.pledge_id is None:
        return None
    pledge = await get_pledge(session=session, pledge_id=state.pledge_id)
    if pledge is None or not can_edit(ctx.member, pledge):
        await clear_state(session=session, member_id=ctx.member.id or 0)
        return None
    return pledge, state


async def _answer_text(
    update: Update,
    ctx: PledgeContext,
    session: AsyncSession,
    pledge: Pledge,
    state: ConversationState,
    text: str,
) -> None:
    """A typed answer, read by the step's field: saved and on to the next step, refused with
    the reason, or the question again with what it changed (partners found)."""
    c = context(ctx.t, session, pledge, state.step, state.data)
    assert c.field.read is not None
    reading = await c.field.read(c, text)
    if isinstance(reading, Accept):
        await _save(ctx, session, pledge, **reading.changes)
        await advance(update, ctx, session, pledge, state)
    elif isinstance(reading, AskAgain):
        await set_state(
            session=session,
            member_id=ctx.member.id or 0,
            flow=state.flow,
            step=state.step,
            pledge_id=pledge.id,
            data=reading.data,
        )
        prompt = await build_prompt(ctx.t, session, pledge, state.step, state.flow, reading.data)
        say(ctx, prompt.text, prompt.keyboard)
    else:
        say(ctx, reading.text, reading.keyboard)


# A date with two readings is asked back with a button each; these steps take that button.
DATE_STEPS = tuple(f.name for f in FIELDS if f.reads_date and f.read is not None)


async def on_date_choice(update: Update, ctx: PledgeContext, data: PickDate) -> None:
    """Button: which of two readings of a typed date was meant; checked like a typed date."""
    async with ctx.db() as session:
        found = await _target(update, ctx, session, data.pledge, DATE_STEPS)
        if found is None:
            return
        pledge, state = found
        ack(ctx)
        close_keyboard(ctx)
        await _answer_text(update, ctx, session, pledge, state, data.day)


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
        # A document on the documents step or the review card is fetched below, outside
        # this transaction: nothing waits on Telegram while the database is held.
        sent = _sent_file(message) if state.step in (FILES, REVIEW) else None
        field = field_of(state.step)
        if sent is None and (field is None or field.read is None):
            say(ctx, t.gettext("Please answer with the buttons below."))
            await resend_current(update, ctx, session)
            return
        typed = None if sent is not None else typed_text(update, ctx)
        if typed is not None:
            await _answer_text(update, ctx, session, pledge, state, typed)
    if sent is not None:
        await _receive_file(update, ctx, sent)


FLOWS = (WIZARD, EDIT)


FLOW = Flow(
    name="pledge wizard",
    # Only officials write pledges. Any other role is refused as `_target` refuses an official
    # of another locality; `_target` checks the step, after the pledge, so that a stale button
    # is answered with the current question rather than refused.
    buttons=(
        Button(NewPledge, on_new, OFFICIALS, ONLY_OFFICIALS),
        Button(ResumeDraft, on_resume, OFFICIALS, NOT_AVAILABLE),
        Button(ChooseForum, on_forum, OFFICIALS, NOT_AVAILABLE),
        Button(ChooseCompacts, on_compacts, OFFICIALS, NOT_AVAILABLE),
        Button(ToggleOption, on_toggle, OFFICIALS, NOT_AVAILABLE),
        Button(TurnPage, on_page, OFFICIALS, NOT_AVAILABLE),
        Button(DoneChoosing, on_done, OFFICIALS, NOT_AVAILABLE),
        Button(PickDate, on_date_choice, OFFICIALS, NOT_AVAILABLE),
        Button(Ongoing, on_ongoing, OFFICIALS, NOT_AVAILABLE),
        Button(NoBudget, on_no_budget, OFFICIALS, NOT_AVAILABLE),
        Button(KeepAnswer, on_keep, OFFICIALS, NOT_AVAILABLE),
        Button(TogglePartner, on_partner, OFFICIALS, NOT_AVAILABLE),
        Button(PartnersDone, on_partners_done, OFFICIALS, NOT_AVAILABLE),
        Button(PartnersDoneAs, on_partners_done_as, OFFICIALS, NOT_AVAILABLE),
        Button(AddOtherPartner, on_add_other_partner, OFFICIALS, NOT_AVAILABLE),
        Button(RemoveOtherPartner, on_remove_other_partner, OFFICIALS, NOT_AVAILABLE),
        Button(ChooseScope, on_scope, OFFICIALS, NOT_AVAILABLE),
        Button(UseContact, on_use_contact, OFFICIALS, NOT_AVAILABLE),
        Button(FilesDone, on_files_done, OFFICIALS, NOT_AVAILABLE),
        Button(Endorsed, on_endorsed, OFFICIALS, NOT_AVAILABLE),
        Button(ChangeEndorsement, on_change_endorsement, OFFICIALS, NOT_AVAILABLE),
        Button(ChoosePledgeType, on_pledge_type, OFFICIALS, NOT_AVAILABLE),
        Button(ToggleMultistakeholder, on_multistakeholder, OFFICIALS, NOT_AVAILABLE),
        Button(MultistakeholderDone, on_multistakeholder_done, OFFICIALS, NOT_AVAILABLE),
        Button(SendAttachment, on_send_attachment, OFFICIALS, NOT_AVAILABLE),
        Button(RemoveAttachment, on_remove_attachment, OFFICIALS, NOT_AVAILABLE),
        Button(EditField, on_edit, OFFICIALS, NOT_AVAILABLE),
        Button(Submit, on_submit, OFFICIALS, NOT_AVAILABLE),
        Button(SaveDraft, on_save, OFFICIALS, NOT_AVAILABLE),
        Button(Discard, on_discard, OFFICIALS, NOT_AVAILABLE),
        Button(ConfirmDiscard, on_discard_confirmed, OFFICIALS, NOT_AVAILABLE),
        Button(BackToReview, on_back_to_review, OFFICIALS, NOT_AVAILABLE),
    ),
    states=FLOWS,
    on_text=on_message,
    reask=reask,
)
