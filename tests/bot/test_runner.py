"""`pledgebot run` as a real process, long-polling the stand-in over HTTP, then SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import httpx

from bot.standin import BotApiStandIn, SentMessage, SimUser
from bot.standin.crowd import Step, wizard_steps
from bot.standin.webhooks import WebhookPusher
from bot.standin_server import StandInServer
from storage.engine import create_engine, session_factory, transaction
from storage.invites import create_invite
from storage.localities import find_or_create_locality
from storage.migrate import upgrade
from storage.models import Role

SETTLE = 1.2  # seconds without a new bot message before an action counts as answered (the
# bot paces each chat to one message a second after a burst of three, so an answer can pause)
TIMEOUT = 20.0


class HttpPerson:
    """A person whose updates reach the bot only through getUpdates over HTTP."""

    def __init__(self, standin: BotApiStandIn, user: SimUser) -> None:
        self.standin, self.user = standin, user

    def update(self, step: Step) -> dict[str, object]:
        """What Telegram would have for the bot when the person takes `step` (a text, or a
        press of the button whose label holds the step's value on the latest keyboard)."""
        if step.kind == "text":
            return self.standin.message_update(self.user, step.value)
        message = next(
            m for m in reversed(self.standin.chat_messages(self.user.user_id)) if m.buttons()
        )
        matches = [b for b in message.buttons() if step.value in b.text]
        assert len(matches) == 1, [b.text for b in message.buttons()]
        data = matches[0].callback_data
        assert data is not None
        return self.standin.callback_update(self.user, message, data)

    async def do(self, step: Step) -> list[SentMessage]:
        """Take the step, and wait for the bot's answer."""
        return await self._act(self.update(step))

    async def _act(self, update: dict[str, object]) -> list[SentMessage]:
        self.standin.clock.advance(2.0)
        mark = self.standin.history_mark()
        self.standin.push_update(update)
        deadline = time.monotonic() + TIMEOUT
        seen, quiet_since = mark, time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now_mark = self.standin.history_mark()
            if now_mark != seen:
                seen, quiet_since = now_mark, time.monotonic()
            elif seen > mark and time.monotonic() - quiet_since > SETTLE:
                return self.standin.messages_since(mark, self.user.user_id)
        raise TimeoutError(f"the bot did not answer {update}")

    async def send(self, text: str) -> list[SentMessage]:
        return await self.do(Step("text", text))

    async def press(self, label: str) -> list[SentMessage]:
        return await self.do(Step("press", label))


async def prepare_database(url: str) -> tuple[str, str]:
    engine = create_engine(url)
    await upgrade(engine)
    async with transaction(session_factory(engine)) as session:
        coordinator = await create_invite(session=session, role=Role.COORDINATOR, locality_id=None)
        lyon = await find_or_create_locality(session=session, name="Lyon", country="FR")
        official = await create_invite(session=session, role=Role.OFFICIAL, locality_id=lyon.id)
    await engine.dispose()
    return coordinator.token, official.token


async def _scrape_while_running(log_path: Path, *, presses: int) -> None:
    """The running process's /readyz and /metrics, at the port its log names."""
    found = await logged(log_path, r"health and metrics on (http://[\d.]+:\d+)/")
    async with httpx.AsyncClient(base_url=found.group(1)) as client:
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    assert ready.json() == {"ready": True, "database": "ok", "telegram": "ok"}
    assert f'pledgebot_updates_total{{kind="button"}} {presses}.0' in metrics.text
    assert 'pledgebot_bot_api_calls_total{method="getUpdates",result="ok"}' in metrics.text


async def launch(
    tmp_path: Path,
    standin: BotApiStandIn,
    port: int,
    url: str,
    *args: str,
    name: str = "bot",
    **env: str,
) -> tuple[asyncio.subprocess.Process, Path]:
    """`pledgebot run ARGS` as a process of its own, its log in the file NAME.log."""
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": standin.token,
        "DATABASE_URL": url,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "DEBUG",
        "HEALTH_LISTEN": "127.0.0.1:0",  # any free port: the log says which
        **env,
    }
    log_path = tmp_path / f"{name}.log"  # a file, not a pipe: a full pipe would stall the bot
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            *args,
            env=environment,
            cwd=tmp_path,
            stdout=log_file,
            stderr=log_file,
        )
    return process, log_path


