"""The sender: plans, claims and sends due reminders and notices within Telegram's limits.

APScheduler (through PTB's JobQueue) only wakes `ReminderSender.tick`; what is due, claimed
and sent lives in the database, so a restart re-sends nothing and two processes sharing one
PostgreSQL never send the same reminder twice. Notices (messages to other members that a step
queued in its transaction) go the same way, and are also sent at once after their commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, CallbackContext

from bot.metrics import Metrics
from bot.outage import TELEGRAM_PATIENCE, backoff, maybe_delivered, retry_seconds
from bot.services import Services
from conversations import reminders as texts
from conversations.notices import render_notice
from storage.deliveries import (
    RENEW_CLAIMS,
    RETRY_DELAYS,
    DeliveryTable,
    Outcome,
    claim_due,
    delivery_kind,
    mark_sending,
    record,
    recover_own,
    recover_stale,
    renew_claims,
)
from storage.engine import DatabaseUnavailable, transaction
from storage.forums import get_forums
from storage.localities import get_locality
from storage.members import get_members, mark_stopped
from storage.models import (
    Delivery,
    DeliveryStatus,
    Forum,
    Member,
    Notice,
    ReminderDelivery,
    ReminderKind,
)
from storage.pace import hold_back, reserve_slot
from storage.pledges import latest_draft
from storage.reminders import (
    forum_status,
    last_digest_sent,
    plan,
    recipients,
    silent_pledges,
    superseded,
)
from storage.types import utc_now

log = logging.getLogger(__name__)

MAX_RATE_LIMIT_RETRIES = 5
TABLES: tuple[DeliveryTable, ...] = (ReminderDelivery, Notice)
PACE = "deliveries"  # the send_pace row every worker's deliveries share (seeded by migration 0006)
UNCERTAIN = "timed out: it may have arrived, so it is not resent"


class Clock(Protocol):
    """Where the sender gets the time and waits: the system's, or a test's."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return utc_now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class Limits:
    """Telegram's: about 30 messages a second overall and one a second to one chat."""

    rate: float = 25.0
    per_chat_interval: float = 1.0
    batch: int = 200
    concurrency: int = 16


@dataclass
class TickReport:
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0


@dataclass
class _Send:
    delivery: Delivery
    member: Member
    message: texts.Message


Reserve = Callable[[datetime], Awaitable[datetime]]


@dataclass
class _Pacer:
    """Spaces sends: never faster than `rate` overall, nor than one per interval to a chat.
    With `shared`, the overall slots come from the database, so several workers together
    keep the one rate (each chat's interval is kept by the worker sending to it)."""

    clock: Clock
    rate: float
    per_chat_interval: float
    shared: Reserve | None = None
    next_slot: float = 0.0
    paused_until: float = 0.0
    last_to_chat: dict[int, float] = field(default_factory=dict)

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    async def wait_turn(self, chat_id: int) -> None:
        now = self._seconds()
        if self.shared is not None:
            overall = (await self.shared(self.clock.now())).timestamp()
        else:
            overall = max(now, self.next_slot)
            self.next_slot = overall + 1.0 / self.rate
        slot = max(
            now,
            overall,
            self.paused_until,
            self.last_to_chat.get(chat_id, -math.inf) + self.per_chat_interval,
        )
        self.last_to_chat[chat_id] = slot
        if slot > now:
            await self.clock.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self._seconds() + seconds)


