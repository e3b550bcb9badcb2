"""The permission matrix: every command × every role, and every action on a pledge or a forum
× every role × every object, as one table of who may and who may not. Each cell is a real
update through the Application (buttons with forged callback data), and a refused cell must
change nothing and be answered with a reason, never with an apology.

Roles: a stranger, an official of locality A (Lyon), an official of B (Paris, A's partner on
the joint pledge), an official of an unrelated C (Quito), staff, a coordinator, and a member
of A a coordinator deactivated. Objects: A's draft, A's submitted pledge, the joint pledge,
C's pledge, a forum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import select

from bot.app import PledgeApplication
from bot.routing import build_router
from bot.standin import BotApiStandIn, SimulatedPerson
from storage.access import deactivate_member
from storage.engine import SessionFactory, transaction
from storage.models import Forum, Pledge, Role
from storage.types import utc_now
from tests.conftest import Invitations
from tests.conversations.helpers import (
    GOOD_DESCRIPTION,
    answer,
    join,
    latest_pledge,
    member,
    snapshot,
    submit_pledge,
    texts,
    walk_to,
)

APOLOGY = "something went wrong"
# What a refused press is answered with (a reason, never silence).
REFUSALS = frozenset(
    {
        "That pledge is not available.",
        "This pledge can no longer be changed.",
        "Only coordinators decide on pledges.",
    }
)
ROLES = ("stranger", "A", "B", "C", "staff", "coordinator", "deactivated")
OBJECTS = ("A draft", "A submitted", "joint", "C submitted")
EVERYONE = frozenset(ROLES)
MEMBERS = frozenset({"A", "B", "C", "staff", "coordinator"})
SECRETARIAT = frozenset({"staff", "coordinator"})

# Who may use each command: the policy, written out (the router's declarations must match it).
COMMANDS: dict[str, frozenset[str]] = {
    "start": EVERYONE,
    "language": EVERYONE,
    "cancel": EVERYONE,
    "help": EVERYONE,
    "pledge": MEMBERS,
    "mypledges": frozenset({"A", "B", "C"}),
    "status": MEMBERS,
    "find": MEMBERS,
    "history": MEMBERS,
    "export": MEMBERS,
    "deadlines": MEMBERS,
    "settings": MEMBERS,
    "stop": MEMBERS,
    "missing": SECRETARIAT,
    "chart": SECRETARIAT,
    "invite": frozenset({"coordinator"}),
    "members": frozenset({"coordinator"}),
    "invitations": frozenset({"coordinator"}),
    "forums": frozenset({"coordinator"}),
    "review": frozenset({"coordinator"}),
}
ROLE_OF = {"A": "official", "B": "official", "C": "official", "staff": "staff"}
ROLE_OF |= {"coordinator": "coordinator", "stranger": None, "deactivated": None}

# Who may see each object: A's draft is A's alone; a submitted pledge its locality's, its
# partners' and the secretariat's.
SEE = {
    "A draft": frozenset({"A"}),
    "A submitted": frozenset({"A", "staff", "coordinator"}),
    "joint": frozenset({"A", "B", "staff", "coordinator"}),
    "C submitted": frozenset({"C", "staff", "coordinator"}),
}
# Who may open it as their own card (/mypledges): the officials among those who may see it.
OPEN = {obj: SEE[obj] & {"A", "B", "C"} for obj in OBJECTS}
# Who may change it: the officials of the pledging locality only (partners see, never change).
CHANGE = {
    "A draft": frozenset({"A"}),
    "A submitted": frozenset({"A"}),
    "joint": frozenset({"A"}),
    "C submitted": frozenset({"C"}),
}
# Who may report progress: the pledging locality, once the pledge is past the draft.
REPORT = {obj: (frozenset() if obj == "A draft" else CHANGE[obj]) for obj in OBJECTS}
DECIDE = {obj: (frozenset() if obj == "A draft" else {"coordinator"}) for obj in OBJECTS}


@dataclass(frozen=True)
class Action:
    """A button on a pledge: its callback data, and who may press it on each object."""

    name: str
    data: str  # callback data with {id}, or a command with {reference}
    allowed: dict[str, frozenset[str]] | dict[str, set[str]]
    shows: Callable[[str], bool] = lambda text: True  # what an allowed press shows

    @property
    def command(self) -> bool:
        return self.data.startswith("/")


ACTIONS = (
    Action(
        "see it", "/pledge {reference}", {**SEE, "A draft": frozenset()}, lambda t: "Status" in t
    ),
    Action("open as one's own", "m.open:{id}:0", OPEN, lambda text: "Status" in text),
    Action("see the history", "h.open:{id}", SEE, lambda text: "History" in text),
    Action("edit", "m.edit:{id}:0", CHANGE),
    Action("withdraw (asked)", "m.withdraw:{id}:0", CHANGE, lambda text: "Withdraw" in text),
    Action("report progress", "m.progress:{id}:0", REPORT),
    Action("send back", "r.back:{id}", DECIDE),
    # Last: a coordinator's approval changes the pledge for the cells after it.
    Action("approve", "r.ok:{id}", DECIDE),
)


@dataclass
class Cast:
    people: dict[str, SimulatedPerson]
    pledges: dict[str, int]
    references: dict[str, str]
    forum: int


async def _cast(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> Cast:
    people = {
        "B": await join(standin, app, invitations, user_id=202, locality="Paris"),
        "C": await join(standin, app, invitations, user_id=203, locality="Quito", country="EC"),
        "staff": await join(standin, app, invitations, user_id=204, role=Role.STAFF),
        "coordinator": await join(standin, app, invitations, user_id=205, role=Role.COORDINATOR),
        "deactivated": await join(standin, app, invitations, user_id=206),
        "A": await join(standin, app, invitations, user_id=201),
        "stranger": standin.person(app, user_id=207, first_name="Sam", language_code="en"),
    }
    await people["stranger"].send("/start")
    pledges = {"C submitted": await _submitted(people["C"], sessions, 203)}
    pledges["A submitted"] = await _submitted(people["A"], sessions, 201)
    a = people["A"]
    await walk_to(a, "partners")
    await a.send("Paris")
    await a.press("Paris, France")
    await a.press("Done · in partnership")
    await answer(a, "scope")
    await answer(a, "contact")
    await a.press("✅ Submit")
    pledges["joint"] = (await latest_pledge(sessions, 201)).id or 0
    await walk_to(a, "title")
    pledges["A draft"] = (await latest_pledge(sessions, 201)).id or 0
    await a.send("/cancel")
    async with transaction(sessions) as session:
        gone = await member(sessions, 206)
        merged = await session.merge(gone)
        await deactivate_member(session=session, member=merged, by_id=None, now=utc_now())
        forum = (await session.exec(select(Forum).order_by(Forum.id))).first()
        assert forum is not None and forum.id is not None
    async with transaction(sessions) as session:
        references = {
            obj: (await session.get_one(Pledge, pledge_id)).reference or "CLA-2026-9999"
            for obj, pledge_id in pledges.items()
        }
    return Cast(people, pledges, references, forum.id)


async def _submitted(person: SimulatedPerson, sessions: SessionFactory, user_id: int) -> int:
    await submit_pledge(person)
    return (await latest_pledge(sessions, user_id)).id or 0


async def _all_pledges(sessions: SessionFactory) -> list[dict[str, object]]:
    async with transaction(sessions) as session:
        return [snapshot(p) for p in (await session.exec(select(Pledge).order_by(Pledge.id)))]


def test_the_routers_commands_are_the_policys() -> None:
    """A new command fails here until the table says who may use it."""
    declared = {
        name: frozenset(r for r, role in ROLE_OF.items() if role in command.roles)
        for name, command in build_router().commands.items()
    }
    # A deactivated member is a stranger: they have what strangers have, nothing more.
    assert declared == COMMANDS


async def test_every_command_as_every_role(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    cast = await _cast(app, standin, invitations, sessions)
    before = await _all_pledges(sessions)
    wrong: list[str] = []
    for name, allowed in COMMANDS.items():
        for role in ROLES:
            if name in ("stop", "cancel", "start"):
                continue  # their effects are tested on their own; here they would stop people
            person = cast.people[role]
            replies = await person.send(f"/{name}")
            said = texts(replies)
            refused = "You need an invitation" in said or "is not available to you" in said
            if APOLOGY in said or not replies:
                wrong.append(f"/{name} as {role}: {said[:80]!r}")
            elif refused == (role in allowed):
                wrong.append(f"/{name} as {role}: {'refused' if refused else 'allowed'}")
            await person.send("/cancel")
    assert wrong == [], "\n".join(wrong)
    # No command changed a pledge that was there (/pledge started drafts of B's and C's own).
    assert (await _all_pledges(sessions))[: len(before)] == before


async def test_every_action_on_every_object_as_every_role(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    cast = await _cast(app, standin, invitations, sessions)
    wrong: list[str] = []
    cells = 0
    # The coordinator last, so that an approval comes after everyone else's attempts.
    for action in ACTIONS:
        for role in sorted(ROLES, key=lambda r: r == "coordinator"):
            for obj in OBJECTS:
                cells += 1
                person = cast.people[role]
                before = await _all_pledges(sessions)
                person.last_answer = None
                filled = action.data.format(id=cast.pledges[obj], reference=cast.references[obj])
                replies = await (person.send if action.command else person.press_data)(filled)
                said = texts(replies) + (person.last_answer or "")
                allowed = role in action.allowed[obj]
                where = f"{action.name} on {obj} as {role}"
                if APOLOGY in said:
                    wrong.append(f"{where}: an apology")
                elif allowed and (not replies or person.last_answer in REFUSALS):
                    wrong.append(f"{where}: refused ({person.last_answer})")
                elif allowed and not action.shows(texts(replies)):
                    wrong.append(f"{where}: allowed but not shown: {texts(replies)[:80]!r}")
                elif not allowed:
                    refusal = said if action.command else person.last_answer
                    if not refusal or (not action.command and replies):
                        wrong.append(f"{where}: not refused with a reason: {said[:80]!r}")
                    if "Status" in texts(replies) or GOOD_DESCRIPTION[:40] in texts(replies):
                        wrong.append(f"{where}: the pledge was shown")
                    if await _all_pledges(sessions) != before:
                        wrong.append(f"{where}: the pledge changed")
                await person.send("/cancel")
    assert wrong == [], "\n".join(wrong)
    print(f"permission matrix: {cells} cells of actions on pledges")


async def test_a_forum_and_invitations_are_the_coordinators(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    cast = await _cast(app, standin, invitations, sessions)
    for role in ROLES:
        person = cast.people[role]
        for data in (f"f.open:{cast.forum}:0", "i.role:staff", "mb.page:0", "iv.rev:1"):
            replies = await person.press_data(data)
            assert APOLOGY not in texts(replies), (role, data)
            if role == "coordinator":
                assert replies, (role, data)
            else:
                assert person.last_answer, (role, data)  # refused, with a reason
    # Invite tokens: guessed, reused, or of a deactivated member's old link.
    guess = standin.person(app, user_id=208, first_name="Gus", language_code="en")
    assert "not valid" in texts(await guess.send("/start " + "A" * 32))
    token = await invitations.make(Role.OFFICIAL, locality="Lyon")
    assert "Welcome" in texts(await guess.send(f"/start {token}"))
    late = standin.person(app, user_id=209, first_name="Lea", language_code="en")
    assert "already been used" in texts(await late.send(f"/start {token}"))
    assert (await member(sessions, 209)).role is None
