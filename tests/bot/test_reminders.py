"""Reminders driven by a controllable clock: every offset, edits, time zones, crashes, races."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.app import PledgeApplication
from bot.reminders import Limits, ReminderSender
from bot.services import Services
from bot.standin import BotApiStandIn, SentMessage
from storage.access import deactivate_member
from storage.deliveries import STALE_CLAIM, claim_due, mark_sending
from storage.engine import SessionFactory, transaction
from storage.models import DeliveryStatus, Forum, Member, ReminderDelivery, Role
from storage.pledges import create_draft
from storage.reminders import plan
from tests.conftest import Invitations, on_standin, postgres_url

GENEVA = ZoneInfo("Europe/Zurich")
DEADLINE = datetime(2027, 12, 15, 17, 0, tzinfo=GENEVA)
START = datetime(2027, 11, 1, 0, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The clock-driven tests run on both databases (PostgreSQL when its URL is set)."""
    if request.param == "postgresql":
        return postgres_url(request)
    return f"sqlite+aiosqlite:///{tmp_path / 'pledgebot.sqlite3'}"


@dataclass
class TravelClock:
    """Time that moves only when told to; waiting moves it (and the stand-in's) on."""

    current: datetime
    standin: BotApiStandIn

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    def advance(self, delta: timedelta) -> None:
        self.current += delta
        self.standin.clock.advance(delta.total_seconds())


@dataclass
class People:
    coordinator: int
    drafting: int
    silent: int


async def _set_deadline(
    sessions: SessionFactory, deadline: datetime | None, offsets: list[int] | None = None
) -> None:
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        forum.pledge_deadline = deadline
        forum.deadline_time_zone = "Europe/Zurich"
        if offsets is not None:
            forum.reminder_offsets = offsets
        session.add(forum)


async def _set_zone(sessions: SessionFactory, telegram_id: int, zone: str) -> None:
    async with transaction(sessions) as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == telegram_id))).one()
        member.time_zone = zone
        session.add(member)


async def _people(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
) -> People:
    """A coordinator in Paris, an official in São Paulo with a draft, one in Tokyo with none."""
    coordinator = standin.person(app, user_id=41, first_name="Coco")
    await coordinator.send("/start " + await invitations.make(Role.COORDINATOR))
    drafting = standin.person(app, user_id=42, first_name="Dora", language_code="pt-br")
    await drafting.send(
        "/start " + await invitations.make(Role.OFFICIAL, locality="Porto Alegre", country="BR")
    )
    silent = standin.person(app, user_id=43, first_name="Sora", language_code="en")
    await silent.send(
        "/start " + await invitations.make(Role.OFFICIAL, locality="Sendai", country="JP")
    )
    await _set_zone(sessions, 41, "Europe/Paris")
    await _set_zone(sessions, 42, "America/Sao_Paulo")
    await _set_zone(sessions, 43, "Asia/Tokyo")
    async with transaction(sessions) as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == 42))).one()
        draft = await create_draft(session=session, member=member, language="pt")
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        draft.forum_id, draft.title = forum.id, "Casas de acolhida"
        session.add(draft)
    return People(41, 42, 43)


def _sender(
    services: Services, app: PledgeApplication, clock: TravelClock, worker: str = "test"
) -> ReminderSender:
    return ReminderSender(
        services, app.bot, clock=clock, worker=worker, limits=Limits(rate=25.0, concurrency=1)
    )


async def _travel(
    sender: ReminderSender,
    clock: TravelClock,
    until: datetime,
    step: timedelta = timedelta(hours=1),
) -> None:
    while clock.now() < until:
        clock.advance(step)
        await sender.tick()


def _reminders(standin: BotApiStandIn, chat_id: int) -> list[SentMessage]:
    """The proactive messages in a chat (not the welcome after /start)."""
    return [
        m
        for m in standin.chat_messages(chat_id)
        if any(mark in m.text for mark in ("📊", "⏰", "🤝", "🏁", "📈"))
    ]


async def _deliveries(sessions: SessionFactory) -> list[ReminderDelivery]:
    async with transaction(sessions) as session:
        return list((await session.exec(select(ReminderDelivery))).all())


