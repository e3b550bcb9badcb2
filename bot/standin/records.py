"""The records the stand-in keeps and returns: messages, buttons, uploads, users, API errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.standin.aliases import JsonDict


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class SentMessage:
    """The current state of one message the bot sent (edits applied).

    For documents and photos ``text``/``html``/``entities`` hold the caption.
    """

    message_id: int
    chat_id: int
    text: str
    html: str
    reply_markup: JsonDict | None = None
    document: JsonDict | None = None
    photo: JsonDict | None = None
    entities: list[JsonDict] = field(default_factory=list)
    date: int = 0
    edit_date: int | None = None
    reply_keyboard: JsonDict | None = None  # a ReplyKeyboardMarkup/Remove/ForceReply as sent

    @property
    def is_media(self) -> bool:
        return self.document is not None or self.photo is not None

    def buttons(self) -> list[Button]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            Button(button["text"], button.get("callback_data"), button.get("url"))
            for row in rows
            for button in row
        ]


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class SimUser:
    """A Telegram user on the other side of a private chat."""

    user_id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None

    def to_json(self) -> JsonDict:
        data: JsonDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


class ApiError(Exception):
    """An error response; ``violation`` says whether a correct bot could ever have caused it."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool = True,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.violation = violation


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# "timeout": done, but the answer is lost; "drop": the connection dropped before Telegram
# got the call, so nothing was done; "reset": done, then the connection broke before the
# answer; "ok": this call goes through.
FaultKind = Literal["500", "502", "429", "timeout", "drop", "reset", "ok"]


class StandInTimeout(Exception):
    """A call the stand-in carried out but whose answer it withholds, like a lost response."""


class StandInDropped(Exception):
    """A call whose connection dropped before it reached the stand-in: nothing was done."""


class StandInReset(Exception):
    """A call the stand-in carried out, whose connection then broke before the answer."""


@dataclass(frozen=True)
class Trap:
    """At the `nth` call from now (getUpdates aside), `spring` runs (a test kills the bot
    there): "before" the stand-in acts on the call, or "after" it acted, its answer then
    never leaving. Either way the connection is cut."""

    nth: int
    when: Literal["before", "after"]
    spring: Callable[[], None]


@dataclass(frozen=True)
class Fault:
    """One failure to come, for the next call of a Bot API method."""

    method: str
    kind: FaultKind
    chat_id: int | None = None  # any chat, unless given

    def error(self) -> ApiError:
        if self.kind == "429":
            return ApiError(429, "Too Many Requests: retry after 1", retry_after=1, violation=False)
        if self.kind == "500":
            return ApiError(500, "Internal Server Error", violation=False)
        return ApiError(502, "Bad Gateway", violation=False)
