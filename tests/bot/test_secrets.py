"""No secret reaches a log or a terminal: the bot token, invite tokens and links, the webhook
secret, the database's password, at DEBUG, from PTB, httpx or Python itself."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import PledgeApplication
from bot.logs import REDACTED, JsonLines, RedactSecrets, configure_logging
from bot.standin import BotApiStandIn, SimUser
from bot.standin.webhooks import WebhookPusher
from bot.standin_server import StandInServer
from storage.engine import create_engine, session_factory, transaction
from storage.invites import create_invite
from storage.migrate import upgrade
from storage.models import Role
from tests.bot.test_runner import TIMEOUT, HttpPerson, launch, logged
from tests.conftest import Invitations, fresh_postgres, postgres_url

TOKEN = "7000000001:SIMULATED_standin_token_0000000000"
INVITE = "q0D3x-Vb_9sKz1LmN2pR4tY6wA8cE0gI"  # the shape of storage.invites' tokens
DB_PASSWORD = "s3cretPW"
WEBHOOK_SECRET = "webhook_secret-" + "w" * 40


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite, or this run's PostgreSQL database reached with a password (the test server
    trusts any)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url = make_url(postgres_url(request)).set(password=DB_PASSWORD)
        return url.render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


async def _with_a_coordinator_invitation(url: str) -> str:
    engine = await fresh_postgres(url) if url.startswith("postgresql") else create_engine(url)
    await upgrade(engine)
    async with transaction(session_factory(engine)) as session:
        issued = await create_invite(session=session, role=Role.COORDINATOR, locality_id=None)
    await engine.dispose()
    return issued.token


async def _invite_everyone(coordinator: HttpPerson) -> list[str]:
    """The coordinator's /invite for each role; the tokens of the links it gave."""
    links = []
    for role in ("Official", "Coordinator", "Staff"):
        await coordinator.send("/invite")
        replies = await coordinator.press(role)
        if role == "Official":
            await coordinator.send("Lyon")
            replies = await coordinator.send("FR")
        links += [m.text for m in replies if "start=" in m.text]
    tokens = [re.search(r"\?start=([\w-]+)", link).group(1) for link in links]  # type: ignore[union-attr]
    assert len(tokens) == 3, links
    return tokens


@pytest.mark.parametrize(
    ("database_url", "webhook"),
    [("sqlite", False), ("sqlite", True), ("postgresql", False)],
    indirect=["database_url"],
)
async def test_no_secret_in_any_line_the_bot_writes_at_debug(
    tmp_path: Path, database_url: str, webhook: bool
) -> None:
    coordinator_token = await _with_a_coordinator_invitation(database_url)
    standin = BotApiStandIn()
    server = StandInServer(standin)
    port = await server.start()
    options = (
        {
            "WEBHOOK_URL": "https://pledgebot.example.org:8443/telegram",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1:0",
        }
        if webhook
        else {}
    )
    process, log_path = await launch(
        tmp_path, standin, port, database_url, *(["--webhook"] if webhook else []), **options
    )
    pusher = None
    try:
        if webhook:
            listening = await logged(log_path, r"taking updates from Telegram on [\d.]+:(\d+)")
            pusher = WebhookPusher(standin, f"http://127.0.0.1:{listening.group(1)}")
            pusher.start()
        coordinator = HttpPerson(standin, SimUser(501, "Coco"))
        assert "Coordinator" in (await coordinator.send(f"/start {coordinator_token}"))[0].text
        official_token, coordinator_invitation, staff_token = await _invite_everyone(coordinator)
        newcomer = HttpPerson(standin, SimUser(503, "Sam"))
        assert "Welcome" in (await newcomer.send(f"/start {staff_token}"))[0].text
    finally:
        if pusher is not None:
            await pusher.stop()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), TIMEOUT)
        await server.stop()
    log = log_path.read_text()  # the process's stdout and stderr
    assert process.returncode == 0, log[-3000:]
    assert standin.violations == []
    secrets = {
        "bot token": standin.token,
        "bot token's secret part": standin.token.split(":")[1],
        "coordinator's invitation used at start": coordinator_token,
        "unused official invitation": official_token,
        "unused coordinator invitation": coordinator_invitation,
        "staff invitation used by /start": staff_token,
        "webhook secret": WEBHOOK_SECRET,
        "database password": DB_PASSWORD,
    }
    leaks = {
        name: [line[:300] for line in log.splitlines() if secret in line]
        for name, secret in secrets.items()
    }
    assert {name: lines for name, lines in leaks.items() if lines} == {}
    # PTB did dump the updates and the calls: the filter took the tokens out of them.
    assert f"/start {REDACTED}" in log and f"start={REDACTED}" in log


