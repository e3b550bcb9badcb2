"""The commands each role has: one list for /help, the command menu and the gatekeeper."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand

from conversations.i18n import N_, Translator
from storage.models import Role

EVERYONE = frozenset({None, Role.OFFICIAL.value, Role.COORDINATOR.value, Role.STAFF.value})
MEMBERS = frozenset({Role.OFFICIAL.value, Role.COORDINATOR.value, Role.STAFF.value})


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    roles: frozenset[str | None]


COMMANDS = (
    # Officials write pledges with /pledge; everyone reads one with /pledge <reference>.
    Command(
        "pledge", N_("Write a pledge (officials), or show one: /pledge CLA-2027-0042"), MEMBERS
    ),
    Command(
        "mypledges",
        N_("Your locality's pledges: edit, report progress, withdraw"),
        frozenset({Role.OFFICIAL.value}),
    ),
    Command(
        "invite",
        N_("Invite an official, a coordinator or staff"),
        frozenset({Role.COORDINATOR.value}),
    ),
    Command(
        "forums",
        N_("Forums: names, dates, pledge deadlines, reminders"),
        frozenset({Role.COORDINATOR.value}),
    ),
    Command("status", N_("Where each forum stands: pledges by state and stage"), MEMBERS),
    Command("find", N_("Search pledges by words, with filters"), MEMBERS),
    Command(
        "missing",
        N_("Invited localities that have not pledged for a forum"),
        frozenset({Role.COORDINATOR.value, Role.STAFF.value}),
    ),
    Command("export", N_("The pledges as CSV and XLSX files"), MEMBERS),
    Command(
        "chart",
        N_("A picture of a forum's pledges by objective and by stage"),
        frozenset({Role.COORDINATOR.value, Role.STAFF.value}),
    ),
    Command("review", N_("Pledges awaiting your review"), frozenset({Role.COORDINATOR.value})),
    Command("history", N_("A pledge's changes and progress: /history CLA-2027-0042"), MEMBERS),
    Command("deadlines", N_("Upcoming pledge deadlines, for your calendar"), MEMBERS),
    Command("settings", N_("Time zone, reminder hour and which reminders you get"), MEMBERS),
    Command("stop", N_("Stop all messages from the bot (/start resumes them)"), MEMBERS),
    Command("start", N_("Start, or join with an invitation"), EVERYONE),
    Command("language", N_("Change the language"), EVERYONE),
    Command("cancel", N_("Leave what you are doing"), EVERYONE),
    Command("help", N_("What this bot can do for you"), EVERYONE),
)
BY_NAME = {c.name: c for c in COMMANDS}


def commands_for(role: str | None) -> list[Command]:
    """The commands a role may use, in menu order."""
    return [c for c in COMMANDS if role in c.roles]


def bot_commands(t: Translator, role: str | None) -> list[BotCommand]:
    """The command menu for a role, described in the reader's language."""
    return [BotCommand(c.name, t.plain(c.description)) for c in commands_for(role)]
