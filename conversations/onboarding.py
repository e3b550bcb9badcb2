"""Joining: invitations, requests for access, language, help and leaving a flow."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.buttons import DecideAccess
from conversations.common import ack, close_keyboard, notify, problem_text, say, typed_text
from conversations.context import PledgeContext
from conversations.flow import EVERYONE, Button, ButtonData, Command, Flow
from conversations.i18n import N_, CommandText, Html, Translator
from conversations.keyboards import Option, button, choice_keyboard
from conversations.parsing import check_name, country_name, read_country
from conversations.replies import CommandMenu
from conversations.vocabulary import ROLES, label
from storage.access_requests import create_access_request, get_pending_request
from storage.conversation_state import clear_state, set_state
from storage.invites import InviteProblem, redeem_invite
from storage.localities import get_locality
from storage.members import grant_role, list_coordinators, resume_member, set_member_language
from storage.models import AccessRequest, ConversationState, Member, NoticeKind, Role

log = logging.getLogger(__name__)

ACCESS = "access"
NAME, POSITION, LOCALITY, COUNTRY = "name", "position", "locality", "country"
ACCESS_STEPS = (NAME, POSITION, LOCALITY, COUNTRY)
FIELD_LIMITS = (2, 120)
NOT_YET_REGISTERED: frozenset[str | None] = frozenset({None})


@dataclass(frozen=True)
class RequestAccess(ButtonData, prefix="a.req"):
    """🙋 Request access: for people without a role."""


@dataclass(frozen=True)
class ChooseLanguage(ButtonData, prefix="l.set"):
    """A language to write in (a catalog's code)."""

    language: str


def help_text(ctx: PledgeContext, role: str | None) -> Html:
    """The commands the reader's role allows, each with what it does."""
    t = ctx.t
    if role is None:
        intro = t.gettext(
            "pledgebot collects local governments' pledges to the Global Compact "
            "for Migration and the Global Compact on Refugees. To take part you "
            "need an invitation from a coordinator; without one, you can ask "
            "for access."
        )
    else:
        intro = t.gettext(
            "You are registered as <b>%(role)s</b>. Here is what you can do:",
            role=label(t, ROLES, role),
        )
    lines = [
        t.gettext(
            "%(command)s — %(description)s",
            command=CommandText.named(c.name),
            description=t.plain(c.description),
        )
        for c in ctx.router.commands_for(role)
    ]
    return Html("\n".join([intro, "", *lines]))


def request_access_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(t.plain("🙋 Request access"), RequestAccess())]])


def set_command_menu(ctx: PledgeContext, member: Member) -> None:
    """Show this person the commands of their role, in their language."""
    t = ctx.services.catalogs.translator(member.language)
    ctx.replies.add(CommandMenu(member.telegram_id, tuple(ctx.router.menu(t, member.role))))


async def start(update: Update, ctx: PledgeContext) -> None:
    """/start [token]: join with an invitation, or be told how to get one."""
    t, member = ctx.t, ctx.member
    token = ctx.args[0] if ctx.args else None
    if not member.active:  # stopped (/stop, or had blocked the bot): /start resumes
        async with ctx.db() as session:
            await resume_member(session=session, member=member)
        if member.role is not None:
            say(
                ctx,
                t.gettext("▶️ Welcome back: my reminders and notifications are on again."),
            )
    if member.role is not None:
        if token:
            say(
                ctx,
                t.gettext(
                    "You are already registered as <b>%(role)s</b>; the invitation was not used.",
                    role=label(t, ROLES, member.role),
                ),
            )
        say(ctx, help_text(ctx, member.role))
        return
    if token is None and member.revoked_at is not None:
        # Deactivated: only a coordinator, or a new invitation, lets them back in.
        say(ctx, access_ended_text(t))
        return
    if token is None:
        say(ctx, help_text(ctx, None), request_access_keyboard(t))
        return
    async with ctx.db() as session:
        outcome = await redeem_invite(session=session, token=token[:64])
        if isinstance(outcome, InviteProblem):
            reason = {
                InviteProblem.UNKNOWN: t.gettext(
                    "This invitation is not valid. Please check the link you received."
                ),
                InviteProblem.EXPIRED: t.gettext(
                    "This invitation has expired. Please ask the "
                    "coordinator who sent it for a new one."
                ),
                InviteProblem.USED: t.gettext(
                    "This invitation has already been used. Please "
                    "ask the coordinator who sent it for a new one."
                ),
                InviteProblem.REVOKED: t.gettext(
                    "This invitation has been withdrawn by a coordinator. Please ask the "
                    "coordinator who sent it for a new one."
                ),
            }[outcome]
            say(
                ctx,
                Html(reason + "\n\n" + t.gettext("You can also ask for access here.")),
                request_access_keyboard(t),
            )
            return
        role = Role(outcome.role)
        await grant_role(session=session, member=member, role=role, locality_id=outcome.locality_id)
        await clear_state(session=session, member_id=member.id or 0)
        where = await _locality_words(t, session, member)
    say(
        ctx,
        Html(
            t.gettext(
                "👋 Welcome! You have joined as <b>%(role)s</b>%(where)s.",
                role=label(t, ROLES, role),
                where=where,
            )
            + "\n\n"
            + help_text(ctx, member.role)
        ),
    )
    set_command_menu(ctx, member)


