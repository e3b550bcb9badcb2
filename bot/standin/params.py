"""Bot API call parameters: one shape for both transports and typed access for the methods."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bot.standin.aliases import JsonDict
from bot.standin.records import UploadedFile, _bad_request

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
