"""Coordinators take access back: /members lists who has access, a member's card deactivates
or reactivates them; /invitations lists the invitations still open, each one withdrawable."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from conversations.common import ack, replace, say
from conversations.context import PledgeContext
from conversations.flow import COORDINATORS, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator, escape
from conversations.keyboards import button, page_count, pager_row
from conversations.onboarding import set_command_menu
from conversations.parsing import country_name
from conversations.vocabulary import ROLES, label
from storage.access import (
    InviteRow,
    MemberRow,
    deactivate_member,
    list_members,
    list_open_invites,
    member_row,
    reactivate_member,
    revoke_invite,
)
from storage.members import get_member
from storage.models import Locality, Member
from storage.types import utc_now

PER_PAGE = 8
ONLY_COORDINATORS = N_("Only coordinators manage access.")


@dataclass(frozen=True)
class MembersPage(ButtonData, prefix="mb.page"):
    page: int


@dataclass(frozen=True)
class OpenMember(ButtonData, prefix="mb.open"):
    member: int
    page: int


@dataclass(frozen=True)
class AskDeactivate(ButtonData, prefix="mb.ask"):
    """Deactivation is asked to be confirmed first: it takes effect at once."""

    member: int
    page: int


@dataclass(frozen=True)
class SetAccess(ButtonData, prefix="mb.set"):
    member: int
    active: bool
    page: int


@dataclass(frozen=True)
class RevokeInvite(ButtonData, prefix="iv.rev"):
    invite: int


def _name(t: Translator, member: Member) -> str:
    return member.display_name or t.plain("(no name)")


def _where(t: Translator, locality: Locality | None) -> str:
    """ " · Lyon, France", or nothing for a member or invitation of no locality."""
    if locality is None:
        return ""
    return " · " + locality.name + ", " + country_name(locality.country, t.locale)


def _who(t: Translator, row: MemberRow) -> str:
    """Name · role · locality, for a list button."""
    parts = [_name(t, row.member), label(t, ROLES, row.role or "")]
    if row.locality is not None:
        parts.append(row.locality.name)
    text = " · ".join(parts)
    return ("🚫 " + text) if row.member.revoked_at is not None else text


def members_list(
    t: Translator, rows: list[MemberRow], *, page: int, total: int
) -> tuple[Html, InlineKeyboardMarkup]:
    """A page of members, each a button that opens their card."""
    text = t.ngettext(
        "👥 <b>%(count)s member</b>. Open one to see their access or take it back.",
        "👥 <b>%(count)s members</b>. Open one to see their access or take it back.",
        total,
        count=t.number(total),
    )
    keyboard = [[button(_who(t, row), OpenMember(row.member.id or 0, page))] for row in rows]
    pager = pager_row(t, page=page, pages=page_count(total, PER_PAGE), to_page=MembersPage)
    return text, InlineKeyboardMarkup([*keyboard, *([pager] if pager else [])])


def member_card(
    t: Translator, row: MemberRow, *, decided_by: str | None, viewer_id: int
) -> tuple[Html, InlineKeyboardMarkup]:
    """Who the member is, what access they have, and the button that changes it."""
    member = row.member
    lines = [
        Html(f"👤 <b>{escape(_name(t, member))}</b>"),
        escape(label(t, ROLES, row.role or "") + _where(t, row.locality)),
    ]
    lines.append(
        t.gettext(
            "Joined %(joined)s · last seen %(seen)s",
            joined=t.date(member.created_at.date()),
            seen=t.relative(member.last_seen_at - utc_now()),
        )
    )
    if member.revoked_at is not None:
        lines.append(
            t.gettext(
                "🚫 <b>Deactivated</b> %(when)s by %(name)s.",
                when=t.date(member.revoked_at.date()),
                name=decided_by or t.plain("the command line"),
            )
        )
    elif not member.active:
        lines.append(t.gettext("Has stopped the bot's messages (/stop)."))
    else:
        lines.append(t.gettext("✅ Has access."))
    actions: list[InlineKeyboardButton] = []
    if member.revoked_at is not None:
        actions.append(button(t.plain("♻️ Reactivate"), SetAccess(member.id or 0, True, 0)))
    elif member.id != viewer_id:  # nobody locks themselves out
        actions.append(button(t.plain("🚫 Deactivate"), AskDeactivate(member.id or 0, 0)))
    back = button(t.plain("‹ Members"), MembersPage(0))
    return Html("\n".join(lines)), InlineKeyboardMarkup([actions, [back]] if actions else [[back]])


def confirm_deactivation(
    t: Translator, row: MemberRow, page: int
) -> tuple[Html, InlineKeyboardMarkup]:
    text = t.gettext(
        "Deactivate <b>%(name)s</b>? They lose access at once: no pledges, drafts, exports or "
        "reminders, and /start does not bring them back. Their locality keeps its pledges. "
        "You can reactivate them later.",
        name=row.member.display_name,
    )
    member = row.member.id or 0
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.plain("🚫 Yes, deactivate"), SetAccess(member, False, page)),
                button(t.plain("Cancel"), OpenMember(member, page)),
            ]
        ]
    )
    return text, keyboard


def invitations_list(
    t: Translator, rows: list[InviteRow]
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The invitations still open, numbered, each with its withdraw button."""
    if not rows:
        return t.gettext("No invitation is open. /invite creates one."), None
    lines = [
        t.ngettext(
            "✉️ <b>%(count)s open invitation</b>:",
            "✉️ <b>%(count)s open invitations</b>:",
            len(rows),
            count=t.number(len(rows)),
        )
    ]
    buttons = []
    for number, row in enumerate(rows, start=1):
        lines.append(
            t.gettext(
                "%(number)s. %(role)s%(where)s · by %(name)s · expires %(expires)s",
                number=number,
                role=label(t, ROLES, row.invite.role),
                where=_where(t, row.locality),
                name=row.created_by.display_name if row.created_by else t.plain("the command line"),
                expires=t.date(row.invite.expires_at.date()),
            )
        )
        buttons.append(
            button(
                t.plain("✖️ Withdraw %(number)s", number=number), RevokeInvite(row.invite.id or 0)
            )
        )
    rows_of_buttons = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows_of_buttons)


