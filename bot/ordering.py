"""Everyone at once, each person in order: how updates are scheduled within one process.

PTB handles updates one after another by default, so one slow step makes everybody wait. Here
updates of different people run concurrently, while one person's wait for each other: their
answers land in the order they sent them, and a fast typist never races their own wizard.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.metrics import Metrics, update_kind
from bot.paste import WAIT_FOR_PART, continues, may_continue

# Enough to keep a few database connections busy; more only queue in memory. An update gives
# its slot back once its work with the database is done (`give_back_slot`): waiting on
# Telegram's rate limits to send its replies holds none, so a crowd's button presses are
# taken up, and answered, within Telegram's 15 seconds.
CONCURRENT_PEOPLE = 32
UNBOUNDED = 1 << 20
# How the update in hand gives its slot back (set while it holds one).
_GIVE_BACK: ContextVar[Callable[[], None] | None] = ContextVar("give_back_slot", default=None)


def give_back_slot() -> None:
    """The update in hand is done with the database and only sends now: another may start.
    Its person's next update still waits for it to finish."""
    give_back = _GIVE_BACK.get()
    if give_back is not None:
        give_back()


@dataclass(eq=False)
class _Queued:
    """One update waiting for its person's turn."""

    update: object
    turn: asyncio.Event = field(default_factory=asyncio.Event)
    absorbed: bool = False  # joined into an earlier update (a paste's later part)


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
        self._queues: dict[int | None, deque[_Queued]] = {}
        self._arrived: dict[int | None, asyncio.Event] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this person's earlier updates, then for a free slot, then handle it."""
        person, kind = _person(update), update_kind(update)
        self._metrics.updates.labels(kind).inc()
        queue = self._queues.setdefault(person, deque())
        mine = _Queued(update)
        queue.append(mine)
        self._arrived.setdefault(person, asyncio.Event()).set()
        self._metrics.people_in_hand.set(len(self._queues))
        try:
            if queue[0] is not mine:
                await mine.turn.wait()
            if mine.absorbed:
                _discard(coroutine)  # its text is part of the update before it
                return
            await self._slots.acquire()
            held = True

            def give_back() -> None:
                nonlocal held
                if held:
                    held = False
                    self._slots.release()

            token = _GIVE_BACK.set(give_back)
            started = time.perf_counter()
            try:
                await coroutine
            finally:
                give_back()
                _GIVE_BACK.reset(token)
                elapsed = time.perf_counter() - started
                self._metrics.update_seconds.labels(kind).observe(elapsed)
        finally:
            queue.popleft()
            if queue:
                queue[0].turn.set()
            else:
                del self._queues[person], self._arrived[person]
            self._metrics.people_in_hand.set(len(self._queues))

    async def rest_of_paste(self, update: Update) -> list[Update]:
        """The later parts of a paste `update` began, taken out of the person's queue (each is
        waited for a moment, as they are sent together); [] for an update that is no paste."""
        if not may_continue(update):
            return []
        person = _person(update)
        parts: list[Update] = []
        last = update
        while may_continue(last):
            following = await self._next_after(person, len(parts) + 1)
            if following is None or not continues(last, following.update):  # type: ignore[arg-type]
                break
            following.absorbed = True
            parts.append(following.update)  # type: ignore[arg-type]
            last = following.update  # type: ignore[assignment]
        return parts

    async def _next_after(self, person: int | None, position: int) -> _Queued | None:
        """The person's update at `position` in their queue, waited for up to WAIT_FOR_PART."""
        queue, arrived = self._queues.get(person), self._arrived.get(person)
        if queue is None or arrived is None:
            return None
        deadline = asyncio.get_running_loop().time() + WAIT_FOR_PART
        while len(queue) <= position:
            arrived.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), left)
        return queue[position]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: updates in hand finish before the application stops."""

    @property
    def people_waiting(self) -> int:
        """How many people have an update in hand or waiting."""
        return len(self._queues)


def _discard(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()


def _person(update: object) -> int | None:
    """Whose update this is; updates from no one share one turn."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None
