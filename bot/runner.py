"""`pledgebot run`: long polling, with health and metrics beside it and a clean stop on
SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack

from telegram import Update

from bot.app import (
    PledgeApplication,
    build_application,
    metrics_of,
    register_default_commands,
    sender_of,
)
from bot.health import Health, HealthServer
from bot.reminders import schedule_reminders
from bot.services import Services, open_services
from bot.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


async def run_bot(settings: Settings) -> None:
    """Poll Telegram (or the Bot API server at TELEGRAM_API_BASE_URL) until told to stop."""
    token = settings.require_token()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services, AsyncExitStack() as stack:
        application = build_application(services, token=token)
        await stack.enter_async_context(application)  # shut down however this block ends
        assert application.updater is not None
        await _serve_health(stack, settings, services, application)
        await register_default_commands(application)
        sender = sender_of(application)
        await sender.start()
        schedule_reminders(application, sender)
        await application.start()
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        log.info(
            "pledgebot is running as @%s; stop with Ctrl+C or SIGTERM", application.bot.username
        )
        await stop.wait()
        log.info("stopping: finishing the updates in hand")
        await application.updater.stop()
        await application.stop()
    log.info("stopped")


async def _serve_health(
    stack: AsyncExitStack, settings: Settings, services: Services, application: PledgeApplication
) -> None:
    """/healthz, /readyz and /metrics on HEALTH_LISTEN, until the bot has stopped."""
    if settings.health_address is None:
        return
    health = Health(services, application.bot, metrics_of(application))
    server = HealthServer(health, *settings.health_address)
    await server.start()
    stack.push_async_callback(server.stop)
