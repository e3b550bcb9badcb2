"""Long polling into the inbox: Telegram is told an update was received only once it is kept.

PTB's own `Updater` confirms a batch (by asking for the next one) as soon as it has the batch
in memory, so a process killed while handling an update loses it: what the person typed is
gone. Here every polled update is written to the inbox first (`bot/inbox.py`, as a posted one
is in webhook mode) and only then confirmed; a process killed at any moment finds it there on
restart. While the database cannot keep an update, it is handled in memory as before (the
engine tells the person and waits for the database), and held over a stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.inbox import AnyApplication, Inbox
from bot.outage import backoff, retry_seconds
from storage.engine import DatabaseUnavailable

log = logging.getLogger(__name__)

POLL_TIMEOUT: Final = 10  # seconds Telegram holds a getUpdates open when there is nothing new
# Seconds on top of the poll's own timeout before the connection is given up.
READ_MARGIN: Final = 5.0


class PollingIntoInbox:
    """The one loop that takes updates from getUpdates and keeps them in the inbox."""

    def __init__(
        self, application: AnyApplication, inbox: Inbox, *, allowed_updates: list[str]
    ) -> None:
        self.application, self.inbox, self.allowed_updates = application, inbox, allowed_updates
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Delete a webhook left from an earlier run (Telegram refuses getUpdates beside one),
        then poll in the background."""
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        """No more polling (what was polled is kept, and confirmed with the next run's poll);
        the people in hand finish the update they are at."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.inbox.stop()

    async def _poll(self) -> None:
        offset: int | None = None
        failures = 0
        while True:
            try:
                batch = await self._get_updates(offset)
            except (InvalidToken, Conflict) as error:
                # Another process polls with this token, or the token is wrong: retrying
                # would not help, and both are worth an operator's attention.
                log.error("polling stopped: %s", error)
                raise
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
                continue
            except TelegramError as error:
                log.warning("getUpdates failed (attempt %s): %s", failures + 1, error)
                await asyncio.sleep(backoff(failures))
                failures += 1
                continue
            failures = 0
            for update in batch:
                await self._keep(update)
                offset = update.update_id + 1

    async def _get_updates(self, offset: int | None) -> tuple[Update, ...]:
        # Through the application's getUpdates request (bot/unreadable.py): an update PTB
        # cannot read arrives reduced to who sent it, never as an error for the whole batch.
        updates: tuple[Update, ...] = await self.application.bot.get_updates(
            offset=offset,
            timeout=POLL_TIMEOUT,
            allowed_updates=self.allowed_updates,
            read_timeout=READ_MARGIN,  # PTB adds the poll's own timeout to it
        )
        return updates

    async def _keep(self, update: Update) -> None:
        try:
            await self.inbox.receive(update, update.to_dict())
        except DatabaseUnavailable as error:
            log.warning(
                "update %s handled in memory until the database is back: %s",
                update.update_id,
                error,
            )
            await self.application.update_queue.put(update)
