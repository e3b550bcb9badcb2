"""An in-process stand-in for the Telegram Bot API that is strict about Telegram's limits.

End-to-end tests and the terminal simulator talk to :class:`BotApiStandIn` instead of
api.telegram.org. Every request real Telegram would refuse (400, 404, 429, or 403 for a chat
that never started the bot) gets the same error response *and* a line in
``BotApiStandIn.violations``, so a test can fail on it even when the bot swallows the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import mimetypes
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

JsonDict: TypeAlias = dict[str, Any]
AnyApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

# Virtual second 0 maps to a fixed Unix time so message dates are reproducible between runs.
EPOCH: Final = 1_750_000_000

TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
CALLBACK_ANSWER_LIMIT: Final = 200
CALLBACK_DATA_LIMIT: Final = 64
BUTTONS_PER_ROW: Final = 8
BUTTONS_TOTAL: Final = 100
COMMANDS_LIMIT: Final = 100
COMMAND_DESCRIPTION_LIMIT: Final = 256
# Telegram drops a callback query that is not answered within about 15 seconds.
CALLBACK_ANSWER_WINDOW: Final = 15.0
# Messages older than 48 hours can no longer be deleted for everyone.
DELETE_WINDOW: Final = 48 * 3600.0
DOCUMENT_SIZE_LIMIT: Final = 50 * 1024 * 1024
PHOTO_SIZE_LIMIT: Final = 10 * 1024 * 1024

NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = "query is too old and response timeout expired or query ID is invalid"

_TOKEN_SECRET: Final = "SIMULATED_standin_token_0000000000"
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_MENU_BUTTON_TYPES: Final = frozenset({"commands", "web_app", "default"})
_BUTTON_ACTIONS: Final = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


# --------------------------------------------------------------------------- clock


class VirtualClock:
    """Monotonic seconds that move only when told to, so rate-limit tests are deterministic.

    With ``real=True`` it follows ``time.monotonic()`` (for the interactive simulator) and
    ``advance`` still fast-forwards on top of it.
    """

    def __init__(self, start: float = 0.0, *, real: bool = False) -> None:
        self._real = real
        self._offset = start

    def __call__(self) -> float:
        return (time.monotonic() if self._real else 0.0) + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        self._offset += seconds


# --------------------------------------------------------------------------- HTML parse mode


class EntityParseError(ValueError):
    """The text is not valid in Telegram's HTML parse mode."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text plus Telegram message entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[JsonDict]


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units, so an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


_TAG_ENTITY: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ATTR: Final = r"[^\s=>/\"']+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?"
_START_TAG: Final = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_ATTR})*)\s*(/?)>")
_ATTRIBUTE: Final = re.compile(r"([^\s=>/\"']+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_END_TAG: Final = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_CHAR_REF: Final = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]*));")
_NAMED_REFS: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_PLAIN_RUN: Final = re.compile(r"[^<&]+")


@dataclass
class _OpenTag:
    name: str
    offset: int
    entity: JsonDict | None  # None when the tag only contributes to its parent (code in pre)


class _TelegramHtml:
    """A deliberately unforgiving parser for Telegram's HTML subset.

    Our own tokenizer rather than html.parser, because html.parser silently accepts things
    Telegram rejects (stray '<', CDATA content of <script>, entities without ';').
    """

    def __init__(self, source: str) -> None:
        self._src = source
        self._pos = 0
        self._out: list[str] = []
        self._u16 = 0
        self._stack: list[_OpenTag] = []
        self._entities: list[JsonDict] = []

    def parse(self) -> ParsedText:
        while self._pos < len(self._src):
            char = self._src[self._pos]
            if char == "<":
                self._tag()
            elif char == "&":
                decoded, self._pos = _decode_char_ref(self._src, self._pos)
                self._append(decoded)
            else:
                run = _PLAIN_RUN.match(self._src, self._pos)
                assert run is not None  # the current char is neither '<' nor '&'
                self._append(run.group())
                self._pos = run.end()
        if self._stack:
            name = self._stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self._out), entities)

    def _append(self, text: str) -> None:
        self._out.append(text)
        self._u16 += utf16_len(text)

    def _tag(self) -> None:
        if self._src.startswith("</", self._pos):
            self._end_tag()
            return
        match = _START_TAG.match(self._src, self._pos)
        if match is None:
            raise _error(self._src, self._pos, 'Unexpected "<"; escape it as "&lt;"')
        name = match.group(1).lower()
        if name not in _TAG_ENTITY or match.group(3):
            raise _error(self._src, self._pos, f'Unsupported start tag "{name}"')
        attributes = _attributes(self._src, self._pos, match.group(2))
        entity = self._entity_for(name, attributes)
        self._stack.append(_OpenTag(name, self._u16, entity))
        self._pos = match.end()

    def _entity_for(self, name: str, attributes: dict[str, str]) -> JsonDict | None:
        def require(attribute: str, expected: str | None = None) -> str:
            value = attributes.get(attribute, "")
            if not value or (expected is not None and value != expected):
                wanted = f'"{expected}"' if expected else "a non-empty value"
                message = f'Tag "{name}" must have attribute "{attribute}" with {wanted}'
                raise _error(self._src, self._pos, message)
            return value

        if name == "a":
            return {"type": "text_link", "url": require("href")}
        if name == "span":
            require("class", "tg-spoiler")
        if name == "tg-emoji":
            return {"type": "custom_emoji", "custom_emoji_id": require("emoji-id")}
        if name == "blockquote" and "expandable" in attributes:
            return {"type": "expandable_blockquote"}
        if name == "code" and self._is_pre_language(attributes):
            return None
        return {"type": _TAG_ENTITY[name]}

    def _is_pre_language(self, attributes: dict[str, str]) -> bool:
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        language = attributes.get("class", "")
        parent = self._stack[-1] if self._stack else None
        if not language.startswith("language-") or parent is None or parent.entity is None:
            return False
        if parent.name != "pre" or parent.offset != self._u16:
            return False
        parent.entity["language"] = language.removeprefix("language-")
        return True

    def _end_tag(self) -> None:
        match = _END_TAG.match(self._src, self._pos)
        if match is None:
            raise _error(self._src, self._pos, "Unclosed end tag")
        name = match.group(1).lower()
        if not self._stack:
            raise _error(self._src, self._pos, f'Unexpected end tag "</{name}>"')
        top = self._stack[-1]
        if top.name != name:
            expected = f'expected "</{top.name}>", found "</{name}>"'
            raise _error(self._src, self._pos, f"Unmatched end tag, {expected}")
        self._stack.pop()
        self._pos = match.end()
        length = self._u16 - top.offset
        if top.entity is not None and length > 0:
            self._entities.append({**top.entity, "offset": top.offset, "length": length})


