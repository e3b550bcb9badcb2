"""Webhook mode with any number of workers: an update is written to the database when it
arrives, then handled by whichever worker claims it, one person's strictly in order.

The worker that received an update takes its person up at once; the worker that finishes one
of a person's updates goes on with their next (which may have reached another worker, which
could not take it while the earlier one was in hand). A sweep every second takes up anyone
left waiting, including the updates of a worker that died: its claims are no longer renewed
and go stale after `storage.inbox.STALE_CLAIM`.

Exactly once: the transaction that saves what an update said also marks it handled in the
inbox (`mark_handled`), so a worker that dies after that commit never handles it again; one
that dies before it leaves an update nothing was saved for, which the next worker handles. A
worker silent for longer than a stale claim loses the claim, and with it the right to save:
`ClaimLost` rolls its transaction back.

Told once it is saved: the replies of a handled update are kept on its row before they are
sent (`keep_replies`), and counted as they go out. A worker that dies while sending leaves
them to the next, which sends what was not yet sent instead of handling the update again
(the one in flight at the death may be seen twice: better than a question never asked).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import Application

from bot.paste import WAIT_FOR_PART, continues, joined, may_continue
from bot.unreadable import readable
from storage.engine import DatabaseUnavailable, SessionFactory, transaction
from storage.inbox import (
    claim_next,
    count_sent,
    done,
    following,
    mark_handled,
    owe_replies,
    owes_replies,
    receive,
    release_claims,
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


@dataclass(frozen=True)
class Claimed:
    """A claimed update: what Telegram sent (parsed, if this worker received it), and, for one
    handled before a crash, the replies it still owes its person."""

    update_id: int
    payload: dict[str, Any] | Update
    owed: list[dict[str, Any]] | None = None
    sent: int = 0


@dataclass(frozen=True)
class OwedReplies:
    """The replies a handled update still owes, as kept; the first `sent` went out."""

    replies: list[dict[str, Any]]
    sent: int


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
        self._owed: dict[int, OwedReplies] = {}  # updates in hand only to send what they owe
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
        if claimed is not None and claimed.update_id == update.update_id and claimed.owed is None:
            claimed = Claimed(update.update_id, update)  # parsed already: no need to read it again
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

    def owed_replies(self, update_id: int) -> OwedReplies | None:
        """For an update handled before a crash: what it still owes (the engine sends only
        that); None for an update to handle."""
        return self._owed.get(update_id)

    async def keep_replies(self, update_id: int, replies: list[dict[str, Any]]) -> bool:
        """Keep the handled update's replies on its row until sent; False if the database
        could not (they are sent all the same)."""
        try:
            async with transaction(self.sessions) as session:
                await owe_replies(
                    session=session, update_id=update_id, worker=self.worker, replies=replies
                )
        except DatabaseUnavailable as error:
            log.warning("inbox: replies to update %s not kept: %s", update_id, error)
            return False
        return True

    async def count_sent(self, update_id: int, sent: int) -> None:
        """`sent` of the update's kept replies went out."""
        try:
            async with transaction(self.sessions) as session:
                await count_sent(
                    session=session, update_id=update_id, worker=self.worker, sent=sent
                )
        except DatabaseUnavailable as error:
            log.warning("inbox: replies sent to update %s not counted: %s", update_id, error)

    async def start(self) -> None:
        """Take back what this worker held before a restart (a worker whose name survives
        restarts: the poller), then sweep for people left waiting."""
        async with transaction(self.sessions) as session:
            released = await release_claims(session=session, worker=self.worker)
        if released:
            log.info("inbox: %s updates left in hand by the last run taken up again", released)
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
                update_id, payload = claimed.update_id, claimed.payload
                if claimed.owed is not None:
                    self._owed[update_id] = OwedReplies(claimed.owed, claimed.sent)
                self._in_hand.add(update_id)
                handled = [update_id]
                try:
                    update = (
                        payload
                        if isinstance(payload, Update)
                        else readable(payload, self.application.bot)
                    )
                    parts = (
                        []
                        if claimed.owed is not None
                        else await self._rest_of_paste(person, update)
                    )
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
                    self._owed.pop(update_id, None)
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
        if head is None:
            return None
        if head.handled_at is not None and owes_replies(head):
            return Claimed(head.update_id, head.payload, head.replies, head.replies_sent)
        return Claimed(head.update_id, head.payload)

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
