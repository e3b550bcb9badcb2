"""Benchmark: 10,000 due reminders through the Bot API stand-in at an overall limit of L/s.

    .venv/bin/python benchmarks/reminders.py [--count 10000] [--rate 100] [--database URL]

Prints the achieved rate as a fraction of L, the 429s, duplicates, misses and peak memory.
Target: >= 95 % of L, zero 429s, zero duplicates, zero misses.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import select

from bot.app import build_application
from bot.reminders import Limits, ReminderSender
from bot.services import Services
from bot.settings import Settings
from bot.standin import BotApiStandIn, SimUser, VirtualClock
from conversations.i18n import Catalogs
from storage.engine import SessionFactory, create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import Forum, Locality, Member, ReminderDelivery, Role
from storage.reminders import plan

FIRST_USER = 10_000_000


async def prepare(url: str, count: int) -> tuple[Services, datetime]:
    """A database with `count` officials whose localities have not pledged, all due now."""
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    now = await seed_due_reminders(sessions, count)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    return Services(settings=settings, sessions=sessions, catalogs=Catalogs()), now


async def seed_due_reminders(
    sessions: SessionFactory, count: int, *, first_locality: int = 1
) -> datetime:
    """`count` officials (Telegram ids from FIRST_USER), each of a locality that has not
    pledged (ids from `first_locality`), each with a reminder due now (returned); also what
    the scale-out and outage tests use."""
    now = datetime.now(UTC)
    languages = ["en", "fr", "es", "pt", "ru", "ar", "zh_Hans"]
    async with transaction(sessions) as session:
        await session.exec(
            insert(Locality).values(
                [  # type: ignore[call-overload]
                    {
                        "id": first_locality + i,
                        "name": f"Town {i}",
                        "name_key": f"town {i}",
                        "country": "FR",
                        "kind": "municipality",
                        "created_at": now,
                    }
                    for i in range(count)
                ]
            )
        )
        await session.exec(
            insert(Member).values(
                [  # type: ignore[call-overload]
                    {
                        "telegram_id": FIRST_USER + i,
                        "display_name": f"Official {i}",
                        "role": Role.OFFICIAL.value,
                        "locality_id": first_locality + i,
                        "language": languages[i % len(languages)],
                        "time_zone": "UTC",
                        "reminder_hour": now.hour,
                        "muted_kinds": [],
                        "active": True,
                        "created_at": now,
                        "last_seen_at": now,
                    }
                    for i in range(count)
                ]
            )
        )
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        # Seven days before a deadline late tonight is today at this hour: due now.
        forum.pledge_deadline = datetime.combine(
            (now + timedelta(days=7)).date(), datetime.max.time(), tzinfo=UTC
        ).replace(microsecond=0)
        forum.reminder_offsets = [7]
        session.add(forum)
    async with transaction(sessions) as session:
        await plan(session=session, now=now - timedelta(hours=2))
        await plan(session=session, now=now)
    return now


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="the stand-in's limit L")
    parser.add_argument("--database", help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        services, _ = await prepare(url, args.count)
        standin = BotApiStandIn(clock=VirtualClock(real=True), global_rate=args.rate)
        for i in range(args.count):  # each official has talked to the bot before
            standin.message_update(SimUser(FIRST_USER + i, f"Official {i}"), "/start")
        application = build_application(
            services, token=standin.token, request=standin.request(), rate_limiter=False
        )
        await application.initialize()
        sender = ReminderSender(
            services,
            application.bot,
            worker="bench",
            limits=Limits(rate=args.rate, batch=500, concurrency=32),
        )
        started = time.perf_counter()
        report = await sender.tick()
        elapsed = time.perf_counter() - started
        await application.shutdown()
        async with transaction(services.sessions) as session:
            rows = (await session.exec(select(ReminderDelivery))).all()
        per_chat = Counter(
            m.chat_id for i in range(args.count) for m in standin.chat_messages(FIRST_USER + i)
        )
        duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
        misses = args.count - len(per_chat)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        achieved = report.sent / elapsed
        print(f"database            {url.split(':')[0]}")
        print(f"reminders due       {args.count:,} (rows: {len(rows):,})")
        print(f"limit L             {args.rate:.0f} messages/s")
        print(f"sent                {report.sent:,} in {elapsed:.1f} s")
        print(f"achieved rate       {achieved:.1f}/s = {achieved / args.rate:.1%} of L")
        print(f"429 responses       {standin.rate_limited}")
        print(f"duplicates          {duplicates}")
        print(f"misses              {misses}")
        print(f"peak memory (RSS)   {peak_mib:.0f} MiB")
        print(f"violations          {len(standin.violations)}")


if __name__ == "__main__":
    asyncio.run(main())
