"""Pacing per private chat, on top of PTB's overall pacing.

PTB's AIORateLimiter paces the bot overall (30 messages a second) and per group (20 a minute),
but not per private chat, where Telegram answers 429 to more than about one message a second
after a short burst. A step that sends three messages to one person (a file, another file, a
note), or a person tapping fast, then draws 429s, waited out but each one a failed call. This
limiter keeps each private chat within a token bucket of Telegram's shape instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.ext import AIORateLimiter

# Telegram's documented guidance: about one message a second to one chat, short bursts allowed.
CHAT_BURST = 3
CHAT_RATE = 1.0  # messages a second, once the burst is spent
FORGET_AFTER = 60.0  # seconds: a chat quiet that long has its whole burst back


@dataclass
class _Bucket:
    tokens: float
    at: float


class ChatPacedLimiter(AIORateLimiter):
    """AIORateLimiter, with each private chat paced to Telegram's per-chat rate as well."""

    def __init__(
        self,
        *,
        burst: int = CHAT_BURST,
        rate: float = CHAT_RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **limits: Any,
    ) -> None:
        super().__init__(**limits)
        self._burst, self._rate, self._clock, self._sleep = burst, rate, clock, sleep
        self._buckets: dict[int, _Bucket] = {}
        self._lock = asyncio.Lock()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int) and chat_id > 0:  # a private chat (groups are negative)
            # Until the reserved moment, not for a reserved length: other sends may have
            # waited meanwhile.
            delay = await self._slot(chat_id) - self._clock()
            if delay > 0:
                await self._sleep(delay)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

    async def _slot(self, chat_id: int) -> float:
        """Reserve the chat's next send; returns the moment it may go (on the clock)."""
        async with self._lock:
            now = self._clock()
            if len(self._buckets) > 10_000:  # forget quiet chats, so memory stays flat
                self._buckets = {
                    c: b for c, b in self._buckets.items() if now - b.at < FORGET_AFTER
                }
            bucket = self._buckets.get(chat_id) or _Bucket(float(self._burst), now)
            tokens = min(float(self._burst), bucket.tokens + (now - bucket.at) * self._rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self._rate
            # The token is spent now, for the moment it will be used: later sends queue behind.
            self._buckets[chat_id] = _Bucket(tokens - 1 + wait * self._rate, now + wait)
            return now + wait
