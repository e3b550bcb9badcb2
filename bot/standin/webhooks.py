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

from bot.standin.aliases import JsonDict
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
    """Posts each pending update to the bot, as Telegram does once a webhook is set: with the
    secret header, again after a failure until the bot answers 2xx.

    `bases` are where the bot's workers listen as the reverse proxy in front of them would reach
    them (http://127.0.0.1:PORT); with several, posts go round-robin, as a load balancer would
    spread them. The path is the webhook URL's. `connections` posts may be in flight at once
    (Telegram's max_connections); with one, updates arrive strictly in order."""

    def __init__(self, standin: BotApiStandIn, *bases: str, connections: int = 1) -> None:
        self.standin, self.bases = standin, [base.rstrip("/") for base in bases]
        self.connections = connections
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
        in_flight: dict[int, asyncio.Task[None]] = {}
        posts = 0
        limits = httpx.Limits(max_connections=self.connections * len(self.bases))
        async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
            try:
                while True:
                    webhook = None if self.standin.is_down() else self.standin.webhook
                    waiting = [
                        update
                        for update in (self.standin.pending_updates() if webhook else [])
                        if int(update["update_id"]) not in in_flight
                    ]
                    room = self.connections - len(in_flight)
                    if webhook is None or not waiting or room <= 0:
                        await asyncio.sleep(0.005)
                        continue
                    for update in waiting[:room]:
                        base = self.bases[posts % len(self.bases)]
                        posts += 1
                        update_id = int(update["update_id"])
                        in_flight[update_id] = asyncio.create_task(
                            self._post(client, webhook, base, update, in_flight)
                        )
            finally:
                for task in list(in_flight.values()):
                    task.cancel()
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    async def _post(
        self,
        client: httpx.AsyncClient,
        webhook: Webhook,
        base: str,
        update: JsonDict,
        in_flight: dict[int, asyncio.Task[None]],
    ) -> None:
        try:
            await self._post_once(client, webhook, base, update)
        finally:
            in_flight.pop(int(update["update_id"]), None)

    async def _post_once(
        self, client: httpx.AsyncClient, webhook: Webhook, base: str, update: JsonDict
    ) -> None:
        headers = {SECRET_HEADER: webhook.secret} if webhook.secret else {}
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
            await asyncio.sleep(RETRY_AFTER_FAILURE)  # still in flight: not posted again yet
