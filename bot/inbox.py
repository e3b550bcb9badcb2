"""Webhook mode with any number of workers: an update is written to the database when it
arrives, then handled by whichever worker claims it, one person's strictly in order.

The worker that received an update takes its person up at once; the worker that finishes one
of a person's updates goes on with their next (which may have reached another worker, which
could not take it while the earlier one was in hand). A sweep every second takes up anyone
left waiting, including the updates of a worker that died: its claims are no longer renewed
and go stale after `storage.inbox.STALE_CLAIM`.

Exactly once: the transaction that saves what an update said also marks it handled in the
inbox (`mark_handled`), so a worker that dies after that commit leaves an update the next
worker removes without handling it again; one that dies before it leaves an update nothing
was saved for, which the next worker handles. A worker silent for longer than a stale claim
loses the claim, and with it the right to save: `ClaimLost` rolls its transaction back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import Application

from bot.paste import WAIT_FOR_PART, continues, joined, may_continue
from bot.unreadable import readable
from storage.engine import DatabaseUnavailable, SessionFactory, transaction
from storage.inbox import (
    claim_next,
    done,
    following,
    mark_handled,
    receive,
    renew,
    waiting_people,
)
from storage.types import utc_now

log = logging.getLogger(__name__)

INBOX_KEY: Final = "inbox"
SWEEP_EVERY: Final = 1.0  # seconds between looks for people left waiting
PART_POLL: Final = 0.1  # seconds between looks for the next part of a paste
RENEW_EVERY: Final = 10.0  # seconds between renewals of this worker's claims (stale at 30)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
# A claimed update: its id, and what Telegram posted (parsed, if this worker received it).
Claimed = tuple[int, dict[str, Any] | Update]


class Inbox:
    """This worker's side of the shared inbox."""

    def __init__(self, application: AnyApplication, sessions: SessionFactory, worker: str) -> None:
        self.application, self.sessions, self.worker = application, sessions, worker
        self._serving: dict[int | None, asyncio.Task[None]] = {}
        self._in_hand: set[int] = set()
        # People who got an update while their serving task was looking for the next one: it
        # looks again before it stops, or the update would wait for the sweep.
        self._more: set[int | None] = set()
        self._pastes: dict[int, list[int]] = {}  # first part's update id → every part's
        self._sweeper: asyncio.Task[None] | None = None
        application.bot_data[INBOX_KEY] = self

    async def receive(self, update: Update, data: dict[str, Any]) -> None:
        """Keep a posted update (raises DatabaseUnavailable: Telegram should post it again),
        then take its person up, claiming the update at once when it is their only one."""
        person = update.effective_user.id if update.effective_user else None
        async with transaction(self.sessions) as session:
            kept = await receive(
                session=session,
                update_id=update.update_id,
                person=person,
                payload=data,
                now=utc_now(),
            )
            claimed = None
            if kept and person not in self._serving:
                claimed = await self._claim_in(session, person)
        if claimed is not None and claimed[0] == update.update_id:
            claimed = (update.update_id, update)  # parsed already: no need to read it again
        self._take_up(person, claimed)

    def handled_marker(self, update_id: int) -> Callable[[AsyncSession], Awaitable[None]] | None:
        """What marks the update handled in the transaction that saves it; None for an update
        that did not come through this inbox (one replayed after a stop, say)."""
        if update_id not in self._in_hand:
            return None
        parts = self._pastes.get(update_id, [update_id])  # a paste's parts: handled together

        async def mark(session: AsyncSession) -> None:
            for part in parts:
                await mark_handled(
                    session=session, update_id=part, worker=self.worker, now=utc_now()
                )

        return mark

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep())

    async def stop(self) -> None:
        """No more sweeping; the people in hand finish the update they are at."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await asyncio.gather(*self._serving.values(), return_exceptions=True)

    def _take_up(self, person: int | None, claimed: Claimed | None = None) -> None:
        """Serve the person, starting with the update already claimed for them, if any."""
        if person in self._serving:
            self._more.add(person)
            return
        if claimed is None:
            self._more.add(person)  # nothing claimed yet: the new task looks first
        self._serving[person] = asyncio.create_task(self._serve(person, claimed))

    async def _serve(self, person: int | None, claimed: Claimed | None) -> None:
        """Handle the person's updates, oldest first, for as long as this worker can claim
        them; finishing one and claiming the next is one transaction."""
        try:
            while True:
                while claimed is None and person in self._more:
                    self._more.discard(person)
                    claimed = await self._next(person, finished=None)
                if claimed is None:
                    return
                update_id, payload = claimed
                self._in_hand.add(update_id)
                handled = [update_id]
                try:
                    update = (
                        payload
                        if isinstance(payload, Update)
                        else readable(payload, self.application.bot)
                    )
                    parts = await self._rest_of_paste(person, update)
                    handled += [part.update_id for part in parts]
                    self._in_hand.update(handled)
                    self._pastes[update_id] = handled
                    whole = joined([update, *parts])
                    await self.application.update_processor.process_update(
                        whole, self.application.process_update(whole)
                    )
                    self._more.discard(person)
                    claimed = await self._next(person, finished=handled)
                finally:
                    self._in_hand.difference_update(handled)
                    self._pastes.pop(update_id, None)
        except DatabaseUnavailable as error:
            log.warning("inbox: database unavailable, the sweep will try again: %s", error)
        finally:
            del self._serving[person]

    async def _next(self, person: int | None, *, finished: list[int] | None) -> Claimed | None:
        """The finished updates leave the inbox, and the person's next is claimed."""
        async with transaction(self.sessions) as session:
            for update_id in finished or []:
                await done(session=session, update_id=update_id, worker=self.worker)
            return await self._claim_in(session, person)

    async def _rest_of_paste(self, person: int | None, first: Update) -> list[Update]:
        """The later parts of a paste `first` began (bot/paste.py), claimed with it: each is
        waited for a moment in the inbox, as they are posted together."""
        parts: list[Update] = []
        last = first
        while may_continue(last):
            part = await self._part_after(person, last)
            if part is None:
                break
            parts.append(part)
            last = part
        return parts

    async def _part_after(self, person: int | None, last: Update) -> Update | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_PART
        while True:
            async with transaction(self.sessions) as session:
                row = await following(session=session, person=person, after=last.update_id)
                if row is not None:
                    update = readable(row.payload, self.application.bot)
                    if update is None or not continues(last, update):
                        return None
                    row.claimed_by, row.claimed_at = self.worker, utc_now()
                    session.add(row)
                    return update
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(PART_POLL)

    async def _claim_in(self, session: AsyncSession, person: int | None) -> Claimed | None:
        if self._sweeper is not None and self._sweeper.done():
            return None  # stopping: what is not claimed yet is another worker's, or the next run's
        head = await claim_next(session=session, person=person, worker=self.worker, now=utc_now())
        return (head.update_id, head.payload) if head is not None else None

    async def _sweep(self) -> None:
        since_renewal = 0.0
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            since_renewal += SWEEP_EVERY
            try:
                async with transaction(self.sessions) as session:
                    if since_renewal >= RENEW_EVERY:
                        since_renewal = 0.0
                        await renew(
                            session=session,
                            worker=self.worker,
                            update_ids=sorted(self._in_hand),
                            now=utc_now(),
                        )
                    people = await waiting_people(session=session, now=utc_now())
            except DatabaseUnavailable as error:
                log.warning("inbox: database unavailable while sweeping: %s", error)
                continue
            for person in people:
                self._take_up(person)