class ReminderSender:
    """One process's sender; `worker` names it in the claims it makes."""

    def __init__(
        self,
        services: Services,
        bot: Bot,
        *,
        clock: Clock | None = None,
        limits: Limits | None = None,
        worker: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.services = services
        self.metrics = metrics or Metrics()
        self.bot = bot
        self.clock = clock or SystemClock()
        self.limits = limits or Limits()
        self.worker = worker or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        # PostgreSQL is how several workers run: there they share one pace. SQLite has one.
        shared = self._reserve if services.database_url.startswith("postgresql") else None
        self.pacer = _Pacer(self.clock, self.limits.rate, self.limits.per_chat_interval, shared)
        self._lock = asyncio.Lock()
        self._renewer: asyncio.Task[None] | None = None
        self.stopping = False  # set on SIGTERM: what is not yet at Telegram is given back

    async def _reserve(self, now: datetime) -> datetime:
        """The next overall sending slot, shared with every other worker."""
        async with transaction(self.services.sessions) as session:
            return await reserve_slot(
                session=session,
                name=PACE,
                now=now,
                interval=timedelta(seconds=1 / self.limits.rate),
            )

    async def _hold_back(self, seconds: float) -> None:
        """A 429 is about the bot, not this worker: every worker waits it out."""
        self.pacer.pause(seconds)
        if self.pacer.shared is not None:
            until = self.clock.now() + timedelta(seconds=seconds)
            async with transaction(self.services.sessions) as session:
                await hold_back(session=session, name=PACE, until=until)

    async def start(self) -> None:
        """Release this worker's own unsent claims from before a restart, then keep its new
        claims from going stale for as long as it runs."""
        await self.release()
        self._renewer = asyncio.create_task(self._keep_claims())

    async def _keep_claims(self) -> None:
        while True:
            await asyncio.sleep(RENEW_CLAIMS.total_seconds())
            try:
                async with transaction(self.services.sessions) as session:
                    for table in TABLES:
                        await renew_claims(
                            session=session, worker=self.worker, now=self.clock.now(), table=table
                        )
            except DatabaseUnavailable as error:
                log.warning("could not renew delivery claims: %s", error)

    async def release(self) -> None:
        """Give back this worker's claims not yet handed to Telegram, so another worker (or
        this one after a restart) sends them; those caught mid-send stay as they are."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        async with transaction(self.services.sessions) as session:
            for table in TABLES:
                await recover_own(session=session, worker=self.worker, table=table)

    async def tick(self) -> TickReport:
        """Plan what falls due, then send everything due now, preparing one batch ahead."""
        async with self._lock:  # one tick at a time in this process
            report = TickReport()
            now = self.clock.now()
            async with transaction(self.services.sessions) as session:
                report.planned = (await plan(session=session, now=now)).planned
                for table in TABLES:
                    await recover_stale(session=session, now=now, table=table)
            batches: asyncio.Queue[list[_Send] | None] = asyncio.Queue(maxsize=1)
            producer = asyncio.create_task(self._produce(batches, report))
            try:
                while (sends := await batches.get()) is not None:
                    await self._send_all(sends, report, table=ReminderDelivery)
            finally:
                await producer  # re-raises what went wrong while preparing
        await self.deliver_notices(report=report)
        return report

    async def deliver_notices(
        self, *, ids: Sequence[int] | None = None, report: TickReport | None = None
    ) -> TickReport:
        """Send the notices that are due (of `ids` only, if given), batch by batch."""
        report = report or TickReport()
        while (sends := await self._claim(Notice, report, ids=ids)) is not None:
            await self._send_all(sends, report, table=Notice)
        return report

    async def _claim(
        self, table: DeliveryTable, report: TickReport, *, ids: Sequence[int] | None = None
    ) -> list[_Send] | None:
        """Claim a batch of due deliveries of `table` and prepare their messages; the ones no
        longer worth sending are recorded as skipped. None when nothing is due (or stopping)."""
        if self.stopping:
            return None
        now = self.clock.now()
        async with transaction(self.services.sessions) as session:
            if table is Notice:
                notices = await claim_due(
                    session=session,
                    now=now,
                    worker=self.worker,
                    limit=self.limits.batch,
                    table=Notice,
                    ids=ids,
                )
                if not notices:
                    return None
                skipped, sends = await self._prepare_notices(session, notices)
            else:
                reminders = await claim_due(
                    session=session,
                    now=now,
                    worker=self.worker,
                    limit=self.limits.batch,
                    table=ReminderDelivery,
                )
                if not reminders:
                    return None
                skipped, sends = await self._prepare(session, reminders, now)
            await record(session=session, outcomes=skipped, now=now, table=table)
        report.skipped += len(skipped)
        return sends

    async def _prepare_notices(
        self, session: AsyncSession, claimed: Sequence[Notice]
    ) -> tuple[list[Outcome], list[_Send]]:
        """Each notice in its recipient's language; one whose subject or person is gone, or
        who asked for no messages (/stop), is skipped with the reason."""
        members = {
            m.id: m for m in await get_members(session=session, ids={n.member_id for n in claimed})
        }
        skipped: list[Outcome] = []
        sends: list[_Send] = []
        for notice in claimed:
            member = members.get(notice.member_id)
            message = None
            if member is not None and member.active:
                message = await render_notice(
                    session=session,
                    t=self.services.catalogs.translator(member.language),
                    kind=notice.kind,
                    payload=notice.payload,
                )
            if member is None or message is None:
                reason = "member stopped" if member is not None and not member.active else "gone"
                skipped.append(Outcome(notice.id or 0, DeliveryStatus.SKIPPED, error=reason))
            else:
                sends.append(_Send(notice, member, message))
        return skipped, sends

    async def _produce(
        self, batches: asyncio.Queue[list[_Send] | None], report: TickReport
    ) -> None:
        """Claim and prepare batches while the previous one is being sent."""
        try:
            while (sends := await self._claim(ReminderDelivery, report)) is not None:
                await batches.put(sends)
        finally:
            await batches.put(None)

    async def _send_all(
        self, sends: list[_Send], report: TickReport, *, table: DeliveryTable
    ) -> None:
        """Send a batch, each outcome written down as soon as Telegram has answered: a worker
        killed mid-batch leaves at most the messages in flight unaccounted for."""
        semaphore = asyncio.Semaphore(self.limits.concurrency)

        async def one(send: _Send) -> None:
            async with semaphore:
                outcome = await self._send(send, report)
            if outcome is not None:
                await self._record(send, outcome, report, table=table)

        await asyncio.gather(*(one(s) for s in sends))

    async def _record(
        self, send: _Send, outcome: Outcome, report: TickReport, *, table: DeliveryTable
    ) -> None:
        async with transaction(self.services.sessions) as session:
            await record(session=session, outcomes=[outcome], now=self.clock.now(), table=table)
            if outcome.error == "blocked" and send.member.id is not None:
                await mark_stopped(session=session, member_ids=[send.member.id])
        if outcome.status is DeliveryStatus.SENT:
            report.sent += 1
            counted = "sent"
        elif outcome.status is DeliveryStatus.PENDING:
            report.retried += 1
            counted = "retried"
        elif outcome.status is DeliveryStatus.FAILED:
            report.failed += 1
            counted = "failed"
        else:
            report.skipped += 1
            counted = "skipped"
        self.metrics.delivery_outcomes.labels(delivery_kind(table), counted).inc()

    async def _sending(self, send: _Send) -> bool:
        """Mark the delivery as handed to Telegram, just before it is; False if its claim was
        taken back (this worker was silent too long): another worker sends it."""
        async with transaction(self.services.sessions) as session:
            marked = await mark_sending(
                session=session,
                ids=[send.delivery.id or 0],
                worker=self.worker,
                table=ReminderDelivery if isinstance(send.delivery, ReminderDelivery) else Notice,
            )
        return marked == 1

    async def _send(self, send: _Send, report: TickReport) -> Outcome | None:
        """Send one delivery; None if it turned out to be another worker's. A 429 or Telegram
        being down holds every sender back and is waited out; a timeout is never sent again."""
        delivery_id = send.delivery.id or 0
        rate_limited, waited = 0, 0.0
        for attempt in itertools.count():
            if attempt == 0 and self.stopping:
                return None  # still claimed: release() gives it back
            await self.pacer.wait_turn(send.member.telegram_id)
            if attempt == 0 and (self.stopping or not await self._sending(send)):
                return None
            try:
                message = await self.bot.send_message(
                    send.member.telegram_id,
                    send.message.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=send.message.keyboard,
                    disable_web_page_preview=True,
                )
                return Outcome(delivery_id, DeliveryStatus.SENT, message_id=message.message_id)
            except RetryAfter as error:
                report.rate_limited += 1
                rate_limited += 1
                if rate_limited == MAX_RATE_LIMIT_RETRIES:
                    return self._retry_or_fail(send.delivery, "rate limited repeatedly")
                seconds = retry_seconds(error)
                log.warning("Telegram asked to wait %.0f s; pausing reminders", seconds)
                await self._hold_back(seconds)
            except Forbidden:
                return Outcome(delivery_id, DeliveryStatus.SKIPPED, error="blocked")
            except TimedOut:
                # Telegram may have shown it: sending again could show it twice.
                return Outcome(delivery_id, DeliveryStatus.FAILED, error=UNCERTAIN)
            except NetworkError as error:
                if maybe_delivered(error):  # the connection broke after it went out
                    return Outcome(delivery_id, DeliveryStatus.FAILED, error=UNCERTAIN)
                # 5xx or no connection: nothing was shown
                pause = backoff(min(attempt, 10))
                if waited + pause > TELEGRAM_PATIENCE or self.stopping:
                    return self._retry_or_fail(send.delivery, str(error))
                waited += pause
                await self._hold_back(pause)
            except TelegramError as error:
                return self._retry_or_fail(send.delivery, str(error))
        raise AssertionError("unreachable")

    def _retry_or_fail(self, delivery: Delivery, error: str) -> Outcome:
        attempts = delivery.attempts + 1  # mark_sending counted this one in the database
        if attempts <= len(RETRY_DELAYS):
            return Outcome(
                delivery.id or 0,
                DeliveryStatus.PENDING,
                error=error[:300],
                retry_at=self.clock.now() + RETRY_DELAYS[attempts - 1],
            )
        log.warning("reminder %s failed for good: %s", delivery.id, error)
        return Outcome(delivery.id or 0, DeliveryStatus.FAILED, error=error[:300])

    async def _prepare(
        self, session: AsyncSession, claimed: Sequence[ReminderDelivery], now: datetime
    ) -> tuple[list[Outcome], list[_Send]]:
        """The messages to send, and the deliveries no longer worth sending (with why)."""
        forums = {
            f.id: f for f in await get_forums(session=session, ids={d.forum_id for d in claimed})
        }
        members = {
            m.id: m for m in await get_members(session=session, ids={d.member_id for d in claimed})
        }
        replaced = await superseded(session=session, deliveries=claimed, now=now)
        eligible: dict[tuple[int, str], set[int | None]] = {}
        for forum_id, kind in {(d.forum_id, d.kind) for d in claimed}:
            forum = forums.get(forum_id)
            among = {d.member_id for d in claimed if (d.forum_id, d.kind) == (forum_id, kind)}
            found = (
                (
                    await recipients(
                        session=session, forum=forum, kind=ReminderKind(kind), now=now, among=among
                    )
                )
                if forum
                else []
            )
            eligible[(forum_id, kind)] = {m.id for m in found}
        skipped: list[Outcome] = []
        sends: list[_Send] = []
        for delivery in claimed:
            forum, member = forums.get(delivery.forum_id), members.get(delivery.member_id)
            reason = _why_not(delivery, forum, member, now, replaced, eligible)
            message = None
            if reason is None and forum is not None and member is not None:
                message = await self._render(
                    session, ReminderKind(delivery.kind), forum, member, now
                )
                reason = None if message is not None else "no longer applies"
            if reason is not None or message is None or member is None:
                skipped.append(
                    Outcome(
                        delivery.id or 0,
                        DeliveryStatus.SKIPPED,
                        error=reason or "no longer applies",
                    )
                )
            else:
                sends.append(_Send(delivery, member, message))
        return skipped, sends

    async def _render(
        self,
        session: AsyncSession,
        kind: ReminderKind,
        forum: Forum,
        member: Member,
        now: datetime,
    ) -> texts.Message | None:
        t = self.services.catalogs.translator(member.language)
        assert forum.id is not None and member.id is not None
        zone = member.time_zone
        if kind in (ReminderKind.DIGEST, ReminderKind.CLOSING):
            since = await last_digest_sent(session=session, forum_id=forum.id, member_id=member.id)
            status = await forum_status(
                session=session, forum_id=forum.id, failures_since=since, now=now
            )
            return texts.digest(
                t, forum, status, now=now, time_zone=zone, closing=kind is ReminderKind.CLOSING
            )
        if kind is ReminderKind.DRAFT:
            draft = await latest_draft(
                session=session, forum_id=forum.id, locality_id=member.locality_id
            )
            return texts.draft_nudge(t, forum, draft, now=now, time_zone=zone) if draft else None
        if kind is ReminderKind.INVITATION:
            locality = await get_locality(session=session, locality_id=member.locality_id or 0)
            return texts.invitation(t, forum, locality, now=now, time_zone=zone)
        silent = [
            p
            for p in await silent_pledges(session=session, now=now)
            if p.locality_id == member.locality_id
        ]
        if not silent:
            return None
        return texts.progress_request(t, forum, silent[0], now=now, time_zone=zone)


SENDER_KEY = "sender"


def schedule_reminders(
    application: Application[Any, Any, Any, Any, Any, Any],
    sender: ReminderSender,
    *,
    interval: float = 30.0,
) -> None:
    """Wake the sender every `interval` seconds; a slow tick is never run twice at once."""
    assert application.job_queue is not None
    application.bot_data[SENDER_KEY] = sender
    application.job_queue.run_repeating(
        _wake,
        interval=interval,
        first=5.0,
        name="reminders",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )


async def _wake(ctx: CallbackContext[Any, Any, Any, Any]) -> None:
    sender = ctx.application.bot_data[SENDER_KEY]
    report = await sender.tick()
    if report.sent or report.failed or report.rate_limited:
        log.info("reminders: %s", report)


def _why_not(
    delivery: ReminderDelivery,
    forum: Forum | None,
    member: Member | None,
    now: datetime,
    replaced: set[int],
    eligible: dict[tuple[int, str], set[int | None]],
) -> str | None:
    """Why a claimed delivery should not go out after all, or None if it should."""
    if forum is None or member is None:
        return "gone"
    if forum.pledge_deadline != delivery.deadline_at or not forum.is_open:
        return "deadline changed"
    if not member.active:
        return "member stopped"
    if delivery.kind in member.muted_kinds:
        return "muted"
    if delivery.kind != ReminderKind.CLOSING.value and now >= delivery.deadline_at:
        return "too late: the deadline has passed"
    if delivery.id in replaced:
        return "superseded by a later reminder"
    if member.id not in eligible.get((delivery.forum_id, delivery.kind), set()):
        return "no longer applies"
    return None
