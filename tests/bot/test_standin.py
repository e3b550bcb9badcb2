"""Tests for the in-process Bot API stand-in, driven through a real PTB Application."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.standin import (
    BotApiStandIn,
    SimulatedPerson,
    SimUser,
    VirtualClock,
    parse_telegram_html,
    utf16_len,
)

App = Application[Any, Any, Any, Any, Any, Any]
ALICE = 1001
COORDINATOR = 1002


# --------------------------------------------------------------------------- tiny test bot


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Echoing the text as HTML lets each test choose exactly what the bot sends.
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        await message.reply_text(message.text, parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        context.bot_data.setdefault("errors", []).append(exc.message)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"start args: {context.args}")


async def _menu(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes, pledge", callback_data="yes"),
                InlineKeyboardButton("No", callback_data="no"),
            ],
            [InlineKeyboardButton("Silent", callback_data="silent")],
            [InlineKeyboardButton("Read the compact", url="https://example.org/gcm")],
        ]
    )
    await update.effective_message.reply_text(
        "<b>Pledge?</b>", parse_mode="HTML", reply_markup=keyboard
    )


async def _notify(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await context.bot.send_message(COORDINATOR, "New pledge from Alice")
    await update.effective_message.reply_text("Coordinator notified")


async def _on_press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if query.data == "silent":
        return
    await query.answer(f"got {query.data}")
    await query.edit_message_text(f"pressed {query.data}")


async def _on_document(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    await message.reply_document(
        b"receipt body",
        filename="receipt.txt",
        caption=f"<b>Received</b> {message.document.file_name}",
        parse_mode=ParseMode.HTML,
    )


async def _on_photo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_photo(b"\x89PNG fake", caption="Your photo back")


async def _on_sticker(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("Stickers are nice, but please type.")


def _build_app(standin: BotApiStandIn) -> App:
    app = (
        ApplicationBuilder()
        .token(standin.token)
        .request(standin.request())
        .get_updates_request(standin.request())
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CommandHandler("menu", _menu))
    app.add_handler(CommandHandler("notify", _notify))
    app.add_handler(CallbackQueryHandler(_on_press))
    app.add_handler(MessageHandler(filters.Document.ALL, _on_document))
    app.add_handler(MessageHandler(filters.PHOTO, _on_photo))
    app.add_handler(MessageHandler(filters.Sticker.ALL, _on_sticker))
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


@pytest.fixture
def standin() -> BotApiStandIn:
    return BotApiStandIn()


@pytest.fixture
async def app(standin: BotApiStandIn) -> AsyncIterator[App]:
    application = _build_app(standin)
    await application.initialize()
    yield application
    await application.shutdown()
    # Tests that provoke violations on purpose drain them; anything left is a real bug.
    assert standin.violations == []


@pytest.fixture
def alice(standin: BotApiStandIn, app: App) -> SimulatedPerson:
    return standin.person(app, user_id=ALICE, first_name="Alice", username="alice_mayor")


def _errors(app: App) -> list[str]:
    errors: list[str] = app.bot_data.get("errors", [])
    return errors


# --------------------------------------------------------------------------- basics


def test_token_and_clock() -> None:
    clock = VirtualClock()
    standin = BotApiStandIn(clock=clock)
    assert standin.token.startswith("7000000001:SIMULATED")
    assert clock() == 0.0
    clock.advance(2.5)
    assert standin.clock() == 2.5
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_reply_arrives_and_is_recorded(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    replies = await alice.send("hello")

    assert [reply.text for reply in replies] == ["hello"]
    recorded = standin.last_message(ALICE)
    assert recorded is not None
    # The user's message took id 1 in the shared private-chat sequence.
    assert (recorded.message_id, recorded.chat_id, recorded.html) == (2, ALICE, "hello")
    assert standin.clock() == alice.pace
    assert [name for name, _ in standin.calls] == ["getMe", "sendMessage"]
    assert standin.calls[-1][1]["chat_id"] == ALICE


async def test_command_gets_bot_command_entity(alice: SimulatedPerson) -> None:
    replies = await alice.send("/start abc")

    assert [reply.text for reply in replies] == ["start args: ['abc']"]


async def test_messages_to_other_chats_are_recorded_but_not_replies(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    coordinator = standin.person(app, user_id=COORDINATOR, first_name="Cora")
    await coordinator.send("hi")

    replies = await alice.send("/notify")

    assert [reply.text for reply in replies] == ["Coordinator notified"]
    notification = standin.last_message(COORDINATOR)
    assert notification is not None and notification.text == "New pledge from Alice"


async def test_media_messages(standin: BotApiStandIn, alice: SimulatedPerson) -> None:
    [receipt] = await alice.send_document("pledge.pdf")
    [photo] = await alice.send_photo()
    [sticker_reply] = await alice.send_sticker()

    assert receipt.document is not None
    assert receipt.document["file_name"] == "receipt.txt"
    assert receipt.document["content"] == b"receipt body"
    assert receipt.text == receipt.document["caption"] == "Received pledge.pdf"
    assert receipt.entities == [{"type": "bold", "offset": 0, "length": 8}]
    assert photo.photo is not None and photo.photo["content"] == b"\x89PNG fake"
    assert sticker_reply.text.startswith("Stickers")
    assert len(standin.chat_messages(ALICE)) == 3


# --------------------------------------------------------------------------- HTML and text limits


async def test_escaped_html_is_accepted(alice: SimulatedPerson) -> None:
    [reply] = await alice.send("<b>Tom &amp; Jerry</b> &lt;3 &#x1F600;")

    assert reply.text == "Tom & Jerry <3 😀"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 11}]


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "caf&nbsp;e",
        "<b>unclosed",
        "fish & chips",
        "1 < 2",
        "<b><i>crossed</b></i>",
        '<span class="other">x</span>',
        "<a>no href</a>",
    ],
)
async def test_invalid_html_is_rejected(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson, html: str
) -> None:
    replies = await alice.send(html)

    assert replies == []
    [error] = _errors(app)
    assert error.startswith("Can't parse entities")
    [violation] = standin.drain_violations()
    assert violation.startswith("sendMessage: Bad Request: can't parse entities")


def test_pre_code_language_and_nested_entities() -> None:
    parsed = parse_telegram_html('<pre><code class="language-python">x = 1</code></pre><i>é</i>')

    assert parsed.text == "x = 1é"
    assert parsed.entities == [
        {"type": "pre", "language": "python", "offset": 0, "length": 5},
        {"type": "italic", "offset": 5, "length": 1},
    ]


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("x" * 4096, True),
        ("x" * 4097, False),
        ("😀" * 2048, True),
        ("😀" * 2049, False),
        ("<b>" + "x" * 4096 + "</b>", True),
    ],
)
async def test_text_length_counts_utf16_after_parsing(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson, text: str, accepted: bool
) -> None:
    replies = await alice.send(text)

    assert bool(replies) is accepted
    if not accepted:
        assert _errors(app) == ["Message is too long"]
        assert len(standin.drain_violations()) == 1
    assert utf16_len("😀") == 2


async def test_empty_text_is_rejected(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("hi")
    with pytest.raises(BadRequest, match=r"(?i)Message text is empty"):
        await app.bot.send_message(ALICE, "<b></b>  ", parse_mode=ParseMode.HTML)
    assert len(standin.drain_violations()) == 1


# --------------------------------------------------------------------------- keyboards


async def _keyboard_message(app: App, buttons: list[list[InlineKeyboardButton]]) -> None:
    await app.bot.send_message(ALICE, "choose", reply_markup=InlineKeyboardMarkup(buttons))


@pytest.mark.parametrize(
    ("data", "accepted"),
    [("a" * 64, True), ("a" * 65, False), ("é" * 32, True), ("é" * 33, False)],
)
async def test_callback_data_is_limited_to_64_bytes(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson, data: str, accepted: bool
) -> None:
    await alice.send("hi")
    buttons = [[InlineKeyboardButton("x", callback_data=data)]]

    if accepted:
        await _keyboard_message(app, buttons)
        return
    with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
        await _keyboard_message(app, buttons)
    assert len(standin.drain_violations()) == 1


@pytest.mark.parametrize(("per_row", "accepted"), [(8, True), (9, False)])
async def test_at_most_eight_buttons_per_row(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson, per_row: int, accepted: bool
) -> None:
    await alice.send("hi")
    row = [InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(per_row)]

    if accepted:
        await _keyboard_message(app, [row])
        return
    with pytest.raises(BadRequest, match=r"(?i)too many buttons in a row"):
        await _keyboard_message(app, [row])
    assert len(standin.drain_violations()) == 1


async def test_at_most_hundred_buttons_and_no_text_buttons(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("hi")
    many = [[InlineKeyboardButton("b", callback_data="b")] for _ in range(101)]
    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await _keyboard_message(app, many)
    with pytest.raises(BadRequest, match=r"(?i)Text buttons are unallowed"):
        await _keyboard_message(app, [[InlineKeyboardButton("plain")]])
    assert len(standin.drain_violations()) == 2


async def test_press_answers_and_edits(standin: BotApiStandIn, alice: SimulatedPerson) -> None:
    [menu] = await alice.send("/menu")
    assert [b.text for b in menu.buttons()] == ["Yes, pledge", "No", "Silent", "Read the compact"]

    [edited] = await alice.press("Yes")

    assert (edited.message_id, edited.text) == (menu.message_id, "pressed yes")
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    assert alice.last_answer == "got yes"
    assert standin.unanswered_queries() == []


async def test_press_by_index_and_lookup_errors(alice: SimulatedPerson) -> None:
    [menu] = await alice.send("/menu")

    with pytest.raises(LookupError, match=r"(?i)'Yes, pledge', 'No'"):
        await alice.press("Maybe")
    with pytest.raises(ValueError, match=r"(?i)https://example.org/gcm"):
        await alice.press("Read")
    [edited] = await alice.press(1, message=menu)
    assert edited.text == "pressed no"
    with pytest.raises(LookupError, match=r"(?i)no bot message with an inline keyboard"):
        await alice.press("Yes")


async def test_forged_callback_data(alice: SimulatedPerson) -> None:
    await alice.send("/menu")

    [edited] = await alice.press_data("yes;DROP TABLE")

    assert edited.text == "pressed yes;DROP TABLE"


async def test_identical_edit_is_not_modified(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("/menu")
    [edited] = await alice.press("No")

    with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
        await app.bot.edit_message_text("pressed no", ALICE, edited.message_id)
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await app.bot.edit_message_text("x", ALICE, 999)
    assert len(standin.drain_violations()) == 2


async def test_unanswered_and_twice_answered_callbacks(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("/menu")
    await alice.press("Silent")
    assert alice.last_answer is None
    [violation] = standin.drain_violations()
    assert violation.startswith("callback query not answered")

    [query_id] = standin.unanswered_queries()
    await app.bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await app.bot.answer_callback_query(query_id)
    assert len(standin.drain_violations()) == 1


async def test_delete_message(standin: BotApiStandIn, app: App, alice: SimulatedPerson) -> None:
    [reply] = await alice.send("bye")

    assert await app.bot.delete_message(ALICE, reply.message_id)
    assert standin.chat_messages(ALICE) == []
    with pytest.raises(BadRequest, match=r"(?i)Message to delete not found"):
        await app.bot.delete_message(ALICE, reply.message_id)
    assert len(standin.drain_violations()) == 1


# --------------------------------------------------------------------------- chats and limits


async def test_rate_limit_per_chat(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("hi")
    standin.clock.advance(10)  # refill the bucket to its full burst

    results: list[str] = []
    for n in range(5):
        try:
            await app.bot.send_message(ALICE, f"burst {n}")
            results.append("ok")
        except RetryAfter as exc:
            # The message, not exc.retry_after, to stay clear of PTB's timedelta deprecation.
            results.append(exc.message)

    retry = "Flood control exceeded. Retry in 1 seconds"
    assert results == ["ok", "ok", "ok", retry, retry]
    assert standin.rate_limited == 2
    standin.clock.advance(1)
    await app.bot.send_message(ALICE, "after waiting")
    assert len(standin.drain_violations()) == 2

    standin.rate_limits_enabled = False
    for n in range(5):
        await app.bot.send_message(ALICE, f"unlimited {n}")


async def test_blocked_user_is_forbidden_without_violation(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("hi")
    standin.block(ALICE)

    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await app.bot.send_message(ALICE, "still there?")
    assert standin.violations == []
    standin.unblock(ALICE)
    await app.bot.send_message(ALICE, "welcome back")


async def test_cannot_initiate_conversation(standin: BotApiStandIn, app: App) -> None:
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await app.bot.send_message(4242, "hello stranger")
    assert len(standin.drain_violations()) == 1


async def test_unknown_method_is_404(standin: BotApiStandIn, app: App) -> None:
    with pytest.raises(EndPointNotFound):
        await app.bot.do_api_request("frobnicate", api_kwargs={"chat_id": ALICE})
    [violation] = standin.drain_violations()
    assert violation.startswith("frobnicate: Not Found")


# --------------------------------------------------------------------------- commands


async def test_set_my_commands_is_stored_per_language(standin: BotApiStandIn, app: App) -> None:
    await app.bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("help", "Help")])
    await app.bot.set_my_commands([BotCommand("start", "Commencer")], language_code="fr")

    assert [c["command"] for c in standin.commands()] == ["start", "help"]
    assert standin.commands(language_code="fr") == [
        {"command": "start", "description": "Commencer"}
    ]
    fetched = await app.bot.get_my_commands(language_code="fr")
    assert [c.description for c in fetched] == ["Commencer"]
    await app.bot.delete_my_commands(language_code="fr")
    assert standin.commands(language_code="fr") == []


@pytest.mark.parametrize(
    "commands",
    [
        [BotCommand("Start", "uppercase")],
        [BotCommand("x" * 33, "too long a name")],
        [BotCommand("start", "")],
        [BotCommand("start", "d" * 257)],
        [BotCommand(f"c{i}", "d") for i in range(101)],
    ],
)
async def test_set_my_commands_validation(
    standin: BotApiStandIn, app: App, commands: list[BotCommand]
) -> None:
    with pytest.raises(BadRequest):
        await app.bot.set_my_commands(commands)
    assert len(standin.drain_violations()) == 1
    assert standin.commands() == []


# --------------------------------------------------------------------------- transport details


async def test_form_encoded_values_take_the_same_path(standin: BotApiStandIn, app: App) -> None:
    standin.message_update(SimUser(ALICE, "Alice"), "/start")
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}

    status, body = await standin.dispatch(
        "sendmessage",  # Telegram method names are case-insensitive
        {
            "chat_id": str(ALICE),
            "text": "<u>form</u>",
            "parse_mode": "HTML",
            "reply_markup": json.dumps(markup),
        },
    )

    assert status == 200
    assert json.loads(body)["result"]["reply_markup"] == markup
    assert standin.calls[-1][1]["chat_id"] == ALICE
    sent = standin.last_message(ALICE)
    assert sent is not None and [b.callback_data for b in sent.buttons()] == ["go"]


async def test_get_updates_offset_and_timeout(standin: BotApiStandIn, app: App) -> None:
    bob = SimUser(2002, "Bob")
    first = standin.message_update(bob, "one")
    second = standin.message_update(bob, "two")
    standin.push_update(first)
    standin.push_update(second)

    updates = await app.bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    updates = await app.bot.get_updates(offset=second["update_id"] + 1, timeout=0)
    assert updates == ()

    standin.max_poll_wait = 0.05  # keep the real long-poll wait short
    assert await app.bot.get_updates(timeout=10) == ()


async def test_caption_and_reply_target_limits(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("hi")
    await app.bot.send_document(ALICE, b"x", filename="a.txt", caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await app.bot.send_document(ALICE, b"x", filename="a.txt", caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await app.bot.send_message(ALICE, "re", reply_to_message_id=999)
    assert len(standin.drain_violations()) == 2


async def test_markup_only_edits(standin: BotApiStandIn, app: App, alice: SimulatedPerson) -> None:
    [menu] = await alice.send("/menu")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Only", callback_data="only")]])

    edited = await app.bot.edit_message_reply_markup(ALICE, menu.message_id, reply_markup=keyboard)
    assert not isinstance(edited, bool) and edited.text == "Pledge?"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_reply_markup(ALICE, menu.message_id, reply_markup=keyboard)
    assert len(standin.drain_violations()) == 1
    assert [b.text for b in standin.stored_message(ALICE, menu.message_id).buttons()] == ["Only"]


async def test_chat_menu_button_and_chat_action(
    standin: BotApiStandIn, app: App, alice: SimulatedPerson
) -> None:
    await alice.send("hi")
    await app.bot.set_chat_menu_button(chat_id=ALICE, menu_button=MenuButtonCommands())
    await app.bot.send_chat_action(ALICE, ChatAction.TYPING)

    assert standin.menu_button(ALICE) == {"type": "commands"}
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await app.bot.send_chat_action(ALICE, "dancing")
    assert len(standin.drain_violations()) == 1