async def _locality_words(t: Translator, session: AsyncSession, member: Member) -> str:
    if member.locality_id is None:
        return ""
    locality = await get_locality(session=session, locality_id=member.locality_id)
    if locality is None:
        return ""
    return t.plain(
        " for %(locality)s, %(country)s",
        locality=locality.name,
        country=country_name(locality.country, t.locale),
    )


async def help_command(update: Update, ctx: PledgeContext) -> None:
    """/help: the commands of the reader's role (and, if they stopped messages, how to resume);
    then the question they were on, if any."""
    text = help_text(ctx, ctx.member.role)
    if ctx.member.role is not None and not ctx.member.active:
        text = Html(
            text
            + "\n\n"
            + ctx.t.gettext("⏸ My messages to you are stopped. /start turns them back on.")
        )
    say(ctx, text, None if ctx.member.role else request_access_keyboard(ctx.t))
    state = ctx.conversation
    reask = ctx.router.reasks.get(state.flow) if state is not None else None
    if state is not None and reask is not None:
        say(
            ctx,
            ctx.t.gettext(
                "You were in the middle of something; here it is again (or /cancel to leave it)."
            ),
        )
        await reask(update, ctx, state)


async def cancel(update: Update, ctx: PledgeContext) -> None:
    """/cancel: leave any flow; a draft pledge stays saved."""
    state = ctx.conversation
    async with ctx.db() as session:
        left = await clear_state(session=session, member_id=ctx.member.id or 0)
    if not left:
        say(ctx, ctx.t.gettext("There is nothing to cancel."))
    elif state is not None and state.pledge_id is not None:
        say(
            ctx,
            ctx.t.gettext("Stopped. Your pledge is saved as it was; /pledge continues it."),
        )
    else:
        say(ctx, ctx.t.gettext("Stopped."))


# ---------------------------------------------------------------- language


async def language(update: Update, ctx: PledgeContext) -> None:
    """/language: every available language, each in its own name."""
    catalogs = ctx.services.catalogs
    options = [
        Option(code, ("✅ " if code == ctx.t.language else "") + catalogs.native_name(code))
        for code in catalogs.languages
    ]
    say(
        ctx,
        ctx.t.gettext("Choose your language:"),
        choice_keyboard(options, action=ChooseLanguage, columns=2),
    )


async def on_language(update: Update, ctx: PledgeContext, data: ChooseLanguage) -> None:
    """Button: switch language at once, command menu included."""
    catalogs = ctx.services.catalogs
    code = data.language
    if code not in catalogs.languages:
        ack(ctx, ctx.t.plain("That language is not available."), alert=True)
        return
    # A reader in Mexico who picks Español again keeps writing amounts as Mexico does.
    if catalogs.negotiate(ctx.member.language) == code:
        code = ctx.member.language
    async with ctx.db() as session:
        await set_member_language(session=session, member=ctx.member, language=code)
    t = catalogs.translator(code)
    ctx.set_member(ctx.member, t)
    ack(ctx, catalogs.native_name(code))
    close_keyboard(ctx)
    say(ctx, t.gettext("Done: I will write to you in English from now on."))
    set_command_menu(ctx, ctx.member)


# ---------------------------------------------------------------- access requests


def access_question(t: Translator, step: str) -> Html:
    questions = {
        NAME: t.gettext("What is your full name?"),
        POSITION: t.gettext(
            "What is your position (for example, migration focal point, Mayor's office)?"
        ),
        LOCALITY: t.gettext(
            "Which city, region or association of local governments do you work for?"
        ),
        COUNTRY: t.gettext(
            "In which country? Send its name or its two-letter code (for example FR)."
        ),
    }
    number = ACCESS_STEPS.index(step) + 1
    return Html(
        t.gettext(
            "<b>Request access · %(number)s of %(total)s</b>",
            number=number,
            total=len(ACCESS_STEPS),
        )
        + "\n"
        + questions[step]
    )


async def on_request_access(update: Update, ctx: PledgeContext, _data: RequestAccess) -> None:
    """Button: begin a request for access (the flow lets only people without a role)."""
    ack(ctx)
    close_keyboard(ctx)
    async with ctx.db() as session:
        if await get_pending_request(session=session, member_id=ctx.member.id or 0):
            say(
                ctx,
                ctx.t.gettext(
                    "Your request is already with the coordinators; I will tell you here as soon "
                    "as they decide."
                ),
            )
            return
        await set_state(session=session, member_id=ctx.member.id or 0, flow=ACCESS, step=NAME)
    say(ctx, access_question(ctx.t, NAME))


