"""Telegram's side of webhook mode: what setWebhook accepts, and the pushing of updates."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import httpx

from bot.standin.records import _bad_request

if TYPE_CHECKING:
    from bot.standin.api import BotApiStandIn

# https://core.telegram.org/bots/api#setwebhook (bot.settings checks the same rules for the
# operator's sake; these are kept apart on purpose: the stand-in is the oracle)
WEBHOOK_PORTS: Final = frozenset({443, 80, 88, 8443})
SECRET_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
RETRY_AFTER_FAILURE: Final = 0.2  # seconds; Telegram waits longer, tests should not


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str | None
    max_connections: int
    allowed_updates: tuple[str, ...] | None


def check_webhook(
    url: str, *, secret: str | None, max_connections: int | None, allowed_updates: object
) -> Webhook:
    """What setWebhook accepts, refused as Telegram refuses it."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if (parts.port or 443) not in WEBHOOK_PORTS:
        raise _bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise _bad_request("secret token contains unallowed characters")
    connections = 40 if max_connections is None else max_connections
    if not 1 <= connections <= 100:
        raise _bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed: tuple[str, ...] | None = None
    if isinstance(allowed_updates, Sequence) and not isinstance(allowed_updates, str):
        allowed = tuple(str(kind) for kind in allowed_updates)
    return Webhook(url, secret, connections, allowed)


class WebhookPusher:
    """Posts each pending update to the bot, as Telegram does once a webhook is set: in order,
    with the secret header, again after a failure until the bot answers 2xx.

    `bases` are where the bot's workers listen as the reverse proxy in front of them would reach
    them (http://127.0.0.1:PORT); with several, posts go round-robin, as a load balancer would
    spread them. The path is the webhook URL's."""

    def __init__(self, standin: BotApiStandIn, *bases: str) -> None:
        self.standin, self.bases = standin, [base.rstrip("/") for base in bases]
        self.delivered = 0
        self.failed = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._push())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _push(self) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                webhook = self.standin.webhook
                pending = self.standin.pending_updates() if webhook else []
                if webhook is None or not pending:
                    await asyncio.sleep(0.01)
                    continue
                update = pending[0]
                headers = {SECRET_HEADER: webhook.secret} if webhook.secret else {}
                base = self.bases[(self.delivered + self.failed) % len(self.bases)]
                target = base + (urlsplit(webhook.url).path or "/")
                try:
                    answer = await client.post(target, json=update, headers=headers)
                    ok = answer.is_success
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.delivered += 1
                    self.standin.confirm_update(int(update["update_id"]))
                else:
                    self.failed += 1
                    await asyncio.sleep(RETRY_AFTER_FAILURE)
