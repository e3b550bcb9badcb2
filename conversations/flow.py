"""A flow, declared in one place: its commands and who may use them, its buttons' typed data,
the steps at which it waits for text, and how it asks again. The router is built from the
declared flows and refuses, when the bot starts, a command, button prefix or step claimed twice.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from telegram import BotCommand, Update

from conversations.context import PledgeContext
from conversations.i18n import N_, Translator
from storage.models import ConversationState, Role

MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
SEPARATOR = ":"

EVERYONE: frozenset[str | None] = frozenset(
    {None, Role.OFFICIAL.value, Role.COORDINATOR.value, Role.STAFF.value}
)
MEMBERS: frozenset[str | None] = frozenset(
    {Role.OFFICIAL.value, Role.COORDINATOR.value, Role.STAFF.value}
)
COORDINATORS: frozenset[str | None] = frozenset({Role.COORDINATOR.value})
SECRETARIAT: frozenset[str | None] = frozenset({Role.COORDINATOR.value, Role.STAFF.value})
OFFICIALS: frozenset[str | None] = frozenset({Role.OFFICIAL.value})


def is_coordinator(role: str | None) -> bool:
    """The one role check for coordinators' rights."""
    return role == Role.COORDINATOR.value


class ButtonData:
    """What one kind of button carries: a prefix and named fields (whole numbers, short codes,
    yes/no), never user text. Subclasses are frozen dataclasses declared with their prefix:

        @dataclass(frozen=True)
        class OpenPledge(ButtonData, prefix="m.open"):
            pledge: int
            page: int = 0

    `pack` refuses data Telegram would refuse (over 64 bytes); `parse` gives back the same
    type, or None for a forged or outdated button.
    """

    prefix: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or SEPARATOR in prefix:
            raise ValueError(f"a button prefix is a short code without {SEPARATOR!r}: {prefix!r}")
        cls.prefix = prefix

    def pack(self) -> str:
        """The callback data, checked against Telegram's limit when the button is built."""
        parts = [self.prefix]
        for name, kind in _fields(type(self)):
            value = getattr(self, name)
            text = ("1" if value else "0") if kind is bool else str(value)
            if SEPARATOR in text:
                raise ValueError(f"{type(self).__name__}.{name} may not contain {SEPARATOR!r}")
            parts.append(text)
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def parse(cls, data: str) -> Self | None:
        """The button's fields, or None when the data is not this kind's or is malformed."""
        prefix, *values = data.split(SEPARATOR)
        fields = _fields(cls)
        if prefix != cls.prefix or len(values) != len(fields):
            return None
        parsed: dict[str, object] = {}
        for (name, kind), value in zip(fields, values, strict=True):
            if kind is int:
                try:
                    parsed[name] = int(value)
                except ValueError:
                    return None
            elif kind is bool:
                if value not in ("0", "1"):
                    return None
                parsed[name] = value == "1"
            else:
                parsed[name] = value
        return cls(**parsed)


def _fields(cls: type[ButtonData]) -> tuple[tuple[str, type], ...]:
    """The button's fields and their types, read once per class."""
    known: tuple[tuple[str, type], ...] | None = cls.__dict__.get("_fields")
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    found = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    for name, kind in found:
        if kind not in (int, str, bool):
            raise TypeError(f"{cls.__name__}.{name}: button fields are int, str or bool")
    cls._fields = found  # type: ignore[attr-defined]
    return found


def prefix_of(data: str) -> str:
    """The kind of button some callback data is from."""
    return data.split(SEPARATOR, 1)[0]


# A refusal for a role that may not press a button: said in the presser's language.
NOT_FOR_YOU = N_("That button is not for you.")

Step = Callable[[Update, PledgeContext], Coroutine[Any, Any, None]]
ButtonStep = Callable[[Update, PledgeContext, Any], Coroutine[Any, Any, None]]
Reask = Callable[[Update, PledgeContext, ConversationState], Coroutine[Any, Any, bool]]


@dataclass(frozen=True)
class Command:
    """A /command: what the menu says of it, who may use it, and the step it starts."""

    name: str
    description: str
    roles: frozenset[str | None]
    run: Step


@dataclass(frozen=True)
class Button:
    """A kind of button: its data type, who may press it, and the step it runs."""

    data: type[ButtonData]
    run: ButtonStep
    roles: frozenset[str | None] = MEMBERS
    refusal: str = NOT_FOR_YOU  # what a role not in `roles` is told (translated)


@dataclass(frozen=True)
class Flow:
    """One flow: everything the router needs to know of it."""

    name: str
    commands: tuple[Command, ...] = ()
    buttons: tuple[Button, ...] = ()
    # The stored conversation states this flow owns, and what it does with text at each step.
    states: tuple[str, ...] = ()
    text_steps: Mapping[str, Step] = field(default_factory=dict)
    on_text: Step | None = None  # for any step of its states without one of its own
    reask: Reask | None = None


class Router:
    """Who handles what, built once from the declared flows."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self.flows = tuple(flows)
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, Button] = {}
        self.texts: dict[tuple[str, str], Step] = {}
        self.any_text: dict[str, Step] = {}
        self.reasks: dict[str, Reask] = {}
        owners: dict[str, str] = {}
        for flow in self.flows:
            for command in flow.commands:
                _claim(self.commands, command.name, command, f"command /{command.name}")
            for button in flow.buttons:
                _claim(self.buttons, button.data.prefix, button, f"button {button.data.prefix}")
            for state in flow.states:
                _claim(owners, state, flow.name, f"conversation state {state}")
                if flow.on_text is not None:
                    self.any_text[state] = flow.on_text
                if flow.reask is not None:
                    self.reasks[state] = flow.reask
            for step, run in flow.text_steps.items():
                for state in flow.states:
                    _claim(self.texts, (state, step), run, f"step {state}/{step}")

    def text_step(self, state: ConversationState) -> Step | None:
        """What takes a text message at the step a person is on."""
        return self.texts.get((state.flow, state.step)) or self.any_text.get(state.flow)

    def commands_for(self, role: str | None) -> list[Command]:
        """The commands a role may use, in the order of the flows that declare them."""
        return [c for c in self.commands.values() if role in c.roles]

    def menu(self, t: Translator, role: str | None) -> list[BotCommand]:
        """The command menu for a role, described in the reader's language."""
        return [BotCommand(c.name, t.plain(c.description)) for c in self.commands_for(role)]


def _claim(table: dict[Any, Any], key: object, value: object, what: str) -> None:
    if key in table:
        raise ValueError(f"{what} is declared twice")
    table[key] = value
