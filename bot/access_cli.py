"""`pledgebot member list|deactivate|activate` and `pledgebot invitations list|revoke`: what a
coordinator does from /members and /invitations, for an operator at the command line. A member
deactivated here is told by the running bot (the notice waits in the database until then)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.services import open_services
from bot.settings import Settings
from storage.access import (
    MemberRow,
    deactivate_member,
    list_members,
    list_open_invites,
    member_row,
    reactivate_member,
    revoke_invite,
)
from storage.engine import transaction
from storage.models import Locality
from storage.types import utc_now


class AccessError(Exception):
    """A member or invitation that cannot be changed as asked, said in one line."""


def add_parsers(commands: Any) -> None:
    """The two commands, on the top-level subparsers."""
    member = commands.add_parser("member", help="list members, take access back or give it back")
    member_commands = member.add_subparsers(dest="member_command", required=True)
    member_commands.add_parser("list", help="every member with access, and those deactivated")
    for name, text in (
        ("deactivate", "take a member's access back (they are told)"),
        ("activate", "give a deactivated member their role back (they are told)"),
    ):
        command = member_commands.add_parser(name, help=text)
        command.add_argument("id", type=int, help="the member's id, as `member list` shows it")
    invitations = commands.add_parser("invitations", help="list or withdraw open invitations")
    invitation_commands = invitations.add_subparsers(dest="invitations_command", required=True)
    invitation_commands.add_parser("list", help="the invitations that can still be used")
    revoke = invitation_commands.add_parser("revoke", help="withdraw an invitation")
    revoke.add_argument("id", type=int, help="the invitation's id, as `invitations list` shows")


def _place(locality: Locality | None) -> str:
    return f"{locality.name} ({locality.country})" if locality is not None else "-"


def _line(row: MemberRow) -> str:
    member = row.member
    locality = _place(row.locality)
    if member.revoked_at is not None:
        status = f"deactivated {member.revoked_at:%Y-%m-%d}"
    elif not member.active:
        status = "stopped messages"
    else:
        status = "active"
    name = member.display_name
    return f"{member.id:>5}  {row.role or '-':<12} {locality:<28.28} {name:<24.24} {status}"


async def members(settings: Settings, args: argparse.Namespace) -> str:
    """What `pledgebot member …` prints."""
    async with open_services(settings) as services, transaction(services.sessions) as session:
        if args.member_command == "list":
            rows, _total = await list_members(session=session)
            header = f"{'id':>5}  {'role':<12} {'locality':<28} {'name':<24} status"
            return "\n".join([header, *(_line(row) for row in rows)])
        row = await member_row(session=session, member_id=args.id)
        if row is None:
            raise AccessError(f"no member with id {args.id}: see `pledgebot member list`")
        now = utc_now()
        if args.member_command == "deactivate":
            done = await deactivate_member(session=session, member=row.member, by_id=None, now=now)
            if done is None:
                raise AccessError(f"member {args.id} is deactivated already")
            return f"deactivated: {_line(row).strip()}"
        done = await reactivate_member(session=session, member=row.member, now=now)
        if done is None:
            raise AccessError(f"member {args.id} is not deactivated")
        return f"activated: {_line(row).strip()}"


async def invitations(settings: Settings, args: argparse.Namespace) -> str:
    """What `pledgebot invitations …` prints."""
    async with open_services(settings) as services, transaction(services.sessions) as session:
        now = utc_now()
        if args.invitations_command == "revoke":
            if not await revoke_invite(session=session, invite_id=args.id, now=now):
                raise AccessError(
                    f"no open invitation with id {args.id}: see `pledgebot invitations list`"
                )
            return f"invitation {args.id} withdrawn: its link no longer works"
        lines = [f"{'id':>5}  {'role':<12} {'locality':<28} {'by':<20} expires"]
        for row in await list_open_invites(session=session, now=now):
            locality = _place(row.locality)
            by = row.created_by.display_name if row.created_by else "command line"
            lines.append(
                f"{row.invite.id:>5}  {row.invite.role:<12} {locality:<28.28} {by:<20.20} "
                f"{row.invite.expires_at:%Y-%m-%d %H:%M} UTC"
            )
        return "\n".join(lines)
