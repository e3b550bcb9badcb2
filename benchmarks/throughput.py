"""Benchmark: N officials completing the pledge wizard at once, against a bare PTB echo bot.

    .venv/bin/python benchmarks/throughput.py [--officials 40] [--database URL]
                                              [--timeout 600] [--step-timeout 30]
                                              [--rate-limit 0] [--telegram-limits]

Two bots, one after the other, each as a separate process long-polling the Bot API stand-in
(bot/standin_server.py, served by this process on 127.0.0.1; Telegram's rate limits off unless
--telegram-limits, which with --rate-limit 30 is production's setting, and counts the 429s):

1. the real bot, `pledgebot run` (the console script): every official joins with an invitation
   (`/start <token>`), then /pledge, forum, compacts, title, description, GCM and GCR
   objectives, support types, target groups, start, end, budget, partners, Submit;
2. a bare PTB Application (this file with --echo-bot) that echoes text and answers callback
   queries, given the same kinds of updates (texts and button presses) from as many users.

Each person sends their next update only after the bot has answered the previous one, and all
of them at once. "Answered" is learnt first, untimed: one extra person walks the same steps
alone and counts the bot's API calls for their chat at each step (until it goes quiet); in the
timed run a step is answered at that many calls. Step latency is from putting the update in
the stand-in's getUpdates queue to the last of those calls. CPU is the bot process's
utime + stime from /proc/<pid>/stat over the timed run.

With --workers N (and a PostgreSQL --database), the wizard alone runs on 1, 2, … N webhook
workers (`pledgebot run --webhook`, the stand-in posting to them round-robin over up to 40
connections, as Telegram and a load balancer would), and the rate of each is printed.

Prints, for both bots: updates/s, CPU ms per update, p50/p95 step latency, and the ratios
wizard/echo. Targets: wizard >= 0.5 x echo's updates/s, CPU per update <= 2 x echo's. Also the
Bot API calls per update and the rate of calls with a chat_id: the ones PTB's AIORateLimiter
meters. Both bots run without a rate limit of their own by default (--rate-limit 0), so the
figures compare the bots' own work; --rate-limit 30 gives both the production limiter.

--database takes `postgresql+asyncpg://user@127.0.0.1:5432/any`: a database of this run's
own (pledgebot_bench_<hex>) is created through the server's `postgres` database and dropped
at the end. Default: a new SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.standin import (
    BotApiStandIn,
)
from bot.standin.crowd import MeteredStandIn, Person, Step, wizard_steps
from bot.standin.webhooks import WebhookPusher
from bot.standin_server import StandInServer
from storage.engine import create_engine, session_factory, transaction
from storage.invites import create_invite
from storage.localities import find_or_create_locality
from storage.migrate import upgrade
from storage.models import Role

ROOT = Path(__file__).resolve().parent.parent
THIS_SCRIPT = Path(__file__).resolve()
FIRST_OFFICIAL = 20_000_000
FIRST_ECHO_USER = 30_000_000
CALIBRATION_OFFSET = 999_999  # the calibrating person's id: FIRST_... + this
READY_TIMEOUT = 60.0  # for a bot process's first getUpdates
WEBHOOK_SECRET = "bench_webhook_secret"
STOP_TIMEOUT = 20.0  # SIGTERM, then SIGKILL
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
PROXY_VARIABLES = frozenset(
    {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}
)

ECHO_LIMITER_VARIABLE = "PLEDGEBOT_BENCH_ECHO_RATE_LIMIT"
TARGET_RATE_RATIO = 0.5  # wizard updates/s >= 0.5 x echo's
TARGET_CPU_RATIO = 2.0  # wizard CPU per update <= 2 x echo's


# --------------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_environment(
    standin: BotApiStandIn, port: int, extra: Mapping[str, str]
) -> dict[str, str]:
    """The bot's environment: the stand-in on 127.0.0.1, never a proxy."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env.update(
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        HEALTH_LISTEN="127.0.0.1:0",  # any free port: runs side by side never collide
    )
    env.update(extra)
    return env


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def wait_until_polling(
    standin: MeteredStandIn, process: asyncio.subprocess.Process, log: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while standin.polls == 0:
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot did not poll within {READY_TIMEOUT:.0f} s")
        await asyncio.sleep(0.05)


async def stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
    return process.returncode if process.returncode is not None else -1


# --------------------------------------------------------------------------- one bot


@dataclass
class PhaseResult:
    label: str
    updates: int
    elapsed: float
    cpu: float
    harness_cpu: float
    latencies: list[float]
    calls: int
    learnt: list[int]
    beyond_learnt: int
    submitted: int
    violations: list[str]
    failed_calls: int
    exit_code: int
    log_errors: int
    log_warnings: list[str]
    with_chat_id: int
    methods: dict[str, int]
    rate_limited: int = 0  # 429s the stand-in answered (with --telegram-limits)

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed

    @property
    def cpu_ms_per_update(self) -> float:
        return self.cpu * 1000 / self.updates


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def wait_until_listening(process: asyncio.subprocess.Process, log: Path) -> str:
    """Where a webhook worker listens (its log says so), as http://127.0.0.1:PORT."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        said = await asyncio.to_thread(log.read_text)
        found = re.search(r"taking updates from Telegram on [\d.]+:(\d+)", said)
        if found is not None:
            return f"http://127.0.0.1:{found.group(1)}"
        if process.returncode is not None:
            raise RuntimeError(f"the worker exited with {process.returncode}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker did not listen within {READY_TIMEOUT:.0f} s")
        await asyncio.sleep(0.05)


async def start_bots(
    label: str,
    command: list[str],
    env: Mapping[str, str],
    standin: MeteredStandIn,
    port: int,
    tmp: Path,
    workers: int,
) -> tuple[list[asyncio.subprocess.Process], list[Path], WebhookPusher | None]:
    """One long-polling process (workers == 0), or `workers` webhook workers behind a
    round-robin balancer with Telegram's 40 connections."""
    processes: list[asyncio.subprocess.Process] = []
    logs: list[Path] = []
    for n in range(max(workers, 1)):
        log_path = tmp / f"{label}-{n}.log".replace(" ", "_").replace("/", "_")
        extra = dict(env)
        if workers:
            extra |= {
                "WEBHOOK_URL": "https://bench.example.org/telegram",
                "WEBHOOK_SECRET": WEBHOOK_SECRET,
                "WEBHOOK_LISTEN": "127.0.0.1:0",
                "DATA_DIR": str(tmp / f"worker-{label}-{n}".replace(" ", "_")),
            }
        with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the bot
            processes.append(
                await asyncio.create_subprocess_exec(
                    *command,
                    *(["--webhook"] if workers else []),
                    env=child_environment(standin, port, extra),
                    cwd=tmp,
                    stdout=log,
                    stderr=log,
                )
            )
        logs.append(log_path)
    if not workers:
        await wait_until_polling(standin, processes[0], logs[0])
        return processes, logs, None
    bases = [await wait_until_listening(p, log) for p, log in zip(processes, logs, strict=True)]
    pusher = WebhookPusher(standin, *bases, connections=40)
    pusher.start()
    return processes, logs, pusher


async def run_phase(
    label: str,
    command: list[str],
    env: Mapping[str, str],
    people: list[tuple[int, str, list[Step]]],
    *,
    echo: bool,
    tmp: Path,
    step_timeout: float,
    workers: int = 0,
    telegram_limits: bool = False,
) -> PhaseResult:
    """Start the bot (or its webhook workers), learn each step's calls with one person, then
    time everyone at once."""
    standin = MeteredStandIn(rate_limits=telegram_limits)
    server = StandInServer(standin)
    port = await server.start("127.0.0.1", 0)
    processes: list[asyncio.subprocess.Process] = []
    logs: list[Path] = []
    pusher: WebhookPusher | None = None
    exit_codes: list[int] = []
    try:
        processes, logs, pusher = await start_bots(label, command, env, standin, port, tmp, workers)
        (calibrating_id, calibrating_name, calibrating_steps), *timed = people
        calibrating = Person(
            standin, calibrating_id, calibrating_name, echo=echo, steps=calibrating_steps
        )
        await calibrating.walk(None, patience=step_timeout)
        learnt = [o.calls for o in calibrating.outcomes]
        if not echo and not calibrating.submitted():
            last = standin.last_message(calibrating.chat)
            raise RuntimeError(f"the wizard did not submit; last reply: {last and last.text!r}")
        persons = [Person(standin, uid, name, echo=echo, steps=s) for uid, name, s in timed]
        methods_before, with_chat_id_before = Counter(standin.methods), standin.with_chat_id
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        harness_before = own_cpu_seconds()
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for person in persons:
                group.create_task(person.walk(learnt, patience=step_timeout))
        finished = max(p.outcomes[-1].answered_at for p in persons)
        cpu_after = sum(cpu_seconds(p.pid) for p in processes)
        harness_after = own_cpu_seconds()
        outcomes = [o for p in persons for o in p.outcomes]
        calls = sum(len(standin.chat_calls[p.chat]) for p in persons)
        violations = list(standin.violations)
        failed_calls = standin.failed_calls
        methods = standin.methods - methods_before
        with_chat_id = standin.with_chat_id - with_chat_id_before
    except Exception:
        for log_path in logs:
            print(
                f"{label}: failed; the end of {log_path.name}:\n{log_tail(log_path)}",
                file=sys.stderr,
            )
        raise
    finally:
        if pusher is not None:
            await pusher.stop()
        exit_codes = [await stop(p) for p in processes]
        await server.stop()
    log_text = "\n".join(log_path.read_text(errors="replace") for log_path in logs)
    return PhaseResult(
        label=label,
        updates=len(outcomes),
        elapsed=finished - started,
        cpu=cpu_after - cpu_before,
        harness_cpu=harness_after - harness_before,
        latencies=[o.latency for o in outcomes],
        calls=calls,
        learnt=learnt,
        beyond_learnt=calls - sum(learnt) * len(persons),
        submitted=sum(p.submitted() for p in persons),
        violations=violations,
        failed_calls=failed_calls,
        exit_code=max(exit_codes, key=abs, default=-1),
        log_errors=sum(
            1 for line in log_text.splitlines() if " ERROR " in line or "Traceback" in line
        ),
        log_warnings=[line for line in log_text.splitlines() if " WARNING " in line],
        with_chat_id=with_chat_id,
        methods=dict(methods.most_common()),
        rate_limited=standin.rate_limited,
    )


# --------------------------------------------------------------------------- the echo bot


def run_echo_bot() -> None:
    """A bare PTB Application: echoes text, answers callback queries (--echo-bot)."""

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await message.reply_text(message.text)

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()

    base = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")
    builder = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
    )
    rate = float(os.environ.get(ECHO_LIMITER_VARIABLE) or 0)
    if rate:  # as bot/app.py builds pledgebot's
        limiter = AIORateLimiter(overall_max_rate=rate, max_retries=3)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(answer))
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