def _error(source: str, index: int, message: str) -> EntityParseError:
    # Telegram reports positions as UTF-8 byte offsets into the text as sent.
    offset = len(source[:index].encode("utf-8"))
    return EntityParseError(f"{message} at byte offset {offset}")


def _decode_char_ref(source: str, index: int) -> tuple[str, int]:
    match = _CHAR_REF.match(source, index)
    if match is None:
        raise _error(source, index, 'Character "&" must be escaped as "&amp;"')
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_REFS:
            raise _error(source, index, f'Unsupported HTML entity "&{name};"')
        return _NAMED_REFS[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _error(source, index, f'Invalid character reference "{match.group()}"')
    return chr(code), match.end()


def _attributes(source: str, tag_index: int, text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        raw = match.group(2) or ""
        if raw[:1] in {'"', "'"}:
            raw = raw[1:-1]
        attributes[match.group(1).lower()] = _decode_attribute(source, tag_index, raw)
    return attributes


def _decode_attribute(source: str, tag_index: int, raw: str) -> str:
    parts: list[str] = []
    position = 0
    while (amp := raw.find("&", position)) >= 0:
        parts.append(raw[position:amp])
        try:
            decoded, position = _decode_char_ref(raw, amp)
        except EntityParseError as exc:
            raise _error(source, tag_index, f"Bad attribute value: {exc}") from exc
        parts.append(decoded)
    parts.append(raw[position:])
    return "".join(parts)


def parse_telegram_html(source: str) -> ParsedText:
    """Parse ``source`` the way Telegram's ``parse_mode=HTML`` does, or raise EntityParseError."""
    return _TelegramHtml(source).parse()


# --------------------------------------------------------------------------- records


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


# --------------------------------------------------------------------------- parameters

# Over HTTP every value arrives as a string; these tables restore the types PTB sent in-process
# so both transports feed identical dicts into one code path.
_INT_FIELDS: Final = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
    }
)
_BOOL_FIELDS: Final = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "allow_paid_broadcast",
        "show_caption_above_media",
    }
)
_JSON_FIELDS: Final = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "menu_button",
        "message_ids",
    }
)


def normalize_params(raw: Mapping[str, object]) -> JsonDict:
    """Bring form-encoded strings and PTB's JSON-ready values into one shape."""
    return {name: _normalize_value(name, value) for name, value in raw.items()}


