"""`pledgebot run`: long polling, with a clean stop on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import Update

from bot.app import build_application, register_default_commands, sender_of
from bot.reminders import schedule_reminders
from bot.services import open_services
from bot.settings import Settings

log = logging.getLogger(__name__)


async def run_bot(settings: Settings) -> None:
    """Poll Telegram (or the Bot API server at TELEGRAM_API_BASE_URL) until told to stop."""
    token = settings.require_token()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        application = build_application(services, token=token)
        async with application:  # initialise, and shut down however this block ends
            assert application.updater is not None
            await register_default_commands(application)
            sender = sender_of(application)
            await sender.start()
            schedule_reminders(application, sender)
            await application.start()
            await application.updater.start_polling(
                allowed_updates=[Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY],
            )
            log.info(
                "pledgebot is running as @%s; stop with Ctrl+C or SIGTERM", application.bot.username
            )
            await stop.wait()
            log.info("stopping: finishing the updates in hand")
            await application.updater.stop()
            await application.stop()
    log.info("stopped")
