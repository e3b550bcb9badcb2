"""Coordinators' work in chat: invitations and decisions on requests for access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram import Update

from conversations.buttons import DecideAccess
from conversations.common import ack, close_keyboard, notify, problem_text, replace, say, typed_text
from conversations.context import PledgeContext
from conversations.flow import COORDINATORS, Button, ButtonData, Command, Flow, is_coordinator
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import Option, choice_keyboard
from conversations.onboarding import set_command_menu
from conversations.parsing import check_name, country_name, read_country
from conversations.vocabulary import ROLES, label
from storage.access_requests import decide_access_request, get_access_request
from storage.conversation_state import clear_state, set_state
from storage.invites import issue_invite
from storage.localities import find_or_create_locality
from storage.members import get_member, grant_role
from storage.models import AccessRequestStatus, ConversationState, Member, NoticeKind, Role

INVITE = "invite"
LOCALITY, COUNTRY = "locality", "country"
INVITE_DAYS = 14
# What anyone but a coordinator is told when pressing these buttons (translated already).
ONLY_COORDINATORS_INVITE = N_("Only coordinators invite people.")
ONLY_COORDINATORS_DECIDE = N_("Only coordinators decide on requests.")


@dataclass(frozen=True)
class InviteRole(ButtonData, prefix="i.role"):
    """The role of the person to invite (a Role's value)."""

    role: str


def deep_link(bot_username: str, token: str) -> str:
    """The link that opens the bot and sends /start with the token."""
    return f"https://t.me/{bot_username}?start={token}"


def invite_message(t: Translator, role: Role, link: str, where: str) -> Html:
    return t.gettext(
        "✉️ Invitation for a new <b>%(role)s</b>%(where)s. Send this link to that person; it "
        "works once and expires in %(days)s days:\n%(link)s",
        role=label(t, ROLES, role.value),
        where=where,
        days=t.number(INVITE_DAYS),
        link=link,
    )


async def invite(update: Update, ctx: PledgeContext) -> None:
    """/invite: which role the new person will have."""
    t = ctx.t
    options = [Option(r.value, label(t, ROLES, r.value)) for r in Role]
    say(
        ctx,
        t.gettext("Whom do you want to invite?"),
        choice_keyboard(options, action=InviteRole, columns=3),
    )


async def on_role(update: Update, ctx: PledgeContext, data: InviteRole) -> None:
    """Button: the role; officials also need their locality."""
    if data.role not in ROLES:
        ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
        return
    ack(ctx)
    close_keyboard(ctx)
    role = Role(data.role)
    if role is Role.OFFICIAL:
        async with ctx.db() as session:
            await set_state(
                session=session, member_id=ctx.member.id or 0, flow=INVITE, step=LOCALITY
            )
        say(ctx, invite_question(ctx.t, LOCALITY))
        return
    await _issue(update, ctx, role, None, None)


def invite_question(t: Translator, step: str) -> Html:
    if step == LOCALITY:
        return t.gettext("Which city, region or association will the official represent?")
    return t.gettext("In which country? Send its name or its two-letter code (for example FR).")


async def reask(update: Update, ctx: PledgeContext, state: ConversationState) -> bool:
    """Ask the invitation's current question again."""
    say(ctx, invite_question(ctx.t, state.step))
    return True


async def on_invite_answer(update: Update, ctx: PledgeContext) -> None:
    """The official's locality, then its country."""
    state, message, t = ctx.conversation, update.effective_message, ctx.t
    if state is None or message is None:
        return
    if not is_coordinator(ctx.member.role):  # no longer one since the invitation began
        async with ctx.db() as session:
            await clear_state(session=session, member_id=ctx.member.id or 0)
        say(ctx, t.gettext("Only coordinators invite people."))
        return
    typed = typed_text(update, ctx)
    if typed is None:
        return
    text = " ".join(typed.split())
    if state.step == LOCALITY:
        problem = check_name(text, minimum=2, maximum=120)
        if problem:
            say(ctx, problem_text(t, problem))
            return
        async with ctx.db() as session:
            await set_state(
                session=session,
                member_id=ctx.member.id or 0,
                flow=INVITE,
                step=COUNTRY,
                data={LOCALITY: text},
            )
        say(ctx, invite_question(t, COUNTRY))
        return
    country = read_country(text, t.locale)
    if country is None:
        say(
            ctx,
            t.gettext(
                "I do not know the country “%(text)s”. Please send its "
                "name or its two-letter code (for example FR).",
                text=text[:60],
            ),
        )
        return
    await _issue(update, ctx, Role.OFFICIAL, str(state.data.get(LOCALITY, "")), country)


async def _issue(
    update: Update, ctx: PledgeContext, role: Role, locality_name: str | None, country: str | None
) -> None:
    t = ctx.t
    async with ctx.db() as session:
        issued = await issue_invite(
            session=session,
            role=role,
            locality=locality_name,
            country=country,
            expires_in=timedelta(days=INVITE_DAYS),
            created_by_id=ctx.member.id,
        )
        await clear_state(session=session, member_id=ctx.member.id or 0)
    where = ""
    if issued.locality is not None:
        where = t.plain(
            " for %(locality)s, %(country)s",
            locality=issued.locality.name,
            country=country_name(issued.locality.country, t.locale),
        )
    link = deep_link(ctx.bot.username, issued.token)
    say(ctx, invite_message(t, role, link, where))


async def on_decision(update: Update, ctx: PledgeContext, data: DecideAccess) -> None:
    """Buttons Approve / Reject on a request for access; the first coordinator decides."""
    t, approve = ctx.t, data.approve
    async with ctx.db() as session:
        request = await get_access_request(session=session, request_id=data.request)
        if request is None:
            ack(ctx, t.plain("That request is not available."), alert=True)
            return
        if not await decide_access_request(
            session=session, request=request, approve=approve, decided_by_id=ctx.member.id or 0
        ):
            decider = await get_member(session=session, member_id=request.decided_by_id or 0)
            ack(ctx, _already_decided(t, request.status, decider), alert=True)
            if request.decided_by_id != ctx.member.id:
                # This card still has its buttons; the decider's own was replaced already.
                close_keyboard(ctx)
            return
        person = await get_member(session=session, member_id=request.member_id)
        # Someone who joined by invitation meanwhile keeps that role, and hears nothing more.
        already_in = person is not None and person.role is not None
        if person is not None and approve and not already_in:
            locality = await find_or_create_locality(
                session=session, name=request.locality_name, country=request.country
            )
            await grant_role(
                session=session, member=person, role=Role.OFFICIAL, locality_id=locality.id
            )
        if person is not None and not already_in:
            await notify(ctx, session, [person], NoticeKind.ACCESS_DECISION, approved=approve)
    ack(ctx)
    outcome = (
        t.gettext(
            "✅ Approved: %(name)s, %(locality)s.",
            name=request.name,
            locality=request.locality_name,
        )
        if approve
        else t.gettext(
            "✖️ Rejected: %(name)s, %(locality)s.", name=request.name, locality=request.locality_name
        )
    )
    replace(ctx, outcome, None)
    if person is not None and approve and not already_in:
        set_command_menu(ctx, person)


def _already_decided(t: Translator, status: str, decider: Member | None) -> str:
    """What a coordinator who was a moment too late is told: what was decided, and by whom."""
    decided = label(
        t,
        {
            AccessRequestStatus.APPROVED.value: t.plain("approved"),
            AccessRequestStatus.REJECTED.value: t.plain("rejected"),
        },
        status,
    )
    if decider is None or not decider.display_name:
        return t.plain("Already decided: %(decision)s.", decision=decided)
    return t.plain(
        "Already decided by %(name)s: %(decision)s.", name=decider.display_name, decision=decided
    )


FLOW = Flow(
    name="invitations",
    commands=(
        Command("invite", N_("Invite an official, a coordinator or staff"), COORDINATORS, invite),
    ),
    buttons=(
        Button(InviteRole, on_role, COORDINATORS, ONLY_COORDINATORS_INVITE),
        Button(DecideAccess, on_decision, COORDINATORS, ONLY_COORDINATORS_DECIDE),
    ),
    states=(INVITE,),
    text_steps={LOCALITY: on_invite_answer, COUNTRY: on_invite_answer},
    reask=reask,
)