def _normalize_value(name: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    # A value that does not convert is left as is, so validation reports it like Telegram would.
    with contextlib.suppress(ValueError):
        if name in _JSON_FIELDS:
            return json.loads(value)
        if name in _INT_FIELDS:
            return int(value)
    if name in _BOOL_FIELDS:
        return value.lower() == "true"
    return value


@dataclass
class _Call:
    method: str
    params: JsonDict
    files: Mapping[str, UploadedFile]

    def opt_str(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _bad_request(f"parameter {name} must be a String")
        return value

    def get_str(self, name: str) -> str:
        value = self.opt_str(name)
        if value is None:
            raise _bad_request(f"{name} is empty")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad_request(f"parameter {name} must be an Integer")
        return value

    def get_int(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise _bad_request(f"{name} is empty")
        return value

    def chat_id(self) -> int:
        value = self.params.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad_request("chat not found")
        return value

    def context(self) -> str:
        """A short description of the call for violation messages."""
        keys = ("chat_id", "message_id")
        parts = [f"{key}={self.params[key]!r}" for key in keys if key in self.params]
        text = self.params.get("text", self.params.get("caption"))
        if isinstance(text, str):
            parts.append(f"text={text[:60]!r}" + ("…" if len(text) > 60 else ""))
        return f" [{', '.join(parts)}]" if parts else ""


# --------------------------------------------------------------------------- rate limits


class _TokenBucket:
    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self._capacity = capacity
        self._rate = rate
        self._tokens = capacity
        self._stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0.0 if one is available now)."""
        if now > self._stamp:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
        missing = 1.0 - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self._rate

    def take(self) -> None:
        self._tokens -= 1.0


# --------------------------------------------------------------------------- stand-in state


@dataclass
class _ChatState:
    bucket: _TokenBucket
    next_message_id: int = 1
    messages: dict[int, SentMessage] = field(default_factory=dict)  # the bot's, in send order
    user_messages: dict[int, float] = field(default_factory=dict)  # message_id -> virtual time
    menu_button: JsonDict | None = None

    def allocate_id(self) -> int:
        # In a private chat both sides share one message_id sequence.
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class _CallbackQuery:
    issued: float
    answered: bool = False
    answer: str | None = None


_Handler: TypeAlias = Callable[[_Call], object]


class BotApiStandIn:
    """The Bot API as seen by one bot, with the user side driven by tests."""

    def __init__(
        self,
        *,
        bot_id: int = 7000000001,
        bot_username: str = "pledgebot_sim_bot",
        clock: VirtualClock | None = None,
        global_rate: float = 30.0,
        per_chat_rate: float = 1.0,
        per_chat_burst: int = 3,
    ) -> None:
        if global_rate <= 0 or per_chat_rate <= 0 or per_chat_burst < 1:
            raise ValueError("rates must be positive and the burst at least 1")
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.token = f"{bot_id}:{_TOKEN_SECRET}"
        self.clock = clock if clock is not None else VirtualClock()
        self.per_chat_rate = per_chat_rate
        self.per_chat_burst = per_chat_burst
        self.rate_limits_enabled = True
        self.max_poll_wait = 1.0
        self.violations: list[str] = []
        self.calls: list[tuple[str, dict[str, object]]] = []
        self.rate_limited = 0
        self._global_bucket = _TokenBucket(global_rate, global_rate, self.clock())
        self._chats: dict[int, _ChatState] = {}
        self._users: dict[int, SimUser] = {}
        self._blocked: set[int] = set()
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._default_menu_button: JsonDict = {"type": "commands"}
        self._queue: list[JsonDict] = []
        self._poll_waiters: set[asyncio.Event] = set()
        self._update_ids = itertools.count(100_000_001)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, UploadedFile] = {}
        self._queries: dict[str, _CallbackQuery] = {}
        self._events: list[tuple[int, int]] = []  # (chat_id, message_id) per send or edit
        self._handlers: dict[str, _Handler] = {
            name.lower(): handler for name, handler in self._handler_table().items()
        }

    def _handler_table(self) -> dict[str, _Handler]:
        return {
            "getMe": self._get_me,
            "logOut": lambda _call: True,
            "close": lambda _call: True,
            "getWebhookInfo": self._get_webhook_info,
            "deleteWebhook": self._delete_webhook,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": lambda call: self._send_media(call, "document"),
            "sendPhoto": lambda call: self._send_media(call, "photo"),
            "sendChatAction": self._send_chat_action,
        }

    # ------------------------------------------------------------------ transport entry

    def request(self) -> StandInRequest:
        """A new PTB request object bound to this stand-in (PTB wants two distinct ones)."""
        return StandInRequest(self)

    async def handle_request(
        self,
        path: str,
        params: Mapping[str, object],
        files: Mapping[str, UploadedFile] | None = None,
    ) -> tuple[int, bytes]:
        """Route ``/bot<token>/<method>``; shared by the in-process request and the HTTP server."""
        segments = path.rstrip("/").split("/")
        if len(segments) < 2 or not segments[-2].startswith("bot"):
            return 404, _dump({"ok": False, "error_code": 404, "description": "Not Found"})
        if segments[-2].removeprefix("bot") != self.token:
            self.violations.append(f"request with a wrong bot token to {segments[-1]}")
            return 401, _dump({"ok": False, "error_code": 401, "description": "Unauthorized"})
        return await self.dispatch(segments[-1], params, files)

    async def dispatch(
        self,
        method: str,
        params: Mapping[str, object],
        files: Mapping[str, UploadedFile] | None = None,
    ) -> tuple[int, bytes]:
        """Run one Bot API method; returns (HTTP status, JSON body) like Telegram would."""
        call = _Call(method, normalize_params(params), dict(files or {}))
        self.calls.append((method, call.params))
        try:
            result = await self._invoke(call)
        except ApiError as error:
            return self._refuse(call, error)
        return 200, _dump({"ok": True, "result": result})

    async def _invoke(self, call: _Call) -> object:
        # Telegram treats method names case-insensitively.
        name = call.method.lower()
        if name == "getupdates":
            return await self._get_updates(call)
        handler = self._handlers.get(name)
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(call)

    def _refuse(self, call: _Call, error: ApiError) -> tuple[int, bytes]:
        if error.violation:
            self.violations.append(f"{call.method}: {error.description}{call.context()}")
        body: JsonDict = {"ok": False, "error_code": error.status, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return error.status, _dump(body)

    # ------------------------------------------------------------------ inspection

    def chat_messages(self, chat_id: int) -> list[SentMessage]:
        """Snapshots of the bot's messages still present in the chat, oldest first."""
        chat = self._chats.get(chat_id)
        return [copy.deepcopy(msg) for msg in chat.messages.values()] if chat else []

    def last_message(self, chat_id: int) -> SentMessage | None:
        messages = self.chat_messages(chat_id)
        return messages[-1] if messages else None

    def stored_message(self, chat_id: int, message_id: int) -> SentMessage:
        """A snapshot of the current state of one bot message; LookupError if it is gone."""
        chat = self._chats.get(chat_id)
        if chat is None or message_id not in chat.messages:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        return copy.deepcopy(chat.messages[message_id])

    def commands(
        self, *, scope: Mapping[str, object] | None = None, language_code: str = ""
    ) -> list[JsonDict]:
        return copy.deepcopy(self._commands.get(_commands_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None = None) -> JsonDict:
        """What setChatMenuButton stored for the chat (or the default for all chats)."""
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is not None and chat.menu_button is not None:
            return copy.deepcopy(chat.menu_button)
        return copy.deepcopy(self._default_menu_button)

    def history_mark(self) -> int:
        """A bookmark for :meth:`messages_since`."""
        return len(self._events)

    def messages_since(self, mark: int, chat_id: int) -> list[SentMessage]:
        """Messages sent or edited in ``chat_id`` after ``mark``, once each, in current state."""
        touched = dict.fromkeys(mid for cid, mid in self._events[mark:] if cid == chat_id)
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [copy.deepcopy(chat.messages[mid]) for mid in touched if mid in chat.messages]

    def drain_violations(self) -> list[str]:
        """Return and forget the violations so far (for tests that provoke them on purpose)."""
        drained, self.violations = self.violations, []
        return drained

    def callback_answer(self, query_id: str) -> tuple[bool, str | None]:
        """Whether the callback query was answered, and the answer's text."""
        query = self._queries.get(query_id)
        if query is None:
            raise LookupError(f"unknown callback query {query_id}")
        return query.answered, query.answer

    def unanswered_queries(self) -> list[str]:
        return [qid for qid, query in self._queries.items() if not query.answered]

    # ------------------------------------------------------------------ user side

    def block(self, user_id: int) -> None:
        """From now on sends to this user fail with 403, as after the user blocked the bot."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def person(
        self,
        application: AnyApplication,
        *,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> SimulatedPerson:
        user = SimUser(user_id, first_name, language_code, username)
        return SimulatedPerson(self, application, user)

    def push_update(self, update: Mapping[str, object]) -> None:
        """Queue an update for getUpdates (polling mode) and wake a waiting long poll."""
        self._queue.append(dict(update))
        for waiter in self._poll_waiters:
            waiter.set()

    def message_update(
        self,
        user: SimUser,
        text: str | None = None,
        *,
        content: Mapping[str, object] | None = None,
    ) -> JsonDict:
        """A private-chat message update from ``user``; ``content`` adds e.g. a document."""
        self._users[user.user_id] = user
        chat = self._chat(user.user_id)
        message_id = chat.allocate_id()
        chat.user_messages[message_id] = self.clock()
        message: JsonDict = {
            "message_id": message_id,
            "date": self._date(),
            "chat": self._chat_json(user.user_id),
            "from": user.to_json(),
        }
        if text is not None:
            message["text"] = text
            if entities := _command_entities(text):
                message["entities"] = entities
        message.update(content or {})
        return self._wrap_update({"message": message})

    def callback_update(self, user: SimUser, message: SentMessage, data: str) -> JsonDict:
        """A button press by ``user`` on the current state of ``message``."""
        self._users[user.user_id] = user
        stored = self.stored_message(message.chat_id, message.message_id)
        query_id = str(next(self._query_ids))
        self._queries[query_id] = _CallbackQuery(issued=self.clock())
        query: JsonDict = {
            "id": query_id,
            "from": user.to_json(),
            "chat_instance": str(-(10**12) - message.chat_id),
            "data": data,
            "message": self._message_json(stored),
        }
        return self._wrap_update({"callback_query": query})

    def document_content(self, file_name: str = "notes.pdf", size: int = 12_345) -> JsonDict:
        mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        document = {"file_name": file_name, "mime_type": mime_type, "file_size": size}
        return {"document": {**self._new_file_ref(), **document}}

    def photo_content(self) -> JsonDict:
        sizes = [(90, 67, 1_234), (320, 240, 14_567), (1280, 960, 123_456)]
        return {
            "photo": [
                {**self._new_file_ref(), "width": w, "height": h, "file_size": size}
                for w, h, size in sizes
            ]
        }

    def sticker_content(self) -> JsonDict:
        sticker = {
            **self._new_file_ref(),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return {"sticker": sticker}

    def record_violation(self, description: str) -> None:
        self.violations.append(description)

    def _wrap_update(self, body: JsonDict) -> JsonDict:
        return {"update_id": next(self._update_ids), **body}

    def _new_file_ref(self) -> JsonDict:
        number = next(self._file_ids)
        return {"file_id": f"SIMFILE{number:08d}", "file_unique_id": f"SIMUNIQ{number:08d}"}

    # ------------------------------------------------------------------ shared helpers

    def _chat(self, chat_id: int) -> _ChatState:
        if chat_id not in self._chats:
            bucket = _TokenBucket(self.per_chat_burst, self.per_chat_rate, self.clock())
            self._chats[chat_id] = _ChatState(bucket)
        return self._chats[chat_id]

    def _date(self) -> int:
        return EPOCH + int(self.clock())

    def _bot_json(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Pledgebot (simulated)",
            "username": self.bot_username,
        }

    def _chat_json(self, chat_id: int) -> JsonDict:
        user = self._users.get(chat_id)
        if user is None:
            return {"id": chat_id, "type": "private", "first_name": "?"}
        data: JsonDict = {"id": chat_id, "type": "private", "first_name": user.first_name}
        if user.username:
            data["username"] = user.username
        return data

    def _message_json(self, message: SentMessage) -> JsonDict:
        data: JsonDict = {
            "message_id": message.message_id,
            "from": self._bot_json(),
            "chat": self._chat_json(message.chat_id),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        text_key, entities_key = ("caption", "caption_entities")
        if not message.is_media:
            text_key, entities_key = "text", "entities"
        if message.text or not message.is_media:
            data[text_key] = message.text
        if message.entities:
            data[entities_key] = message.entities
        data.update(_media_json(message))
        if message.reply_markup is not None:
            data["reply_markup"] = message.reply_markup
        return data

    def _writable_chat(self, chat_id: int) -> _ChatState:
        if chat_id in self._blocked:
            # A legitimate runtime condition the bot must cope with, hence no violation.
            raise ApiError(403, "Forbidden: bot was blocked by the user", violation=False)
        if chat_id not in self._users:
            if chat_id > 0:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise _bad_request("chat not found")
        return self._chat(chat_id)

    def _spend_rate_token(self, chat_id: int) -> None:
        if not self.rate_limits_enabled:
            return
        now = self.clock()
        chat_bucket = self._chat(chat_id).bucket
        wait = max(self._global_bucket.wait(now), chat_bucket.wait(now))
        if wait > 0:
            self.rate_limited += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        self._global_bucket.take()
        chat_bucket.take()

    def _parsed(self, call: _Call, text_key: str, entities_key: str, limit: int) -> ParsedText:
        raw = call.opt_str(text_key) or ""
        mode = (call.opt_str("parse_mode") or "").lower()
        if mode == "html":
            try:
                parsed = parse_telegram_html(raw)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        elif mode == "":
            parsed = ParsedText(raw, list(call.params.get(entities_key) or []))
        else:
            raise _bad_request(f"parse_mode {mode!r} is not simulated by the stand-in")
        if utf16_len(parsed.text) > limit:
            raise _bad_request(
                "message is too long" if text_key == "text" else "caption is too long"
            )
        return parsed

    def _message_text(self, call: _Call) -> ParsedText:
        parsed = self._parsed(call, "text", "entities", TEXT_LIMIT)
        if not parsed.text.strip():
            raise _bad_request("message text is empty")
        return parsed

    def _store(self, chat_id: int, message: SentMessage) -> SentMessage:
        self._chat(chat_id).messages[message.message_id] = message
        self._events.append((chat_id, message.message_id))
        return message

    def _check_reply_target(self, call: _Call, chat: _ChatState) -> None:
        target = call.params.get("reply_parameters")
        if not isinstance(target, dict) or target.get("allow_sending_without_reply"):
            return
        message_id = target.get("message_id")
        if message_id not in chat.messages and message_id not in chat.user_messages:
            raise _bad_request("message to be replied not found")

    def _editable(self, call: _Call) -> SentMessage:
        if "inline_message_id" in call.params:
            raise _bad_request("inline messages are not simulated by the stand-in")
        chat = self._writable_chat(call.chat_id())
        message = chat.messages.get(call.get_int("message_id"))
        if message is None:
            raise _bad_request("message to edit not found")
        return message

    # ------------------------------------------------------------------ methods

    def _get_me(self, _call: _Call) -> JsonDict:
        return {
            **self._bot_json(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_webhook_info(self, _call: _Call) -> JsonDict:
        pending = len(self._queue)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    def _delete_webhook(self, call: _Call) -> bool:
        if call.params.get("drop_pending_updates") is True:
            self._queue.clear()
        return True

    async def _get_updates(self, call: _Call) -> list[JsonDict]:
        offset = call.opt_int("offset")
        limit = call.opt_int("limit") or 100
        timeout = call.opt_int("timeout") or 0
        if offset is not None:
            self._confirm_updates(offset)
        if not self._queue and timeout > 0:
            await self._wait_for_update(min(float(timeout), self.max_poll_wait))
        return copy.deepcopy(self._queue[:limit])

    def _confirm_updates(self, offset: int) -> None:
        # A positive offset confirms every earlier update; a negative one keeps only the last few.
        if offset < 0:
            self._queue = self._queue[offset:]
        else:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]

    async def _wait_for_update(self, seconds: float) -> None:
        # One event per waiter keeps the stand-in usable from any event loop.
        waiter = asyncio.Event()
        self._poll_waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), seconds)
        finally:
            self._poll_waiters.discard(waiter)

    def _set_my_commands(self, call: _Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands must be an Array")
        _validate_commands(commands)
        language_code = call.opt_str("language_code") or ""
        _validate_language_code(language_code)
        key = _commands_key(call.params.get("scope"), language_code)
        self._commands[key] = copy.deepcopy(commands)
        return True

    def _get_my_commands(self, call: _Call) -> list[JsonDict]:
        key = _commands_key(call.params.get("scope"), call.opt_str("language_code") or "")
        return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, call: _Call) -> bool:
        key = _commands_key(call.params.get("scope"), call.opt_str("language_code") or "")
        self._commands.pop(key, None)
        return True

    def _set_chat_menu_button(self, call: _Call) -> bool:
        button = call.params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in _MENU_BUTTON_TYPES:
            raise _bad_request("menu button is invalid")
        chat_id = call.opt_int("chat_id")
        if chat_id is None:
            self._default_menu_button = button
        else:
            self._writable_chat(chat_id).menu_button = button
        return True

    def _send_message(self, call: _Call) -> JsonDict:
        chat_id = call.chat_id()
        parsed = self._message_text(call)
        inline, other = _read_markup(call.params.get("reply_markup"))
        chat = self._writable_chat(chat_id)
        self._check_reply_target(call, chat)
        self._spend_rate_token(chat_id)
        message = SentMessage(
            message_id=chat.allocate_id(),
            chat_id=chat_id,
            text=parsed.text,
            html=call.get_str("text"),
            reply_markup=inline,
            entities=parsed.entities,
            date=self._date(),
            reply_keyboard=other,
        )
        return self._message_json(self._store(chat_id, message))

    def _edit_message_text(self, call: _Call) -> JsonDict:
        parsed = self._message_text(call)
        inline = _inline_only(call.params.get("reply_markup"))
        message = self._editable(call)
        if message.is_media:
            raise _bad_request("there is no text in the message to edit")
        unchanged = (parsed.text, parsed.entities, inline) == (
            message.text,
            message.entities,
            message.reply_markup,
        )
        if unchanged:
            raise _bad_request(NOT_MODIFIED)
        self._spend_rate_token(message.chat_id)
        message.text, message.entities = parsed.text, parsed.entities
        message.html = call.get_str("text")
        return self._apply_edit(message, inline)

    def _edit_message_reply_markup(self, call: _Call) -> JsonDict:
        inline = _inline_only(call.params.get("reply_markup"))
        message = self._editable(call)
        if inline == message.reply_markup:
            raise _bad_request(NOT_MODIFIED)
        self._spend_rate_token(message.chat_id)
        return self._apply_edit(message, inline)

    def _apply_edit(self, message: SentMessage, inline: JsonDict | None) -> JsonDict:
        # An edit without reply_markup removes the inline keyboard, as on Telegram.
        message.reply_markup = inline
        message.edit_date = self._date()
        self._events.append((message.chat_id, message.message_id))
        return self._message_json(message)

    def _delete_message(self, call: _Call) -> bool:
        chat_id = call.chat_id()
        message_id = call.get_int("message_id")
        if chat_id not in self._users:
            raise _bad_request("chat not found")
        chat = self._chat(chat_id)
        if message_id in chat.messages:
            sent_at = float(chat.messages[message_id].date - EPOCH)
        elif message_id in chat.user_messages:
            sent_at = chat.user_messages[message_id]
        else:
            raise _bad_request("message to delete not found")
        if self.clock() - sent_at > DELETE_WINDOW:
            raise _bad_request("message can't be deleted for everyone")
        chat.messages.pop(message_id, None)
        chat.user_messages.pop(message_id, None)
        return True

    def _answer_callback_query(self, call: _Call) -> bool:
        query = self._queries.get(call.get_str("callback_query_id"))
        if query is None or query.answered:
            raise _bad_request(QUERY_TOO_OLD)
        if self.clock() - query.issued > CALLBACK_ANSWER_WINDOW:
            raise _bad_request(QUERY_TOO_OLD)
        text = call.opt_str("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise _bad_request("MESSAGE_TOO_LONG: callback answer text exceeds 200 characters")
        query.answered = True
        query.answer = text or None
        return True

    def _send_chat_action(self, call: _Call) -> bool:
        chat_id = call.chat_id()
        if call.get_str("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._writable_chat(chat_id)
        return True

    def _send_media(self, call: _Call, kind: Literal["document", "photo"]) -> JsonDict:
        chat_id = call.chat_id()
        upload = self._resolve_upload(call, kind)
        size_limit = DOCUMENT_SIZE_LIMIT if kind == "document" else PHOTO_SIZE_LIMIT
        if len(upload.content) > size_limit:
            raise _bad_request("file is too big")
        parsed = self._parsed(call, "caption", "caption_entities", CAPTION_LIMIT)
        inline, other = _read_markup(call.params.get("reply_markup"))
        chat = self._writable_chat(chat_id)
        self._check_reply_target(call, chat)
        self._spend_rate_token(chat_id)
        file_ref = self._new_file_ref()
        self._files[file_ref["file_id"]] = upload
        media: JsonDict = {
            **file_ref,
            "file_name": upload.file_name,
            "mime_type": upload.mime_type,
            "content": upload.content,
            "caption": parsed.text,
        }
        message = SentMessage(
            message_id=chat.allocate_id(),
            chat_id=chat_id,
            text=parsed.text,
            html=call.opt_str("caption") or "",
            reply_markup=inline,
            entities=parsed.entities,
            date=self._date(),
            reply_keyboard=other,
            document=media if kind == "document" else None,
            photo=media if kind == "photo" else None,
        )
        return self._message_json(self._store(chat_id, message))

    def _resolve_upload(self, call: _Call, field_name: str) -> UploadedFile:
        if field_name in call.files:
            return call.files[field_name]
        value = call.params.get(field_name)
        if not isinstance(value, str) or not value:
            raise _bad_request(f"there is no {field_name} in the request")
        if value.startswith("attach://"):
            attached = call.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad_request(f"file {value} not found in the request")
            return attached
        if value in self._files:
            return self._files[value]
        if value.startswith(("http://", "https://")):
            file_name = urlsplit(value).path.rsplit("/", 1)[-1] or "file"
            return UploadedFile(file_name, b"")
        raise _bad_request("wrong file identifier/HTTP URL specified")


# --------------------------------------------------------------------------- validation helpers


def _dump(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _media_json(message: SentMessage) -> JsonDict:
    public = ("file_id", "file_unique_id")
    if message.document is not None:
        document = message.document
        meta = {key: document[key] for key in public}
        meta.update(file_name=document["file_name"], mime_type=document["mime_type"])
        return {"document": {**meta, "file_size": len(document["content"])}}
    if message.photo is not None:
        meta = {key: message.photo[key] for key in public}
        size = len(message.photo["content"])
        return {"photo": [{**meta, "width": 1280, "height": 960, "file_size": size}]}
    return {}


def _command_entities(text: str) -> list[JsonDict]:
    match = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
    if match is None or (match.end() < len(text) and not text[match.end()].isspace()):
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


def _commands_key(scope: object, language_code: str) -> tuple[str, str]:
    scope = scope if scope is not None else {"type": "default"}
    return json.dumps(scope, sort_keys=True), language_code


def _validate_commands(commands: list[Any]) -> None:
    if len(commands) > COMMANDS_LIMIT:
        raise _bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict):
            raise _bad_request("can't parse BotCommand")
        name = command.get("command")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise _bad_request(f"BOT_COMMAND_INVALID: {name!r}")
        description = command.get("description")
        limit = COMMAND_DESCRIPTION_LIMIT
        if not isinstance(description, str) or not 1 <= len(description) <= limit:
            raise _bad_request(f"BOT_COMMAND_DESCRIPTION_INVALID for /{name}")


def _validate_language_code(language_code: str) -> None:
    if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
        raise _bad_request("LANG_CODE_INVALID")


def _read_markup(markup: object) -> tuple[JsonDict | None, JsonDict | None]:
    """Split reply_markup into (inline keyboard, any other markup), validating both."""
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
        return markup, None
    if "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"])
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    return None, markup


def _inline_only(markup: object) -> JsonDict | None:
    inline, other = _read_markup(markup)
    if other is not None:
        raise _bad_request("inline keyboard expected")
    return inline


def _validate_inline_keyboard(rows: object) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" must be an Array of Arrays')
    if any(len(row) > BUTTONS_PER_ROW for row in rows):
        raise _bad_request(f"too many buttons in a row (at most {BUTTONS_PER_ROW})")
    if sum(len(row) for row in rows) > BUTTONS_TOTAL:
        raise _bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _validate_inline_button(button)


def _validate_inline_button(button: object) -> None:
    if not isinstance(button, dict):
        raise _bad_request("can't parse inline keyboard button: object expected")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise _bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise _bad_request(f"can't parse inline keyboard button: more than one of {actions}")
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT
    ):
        raise _bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if "url" in button and (not isinstance(url, str) or not _is_button_url(url)):
        raise _bad_request("BUTTON_URL_INVALID")


def _is_button_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "tg"} and bool(parts.netloc or parts.path)


def _validate_reply_keyboard(rows: object) -> None:
    if not isinstance(rows, list) or not rows or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "keyboard" must be a non-empty Array of Arrays')
    for row in rows:
        for button in row:
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text:
                raise _bad_request("BUTTON_TEXT_INVALID")


# --------------------------------------------------------------------------- PTB request


def _uploads(request_data: RequestData | None) -> dict[str, UploadedFile]:
    if request_data is None:
        return {}
    uploads: dict[str, UploadedFile] = {}
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        uploads[name] = UploadedFile(file_name, data, mime_type)
    return uploads


class StandInRequest(BaseRequest):
    """A PTB request backend that answers from a :class:`BotApiStandIn` without any network."""

    __slots__ = ("_standin",)

    def __init__(self, standin: BotApiStandIn) -> None:
        self._standin = standin

    @property
    def read_timeout(self) -> float | None:
        # Answers are immediate; long polls are capped by BotApiStandIn.max_poll_wait instead.
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # Timeouts are accepted and ignored: nothing here can hang on a network.
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        params = request_data.parameters if request_data is not None else {}
        path = urlsplit(url).path
        return await self._standin.handle_request(path, params, _uploads(request_data))


# --------------------------------------------------------------------------- simulated users


class SimulatedPerson:
    """A human in a private chat with the bot, driving an Application in-process."""

    def __init__(self, standin: BotApiStandIn, application: AnyApplication, user: SimUser) -> None:
        self.user = user
        self.pace = 2.0  # seconds a human needs per action; also refills rate-limit buckets
        self.last_answer: str | None = None
        self._standin = standin
        self._application = application

    @property
    def user_id(self) -> int:
        return self.user.user_id

    @property
    def chat_id(self) -> int:
        return self.user.user_id

    @property
    def first_name(self) -> str:
        return self.user.first_name

    @property
    def language_code(self) -> str | None:
        return self.user.language_code

    async def send(self, text: str) -> list[SentMessage]:
        return await self._act(lambda: self._standin.message_update(self.user, text))

    async def send_document(self, file_name: str = "notes.pdf") -> list[SentMessage]:
        return await self._send_content(lambda: self._standin.document_content(file_name))

    async def send_photo(self) -> list[SentMessage]:
        return await self._send_content(self._standin.photo_content)

    async def send_sticker(self) -> list[SentMessage]:
        return await self._send_content(self._standin.sticker_content)

    async def press(
        self, label: str | int, *, message: SentMessage | None = None
    ) -> list[SentMessage]:
        target = self._keyboard_message(message)
        button = _pick_button(target, label)
        if button.callback_data is None:
            raise ValueError(f"button {button.text!r} opens {button.url}; the bot gets nothing")
        return await self._press(target, button.callback_data)

    async def press_data(
        self, callback_data: str, *, message: SentMessage | None = None
    ) -> list[SentMessage]:
        """Send a raw callback query, e.g. forged data or a press on a stale keyboard."""
        if message is None:
            with contextlib.suppress(LookupError):
                message = self._keyboard_message(None)
        if message is None:
            message = self._standin.last_message(self.chat_id)
        if message is None:
            raise LookupError(f"no bot message in chat {self.chat_id} to attach a press to")
        return await self._press(message, callback_data)

    async def _send_content(self, content: Callable[[], JsonDict]) -> list[SentMessage]:
        return await self._act(lambda: self._standin.message_update(self.user, content=content()))

    async def _press(self, message: SentMessage, data: str) -> list[SentMessage]:
        query_ids: list[str] = []

        def build() -> JsonDict:
            update = self._standin.callback_update(self.user, message, data)
            query_ids.append(update["callback_query"]["id"])
            return update

        replies = await self._act(build)
        answered, self.last_answer = self._standin.callback_answer(query_ids[0])
        if not answered:
            # Telegram clients keep showing a spinner until the query is answered.
            self._standin.record_violation(
                f"callback query not answered [chat_id={self.chat_id}, data={data!r}]"
            )
        return replies

    async def _act(self, build: Callable[[], JsonDict]) -> list[SentMessage]:
        self._standin.clock.advance(self.pace)
        update = Update.de_json(build(), self._application.bot)
        mark = self._standin.history_mark()
        await self._application.process_update(update)
        return self._standin.messages_since(mark, self.chat_id)

    def _keyboard_message(self, message: SentMessage | None) -> SentMessage:
        if message is not None:
            # Clients always show the current state of a message, so press on that.
            return self._standin.stored_message(message.chat_id, message.message_id)
        for candidate in reversed(self._standin.chat_messages(self.chat_id)):
            if candidate.buttons():
                return candidate
        raise LookupError(f"no bot message with an inline keyboard in chat {self.chat_id}")


def _pick_button(message: SentMessage, label: str | int) -> Button:
    buttons = message.buttons()
    if isinstance(label, int):
        if -len(buttons) <= label < len(buttons):
            return buttons[label]
    else:
        exact = [button for button in buttons if button.text == label]
        partial = [button for button in buttons if label in button.text]
        if exact or len(partial) == 1:
            return (exact or partial)[0]
    available = ", ".join(repr(button.text) for button in buttons)
    raise LookupError(
        f"no unique button {label!r} on message {message.message_id}; available: {available}"
    )
