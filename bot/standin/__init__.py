"""An in-process stand-in for the Telegram Bot API that is strict about Telegram's limits.

End-to-end tests and the terminal simulator talk to :class:`BotApiStandIn` instead of
api.telegram.org. Every request real Telegram would refuse (400, 404, 429, or 403 for a chat
that never started the bot) gets the same error response *and* a line in
``BotApiStandIn.violations``, so a test can fail on it even when the bot swallows the error.

The package re-exports the public names of its modules, so ``from bot.standin import ...``
works for all of them.
"""

from bot.standin.aliases import AnyApplication, JsonDict
from bot.standin.api import NOT_MODIFIED, QUERY_TOO_OLD, BotApiStandIn
from bot.standin.clock import EPOCH, VirtualClock
from bot.standin.html import EntityParseError, ParsedText, parse_telegram_html, utf16_len
from bot.standin.limits import (
    BUTTONS_PER_ROW,
    BUTTONS_TOTAL,
    CALLBACK_ANSWER_LIMIT,
    CALLBACK_ANSWER_WINDOW,
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    COMMAND_DESCRIPTION_LIMIT,
    COMMANDS_LIMIT,
    DELETE_WINDOW,
    DOCUMENT_SIZE_LIMIT,
    PHOTO_SIZE_LIMIT,
    TEXT_LIMIT,
)
from bot.standin.params import normalize_params
from bot.standin.people import SimulatedPerson
from bot.standin.records import ApiError, Button, FaultKind, SentMessage, SimUser, UploadedFile
from bot.standin.request import StandInRequest

__all__ = [
    "BUTTONS_PER_ROW",
    "BUTTONS_TOTAL",
    "CALLBACK_ANSWER_LIMIT",
    "CALLBACK_ANSWER_WINDOW",
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "COMMANDS_LIMIT",
    "COMMAND_DESCRIPTION_LIMIT",
    "DELETE_WINDOW",
    "DOCUMENT_SIZE_LIMIT",
    "EPOCH",
    "NOT_MODIFIED",
    "PHOTO_SIZE_LIMIT",
    "QUERY_TOO_OLD",
    "TEXT_LIMIT",
    "AnyApplication",
    "ApiError",
    "BotApiStandIn",
    "Button",
    "EntityParseError",
    "FaultKind",
    "JsonDict",
    "ParsedText",
    "SentMessage",
    "SimUser",
    "SimulatedPerson",
    "StandInRequest",
    "UploadedFile",
    "VirtualClock",
    "normalize_params",
    "parse_telegram_html",
    "utf16_len",
]
