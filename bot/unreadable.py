"""Updates this version of PTB cannot read (a field of a newer Bot API, a shape it does not
expect), reduced to who sent them, so that the person is still answered and the updates
around it still handled.

Without this, one such update in a polled batch makes PTB log the whole batch at CRITICAL
(with what people typed in it) and poll the same batch again, for ever; posted to the webhook,
it was refused with 400, which Telegram posts again and again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

from bot.metered_request import WrappedRequest

log = logging.getLogger(__name__)

# Updates that carry a message: the reduced one keeps its chat and sender.
MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
# PTB's parsing raises these on a shape it does not expect.
PARSE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError)


def readable(data: Mapping[str, Any], bot: Bot | None) -> Update:
    """The update, or, if PTB cannot read it, the same update reduced to who sent it."""
    try:
        return Update.de_json(dict(data), bot)
    except PARSE_ERRORS as error:
        # Never the update itself: it holds what people typed.
        log.warning(
            "update %s cannot be read (%s: %s); handled as a message of unknown content",
            data.get("update_id"),
            type(error).__name__,
            str(error)[:200],
        )
        return Update.de_json(reduced(data), bot)


def reduced(data: Mapping[str, Any]) -> dict[str, Any]:
    """Only what any Bot API version has: the update's id, its chat and its sender."""
    kept: dict[str, Any] = {"update_id": data.get("update_id", 0)}
    for kind in MESSAGE_KINDS:
        message = data.get(kind)
        if isinstance(message, Mapping):
            kept[kind] = {
                "message_id": message.get("message_id", 0),
                "date": message.get("date", 0),
                "chat": _chat(message.get("chat")),
                **(
                    {"from": _user(message["from"])}
                    if isinstance(message.get("from"), Mapping)
                    else {}
                ),
            }
            return kept
    query = data.get("callback_query")
    if isinstance(query, Mapping) and isinstance(query.get("from"), Mapping):
        kept["callback_query"] = {
            "id": str(query.get("id", "")),
            "from": _user(query["from"]),
            "chat_instance": str(query.get("chat_instance", "")),
            **({"data": str(query["data"])[:64]} if "data" in query else {}),
        }
    return kept


def _chat(chat: Any) -> dict[str, Any]:
    chat = chat if isinstance(chat, Mapping) else {}
    kept = {"id": int(chat.get("id", 0)), "type": str(chat.get("type", "private"))}
    for name in ("first_name", "title"):
        if isinstance(chat.get(name), str):
            kept[name] = chat[name]
    return kept


def _user(user: Mapping[str, Any]) -> dict[str, Any]:
    kept = {
        "id": int(user.get("id", 0)),
        "is_bot": bool(user.get("is_bot", False)),
        "first_name": str(user.get("first_name", "")),
    }
    if isinstance(user.get("language_code"), str):
        kept["language_code"] = user["language_code"]
    return kept


def readable_batch(body: bytes) -> bytes:
    """A getUpdates answer with every update PTB cannot read replaced by its reduced form."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body  # not JSON at all: PTB's own error handling takes it from here
    updates = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(updates, list):
        return body
    changed = False
    for i, data in enumerate(updates):
        if not isinstance(data, dict):
            continue
        try:
            Update.de_json(dict(data), None)
        except PARSE_ERRORS as error:
            log.warning(
                "polled update %s cannot be read (%s); handled as a message of unknown content",
                data.get("update_id"),
                type(error).__name__,
            )
            updates[i] = reduced(data)
            changed = True
    return json.dumps(answer).encode() if changed else body


class ReadablePolling(WrappedRequest):
    """The request backend of getUpdates, handing PTB only updates it can read."""

    __slots__ = ()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status == 200 and url.endswith("/getUpdates"):
            payload = readable_batch(payload)
        return status, payload
