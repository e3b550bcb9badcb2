"""Validators for request fields Telegram checks: keyboards, commands, language codes, markup."""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import urlsplit

from bot.standin.aliases import JsonDict
from bot.standin.limits import (
    BUTTONS_PER_ROW,
    BUTTONS_TOTAL,
    CALLBACK_DATA_LIMIT,
    COMMAND_DESCRIPTION_LIMIT,
    COMMANDS_LIMIT,
)
from bot.standin.records import _bad_request

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
