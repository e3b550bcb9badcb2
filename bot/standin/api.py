"""The Bot API methods and the state behind them, as seen by one bot."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import mimetypes
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, TypeAlias
from urllib.parse import unquote, urlsplit

from bot.standin.aliases import AnyApplication, JsonDict
from bot.standin.clock import EPOCH, VirtualClock
from bot.standin.html import EntityParseError, ParsedText, parse_telegram_html, utf16_len
from bot.standin.limits import (
    CALLBACK_ANSWER_LIMIT,
    CALLBACK_ANSWER_WINDOW,
    CAPTION_LIMIT,
    DELETE_WINDOW,
    DOCUMENT_SIZE_LIMIT,
    DOWNLOAD_SIZE_LIMIT,
    PHOTO_SIZE_LIMIT,
    TEXT_LIMIT,
    _TokenBucket,
)
from bot.standin.params import _Call, normalize_params
from bot.standin.people import SimulatedPerson
from bot.standin.records import (
    ApiError,
    Fault,
    FaultKind,
    SentMessage,
    SimUser,
    StandInDropped,
    StandInReset,
    StandInTimeout,
    Trap,
    UploadedFile,
    _bad_request,
)
from bot.standin.request import StandInRequest
from bot.standin.validation import (
    _inline_only,
    _read_markup,
    _validate_commands,
    _validate_language_code,
)
from bot.standin.webhooks import Webhook, check_webhook

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
# How the kinds of file people send begin, so that made-up bytes look like what they are named.
_FILE_STARTS: Final = {
    ".pdf": b"%PDF-1.7\n",
    ".png": b"\x89PNG\r\n\x1a\n",
    ".jpg": b"\xff\xd8\xff\xe0",
    ".jpeg": b"\xff\xd8\xff\xe0",
    ".gif": b"GIF89a",
    ".docx": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
    ".pptx": b"PK\x03\x04",
    ".odt": b"PK\x03\x04",
    ".ods": b"PK\x03\x04",
    ".zip": b"PK\x03\x04",
    ".doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    ".xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    ".ppt": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
}


def made_up_content(file_name: str, size: int) -> bytes:
    """`size` bytes that begin as a file of the kind the name says (printable text for a .txt
    or .csv)."""
    suffix = Path(file_name).suffix.lower()
    if suffix in (".txt", ".csv"):
        return bytes(32 + i % 95 for i in range(size))
    start = _FILE_STARTS.get(suffix, b"")[:size]
    return start + bytes(i % 251 for i in range(len(start), size))


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
        self.faults: list[Fault] = []
        self.trap: Trap | None = None
        self.counted_calls = 0  # calls other than getUpdates, for traps
        self.down_until: float | None = None  # on the clock: every call fails until then
        self._global_bucket = _TokenBucket(global_rate, global_rate, self.clock())
        self._chats: dict[int, _ChatState] = {}
        self._users: dict[int, SimUser] = {}
        self._blocked: set[int] = set()
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._default_menu_button: JsonDict = {"type": "commands"}
        self._queue: list[JsonDict] = []
        self.webhook: Webhook | None = None  # set by setWebhook: updates are pushed, not polled
        self._poll_waiters: set[asyncio.Event] = set()
        self._update_ids = itertools.count(100_000_001)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, UploadedFile] = {}
        self._downloads: dict[str, UploadedFile] = {}  # file_path from getFile → the file
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
            "setWebhook": self._set_webhook,
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
            "getFile": self._get_file,
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
        if path.startswith("/file/bot"):
            return self._download(path)
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
        trap = self._trap_for(method)
        if trap is not None and trap.when == "before":
            trap.spring()
            raise StandInDropped(method)
        if self.is_down():
            return self._refuse(call, ApiError(502, "Bad Gateway", violation=False))
        fault = self._take_fault(method, call.params.get("chat_id"))
        if fault is not None and fault.kind == "ok":
            fault = None
        if fault is not None and fault.kind == "drop":
            raise StandInDropped(method)
        if fault is not None and fault.kind not in ("timeout", "reset"):
            return self._refuse(call, fault.error())
        try:
            result = await self._invoke(call)
        except ApiError as error:
            return self._refuse(call, error)
        if fault is not None and fault.kind == "reset":  # done, then the connection broke
            raise StandInReset(method)
        if fault is not None:  # done, but the answer never reaches the bot
            raise StandInTimeout(method)
        if trap is not None:
            trap.spring()
            raise StandInTimeout(method)
        return 200, _dump({"ok": True, "result": result})

    def set_trap(
        self, nth: int, when: Literal["before", "after"], spring: Callable[[], None]
    ) -> None:
        """Spring `spring` at the `nth` call from now (1 is the next), getUpdates aside."""
        self.trap = Trap(self.counted_calls + nth, when, spring)

    def _trap_for(self, method: str) -> Trap | None:
        if method.lower() == "getupdates":
            return None
        self.counted_calls += 1
        trap = self.trap
        if trap is None or trap.nth != self.counted_calls:
            return None
        self.trap = None
        return trap

    def fail(
        self,
        method: str,
        kind: FaultKind,
        *,
        times: int = 1,
        after: int = 0,
        chat_id: int | None = None,
    ) -> None:
        """After `after` calls that go well, the next `times` calls of `method` (to `chat_id`,
        if given) fail as Telegram sometimes does: "502" (nothing done), "429" (nothing done,
        retry after a second), "timeout" (done, but the answer is lost) or "drop" (the
        connection dropped before the call arrived: nothing done)."""
        method = method.lower()
        self.faults.extend(Fault(method, "ok", chat_id) for _ in range(after))
        self.faults.extend(Fault(method, kind, chat_id) for _ in range(times))

    def go_down(self, seconds: float) -> None:
        """A Telegram outage: for `seconds` on the clock every call answers 502 and nothing is
        posted to a webhook; what people send meanwhile waits, as Telegram keeps it."""
        self.down_until = self.clock() + seconds

    def is_down(self) -> bool:
        return self.down_until is not None and self.clock() < self.down_until

    def _take_fault(self, method: str, chat_id: object) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.method == method.lower() and fault.chat_id in (None, chat_id):
                return self.faults.pop(index)
        return None

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

    def document_content(
        self,
        file_name: str = "notes.pdf",
        size: int = 12_345,
        data: bytes | None = None,
        *,
        mime_type: str | None = None,
        reported_size: int | None = None,
    ) -> JsonDict:
        """A document as a person sends it; its bytes can be fetched with getFile (`data`, or
        `size` bytes made up to look like the kind of file its name says). Telegram reports
        the type its client guessed (`mime_type` to say another) and a size
        (`reported_size` to understate it, as a client may)."""
        mime_type = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        content = data if data is not None else made_up_content(file_name, size)
        file_size = len(content) if reported_size is None else reported_size
        document = {"file_name": file_name, "mime_type": mime_type, "file_size": file_size}
        ref = self._new_file_ref()
        self._files[ref["file_id"]] = UploadedFile(file_name, content, mime_type)
        return {"document": {**ref, **document}}

    def photo_content(self) -> JsonDict:
        """A picture in three sizes, each one fetchable with getFile."""
        sizes = [(90, 67, 1_234), (320, 240, 14_567), (1280, 960, 123_456)]
        photo = []
        for w, h, size in sizes:
            ref = self._new_file_ref()
            self._files[ref["file_id"]] = UploadedFile(
                f"{ref['file_id']}.jpg", made_up_content("photo.jpg", size), "image/jpeg"
            )
            photo.append({**ref, "width": w, "height": h, "file_size": size})
        return {"photo": photo}

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
        info: JsonDict = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = list(self.webhook.allowed_updates)
        return info

    def _set_webhook(self, call: _Call) -> bool:
        url = call.get_str("url")
        if not url:
            self.webhook = None  # an empty URL removes the webhook, as deleteWebhook does
            return True
        self.webhook = check_webhook(
            url,
            secret=call.opt_str("secret_token"),
            max_connections=call.opt_int("max_connections"),
            allowed_updates=call.params.get("allowed_updates"),
        )
        if call.params.get("drop_pending_updates") is True:
            self._queue.clear()
        return True

    def _delete_webhook(self, call: _Call) -> bool:
        self.webhook = None
        if call.params.get("drop_pending_updates") is True:
            self._queue.clear()
        return True

    def pending_updates(self) -> list[JsonDict]:
        """The updates not yet confirmed, oldest first (what a webhook push takes from)."""
        return copy.deepcopy(self._queue)

    def confirm_update(self, update_id: int) -> None:
        """A webhook delivery answered 2xx: the update is Telegram's no more."""
        self._queue = [u for u in self._queue if u["update_id"] != update_id]

    async def _get_updates(self, call: _Call) -> list[JsonDict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
                violation=False,
            )
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

    def _get_file(self, call: _Call) -> JsonDict:
        """A file's path for download, as Telegram gives it for files up to 20 MB."""
        file_id = call.params.get("file_id")
        upload = self._files.get(file_id) if isinstance(file_id, str) else None
        if upload is None or not isinstance(file_id, str):
            raise _bad_request("invalid file_id")
        if len(upload.content) > DOWNLOAD_SIZE_LIMIT:
            raise _bad_request("file is too big")
        suffix = Path(upload.file_name).suffix
        file_path = f"documents/{file_id}{suffix}"
        self._downloads[file_path] = upload
        return {
            "file_id": file_id,
            "file_unique_id": file_id.replace("SIMFILE", "SIMUNIQ"),
            "file_size": len(upload.content),
            "file_path": file_path,
        }

    def _download(self, path: str) -> tuple[int, bytes]:
        """`/file/bot<token>/<file_path>`: the bytes of a file getFile gave a path for."""
        # PTB percent-encodes the path (the token's colon arrives as %3A), as URLs are.
        token, _, file_path = unquote(path).removeprefix("/file/bot").partition("/")
        if token != self.token:
            self.violations.append("file download with a wrong bot token")
            return 401, b""
        upload = self._downloads.get(file_path)
        return (200, upload.content) if upload is not None else (404, b"")

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


# --------------------------------------------------------------------------- response helpers


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
