"""`pledgebot simulate`: a terminal chat with the real bot, no token and no network needed.

The Application runs against the in-process Bot API stand-in and the configured database.
Type a message to send it; a number presses that button of the last message with buttons.
Everything the bot does is shown: its messages to every person of the session (each labelled
with whom it went to), the pop-ups a button press raises, and the files and pictures it sends
(saved to a folder, their paths printed).
"""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import PledgeApplication, build_application, register_default_commands, sender_of
from bot.reminders import ReminderSender
from bot.services import Services
from bot.standin import BotApiStandIn, SentMessage, SimulatedPerson, VirtualClock
from conversations.admin import deep_link
from storage.engine import transaction
from storage.invites import issue_invite
from storage.models import Role
from storage.types import clock_of

HELP = """Commands of the simulator (everything else is sent to the bot as a message):
  <number>                     press that button of the last message with buttons
  :as NAME [LANGUAGE]          become another person (created on first use), e.g. :as Amina ar
  :invite ROLE [LOCALITY CC]   make an invite, e.g. :invite official "Porto Alegre" BR
  :doc  :photo  :sticker       send a file, a picture or a sticker instead of text
  :who                         list the people in this simulation
  :time                        the simulated time (reminders follow it)
  :wait 7d | 12h | 30m         let time pass (one clock for all): due reminders arrive
  :help                        this text
  :quit                        leave"""

FIRST_USER_ID = 1001


WAIT = re.compile(r"^(\d+)([dhm])$")
WAIT_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


@dataclass
class SimulatedClock:
    """The simulation's time: it starts now and moves with the stand-in's virtual clock,
    so reminders, pacing and Telegram's rate limits all see the same time."""

    virtual: VirtualClock
    start: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.virtual())

    async def sleep(self, seconds: float) -> None:
        self.virtual.advance(seconds)
        await asyncio.sleep(0)

    def advance(self, duration: timedelta) -> None:
        self.virtual.advance(duration.total_seconds())


@dataclass
class Simulation:
    """The people of one simulated session and who is typing now."""

    standin: BotApiStandIn
    application: PledgeApplication
    services: Services
    write: Callable[[str], None]
    reminders: ReminderSender
    clock: SimulatedClock
    people: dict[str, SimulatedPerson] = field(default_factory=dict)
    current: str = ""
    files: Path | None = None  # where the files and pictures the bot sends are saved

    async def act(self, action: Awaitable[list[SentMessage]]) -> None:
        """Do what the person typed, then show everything the bot did: to them first, then to
        the others of the session (a coordinator told of a new pledge, say)."""
        mark = self.standin.history_mark()
        mine = await action
        self.show(mine)
        answer = self.person.last_answer
        if answer:
            self.write(f"   (pop-up: {answer})")
            self.person.last_answer = None
        for key, other in self.people.items():
            if key != self.current:
                self.show(self.standin.messages_since(mark, other.chat_id))

    async def wait(self, duration: timedelta) -> None:
        """Move time on an hour at a time, showing every reminder that falls due."""
        mark = self.standin.history_mark()
        step = min(duration, timedelta(hours=1))
        waited = timedelta(0)
        while waited < duration:
            self.clock.advance(step)
            waited += step
            await self.reminders.tick()
        for person in self.people.values():
            self.show(self.standin.messages_since(mark, person.chat_id))

    def become(self, name: str, language: str | None = None) -> SimulatedPerson:
        key = name.casefold()
        if key not in self.people:
            self.people[key] = self.standin.person(
                self.application,
                user_id=FIRST_USER_ID + len(self.people),
                first_name=name,
                language_code=language or self.services.settings.default_language,
            )
        self.current = key
        return self.people[key]

    @property
    def person(self) -> SimulatedPerson:
        return self.people[self.current]

    def show(self, messages: list[SentMessage]) -> None:
        for message in messages:
            self.write(render(message, self._name_of(message.chat_id)))
            saved = self._save_media(message)
            if saved is not None:
                self.write(f"   (saved: {saved})")
        for violation in self.standin.drain_violations():
            self.write(f"!! Telegram would refuse this: {violation}")

    def _save_media(self, message: SentMessage) -> Path | None:
        """A file or a picture the bot sent, written to `files` (once per message)."""
        media = message.document or message.photo
        if media is None or self.files is None or not isinstance(media.get("content"), bytes):
            return None
        name = Path(str(media.get("file_name") or "picture.png")).name
        path = self.files / f"{message.chat_id}-{message.message_id}-{name}"
        if not path.exists():
            self.files.mkdir(parents=True, exist_ok=True)
            path.write_bytes(media["content"])
        return path

    def _name_of(self, chat_id: int) -> str:
        for person in self.people.values():
            if person.chat_id == chat_id:
                return person.first_name
        return str(chat_id)


