"""Everyone at once, each person in order: how updates are scheduled within one process.

PTB handles updates one after another by default, so one slow step makes everybody wait. Here
updates of different people run concurrently, while one person's wait for each other: their
answers land in the order they sent them, and a fast typist never races their own wizard.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.metrics import Metrics, update_kind

# Enough to keep a few database connections and Bot API calls busy; more only queue in memory.
CONCURRENT_PEOPLE = 32
UNBOUNDED = 1 << 20


class PersonByPerson(BaseUpdateProcessor):
    """Updates of different people concurrently (up to a limit); one person's in order."""

    def __init__(
        self, metrics: Metrics | None = None, max_concurrent_updates: int = CONCURRENT_PEOPLE
    ) -> None:
        # PTB's own limit is taken before `do_process_update`, so before the person's turn:
        # one person's backlog would fill it. It is set out of reach; the real one is ours.
        super().__init__(UNBOUNDED)
        self._metrics = metrics or Metrics()
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._turns: dict[int | None, asyncio.Lock] = {}
        self._waiting: dict[int | None, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this person's earlier updates, then for a free slot, then handle it."""
        person, kind = _person(update), update_kind(update)
        self._metrics.updates.labels(kind).inc()
        turn = self._turns.setdefault(person, asyncio.Lock())
        self._waiting[person] = self._waiting.get(person, 0) + 1
        self._metrics.people_in_hand.set(len(self._turns))
        try:
            async with turn, self._slots:
                started = time.perf_counter()
                try:
                    await coroutine
                finally:
                    elapsed = time.perf_counter() - started
                    self._metrics.update_seconds.labels(kind).observe(elapsed)
        finally:
            self._waiting[person] -= 1
            if not self._waiting[person]:
                del self._waiting[person], self._turns[person]
            self._metrics.people_in_hand.set(len(self._turns))

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: updates in hand finish before the application stops."""

    @property
    def people_waiting(self) -> int:
        """How many people have an update in hand or waiting."""
        return len(self._turns)


def _person(update: object) -> int | None:
    """Whose update this is; updates from no one share one turn."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None