async def test_every_offset_arrives_once_at_nine_local_time(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    await _set_deadline(sessions, DEADLINE)
    clock = TravelClock(START, standin)
    sender = _sender(services, app, clock)
    await sender.start()
    await _travel(sender, clock, DEADLINE + timedelta(days=2))

    digests = _reminders(standin, people.coordinator)
    assert len(digests) == 6  # 30, 14, 7, 3, 1 days before, and the closing summary
    assert "🏁" in digests[-1].text and all("📊" in d.text for d in digests[:-1])
    assert "in 30 days" in digests[0].text and "in 1 day" in digests[4].text
    nudges = _reminders(standin, people.drafting)
    assert len(nudges) == 5 and all("Casas de acolhida" in n.text for n in nudges)
    assert "15 de dezembro de 2027" in nudges[0].text  # her language, her time zone
    assert "13:00" in nudges[0].text
    assert (nudges[0].buttons()[0].callback_data or "").startswith("w.resume:")
    assert len(_reminders(standin, people.silent)) == 5  # invitations to pledge

    sent = [d for d in await _deliveries(sessions) if d.status == DeliveryStatus.SENT.value]
    assert len(sent) == 16
    keys = Counter((d.kind, d.offset_days, d.member_id) for d in sent)
    assert max(keys.values()) == 1
    zones = {
        people.coordinator: "Europe/Paris",
        people.drafting: "America/Sao_Paulo",
        people.silent: "Asia/Tokyo",
    }
    ids = await _member_ids(sessions)
    for delivery in sent:
        zone = ZoneInfo(zones[ids[delivery.member_id]])
        assert delivery.sent_at is not None and delivery.message_id is not None
        local = delivery.sent_at.astimezone(zone)
        assert local.hour == 9 or (delivery.kind == "closing" and local.hour == 9), local
        assert delivery.sent_at - delivery.due_at < timedelta(hours=1)
    assert standin.violations == []


async def _member_ids(sessions: SessionFactory) -> dict[int, int]:
    async with transaction(sessions) as session:
        return {m.id or 0: m.telegram_id for m in (await session.exec(select(Member))).all()}


async def test_a_restart_never_resends_and_reminders_missed_while_down_go_once(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    await _set_deadline(sessions, DEADLINE)
    clock = TravelClock(START, standin)
    sender = _sender(services, app, clock)
    await sender.start()
    await _travel(sender, clock, DEADLINE - timedelta(days=20))
    assert len(_reminders(standin, people.coordinator)) == 1  # the 30-day digest

    # Down from 20 days before the deadline to 2 days before: 14, 7 and 3 fell due meanwhile.
    clock.advance(timedelta(days=18))
    restarted = _sender(services, app, clock, worker="test")
    await restarted.start()
    await restarted.tick()
    digests = _reminders(standin, people.coordinator)
    assert len(digests) == 2, [d.text for d in digests]  # only the latest missed one, once
    assert "in 3 days" in digests[-1].text or "in 2 days" in digests[-1].text
    await restarted.tick()
    await _travel(restarted, clock, DEADLINE + timedelta(days=2))
    assert len(_reminders(standin, people.coordinator)) == 4  # + 1-day digest + closing
    coordinator = (await _member(sessions, people.coordinator)).id
    statuses = Counter(d.status for d in await _deliveries(sessions) if d.member_id == coordinator)
    assert statuses[DeliveryStatus.SKIPPED.value] == 2  # the superseded 14- and 7-day digests


async def _member(sessions: SessionFactory, telegram_id: int) -> Member:
    async with transaction(sessions) as session:
        return (await session.exec(select(Member).where(Member.telegram_id == telegram_id))).one()


async def test_editing_the_deadline_replans_what_was_not_sent(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    await _set_deadline(sessions, DEADLINE)
    clock = TravelClock(START, standin)
    sender = _sender(services, app, clock)
    await _travel(sender, clock, DEADLINE - timedelta(days=10))
    assert len(_reminders(standin, people.coordinator)) == 2  # 30 and 14 days
    later = DEADLINE + timedelta(days=14)
    await _set_deadline(sessions, later)
    await _travel(sender, clock, later + timedelta(days=2))
    digests = _reminders(standin, people.coordinator)
    # The new deadline's 14, 7, 3 and 1-day digests and its closing summary; nothing twice.
    assert len(digests) == 2 + 5, [d.text[:60] for d in digests]
    assert all("December 29, 2027" in d.text for d in digests[2:-1])
    sent = [d for d in await _deliveries(sessions) if d.status == DeliveryStatus.SENT.value]
    assert len({(d.kind, d.offset_days, d.deadline_at, d.member_id) for d in sent}) == len(sent)


async def test_daylight_saving_change_keeps_nine_oclock(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    # Paris leaves summer time on 31 October 2027: the 7-day digest is before, the 3-day after.
    deadline = datetime(2027, 11, 3, 17, 0, tzinfo=GENEVA)
    await _set_deadline(sessions, deadline, offsets=[7, 3])
    clock = TravelClock(datetime(2027, 10, 20, tzinfo=UTC), standin)
    sender = _sender(services, app, clock)
    await _travel(sender, clock, deadline, step=timedelta(minutes=30))
    coordinator = (await _member(sessions, people.coordinator)).id
    sent = sorted(
        (
            d
            for d in await _deliveries(sessions)
            if d.member_id == coordinator and d.status == DeliveryStatus.SENT.value
        ),
        key=lambda d: d.due_at,
    )
    assert [d.due_at.hour for d in sent] == [7, 8]  # 09:00 CEST, then 09:00 CET, in UTC
    assert all(d.sent_at and d.sent_at.astimezone(ZoneInfo("Europe/Paris")).hour == 9 for d in sent)


async def test_a_fan_out_interrupted_by_a_crash_sends_nothing_twice_and_loses_nothing(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    for number in range(12):
        person = standin.person(app, user_id=500 + number, first_name=f"C{number}")
        await person.send("/start " + await invitations.make(Role.COORDINATOR))
    await _set_deadline(sessions, DEADLINE, offsets=[7])
    due = datetime(2027, 12, 8, 9, 0, tzinfo=UTC)  # coordinators' default zone is UTC
    clock = TravelClock(due + timedelta(hours=1), standin)
    crashed = ReminderSender(
        services,
        app.bot,
        clock=clock,
        worker="host-a",
        limits=Limits(rate=25.0, batch=5, concurrency=1),
    )
    async with transaction(sessions) as session:
        from storage.deliveries import claim_due
        from storage.reminders import plan

        await plan(session=session, now=due - timedelta(hours=1))
        await plan(session=session, now=due - timedelta(minutes=10))
    clock.advance(timedelta(minutes=1))
    # The crash: host-a claimed a batch and died before handing it to Telegram.
    async with transaction(sessions) as session:
        claimed = await claim_due(
            session=session, now=clock.now(), worker="host-a", limit=5, table=ReminderDelivery
        )
    assert len(claimed) == 5
    restarted = ReminderSender(
        services,
        app.bot,
        clock=clock,
        worker="host-a",
        limits=Limits(rate=25.0, batch=5, concurrency=1),
    )
    await restarted.start()
    await restarted.tick()
    assert crashed is not restarted
    received = Counter(chat for chat in range(500, 512) if _reminders(standin, chat))
    assert sorted(received) == list(range(500, 512))
    assert all(len(_reminders(standin, chat)) == 1 for chat in range(500, 512))


async def _caught_sending(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    *,
    user_id: int,
    worker: str,
    all_of_them: bool,
) -> tuple[TravelClock, list[ReminderDelivery]]:
    """A coordinator's due reminders claimed by `worker`, which was then caught sending all of
    them, or only the first."""
    person = standin.person(app, user_id=user_id, first_name="C")
    await person.send("/start " + await invitations.make(Role.COORDINATOR))
    await _set_deadline(sessions, DEADLINE, offsets=[7, 3])
    clock = TravelClock(datetime(2027, 12, 8, 9, 30, tzinfo=UTC), standin)
    async with transaction(sessions) as session:
        await plan(session=session, now=clock.now() - timedelta(hours=2))
        await plan(session=session, now=clock.now())
        claimed = list(
            await claim_due(
                session=session, now=clock.now(), worker=worker, limit=5, table=ReminderDelivery
            )
        )
        sending = claimed if all_of_them else claimed[:1]
        await mark_sending(
            session=session, ids=[d.id or 0 for d in sending], worker=worker, table=ReminderDelivery
        )
    return clock, claimed


async def test_a_delivery_caught_mid_send_is_reported_not_resent(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    clock, _claimed = await _caught_sending(
        app, standin, invitations, sessions, user_id=600, worker="gone", all_of_them=True
    )
    clock.advance(timedelta(minutes=30))
    sender = _sender(services, app, clock)
    await sender.tick()
    assert _reminders(standin, 600) == []
    failed = [d for d in await _deliveries(sessions) if d.status == DeliveryStatus.FAILED.value]
    assert len(failed) == 1 and "not resent" in (failed[0].last_error or "")
    # The next digest tells the coordinator about it.
    await _travel(sender, clock, datetime(2027, 12, 12, 10, 0, tzinfo=UTC))
    digest = _reminders(standin, 600)[-1]
    assert "could not be delivered" in digest.text


async def test_a_dead_worker_s_claims_are_sent_by_another_within_a_minute(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    """Claimed is not yet sending: a worker killed holding a batch loses none of it."""
    person = standin.person(app, user_id=601, first_name="D")
    await person.send("/start " + await invitations.make(Role.COORDINATOR))
    await _set_deadline(sessions, DEADLINE, offsets=[7, 3])
    clock = TravelClock(datetime(2027, 12, 8, 9, 30, tzinfo=UTC), standin)
    async with transaction(sessions) as session:
        await plan(session=session, now=clock.now() - timedelta(hours=2))
        await plan(session=session, now=clock.now())
        claimed = await claim_due(
            session=session, now=clock.now(), worker="killed", limit=5, table=ReminderDelivery
        )
    assert len(claimed) == 1
    sender = _sender(services, app, clock)
    await sender.tick()
    assert _reminders(standin, 601) == []  # the claim is fresh: its worker may be alive
    clock.advance(STALE_CLAIM + timedelta(seconds=1))
    await sender.tick()
    assert len(_reminders(standin, 601)) == 1
    assert [d.status for d in await _deliveries(sessions)] == [DeliveryStatus.SENT.value]


async def test_a_restarted_worker_fails_what_it_was_caught_sending_at_once(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    """The poller keeps its name across restarts: it need not wait for its claims to go stale
    to know that a send of its was cut off, nor to take up what it had claimed."""
    clock, claimed = await _caught_sending(
        app, standin, invitations, sessions, user_id=601, worker="poller", all_of_them=False
    )
    sender = _sender(services, app, clock, worker="poller")
    await sender.start()  # at once: nothing is stale yet
    await sender.release()
    statuses = sorted(d.status for d in await _deliveries(sessions))
    assert statuses == sorted(
        [DeliveryStatus.FAILED.value] + [DeliveryStatus.PENDING.value] * (len(claimed) - 1)
    )


async def test_a_blocked_member_is_stopped_and_never_retried(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    await _set_deadline(sessions, DEADLINE)
    standin.block(people.silent)
    clock = TravelClock(START, standin)
    sender = _sender(services, app, clock)
    await _travel(sender, clock, DEADLINE - timedelta(days=29))
    member = await _member(sessions, people.silent)
    assert member.active is False
    mine = [d for d in await _deliveries(sessions) if d.member_id == member.id]
    assert [(d.status, d.last_error, d.attempts) for d in mine] == [("skipped", "blocked", 1)]
    await _travel(sender, clock, DEADLINE + timedelta(days=1), step=timedelta(hours=6))
    assert len([d for d in await _deliveries(sessions) if d.member_id == member.id]) == 1


async def test_a_deactivated_member_gets_no_reminder_though_one_was_planned(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    await _set_deadline(sessions, DEADLINE)
    clock = TravelClock(START, standin)
    sender = _sender(services, app, clock)
    await _travel(sender, clock, DEADLINE - timedelta(days=29))  # the first round went out
    assert _reminders(standin, people.drafting)
    async with transaction(sessions) as session:
        member = await session.merge(await _member(sessions, people.drafting))
        await deactivate_member(session=session, member=member, by_id=None, now=clock.now())
    before = len(_reminders(standin, people.drafting))
    await _travel(sender, clock, DEADLINE + timedelta(days=1), step=timedelta(hours=6))
    assert len(_reminders(standin, people.drafting)) == before
    assert len(_reminders(standin, people.coordinator)) > 1  # the others' reminders go on


async def test_a_429_storm_is_waited_out_without_losing_or_doubling(
    services: Services,
    invitations: Invitations,
    sessions: SessionFactory,
) -> None:
    standin = BotApiStandIn(global_rate=3.0)  # a bot API far stricter than the sender thinks
    app = on_standin(services, standin)
    await app.initialize()
    try:
        for number in range(20):
            person = standin.person(app, user_id=700 + number, first_name=f"C{number}")
            person.pace = 1.0
            await person.send("/start " + await invitations.make(Role.COORDINATOR))
        standin.drain_violations()
        await _set_deadline(sessions, DEADLINE, offsets=[7])
        clock = TravelClock(datetime(2027, 12, 8, 9, 5, tzinfo=UTC), standin)
        async with transaction(sessions) as session:
            from storage.reminders import plan

            await plan(session=session, now=clock.now() - timedelta(hours=1))
            await plan(session=session, now=clock.now())
        sender = ReminderSender(
            services, app.bot, clock=clock, worker="storm", limits=Limits(rate=30.0, concurrency=1)
        )
        report = await sender.tick()
        assert report.rate_limited > 0 and standin.rate_limited > 0
        assert report.sent == 20 and report.failed == 0
        assert all(len(_reminders(standin, 700 + n)) == 1 for n in range(20))
        standin.drain_violations()  # the 429s were provoked on purpose
    finally:
        await app.shutdown()


async def test_the_digest_matches_the_database(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    await _set_deadline(sessions, DEADLINE, offsets=[7])
    clock = TravelClock(datetime(2027, 12, 7, tzinfo=UTC), standin)
    sender = _sender(services, app, clock)
    await _travel(sender, clock, datetime(2027, 12, 8, 12, tzinfo=UTC))
    digest = _reminders(standin, people.coordinator)[-1].text
    assert "Drafts in progress: 1" in digest  # Porto Alegre's draft
    # A draft is no pledge yet: Porto Alegre is listed, as /missing lists it.
    assert "Invited localities without a pledge: 2" in digest
    assert "Porto Alegre and Sendai" in digest
    assert "Submitted, awaiting review: 0" in digest


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
async def test_time_zones_on_both_sides_of_utc(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    services: Services,
    zone: str,
) -> None:
    people = await _people(app, standin, invitations, sessions)
    await _set_zone(sessions, people.coordinator, zone)
    await _set_deadline(sessions, DEADLINE, offsets=[3])
    clock = TravelClock(datetime(2027, 12, 10, tzinfo=UTC), standin)
    sender = _sender(services, app, clock)
    await _travel(sender, clock, DEADLINE, step=timedelta(minutes=30))
    coordinator = (await _member(sessions, people.coordinator)).id
    (sent,) = [
        d
        for d in await _deliveries(sessions)
        if d.member_id == coordinator and d.status == DeliveryStatus.SENT.value
    ]
    local = sent.due_at.astimezone(ZoneInfo(zone))
    deadline_day = DEADLINE.astimezone(ZoneInfo(zone)).date()  # 16 December in Auckland
    assert (local.date(), local.hour) == (deadline_day - timedelta(days=3), 9)
    assert sent.sent_at is not None and sent.sent_at - sent.due_at <= timedelta(minutes=30)
    assert col(ReminderDelivery.id) is not None