async def on_access_answer(update: Update, ctx: PledgeContext) -> None:
    """An answer in the access request; each is saved before the next question."""
    state, message, t = ctx.conversation, update.effective_message, ctx.t
    if state is None or message is None:
        return
    typed = typed_text(update, ctx)
    if typed is None:
        return
    text = " ".join(typed.split())
    data = dict(state.data)
    if state.step == COUNTRY:
        country = read_country(text, t.locale)
        if country is None:
            say(
                ctx,
                t.gettext(
                    "I do not know the country “%(text)s”. Please send "
                    "its name or its two-letter code (for example FR).",
                    text=text[:60],
                ),
            )
            return
        data[COUNTRY] = country
    else:
        problem = check_name(text, minimum=FIELD_LIMITS[0], maximum=FIELD_LIMITS[1])
        if problem:
            say(ctx, problem_text(t, problem))
            return
        data[state.step] = text
    async with ctx.db() as session:
        if state.step != COUNTRY:
            step = ACCESS_STEPS[ACCESS_STEPS.index(state.step) + 1]
            await set_state(
                session=session, member_id=ctx.member.id or 0, flow=ACCESS, step=step, data=data
            )
            say(ctx, access_question(t, step))
            return
        request = await create_access_request(
            session=session,
            member_id=ctx.member.id or 0,
            name=data[NAME],
            position=data[POSITION],
            locality_name=data[LOCALITY],
            country=data[COUNTRY],
        )
        await clear_state(session=session, member_id=ctx.member.id or 0)
        coordinators = await list_coordinators(session=session)
        await notify(ctx, session, coordinators, NoticeKind.ACCESS_REQUEST, request=request.id)
    say(
        ctx,
        t.gettext(
            "Thank you. Your request has gone to the coordinators; "
            "I will tell you here as soon as they decide."
        ),
    )
    if not coordinators:
        log.warning("access request %s has no coordinator to decide it", request.id)


def access_decision_notice(t: Translator, *, approved: bool) -> Html:
    """What the person who asked for access is told of the coordinators' decision."""
    if approved:
        return t.gettext(
            "✅ Your request has been approved. Welcome! /pledge starts your "
            "first pledge; /help lists everything you can do."
        )
    return t.gettext(
        "Your request for access was not approved. If you think this is a "
        "mistake, please contact the coordinators of the Call to Local "
        "Action."
    )


def access_ended_text(t: Translator) -> Html:
    """What a deactivated member is told, once."""
    return t.gettext(
        "🚫 Your access to this bot has been ended by a coordinator. The pledges of your "
        "locality stay with it. If you think this is a mistake, ask a coordinator for a new "
        "invitation."
    )


def access_restored_text(t: Translator) -> Html:
    return t.gettext(
        "✅ A coordinator has given you your access back, with the role you had. /help shows "
        "what you can do."
    )


def access_request_card(t: Translator, request: AccessRequest) -> tuple[Html, InlineKeyboardMarkup]:
    """What a coordinator sees of a request, with Approve and Reject."""
    assert request.id is not None
    text = t.gettext(
        "🙋 <b>Request for access</b>\nName: %(name)s\nPosition: %(position)s\n"
        "Locality: %(locality)s, %(country)s",
        name=request.name,
        position=request.position,
        locality=request.locality_name,
        country=country_name(request.country, t.locale),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.plain("✅ Approve"), DecideAccess(request.id, approve=True)),
                button(t.plain("✖️ Reject"), DecideAccess(request.id, approve=False)),
            ]
        ]
    )
    return text, keyboard


async def reask(update: Update, ctx: PledgeContext, state: ConversationState) -> bool:
    """Ask the access request's current question again."""
    if state.step not in ACCESS_STEPS:
        return False
    say(ctx, access_question(ctx.t, state.step))
    return True


FLOW = Flow(
    name="onboarding",
    commands=(
        Command("start", N_("Start, or join with an invitation"), EVERYONE, start),
        Command("language", N_("Change the language"), EVERYONE, language),
        Command("cancel", N_("Leave what you are doing"), EVERYONE, cancel),
        Command("help", N_("What this bot can do for you"), EVERYONE, help_command),
    ),
    buttons=(
        Button(
            RequestAccess,
            on_request_access,
            NOT_YET_REGISTERED,
            N_("You are already registered."),
        ),
        Button(ChooseLanguage, on_language, EVERYONE),
    ),
    states=(ACCESS,),
    text_steps={step: on_access_answer for step in ACCESS_STEPS},
    reask=reask,
)
