"""Telegram's size, count and time limits, and the token bucket behind its rate limits."""

from __future__ import annotations

from typing import Final

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
# getFile answers "file is too big" above this: a bot can download files up to 20 MB.
DOWNLOAD_SIZE_LIMIT: Final = 20 * 1024 * 1024


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
