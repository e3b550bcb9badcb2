"""The stand-in over real HTTP: a stock PTB Application long-polls it with HTTPXRequest."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.standin import BotApiStandIn, SimUser
from bot.standin_server import StandInServer

App = Application[Any, Any, Any, Any, Any, Any]
BOB = SimUser(user_id=2001, first_name="Bob", username="bob_councillor")


async def _reply(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    if message.document is not None:
        await message.reply_document(b"%PDF-1.4 fake", filename="certificate.pdf")
        return
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Confirm ✅", callback_data="ok")]])
    text = f"<b>Echo:</b> {html.escape(message.text or '')} &amp; more"
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def _on_press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Confirmed")
    await query.edit_message_reply_markup(reply_markup=None)


async def _wait_until(condition: Callable[[], bool]) -> None:
    # The bot runs in polling tasks we cannot await, so poll its visible effects, bounded.
    async with asyncio.timeout(5.0):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture
async def served() -> AsyncIterator[tuple[BotApiStandIn, int]]:
    standin = BotApiStandIn()
    server = StandInServer(standin)
    port = await server.start()
    yield standin, port
    await server.stop()


async def test_application_long_polls_over_http(served: tuple[BotApiStandIn, int]) -> None:
    standin, port = served
    app: App = (
        ApplicationBuilder().token(standin.token).base_url(f"http://127.0.0.1:{port}/bot").build()
    )
    app.add_handler(MessageHandler(filters.TEXT | filters.Document.ALL, _reply))
    app.add_handler(CallbackQueryHandler(_on_press))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
    try:
        standin.push_update(standin.message_update(BOB, "héllo <world>"))
        await _wait_until(lambda: standin.last_message(BOB.user_id) is not None)
        reply = standin.last_message(BOB.user_id)
        assert reply is not None

        standin.push_update(standin.callback_update(BOB, reply, "ok"))
        await _wait_until(lambda: not standin.unanswered_queries())
        await _wait_until(lambda: standin.chat_messages(BOB.user_id)[-1].reply_markup is None)

        standin.push_update(standin.message_update(BOB, content=standin.document_content()))
        await _wait_until(lambda: len(standin.chat_messages(BOB.user_id)) == 2)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    assert reply.text == "Echo: héllo <world> & more"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 5}]
    assert [button.text for button in reply.buttons()] == ["Confirm ✅"]
    certificate = standin.chat_messages(BOB.user_id)[-1].document
    assert certificate is not None
    assert (certificate["file_name"], certificate["content"]) == (
        "certificate.pdf",
        b"%PDF-1.4 fake",
    )
    assert standin.violations == []


async def test_http_routing_and_body_formats(served: tuple[BotApiStandIn, int]) -> None:
    standin, port = served
    base = f"http://127.0.0.1:{port}"
    standin.message_update(BOB, "/start")  # Bob has started the bot, so he may be messaged
    async with httpx.AsyncClient(base_url=base) as client:
        wrong = await client.post("/bot123:WRONG/getMe")
        me = await client.get(f"/bot{standin.token}/getMe")
        sent = await client.post(
            f"/bot{standin.token}/sendMessage",
            json={"chat_id": BOB.user_id, "text": "<i>json</i>", "parse_mode": "HTML"},
        )
        bad = await client.get(
            f"/bot{standin.token}/sendMessage",
            params={"chat_id": BOB.user_id, "text": "a & b", "parse_mode": "HTML"},
        )

    assert (wrong.status_code, wrong.json()["description"]) == (401, "Unauthorized")
    assert me.json()["result"]["username"] == standin.bot_username
    assert sent.json()["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 4}]
    assert bad.status_code == 400
    assert json.loads(bad.content)["description"].startswith("Bad Request: can't parse entities")
    assert standin.drain_violations() == [
        "request with a wrong bot token to getMe",
        'sendMessage: Bad Request: can\'t parse entities: Character "&" must be escaped as '
        "\"&amp;\" at byte offset 2 [chat_id=2001, text='a & b']",
    ]


async def test_connections_are_kept_alive_as_telegram_keeps_them(
    served: tuple[BotApiStandIn, int],
) -> None:
    standin, port = served
    peers: set[tuple[str, int]] = set()

    async def record(response: httpx.Response) -> None:
        stream = response.extensions["network_stream"]
        peers.add(stream.get_extra_info("client_addr"))

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        event_hooks={"response": [record]},
    ) as client:
        answers = [(await client.get(f"/bot{standin.token}/getMe")).status_code for _ in range(3)]
        closing = await client.get(f"/bot{standin.token}/getMe", headers={"Connection": "close"})
        after = await client.get(f"/bot{standin.token}/getMe")

    assert answers == [200, 200, 200]
    assert closing.headers["connection"] == "close"
    assert after.status_code == 200
    # Three calls and the one asking to close share a connection; the next needs a new one.
    assert len(peers) == 2
