"""Wiring the PTB Application: handlers, context, services, command menus."""

from __future__ import annotations

import logging
from typing import Any

from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.engine import engine_step
from bot.errors import on_error
from bot.metered_request import MeteredRequest
from bot.metrics import METRICS_KEY, Metrics
from bot.ordering import PersonByPerson
from bot.outage import HELD_UPDATES, OUTAGE_KEY, Outage
from bot.pacing import ChatPacedLimiter
from bot.reminders import SENDER_KEY, Clock, ReminderSender
from bot.routing import build_router, route_callback, route_command, route_edited, route_message
from bot.services import Services
from bot.unreadable import ReadablePolling
from conversations.context import ROUTER_KEY, SERVICES_KEY, PledgeContext

log = logging.getLogger(__name__)

PledgeApplication = Application[Any, PledgeContext, Any, Any, Any, Any]


def build_application(
    services: Services,
    *,
    token: str,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    rate_limiter: bool = True,
    clock: Clock | None = None,
) -> PledgeApplication:
    """The bot, ready to initialise: over HTTP to Telegram, or over `request` (the stand-in)."""
    metrics = Metrics()
    builder = (
        ApplicationBuilder()
        .token(token)
        .context_types(ContextTypes(context=PledgeContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(PersonByPerson(metrics))
    )
    if request is None:
        base = services.settings.telegram_api_base_url
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        # PTB's own defaults: a pool for the bot's calls, one connection for the long poll.
        request = HTTPXRequest(connection_pool_size=256)
        get_updates_request = HTTPXRequest(connection_pool_size=1)
    builder = builder.request(MeteredRequest(request, metrics)).get_updates_request(
        ReadablePolling(MeteredRequest(get_updates_request or request, metrics))
    )
    if rate_limiter:
        # Without retries the limiter only delays; with them a 429's retry_after is honoured.
        limiter = ChatPacedLimiter(
            overall_max_rate=services.settings.telegram_rate_limit, max_retries=3
        )
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    application: PledgeApplication = builder.build()
    application.bot_data[SERVICES_KEY] = services
    application.bot_data[ROUTER_KEY] = build_router()
    application.bot_data[METRICS_KEY] = metrics
    application.bot_data[OUTAGE_KEY] = Outage(held=services.settings.data_dir / HELD_UPDATES)
    # One sender per process: reminders, and the notices steps queue for other members.
    application.bot_data[SENDER_KEY] = ReminderSender(
        services, application.bot, clock=clock, metrics=metrics
    )
    add_handlers(application)
    return application


def add_handlers(application: PledgeApplication) -> None:
    """Commands, buttons, messages and edits; one error handler. Each route runs under the
    engine, which loads the member first and sends replies after the changes are committed."""
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, engine_step(route_command))
    )
    application.add_handler(CallbackQueryHandler(engine_step(route_callback)))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, engine_step(route_message))
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, engine_step(route_edited))
    )
    application.add_error_handler(on_error)


async def register_default_commands(application: PledgeApplication) -> None:
    """The menu a newcomer sees, in each language; members get their role's menu on joining."""
    services: Services = application.bot_data[SERVICES_KEY]
    catalogs = services.catalogs
    try:
        router = application.bot_data[ROUTER_KEY]
        await application.bot.set_my_commands(router.menu(catalogs.translator(None), None))
        for language in catalogs.languages:
            # Telegram takes a bare ISO 639-1 code here: zh_Hans is registered as zh.
            await application.bot.set_my_commands(
                router.menu(catalogs.translator(language), None),
                language_code=language.split("_", 1)[0],
            )
    except TelegramError as error:
        log.warning("could not register the command menu: %s", error)


def sender_of(application: PledgeApplication) -> ReminderSender:
    """The application's sender of reminders and notices."""
    sender: ReminderSender = application.bot_data[SENDER_KEY]
    return sender
