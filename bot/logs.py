"""Logging that never prints a secret."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType

REDACTED = "[REDACTED]"

# Invite tokens are not known in advance: what follows `/start` (as typed, or as PTB dumps an
# update, in a Python repr or in JSON, where the space may be escaped) and a deep link's
# `start=` (also `startgroup=`, `startapp=`, percent-encoded) is taken out by its shape.
_START_COMMAND = re.compile(
    r"(/start(?:@\w+)?(?:\s|\\[ntr]|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4})+)[^\s'\"\\<>]+"
)
_START_PARAMETER = re.compile(
    r"((?:(?<![A-Za-z])|(?<=%3[fF])|(?<=%26))start(?:group|app)?(?:=|%3[dD]))[^\s&#%'\"\\<>]+"
)
# The password of any URL that carries one (a DATABASE_URL, whoever prints it).
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)[^\s@/'\"]+(?=@)")


class RedactSecrets(logging.Filter):
    """Takes the secrets (the bot token in Bot API URLs, the webhook secret, the database's
    password) and invite tokens out of a record's message, traceback and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is taken out whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text with every secret and every invite token replaced by [REDACTED]."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _START_COMMAND.sub(rf"\1{REDACTED}", text)
        text = _START_PARAMETER.sub(rf"\1{REDACTED}", text)
        return _URL_PASSWORD.sub(rf"\1{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatted here, once: the handler's formatter then prints exc_text as it is.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.__dict__["fields"] = {
                key: self.redact(value) if isinstance(value, str) else value
                for key, value in fields.items()
            }
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's `fields` (the
    engine's update id, member id, flow, step, duration, outcome) and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already redacted by RedactSecrets
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str, *, redaction: RedactSecrets | None = None, json_lines: bool = False
) -> None:
    """One stderr handler with the redaction filter, which also prints what Python would have
    printed itself (an uncaught exception, a thread's, a record no handler took); HTTP client
    chatter only when debugging."""
    redaction = redaction or RedactSecrets(())
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redaction)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    last_resort = logging.StreamHandler()
    last_resort.setLevel(logging.WARNING)
    last_resort.addFilter(redaction)
    logging.lastResort = last_resort
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    if level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    """Python's own printing of an uncaught exception, through the redaction filter."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("pledgebot").critical(
        "stopped by an error", exc_info=(kind, error, traceback)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    thread = args.thread.name if args.thread is not None else "a thread"
    logging.getLogger("pledgebot").error(
        "uncaught error in %s",
        thread,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
