"""Webhook mode: Telegram posts each update to us; we check it came from Telegram, answer at
once, and handle it after.

PTB ships a webhook server, but it reads the whole body before it looks at the secret,
compares the secret with `!=` (its timing tells how much of a guess was right), and at DEBUG
logs every update (what people typed, invitation tokens) and every wrong secret. This one
refuses a request without the right `X-Telegram-Bot-Api-Secret-Token` before reading its body,
compares in constant time, caps the body size, and logs neither.
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus
from typing import Any, Final

from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler, stream_request_body

from bot.inbox import Inbox
from bot.listener import Listener
from bot.unreadable import readable
from storage.engine import DatabaseUnavailable

log = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes; Telegram's largest (a message with long entities and a big
# keyboard) stays well under this.
MAX_BODY: Final = 1024 * 1024

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@stream_request_body
class TelegramPost(RequestHandler):
    """POST <path>: one update from Telegram."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self, bot_application: AnyApplication, inbox: Inbox | None, secret: bytes, max_body: int
    ) -> None:
        self.bot_application = bot_application
        self.inbox = inbox
        self.secret = secret
        self.max_body = max_body
        self.body = bytearray()

    def prepare(self) -> None:
        """Headers only: the secret, then the announced size; the body is not read yet."""
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            self._refuse(HTTPStatus.FORBIDDEN)
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        # A chunked body without a length is cut off by the connection at the same size.
        self.request.connection.set_max_body_size(self.max_body)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.body.extend(chunk)

    async def post(self) -> None:
        """Keep the update (in the shared inbox, or this process's queue) and answer 200 at
        once; 503 if the inbox's database is away, so that Telegram posts it again later."""
        try:
            data = json.loads(self.body)
            if not isinstance(data, dict):
                raise ValueError("an update is a JSON object")
        except ValueError as error:
            # Not the text of the update: it holds what people typed.
            log.warning("webhook: a body that is no update (%s)", type(error).__name__)
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        # An update of a newer Bot API is taken, reduced to who sent it: refused, Telegram
        # would post it again and again.
        update = readable(data, self.bot_application.bot)
        if self.inbox is None:
            await self.bot_application.update_queue.put(update)
        else:
            try:
                await self.inbox.receive(update, data)
            except DatabaseUnavailable as error:
                log.warning("webhook: update %s not kept, for now: %s", update.update_id, error)
                self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
                return
        self.set_status(HTTPStatus.OK)

    def _refuse(self, status: HTTPStatus) -> None:
        self.set_status(status)
        self.set_header("Connection", "close")
        self.finish()


class WebhookServer(Listener):
    """The listener Telegram (through the operator's reverse proxy) posts updates to."""

    def __init__(
        self,
        application: AnyApplication,
        *,
        path: str,
        secret: str,
        host: str,
        port: int,
        inbox: Inbox | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        options = {
            "bot_application": application,
            "inbox": inbox,
            "secret": secret.encode(),
            "max_body": max_body,
        }
        web = WebApplication([(path or "/", TelegramPost, options)], log_function=_quiet)
        super().__init__(HTTPServer(web, max_body_size=max_body), host, port)
        self._inbox = inbox

    async def start(self) -> int:
        port = await super().start()
        log.info("taking updates from Telegram on %s:%s", self._host, port)
        return port

    async def stop(self) -> None:
        """Stop taking updates; those in hand are finished (the rest stay in the inbox)."""
        await super().stop()
        if self._inbox is not None:
            await self._inbox.stop()


def _quiet(handler: RequestHandler) -> None:
    # One line per refusal: a scan or a misconfigured proxy shows up, an update does not.
    status = handler.get_status()
    if status >= 400:
        log.warning(
            "webhook: %s %s from %s", status, handler.request.method, handler.request.remote_ip
        )
