"""Benchmark: status by chat on 100,000 pledges across 5,000 localities, and exporting them.

    .venv/bin/python benchmarks/queries.py [--pledges 100000] [--localities 5000] [--runs 60]
                                           [--database URL]

Drives /status, /find and /missing through the real Application on the Bot API stand-in
(handlers, database, translations and Telegram's limits checked) and prints p50 and p95 of
each; then exports every pledge (CSV and XLSX, in a fresh process so its peak memory is its
own) and prints the time and peak RSS. Targets: p95 <= 50 ms per query; export <= 10 s and
<= 300 MB peak RSS.

On PostgreSQL the schema `public` of the given database is dropped and recreated: never point
it at a database in use (tests included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlmodel import select
from telegram import Update

from bot.app import build_application
from bot.services import Services
from bot.settings import Settings
from bot.standin import BotApiStandIn, SimUser
from conversations.i18n import Catalogs
from storage.engine import create_engine, session_factory, transaction
from storage.localities import name_key
from storage.migrate import upgrade
from storage.models import Forum, Locality, Member, Pledge, PledgePartner, Role
from storage.pledges import search_text_of

STAFF_USER = 7_000_001
FIRST_OFFICIAL_USER = 8_000_000
COUNTRIES = ["FR", "BR", "EG", "CN", "DE", "ES", "IT", "KE", "MX", "JO", "TR", "CO", "PT", "US"]
CURRENCIES = ["EUR", "USD", "BRL", "EGP", "CNY", "KES", "MXN", "JOD", "TRY", "COP"]
WORDS = [
    "welcome",
    "centre",
    "newcomers",
    "language",
    "classes",
    "legal",
    "advice",
    "housing",
    "shelter",
    "jobs",
    "training",
    "schools",
    "health",
    "care",
    "inclusion",
    "social",
    "cohesion",
    "data",
    "services",
    "refugees",
    "migrants",
    "city",
    "council",
    "partners",
    "network",
    "support",
    "integration",
    "youth",
    "women",
    "children",
    "families",
    "return",
    "accueil",
    "réfugiés",
    "intégration",
    "santé",
    "école",
    "logement",
    "emploi",
    "formation",
    "acolhimento",
    "integração",
    "moradia",
    "educação",
    "saúde",
    "São",
    "Paulo",
    "Bogotá",
    "Zürich",
    "Kraków",
    "مركز",
    "استقبال",
    "المهاجرين",
    "اللاجئين",
    "دروس",
    "اللغة",
    "城市",
    "难民",
    "融合",
    "语言",
    "课程",
    "住房",
]
QUERIES = ["centre", "sao paulo", "refugees housing", "اللاجئين", "难民 住房", "zurich youth"]
STATES = ["submitted"] * 4 + ["approved"] * 3 + ["delivered", "changes_requested", "draft"] * 1
STAGES = ["planning", "in_progress", "fulfilled"]


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _pledge_rows(
    rng: random.Random, count: int, localities: int, forum_ids: Sequence[int], now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        title = " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize()
        description = " ".join(rng.choices(WORDS, k=rng.randint(30, 90)))
        compacts = rng.choice([["gcm"], ["gcr"], ["gcm", "gcr"]])
        state = rng.choice(STATES)
        amount = Decimal(rng.randint(1_000, 5_000_000)) if rng.random() < 0.6 else None
        rows.append(
            {
                "id": i + 1,
                "reference": None if state == "draft" else f"CLA-2027-{i + 1:06d}",
                "locality_id": rng.randint(1, localities),
                "forum_id": rng.choice(forum_ids),
                "compacts": compacts,
                "title": title,
                "description": description,
                "search_text": search_text_of(title, description),
                "gcm_objectives": sorted(rng.sample(range(1, 24), 2)) if "gcm" in compacts else [],
                "gcr_objectives": [rng.randint(1, 4)] if "gcr" in compacts else [],
                "support_types": ["technical"],
                "target_groups": ["refugees", "migrants"],
                "starts_on": date(2027, 1, 1),
                "ends_on": None,
                "ongoing": True,
                "amount": amount,
                "currency": rng.choice(CURRENCIES) if amount is not None else None,
                "partner_ids": [],
                "language": "en",
                "state": state,
                "draft_step": None,
                "stage": rng.choice(STAGES),
                "created_by_id": 1,
                "created_at": now,
                "updated_at": now,
                "submitted_at": None if state == "draft" else now,
            }
        )
    return rows


async def prepare(url: str, pledges: int, localities: int) -> Services:
    """Localities (four in five with an official), staff, and `pledges` pledges in bulk."""
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    rng = random.Random(5)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        forum_ids = [f.id for f in (await session.exec(select(Forum))).all() if f.id is not None]
        grf = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        grf.pledge_deadline = now + timedelta(days=300)
        session.add(grf)
    async with engine.begin() as connection:
        await connection.execute(
            insert(Locality),
            [
                {
                    "id": i + 1,
                    "name": f"Town {i} {WORDS[i % len(WORDS)]}",
                    "name_key": name_key(f"Town {i} {WORDS[i % len(WORDS)]}"),
                    "country": COUNTRIES[i % len(COUNTRIES)],
                    "kind": "municipality",
                    "created_at": now,
                }
                for i in range(localities)
            ],
        )
        members = [
            {
                "telegram_id": STAFF_USER,
                "display_name": "Staff",
                "role": Role.STAFF.value,
                "locality_id": None,
            }
        ] + [
            {
                "telegram_id": FIRST_OFFICIAL_USER + i,
                "display_name": f"Official {i}",
                "role": Role.OFFICIAL.value,
                "locality_id": i + 1,
            }
            for i in range(localities)
            if i % 5
        ]
        await connection.execute(
            insert(Member),
            [
                {
                    **m,
                    "language": "en",
                    "time_zone": "UTC",
                    "reminder_hour": 9,
                    "muted_kinds": [],
                    "active": True,
                    "created_at": now,
                    "last_seen_at": now,
                }
                for m in members
            ],
        )
        batch = 10_000
        for start in range(0, pledges, batch):
            rows = _pledge_rows(rng, min(batch, pledges - start), localities, forum_ids, now)
            for row in rows:
                row["id"] += start
                if row["reference"]:
                    row["reference"] = f"CLA-2027-{row['id']:06d}"
            await connection.execute(insert(Pledge), rows)
            joint = [r for r in rows if r["id"] % 20 == 0]
            await connection.execute(
                insert(PledgePartner),
                [
                    {"pledge_id": r["id"], "locality_id": r["locality_id"] % localities + 1}
                    for r in joint
                ],
            )
        await connection.execute(text("ANALYZE"))  # the planner should know the bulk load
    if url.startswith("postgresql"):
        # What autovacuum does soon after a bulk load: marks pages all-visible, so the
        # covering indexes are read without visiting the table.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    return Services(settings=settings, sessions=sessions, catalogs=Catalogs())


async def measure(services: Services, runs: int) -> dict[str, list[float]]:
    """Each command `runs` times through Application.process_update; milliseconds."""
    standin = BotApiStandIn()
    application = build_application(
        services, token=standin.token, request=standin.request(), rate_limiter=False
    )
    await application.initialize()
    staff = SimUser(STAFF_USER, "Staff", None, "en")
    commands = {
        "/status GRF2027": ["/status GRF2027"],
        "/find <words>": [f"/find {QUERIES[i % len(QUERIES)]}" for i in range(runs)],
        "/missing GRF2027": ["/missing GRF2027"],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    for warm in ("/status GRF2027", "/find centre", "/missing GRF2027"):
        standin.clock.advance(5)
        await application.process_update(
            Update.de_json(standin.message_update(staff, warm), application.bot)
        )
    for name, texts in commands.items():
        for i in range(runs):
            standin.clock.advance(5)  # a person's pace: within Telegram's per-chat limit
            update = Update.de_json(
                standin.message_update(staff, texts[i % len(texts)]), application.bot
            )
            started = time.perf_counter()
            await application.process_update(update)
            timings[name].append((time.perf_counter() - started) * 1000)
    last = standin.chat_messages(STAFF_USER)[-1].text
    await application.shutdown()
    if standin.violations:
        print("VIOLATIONS:", *standin.violations[:5], sep="\n  ")
    print(f"last reply (/missing)   {last.splitlines()[0]}")
    return timings


async def export_only(url: str) -> None:
    """Export every pledge as CSV and XLSX; print times and this process's peak RSS as JSON."""
    try:
        from storage.exchange import export_csv, export_xlsx
    except ImportError as error:
        print(json.dumps({"error": f"not available yet ({error})"}))
        return
    engine = create_engine(url)
    sessions = session_factory(engine)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, export in (("csv", export_csv), ("xlsx", export_xlsx)):
            path = Path(tmp) / f"pledges.{name}"
            started = time.perf_counter()
            async with transaction(sessions) as session:
                with path.open("wb") as out:
                    outcome = await export(session=session, out=out)
            result[name] = {
                "seconds": time.perf_counter() - started,
                "bytes": path.stat().st_size,
                "rows": outcome if isinstance(outcome, int) else str(outcome),
            }
    await engine.dispose()
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_export(url: str) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--export-only", "--database", url],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"export: not available yet ({tail})")
        return
    figures = json.loads(lines[-1])
    if "error" in figures:
        print(f"export: {figures['error']}")
        return
    for name in ("csv", "xlsx"):
        f = figures[name]
        print(
            f"export {name:<5}          {f['seconds']:.2f} s, {f['bytes'] / 1e6:.1f} MB "
            f"({f['rows']})"
        )
    print(f"export peak RSS         {figures['peak_rss_mib']:.0f} MiB (whole process, both files)")
    print(f"export process          {elapsed:.1f} s including start-up")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pledges", type=int, default=100_000)
    parser.add_argument("--localities", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--database", help="default: a new SQLite file")
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        await export_only(args.database)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        if url.startswith("postgresql"):
            await reset_postgres(url)
        started = time.perf_counter()
        services = await prepare(url, args.pledges, args.localities)
        print(f"database                {url.split(':')[0]}")
        print(
            f"data                    {args.pledges:,} pledges, {args.localities:,} localities "
            f"(built in {time.perf_counter() - started:.0f} s)"
        )
        timings = await measure(services, args.runs)
        for name, values in timings.items():
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            verdict = "ok" if p95 <= 50 else "OVER TARGET"
            print(f"{name:<23} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (target 50)  {verdict}")
        run_export(url)


if __name__ == "__main__":
    asyncio.run(main())
