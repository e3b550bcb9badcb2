"""The operator's window: /healthz, /readyz and /metrics, on a listener of their own.

Served by tornado (PTB's webhook server) on the bot's own event loop, in polling and webhook
mode alike. The listener is loopback by default: metrics say how busy the bot is, which is
nobody's business outside the machine unless the operator says so (HEALTH_LISTEN).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.error import TelegramError
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.listener import Listener
from bot.metrics import Metrics
from bot.services import Services
from storage.conversation_state import count_in_progress
from storage.deliveries import count_by_status, delivery_kind
from storage.engine import transaction
from storage.migrate import database_revision, head_revision
from storage.models import Notice, ReminderDelivery

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # seconds a readiness check may take before it counts as failed
TELEGRAM_CHECK_EVERY = 15.0  # seconds a getMe answer is trusted; probes come more often


@dataclass
class Health:
    """Answers the three endpoints from the application's services, bot and metrics."""

    services: Services
    bot: Bot
    metrics: Metrics
    _telegram: tuple[float, str | None] = field(default=(0.0, None))

    async def readiness(self) -> dict[str, str]:
        """Each check's verdict: "ok", or what is wrong."""
        database, telegram = await asyncio.gather(self._database(), self._telegram_check())
        return {"database": database, "telegram": telegram}

    async def _database(self) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                current = await database_revision(self.services.engine)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            self.metrics.database_errors.labels("readiness").inc()
            return f"unreachable: {type(error).__name__}"
        head = head_revision()
        if current != head:
            return f"migrations not current: database at {current}, code at {head}"
        return "ok"

    async def _telegram_check(self) -> str:
        checked_at, problem = self._telegram
        if time.monotonic() - checked_at < TELEGRAM_CHECK_EVERY:
            return problem or "ok"
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self.bot.get_me()
            problem = None
        except (TelegramError, TimeoutError) as error:
            problem = f"unreachable: {type(error).__name__}"
        self._telegram = (time.monotonic(), problem)
        return problem or "ok"

    async def refresh_gauges(self) -> None:
        """Read the gauges that live in the database; on failure, the last values stay."""
        try:
            async with (
                asyncio.timeout(CHECK_TIMEOUT),
                transaction(self.services.sessions) as session,
            ):
                for table in (ReminderDelivery, Notice):
                    counts = await count_by_status(session=session, table=table)
                    for status, count in counts.items():
                        self.metrics.deliveries.labels(delivery_kind(table), status).set(count)
                in_progress = await count_in_progress(session=session)
            self.metrics.conversations.set(in_progress)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            self.metrics.database_errors.labels("metrics").inc()
            log.warning("metrics: could not read the database: %s", type(error).__name__)


class _Endpoint(RequestHandler):
    def initialize(self, health: Health) -> None:
        self.health = health


class Alive(_Endpoint):
    async def get(self) -> None:
        """The process answers: nothing else is checked."""
        self.write({"status": "alive"})


class Ready(_Endpoint):
    async def get(self) -> None:
        """The database (reachable, migrations current) and the Bot API: 200, or 503."""
        checks = await self.health.readiness()
        ready = all(verdict == "ok" for verdict in checks.values())
        self.set_status(200 if ready else 503)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"ready": ready, **checks}))


class Scrape(_Endpoint):
    async def get(self) -> None:
        """Prometheus' text format."""
        await self.health.refresh_gauges()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(self.health.metrics.render())


class HealthServer(Listener):
    """The listener: started before the bot takes updates, stopped after it stopped."""

    def __init__(self, health: Health, host: str, port: int) -> None:
        routes = [
            (r"/healthz", Alive, {"health": health}),
            (r"/readyz", Ready, {"health": health}),
            (r"/metrics", Scrape, {"health": health}),
        ]
        super().__init__(HTTPServer(WebApplication(routes, log_function=_quiet)), host, port)

    async def start(self) -> int:
        port = await super().start()
        log.info("health and metrics on http://%s:%s/", self._host, port)
        return port


def _quiet(handler: RequestHandler) -> None:
    # Probes come every few seconds: only failures are worth a log line.
    if handler.get_status() >= 500:
        log.warning("%s %s: %s", handler.request.method, handler.request.uri, handler.get_status())