async def test_a_token_telegram_rejects_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    wrong = "7000000001:REJECTED_token_000000000000000000"
    standin = BotApiStandIn()
    server = StandInServer(standin)
    port = await server.start()
    try:
        process, log_path = await launch(tmp_path, standin, port, url, TELEGRAM_BOT_TOKEN=wrong)
        await asyncio.wait_for(process.wait(), TIMEOUT)
    finally:
        await server.stop()
    log = log_path.read_text()
    assert process.returncode == 2, log[-3000:]
    assert "REJECTED_token" not in log and "Traceback" not in log
    last = log.strip().splitlines()[-1]
    assert last.startswith("pledgebot: Telegram rejected TELEGRAM_BOT_TOKEN"), last
    assert standin.drain_violations() == ["request with a wrong bot token to getMe"]


async def test_pledgebot_invite_with_a_rejected_token_does_not_print_it(tmp_path: Path) -> None:
    wrong = "7000000001:REJECTED_token_000000000000000000"
    standin = BotApiStandIn()
    server = StandInServer(standin)
    port = await server.start()
    environment = {
        "TELEGRAM_BOT_TOKEN": wrong,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "DEBUG",
    }
    try:
        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "db",
            "upgrade",
            env={**os.environ, **environment},
            cwd=tmp_path,
        )
        assert await migrate.wait() == 0
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot.cli", "invite", "--role", "staff"),
            env={**os.environ, **environment},
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output = (await asyncio.wait_for(process.communicate(), TIMEOUT))[0].decode()
    finally:
        await server.stop()
    assert process.returncode == 2, output
    assert "REJECTED_token" not in output and "Traceback" not in output
    assert "TELEGRAM_BOT_TOKEN" in output.strip().splitlines()[-1]


# ----------------------------------------------------------------- the filter, record by record


def _through_filter(record: logging.LogRecord, *, json_lines: bool = False) -> str:
    """What the configured handler would print for the record."""
    RedactSecrets([TOKEN, WEBHOOK_SECRET, DB_PASSWORD]).filter(record)
    formatter = JsonLines() if json_lines else logging.Formatter("%(name)s: %(message)s")
    return formatter.format(record)


def _record(name: str, msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    "dump",
    [
        # PTB's "finished with return value" of getUpdates: Python reprs of the JSON.
        f"[{{'update_id': 5, 'message': {{'text': '/start {INVITE}', 'entities': []}}}}]",
        # an Update's repr, as the Application logs what it processes
        f"Update(message=Message(chat=Chat(id=501), text='/start {INVITE}'), update_id=5)",
        # a JSON body (the webhook's, the inbox's), the space escaped or not
        json.dumps({"message": {"text": f"/start {INVITE}"}}),
        json.dumps({"message": {"text": f"/start\n{INVITE}"}}),
        json.dumps({"message": {"text": f"/start\u00a0{INVITE}"}}),
        f"text='/start@pledgebot_sim_bot {INVITE}'",
        # sendMessage's parameters: the link, in the text and in a button
        f"{{'chat_id': 501, 'text': 'Send this link:\\nhttps://t.me/pledgebot_sim_bot?start={INVITE}'}}",
        f'<a href="https://t.me/pledgebot_sim_bot?start={INVITE}">open</a>',
        f"tg://resolve?domain=pledgebot_sim_bot&start={INVITE}",
        f"https%3A%2F%2Ft.me%2Fpledgebot_sim_bot%3Fstart%3D{INVITE}",
        json.dumps({"url": f"https://t.me/pledgebot_sim_bot?startgroup={INVITE}"}),
    ],
)
def test_an_invite_token_is_taken_out_by_its_shape(dump: str) -> None:
    record = _record("telegram.ext.ExtBot", "Call to Bot API endpoint finished with `%s`", dump)
    printed = _through_filter(record)
    assert INVITE not in printed and REDACTED in printed, printed


def test_text_that_only_mentions_start_keeps_its_words() -> None:
    record = _record("x", "%s", "restart=3, send /start, startup=ok, text='/start'")
    assert _through_filter(record) == "x: restart=3, send /start, startup=ok, text='/start'"


def test_the_password_of_any_database_url_is_taken_out() -> None:
    record = _record(
        "sqlalchemy",
        "connecting to %s and %r",
        f"postgresql+asyncpg://postgres:{DB_PASSWORD}@127.0.0.1:5432/pledges",
        "postgresql://bot:An0ther%40pw@db.internal/pledges",
    )
    printed = _through_filter(record)
    assert DB_PASSWORD not in printed and "An0ther" not in printed, printed
    assert f"postgres:{REDACTED}@127.0.0.1:5432" in printed and f"bot:{REDACTED}@db" in printed