async def test_run_completes_a_pledge_over_http_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    coordinator_token, official_token = await prepare_database(url)
    standin = BotApiStandIn()
    server = StandInServer(standin)
    port = await server.start()
    process, log_path = await launch(tmp_path, standin, port, url)
    try:
        coordinator = HttpPerson(standin, SimUser(501, "Coco"))
        official = HttpPerson(standin, SimUser(502, "Olga"))
        assert "Coordinator" in (await coordinator.send(f"/start {coordinator_token}"))[0].text
        join, *wizard, submit = wizard_steps(official_token)
        assert "Lyon" in (await official.do(join))[0].text
        for step in wizard:
            await official.do(step)
        replies = await official.do(submit)
        assert any("CLA-" in m.text for m in replies)
        last = standin.last_message(501)
        assert last is not None and "New pledge submitted" in last.text
        newcomer_menu = sorted(c["command"] for c in standin.commands())
        assert newcomer_menu == ["cancel", "help", "language", "start"]
        official_menu = [
            c["command"] for c in standin.commands(scope={"type": "chat", "chat_id": 502})
        ]
        assert "pledge" in official_menu and "invite" not in official_menu
        presses = sum(step.kind == "press" for step in [*wizard, submit])
        await _scrape_while_running(log_path, presses=presses)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), TIMEOUT)
        await server.stop()
    log = log_path.read_text()
    assert process.returncode == 0, log[-3000:]
    assert "stopped" in log
    assert "bot7000000001" not in log and standin.token not in log  # the token never in logs
    assert "[REDACTED]" in log  # httpx did log the URLs, with the token taken out
    assert standin.violations == []


async def logged(log_path: Path, pattern: str) -> re.Match[str]:
    """The first match of `pattern` in the log, waited for."""
    async with asyncio.timeout(TIMEOUT):
        while (found := re.search(pattern, await asyncio.to_thread(log_path.read_text))) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return found


async def test_run_with_webhook_takes_updates_telegram_posts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    _coordinator_token, official_token = await prepare_database(url)
    standin = BotApiStandIn()
    server = StandInServer(standin)
    port = await server.start()
    secret = "webhook_secret-" + "x" * 40
    process, log_path = await launch(
        tmp_path,
        standin,
        port,
        url,
        "--webhook",
        WEBHOOK_URL="https://pledgebot.example.org:8443/telegram",
        WEBHOOK_SECRET=secret,
        WEBHOOK_LISTEN="127.0.0.1:0",
        LOG_FORMAT="json",
    )
    try:
        listening = await logged(log_path, r"taking updates from Telegram on [\d.]+:(\d+)")
        pusher = WebhookPusher(standin, f"http://127.0.0.1:{listening.group(1)}")
        pusher.start()
        official = HttpPerson(standin, SimUser(502, "Olga"))
        assert "Lyon" in (await official.send(f"/start {official_token}"))[0].text
        await official.send("/pledge")
        replies = await official.press("Global Refugee Forum 2027")
        assert any("Which compact" in m.text or "compact" in m.text.lower() for m in replies)
        await pusher.stop()
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), TIMEOUT)
        await server.stop()
    log = log_path.read_text()
    assert process.returncode == 0, log[-3000:]
    assert standin.webhook is not None and standin.webhook.secret == secret
    assert standin.webhook.allowed_updates == ("message", "edited_message", "callback_query")
    assert not any(method == "getUpdates" for method, _params in standin.calls)
    assert pusher.failed == 0 and pusher.delivered == 3
    assert secret not in log and standin.token not in log
    assert standin.violations == []
    entries = [json.loads(line) for line in log.splitlines()]  # every line one JSON object
    handled = [e for e in entries if e.get("outcome") == "handled"]
    assert [e["step"] for e in handled] == [None, None, "forum"]  # the step each answered
    assert all(e["member_id"] and e["update_id"] and e["duration_ms"] > 0 for e in handled)