def render(message: SentMessage, recipient: str) -> str:
    """A bot message as text, its buttons numbered."""
    verb = "edited its message to" if message.edit_date else "→"
    kind = " (file)" if message.document else " (picture)" if message.photo else ""
    lines = [f"── bot {verb} {recipient}{kind} " + "─" * 20, message.text]
    for number, button in enumerate(message.buttons(), start=1):
        lines.append(f"   [{number}] {button.text}")
    return "\n".join(lines)


async def make_invite(
    services: Services, bot_username: str, role: Role, locality: str | None, country: str | None
) -> str:
    async with transaction(services.sessions) as session:
        issued = await issue_invite(session=session, role=role, locality=locality, country=country)
    return f"{deep_link(bot_username, issued.token)}\n   type: /start {issued.token}"


async def simulate(
    services: Services, lines: AsyncIterator[str], write: Callable[[str], None]
) -> None:
    """Run the chat until the lines run out or `:quit`."""
    standin = BotApiStandIn()
    clock = SimulatedClock(standin.clock)
    with clock_of(clock.now):
        await _run(services, standin, clock, lines, write)


async def _run(
    services: Services,
    standin: BotApiStandIn,
    clock: SimulatedClock,
    lines: AsyncIterator[str],
    write: Callable[[str], None],
) -> None:
    """The session itself, every part of it reading the simulated clock."""
    application = build_application(
        services,
        token=standin.token,
        request=standin.request(),
        get_updates_request=standin.request(),
        rate_limiter=False,
        clock=clock,
    )
    async with application:
        await register_default_commands(application)
        reminders = sender_of(application)
        await reminders.start()
        simulation = Simulation(standin, application, services, write, reminders, clock)
        simulation.files = services.settings.data_dir / "simulator-files"
        simulation.become("Alice")
        write(HELP)
        write("You are Alice. Start with ':invite coordinator', then '/start <token>'.")
        async for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line in (":quit", ":q", ":exit"):
                break
            await _handle(simulation, line)


async def _handle(simulation: Simulation, line: str) -> None:
    person, write = simulation.person, simulation.write
    if line.isdigit():
        try:
            await simulation.act(person.press(int(line) - 1))
        except (LookupError, IndexError) as error:
            write(f"(no such button: {error})")
        return
    if not line.startswith(":"):
        await simulation.act(person.send(line))
        return
    try:
        words = shlex.split(line[1:])
    except ValueError as error:
        write(f"(could not read that: {error})")
        return
    command, args = (words[0].lower(), words[1:]) if words else ("", [])
    if command == "as" and args:
        simulation.become(args[0], args[1] if len(args) > 1 else None)
        write(f"(you are now {args[0]})")
    elif command == "invite" and args and args[0] in {r.value for r in Role}:
        role = Role(args[0])
        if role is Role.OFFICIAL and len(args) < 3:
            write('(an official needs a locality and a country: :invite official "Lyon" FR)')
            return
        link = await make_invite(
            simulation.services,
            simulation.standin.bot_username,
            role,
            args[1] if len(args) > 2 else None,
            args[2] if len(args) > 2 else None,
        )
        write(f"invitation for a new {role.value}: {link}")
    elif command in ("doc", "photo", "sticker"):
        sender = {
            "doc": person.send_document,
            "photo": person.send_photo,
            "sticker": person.send_sticker,
        }[command]
        await simulation.act(sender())
    elif command == "time":
        write(f"(simulated time: {simulation.clock.now():%Y-%m-%d %H:%M} UTC)")
    elif command == "wait" and args and (match := WAIT.match(args[0])):
        await simulation.wait(int(match[1]) * WAIT_UNITS[match[2]])
        write(f"(simulated time: {simulation.clock.now():%Y-%m-%d %H:%M} UTC)")
    elif command == "who":
        write("(" + ", ".join(p.first_name for p in simulation.people.values()) + ")")
    else:
        write(HELP)