# --------------------------------------------------------------------------- the database


@contextlib.asynccontextmanager
async def bench_database(url: str | None, tmp: Path) -> AsyncIterator[str]:
    """The URL the bot uses: a new SQLite file, or a PostgreSQL database of this run's own."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        return
    name = f"pledgebot_bench_{secrets.token_hex(6)}"
    admin_url = make_url(url).set(database="postgres")
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def invitations(url: str, count: int, bot_source: str | None) -> list[str]:
    """The schema (the bot's own, from its checkout), and one official's invitation (a
    locality each) per person."""
    if bot_source:
        env = {**os.environ, "PYTHONPATH": bot_source, "DATABASE_URL": url}
        migrating = await asyncio.create_subprocess_exec(bot_command()[0], "db", "upgrade", env=env)
        if await migrating.wait():
            raise RuntimeError(f"pledgebot db upgrade from {bot_source} failed")
    engine = create_engine(url)
    try:
        if not bot_source:
            await upgrade(engine)
        tokens = []
        async with transaction(session_factory(engine)) as session:
            for i in range(count):
                town = await find_or_create_locality(
                    session=session, name=f"Benchtown {i}", country="FR"
                )
                issued = await create_invite(
                    session=session, role=Role.OFFICIAL, locality_id=town.id
                )
                tokens.append(issued.token)
    finally:
        await engine.dispose()
    return tokens


# --------------------------------------------------------------------------- report


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(
    wizard: PhaseResult, echo: PhaseResult, database: str, officials: int, code: str
) -> None:
    steps = len(wizard.learnt)
    print(f"bot code                 {code}")
    print(f"database                 {database}")
    print(
        f"people                   {officials} at once, {steps} updates each "
        f"= {wizard.updates} updates per bot"
    )
    print(f"host CPUs                {os.cpu_count()} (shared by the bot, the stand-in, clients)")
    print()
    print(f"{'':25}{'wizard':>12}{'echo':>12}{'wizard/echo':>14}   target")
    rate_ratio = wizard.rate / echo.rate
    cpu_ratio = wizard.cpu_ms_per_update / echo.cpu_ms_per_update
    rows = [
        ("updates/s", wizard.rate, echo.rate, f"{rate_ratio:.2f}", f">= {TARGET_RATE_RATIO}"),
        (
            "CPU ms / update",
            wizard.cpu_ms_per_update,
            echo.cpu_ms_per_update,
            f"{cpu_ratio:.2f}",
            f"<= {TARGET_CPU_RATIO}",
        ),
        (
            "step p50 ms",
            percentile(wizard.latencies, 0.5) * 1000,
            percentile(echo.latencies, 0.5) * 1000,
            "",
            "",
        ),
        (
            "step p95 ms",
            percentile(wizard.latencies, 0.95) * 1000,
            percentile(echo.latencies, 0.95) * 1000,
            "",
            "",
        ),
        (
            "Bot API calls / update",
            wizard.calls / wizard.updates,
            echo.calls / echo.updates,
            "",
            "",
        ),
        (
            "calls with chat_id / s",
            wizard.with_chat_id / wizard.elapsed,
            echo.with_chat_id / echo.elapsed,
            "",
            "",
        ),
        ("elapsed s", wizard.elapsed, echo.elapsed, "", ""),
        ("bot CPU s", wizard.cpu, echo.cpu, "", ""),
        ("harness CPU s", wizard.harness_cpu, echo.harness_cpu, "", ""),
    ]
    for name, w, e, ratio, target in rows:
        print(f"{name:<25}{w:>12.2f}{e:>12.2f}{ratio:>14}   {target}")
    print()
    verdict_rate = "ok" if rate_ratio >= TARGET_RATE_RATIO else "BELOW TARGET"
    verdict_cpu = "ok" if cpu_ratio <= TARGET_CPU_RATIO else "OVER TARGET"
    print(
        f"updates/s ratio          {rate_ratio:.2f} (target >= {TARGET_RATE_RATIO})  {verdict_rate}"
    )
    print(f"CPU/update ratio         {cpu_ratio:.2f} (target <= {TARGET_CPU_RATIO})  {verdict_cpu}")
    print(f"pledges submitted        {wizard.submitted} of {officials}")
    for result in (wizard, echo):
        print(
            f"{result.label:<25}calls per step learnt {result.learnt}; calls beyond them "
            f"{result.beyond_learnt}; failed calls {result.failed_calls}; stand-in "
            f"violations {len(result.violations)}; 429s {result.rate_limited}; log errors "
            f"{result.log_errors}, "
            f"warnings {len(result.log_warnings)}; exit code {result.exit_code}"
        )
        by_method = ", ".join(f"{m} {n}" for m, n in result.methods.items())
        print(f"{'':25}timed calls: {by_method}")
        for line in [*result.violations[:5], *result.log_warnings[:3]]:
            print(f"    {line[:200]}")


# --------------------------------------------------------------------------- main


async def scale_out(
    args: argparse.Namespace, url: str, shown: str, source: str | None, tmp: Path
) -> None:
    """The wizard on 1, 2, … N webhook workers in turn; each phase with officials of its own."""
    per_phase = args.officials + 1
    tokens = await invitations(url, per_phase * args.workers, source)
    results = []
    for workers in range(1, args.workers + 1):
        first = FIRST_OFFICIAL + workers * 1_000_000
        mine = tokens[(workers - 1) * per_phase : workers * per_phase]
        people = [(first + i, f"Official {i}", wizard_steps(token)) for i, token in enumerate(mine)]
        env = {
            "DATABASE_URL": url,
            "LOG_LEVEL": "INFO",
            "TELEGRAM_RATE_LIMIT": str(args.rate_limit),
        }
        if source:
            env["PYTHONPATH"] = source
        results.append(
            await run_phase(
                f"{workers} webhook workers",
                bot_command(),
                env,
                people,
                echo=False,
                tmp=tmp,
                step_timeout=args.step_timeout,
                workers=workers,
            )
        )
    print(f"bot code                 {source_fingerprint()}")
    print(f"database                 {shown}")
    steps = len(results[0].learnt)
    print(f"people                   {args.officials} at once per phase, {steps} updates each")
    print(f"host CPUs                {os.cpu_count()} (shared by workers, PostgreSQL, clients)")
    print()
    columns = ("updates/s", "CPU ms/upd", "p50 ms", "p95 ms", "submitted", "beyond", "exit")
    print(f"{'workers':>8}" + "".join(f"{c:>12}" for c in columns))
    for workers, result in enumerate(results, start=1):
        print(
            f"{workers:>8}{result.rate:>12.1f}{result.cpu_ms_per_update:>12.2f}"
            f"{percentile(result.latencies, 0.5) * 1000:>12.0f}"
            f"{percentile(result.latencies, 0.95) * 1000:>12.0f}"
            f"{result.submitted:>12}{result.beyond_learnt:>12}{result.exit_code:>12}"
        )
    print()
    print(
        "On a machine with fewer cores than workers, the workers, PostgreSQL, the stand-in and "
        "the clients share the same CPUs: these figures show the mechanism (every update handled "
        "once, in order, whichever worker got it), not the ceiling of more machines."
    )
    for result in results:
        for line in [*result.violations[:5], *result.log_warnings[:3]]:
            print(f"    {result.label}: {line[:200]}")


def source_fingerprint() -> str:
    """Which bot was measured: HEAD, and a hash of the sources as they are now."""
    digest = hashlib.sha1()
    for path in sorted(
        p for d in ("bot", "conversations", "storage") for p in (ROOT / d).rglob("*.py")
    ):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]  # read-only: never the index lock
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    modified = len(changed.stdout.splitlines())
    sources = digest.hexdigest()[:12]
    return f"HEAD {head.stdout.strip() or '?'} + {modified} changed paths; sources sha1 {sources}"


def bot_command(profile: str | None = None) -> list[str]:
    """`pledgebot run`; under cProfile (its main thread), writing to `profile`, if given."""
    beside = Path(sys.executable).with_name("pledgebot")
    script = beside if beside.exists() else ROOT / ".venv" / "bin" / "pledgebot"
    if profile:
        return [sys.executable, "-m", "cProfile", "-o", profile, str(script), "run"]
    return [str(script), "run"]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--officials", type=int, default=40)
    parser.add_argument("--database", help="default: a new SQLite file")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--step-timeout", type=float, default=30.0, help="seconds per answer")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=0.0,
        help="messages/s both bots allow themselves (PTB's AIORateLimiter; pledgebot's "
        "TELEGRAM_RATE_LIMIT, 30 in production); 0, the default, compares the bots' own work",
    )
    parser.add_argument(
        "--telegram-limits",
        action="store_true",
        help="the stand-in answers 429 as Telegram does (30 messages/s overall, a burst of "
        "three then one a second per chat); use with --rate-limit 30, as in production",
    )
    parser.add_argument(
        "--bot-source",
        help="run the bot from another checkout of pledgebot (e.g. a git worktree of an older "
        "commit), to compare commits with one client",
    )
    parser.add_argument("--profile", help="write a cProfile of the bot's main thread here")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="instead of the echo comparison: the wizard on 1, 2, … N webhook workers "
        "(`pledgebot run --webhook`) behind a round-robin balancer, one after the other, on "
        "the --database (PostgreSQL)",
    )
    parser.add_argument("--echo-bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.officials < 1:
        parser.error("--officials must be at least 1")
    if args.workers and not (args.database or "").startswith("postgresql"):
        parser.error("--workers needs --database postgresql+asyncpg://…: workers share it")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with asyncio.timeout(args.timeout), bench_database(args.database, tmp) as url:
            database = make_url(url)
            shown = f"{database.get_backend_name()} ({database.database})"
            # Paths are resolved once, before anything runs: nothing waits on the loop yet.
            source = os.path.abspath(args.bot_source) if args.bot_source else None  # noqa: ASYNC240
            profile = os.path.abspath(args.profile) if args.profile else None  # noqa: ASYNC240
            if args.workers:
                await scale_out(args, url, shown, source, tmp)
                return
            tokens = await invitations(url, args.officials + 1, source)
            wizard_people = [
                (FIRST_OFFICIAL + CALIBRATION_OFFSET, "Calibra", wizard_steps(tokens[0]))
            ] + [
                (FIRST_OFFICIAL + i, f"Official {i}", wizard_steps(tokens[i + 1]))
                for i in range(args.officials)
            ]
            code = source_fingerprint()
            bot_env = {
                "DATABASE_URL": url,
                "DATA_DIR": str(tmp),
                "LOG_LEVEL": "INFO",
                "TELEGRAM_RATE_LIMIT": str(args.rate_limit),
            }
            if source:  # imported before this checkout's editable install
                bot_env["PYTHONPATH"] = source
            wizard = await run_phase(
                "wizard (pledgebot run)",
                bot_command(profile),
                bot_env,
                wizard_people,
                echo=False,
                tmp=tmp,
                step_timeout=args.step_timeout,
                telegram_limits=args.telegram_limits,
            )
            # The same kinds of updates, a fake token of the same length in /start.
            echo_people = [
                (FIRST_ECHO_USER + uid - FIRST_OFFICIAL, name, wizard_steps("x" * len(tokens[0])))
                for uid, name, _ in wizard_people
            ]
            echo = await run_phase(
                "echo (PTB + limiter)" if args.rate_limit else "echo (bare PTB)",
                [sys.executable, str(THIS_SCRIPT), "--echo-bot"],
                {ECHO_LIMITER_VARIABLE: str(args.rate_limit)},
                echo_people,
                echo=True,
                tmp=tmp,
                step_timeout=args.step_timeout,
                telegram_limits=args.telegram_limits,
            )
        report(wizard, echo, shown, args.officials, code)


if __name__ == "__main__":
    if "--echo-bot" in sys.argv[1:]:
        run_echo_bot()
    else:
        asyncio.run(main())
