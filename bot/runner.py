"""`pledgebot run`: long polling or (--webhook) updates posted by Telegram, with health and
metrics beside it, and a clean stop on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

from telegram import Update

from bot.app import (
    PledgeApplication,
    build_application,
    register_default_commands,
    sender_of,
)
from bot.health import Health, HealthServer
from bot.inbox import Inbox
from bot.metrics import metrics_of
from bot.outage import outage_of, replay_held
from bot.polling import PollingIntoInbox
from bot.reminders import schedule_reminders
from bot.services import Services, open_services
from bot.settings import Settings
from bot.webhook import WebhookServer
from bot.worker_lock import sole_worker

log = logging.getLogger(__name__)

POLLER = "poller"  # the inbox's name for the one process that polls
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


async def run_bot(settings: Settings, *, webhook: bool = False) -> None:
    """Take updates from Telegram (or the Bot API server at TELEGRAM_API_BASE_URL) until told
    to stop: by long polling, or on the webhook listener."""
    token = settings.require_token()
    webhook_settings = settings.require_webhook() if webhook else None
    with sole_worker(settings.effective_database_url):
        await _run(settings, token, webhook_settings)


async def _run(
    settings: Settings, token: str, webhook_settings: tuple[str, str, tuple[str, int]] | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services, AsyncExitStack() as stack:
        application = build_application(services, token=token)
        await stack.enter_async_context(application)  # shut down however this block ends
        await _serve_health(stack, settings, services, application)
        await register_default_commands(application)
        sender = sender_of(application)
        if webhook_settings is None:
            # The one process that polls: its deliveries, like its updates, are taken up at
            # once by the next start rather than when their claims go stale.
            sender.worker = POLLER
        await sender.start()
        schedule_reminders(application, sender)
        await application.start()
        await replay_held(application)
        taking: PollingIntoInbox | WebhookServer
        if webhook_settings is None:
            taking = await _take_polled_updates(application, services)
        else:
            taking = await _take_posted_updates(
                application, services, sender.worker, *webhook_settings
            )
        log.info(
            "pledgebot is running as @%s (%s); stop with Ctrl+C or SIGTERM",
            application.bot.username,
            "webhook" if webhook_settings else "long polling",
        )
        await stop.wait()
        log.info("stopping: taking no more updates, finishing those in hand")
        outage_of(application).stopping = True  # an update waiting for the database is held over
        sender.stopping = True  # a tick in progress ends with the messages already at Telegram
        await taking.stop()
        await application.stop()
        await sender.release()
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


async def _take_polled_updates(
    application: PledgeApplication, services: Services
) -> PollingIntoInbox:
    """Poll into the inbox, which this process alone serves: Telegram lets one client poll a
    bot at a time, so the poller's name survives restarts and a restarted poller takes up at
    once what the killed one held."""
    inbox = Inbox(application, services.sessions, POLLER)
    await inbox.start()
    polling = PollingIntoInbox(application, inbox, allowed_updates=ALLOWED_UPDATES)
    await polling.start()
    return polling


async def _take_posted_updates(
    application: PledgeApplication,
    services: Services,
    worker: str,
    url: str,
    secret: str,
    listen: tuple[str, int],
) -> WebhookServer:
    """Listen first, then tell Telegram where to post (and with which secret). Posted updates
    go through the shared inbox, so any number of workers can take them."""
    inbox = Inbox(application, services.sessions, worker)
    outage_of(application).kept_by_inbox = True
    await inbox.start()
    server = WebhookServer(
        application,
        path=urlsplit(url).path,
        secret=secret,
        host=listen[0],
        port=listen[1],
        inbox=inbox,
    )
    await server.start()
    await application.bot.set_webhook(
        url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
    )
    return server
