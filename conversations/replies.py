"""What a step says, as data: the engine sends it once the step's transaction is committed.

A step never calls Telegram. It appends replies to its update's `Replies`; a reply appended
inside a transaction that rolls back is dropped with it, so nobody is ever told what was not
saved, and a Telegram error after the commit can no longer undo a saved answer.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, InlineKeyboardMarkup

from conversations.i18n import Html


@dataclass(frozen=True)
class Send:
    """A new message in the person's chat."""

    text: Html
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Replace:
    """The pressed message shows this instead (or a new message, where it cannot be edited)."""

    text: Html
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Buttons:
    """Only the pressed message's buttons change; None takes them away."""

    keyboard: InlineKeyboardMarkup | None


@dataclass(frozen=True)
class Answer:
    """The answer to a button press: stops the phone's spinner, perhaps with a word or alert."""

    text: str | None = None
    alert: bool = False


@dataclass(frozen=True)
class Upload:
    """A file (a document, or a picture shown inline) with its caption."""

    content: bytes
    filename: str
    caption: Html
    picture: bool = False


@dataclass(frozen=True)
class CommandMenu:
    """The command menu one person sees (their role's, in their language)."""

    chat_id: int
    commands: tuple[BotCommand, ...]


Reply = Send | Replace | Buttons | Answer | Upload | CommandMenu


@dataclass
class Replies:
    """The replies one update has produced so far, in order."""

    items: list[Reply] = field(default_factory=list)
    # Messages to others this update queued: delivered at once after the commit.
    notices: list[int] = field(default_factory=list)

    def add(self, reply: Reply) -> None:
        self.items.append(reply)

    def mark(self) -> tuple[int, int]:
        """Where the replies stand when a transaction begins."""
        return len(self.items), len(self.notices)

    def drop_after(self, mark: tuple[int, int]) -> None:
        """The transaction begun at `mark` rolled back: what it would have said goes too."""
        del self.items[mark[0] :]
        del self.notices[mark[1] :]

    @property
    def answered(self) -> bool:
        """Whether the button press already has its answer."""
        return any(isinstance(r, Answer) for r in self.items)

    def take(self) -> list[Reply]:
        """Everything to send now, leaving the list empty."""
        taken, self.items = self.items, []
        return taken


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as JSON, to be kept until it is sent (bot/inbox.py)."""
    if isinstance(reply, Send | Replace):
        return {
            "kind": "send" if isinstance(reply, Send) else "replace",
            "text": str(reply.text),
            "keyboard": reply.keyboard.to_dict() if reply.keyboard is not None else None,
        }
    if isinstance(reply, Buttons):
        keyboard = reply.keyboard.to_dict() if reply.keyboard is not None else None
        return {"kind": "buttons", "keyboard": keyboard}
    if isinstance(reply, Answer):
        return {"kind": "answer", "text": reply.text, "alert": reply.alert}
    if isinstance(reply, Upload):
        return {
            "kind": "upload",
            "content": base64.b64encode(reply.content).decode("ascii"),
            "filename": reply.filename,
            "caption": str(reply.caption),
            "picture": reply.picture,
        }
    return {
        "kind": "menu",
        "chat_id": reply.chat_id,
        "commands": [command.to_dict() for command in reply.commands],
    }


def reply_from_json(data: dict[str, Any]) -> Reply:
    """The reply `reply_to_json` kept."""
    kind = data["kind"]
    keyboard = (
        InlineKeyboardMarkup.de_json(data["keyboard"], None) if data.get("keyboard") else None
    )
    if kind == "send":
        return Send(Html(data["text"]), keyboard)
    if kind == "replace":
        return Replace(Html(data["text"]), keyboard)
    if kind == "buttons":
        return Buttons(keyboard)
    if kind == "answer":
        return Answer(data["text"], bool(data["alert"]))
    if kind == "upload":
        return Upload(
            base64.b64decode(data["content"]),
            data["filename"],
            Html(data["caption"]),
            bool(data["picture"]),
        )
    commands = tuple(BotCommand.de_json(c, None) for c in data["commands"])
    return CommandMenu(int(data["chat_id"]), commands)