def test_the_bot_token_in_httpx_and_ptb_lines_is_taken_out() -> None:
    httpx_line = _record(
        "httpx",
        'HTTP Request: %s %s "%s %d %s"',
        "POST",
        f"https://api.telegram.org/bot{TOKEN}/getUpdates",
        "HTTP/1.1",
        200,
        "OK",
    )
    ptb_line = _record(
        "telegram.ext.ExtBot",
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "setWebhook",
        {"url": "https://pledgebot.example.org/telegram", "secret_token": WEBHOOK_SECRET},
    )
    for record in (httpx_line, ptb_line):
        printed = _through_filter(record)
        assert TOKEN not in printed and WEBHOOK_SECRET not in printed and REDACTED in printed


def _raise_with_token() -> None:
    raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")


@pytest.mark.parametrize("json_lines", [False, True])
def test_a_traceback_and_a_stack_are_taken_through_the_filter(json_lines: bool) -> None:
    try:
        _raise_with_token()
    except RuntimeError:
        record = _record("asyncio", "Task exception was never retrieved")
        record.exc_info = sys.exc_info()
    record.stack_info = f"Stack (most recent call last):\n  bot{TOKEN}/getMe"
    printed = _through_filter(record, json_lines=json_lines)
    assert TOKEN not in printed and "RuntimeError" in printed and REDACTED in printed


def test_json_lines_fields_are_taken_through_the_filter() -> None:
    record = _record("bot.engine", "handled", fields={"note": f"/start {INVITE}", "update_id": 5})
    entry = json.loads(_through_filter(record, json_lines=True))
    assert entry["note"] == f"/start {REDACTED}" and entry["update_id"] == 5


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """configure_logging writing to a buffer; Python's hooks and handlers put back after."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(logging, "lastResort", logging.lastResort)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", redaction=RedactSecrets([TOKEN]))
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_an_uncaught_exception_is_printed_through_the_filter(configured: io.StringIO) -> None:
    try:
        _raise_with_token()
    except RuntimeError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    printed = configured.getvalue()
    assert "RuntimeError" in printed and TOKEN not in printed and REDACTED in printed


def test_an_exception_in_a_thread_is_printed_through_the_filter(configured: io.StringIO) -> None:
    thread = threading.Thread(target=_raise_with_token, name="export")
    thread.start()
    thread.join()
    printed = configured.getvalue()
    assert "RuntimeError" in printed and TOKEN not in printed and REDACTED in printed


def test_a_record_no_handler_takes_is_printed_through_the_filter(configured: io.StringIO) -> None:
    alone = logging.getLogger("pledgebot.tests.no_propagation")
    alone.propagate = False
    try:
        alone.warning("request to bot%s failed", TOKEN)
    finally:
        alone.propagate = True
    printed = configured.getvalue()
    assert "failed" in printed and TOKEN not in printed


async def test_the_asyncio_exception_handler_goes_through_the_filter(
    configured: io.StringIO,
) -> None:
    async def fails() -> None:
        _raise_with_token()

    loop = asyncio.get_running_loop()
    task = loop.create_task(fails())
    await asyncio.sleep(0)
    loop.call_exception_handler({"message": "Task exception", "exception": task.exception()})
    printed = configured.getvalue()
    assert "RuntimeError" in printed and TOKEN not in printed and REDACTED in printed


async def test_ptb_debug_records_of_an_invitation_carry_no_token(
    app: PledgeApplication, standin: BotApiStandIn, invitations: Invitations
) -> None:
    """Real records: PTB's DEBUG dumps while a coordinator invites and a person joins."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    keep = Keep(logging.DEBUG)
    keep.addFilter(RedactSecrets([standin.token]))
    root = logging.getLogger()
    level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    try:
        token = await invitations.make(Role.COORDINATOR)
        coordinator = standin.person(app, user_id=501, first_name="Coco")
        await coordinator.send(f"/start {token}")
        await coordinator.send("/invite")
        replies = await coordinator.press("Staff")
        staff_token = re.search(r"start=([\w-]+)", replies[-1].text).group(1)  # type: ignore[union-attr]
        newcomer = standin.person(app, user_id=502, first_name="Sam")
        await newcomer.send(f"/start {staff_token}")
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
    printed = "\n".join(records)
    assert "Calling Bot API endpoint `sendMessage`" in printed  # PTB did dump its calls
    for secret in (token, staff_token, standin.token):
        assert secret not in printed