async def members(update: Update, ctx: PledgeContext) -> None:
    """/members: everyone with access (and those whose access was taken back)."""
    text, keyboard = await _members_page(ctx, 0)
    say(ctx, text, keyboard)


async def on_members_page(update: Update, ctx: PledgeContext, data: MembersPage) -> None:
    """Button: another page of members, or back to the list from a card."""
    ack(ctx)
    text, keyboard = await _members_page(ctx, max(0, data.page))
    replace(ctx, text, keyboard)


async def _members_page(ctx: PledgeContext, page: int) -> tuple[Html, InlineKeyboardMarkup]:
    async with ctx.db() as session:
        rows, total = await list_members(session=session, offset=page * PER_PAGE, limit=PER_PAGE)
    return members_list(ctx.t, list(rows), page=page, total=total)


async def on_open_member(update: Update, ctx: PledgeContext, data: OpenMember) -> None:
    """Button: a member's card."""
    await _show_card(ctx, data.member)


async def _show_card(ctx: PledgeContext, member_id: int, note: str | None = None) -> None:
    async with ctx.db() as session:
        row = await member_row(session=session, member_id=member_id)
        decider = None
        if row is not None and row.member.revoked_by_id is not None:
            decider = await get_member(session=session, member_id=row.member.revoked_by_id)
    if row is None:
        ack(ctx, ctx.t.plain("That member is not available."), alert=True)
        return
    ack(ctx, note)
    text, keyboard = member_card(
        ctx.t,
        row,
        decided_by=decider.display_name if decider is not None else None,
        viewer_id=ctx.member.id or 0,
    )
    replace(ctx, text, keyboard)


async def on_ask_deactivate(update: Update, ctx: PledgeContext, data: AskDeactivate) -> None:
    """Button: deactivate? (confirmed on the next press)."""
    async with ctx.db() as session:
        row = await member_row(session=session, member_id=data.member)
    if row is None or row.member.revoked_at is not None or data.member == ctx.member.id:
        await _show_card(ctx, data.member)
        return
    ack(ctx)
    text, keyboard = confirm_deactivation(ctx.t, row, data.page)
    replace(ctx, text, keyboard)


async def on_set_access(update: Update, ctx: PledgeContext, data: SetAccess) -> None:
    """Button: deactivate (confirmed) or reactivate; whoever was first decides."""
    t = ctx.t
    if data.member == ctx.member.id:
        ack(ctx, t.plain("You cannot take your own access away."), alert=True)
        return
    async with ctx.db() as session:
        person = await get_member(session=session, member_id=data.member)
        notices = None
        if person is not None:
            now = utc_now()
            notices = (
                await reactivate_member(session=session, member=person, now=now)
                if data.active
                else await deactivate_member(
                    session=session, member=person, by_id=ctx.member.id, now=now
                )
            )
    if person is None:
        ack(ctx, t.plain("That member is not available."), alert=True)
        return
    if notices is None:  # another coordinator was first, or nothing to change
        await _show_card(ctx, data.member, t.plain("Nothing to change: already done."))
        return
    ctx.replies.notices.extend(notices)
    set_command_menu(ctx, person)
    await _show_card(
        ctx,
        data.member,
        t.plain("Access given back.") if data.active else t.plain("Access taken back."),
    )


async def invitations(update: Update, ctx: PledgeContext) -> None:
    """/invitations: the invitations that can still be used."""
    async with ctx.db() as session:
        rows = await list_open_invites(session=session, now=utc_now())
    text, keyboard = invitations_list(ctx.t, list(rows))
    say(ctx, text, keyboard)


async def on_revoke_invite(update: Update, ctx: PledgeContext, data: RevokeInvite) -> None:
    """Button: withdraw one invitation; the list is shown again without it."""
    t = ctx.t
    async with ctx.db() as session:
        revoked = await revoke_invite(session=session, invite_id=data.invite, now=utc_now())
        rows = await list_open_invites(session=session, now=utc_now())
    ack(
        ctx,
        t.plain("Invitation withdrawn: its link no longer works.")
        if revoked
        else t.plain("That invitation could no longer be used anyway."),
    )
    text, keyboard = invitations_list(t, list(rows))
    replace(ctx, text, keyboard)


FLOW = Flow(
    name="access",
    commands=(
        Command("members", N_("Members: see and take back access"), COORDINATORS, members),
        Command("invitations", N_("Open invitations, to withdraw one"), COORDINATORS, invitations),
    ),
    buttons=(
        Button(MembersPage, on_members_page, COORDINATORS, ONLY_COORDINATORS),
        Button(OpenMember, on_open_member, COORDINATORS, ONLY_COORDINATORS),
        Button(AskDeactivate, on_ask_deactivate, COORDINATORS, ONLY_COORDINATORS),
        Button(SetAccess, on_set_access, COORDINATORS, ONLY_COORDINATORS),
        Button(RevokeInvite, on_revoke_invite, COORDINATORS, ONLY_COORDINATORS),
    ),
)
