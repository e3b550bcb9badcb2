"""Simulated people who message the bot and press its buttons in a private chat."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.standin.aliases import AnyApplication, JsonDict
from bot.standin.records import Button, SentMessage, SimUser
from bot.unreadable import readable

if TYPE_CHECKING:
    from bot.standin.api import BotApiStandIn


class SimulatedPerson:
    """A human in a private chat with the bot, driving an Application in-process."""

    def __init__(self, standin: BotApiStandIn, application: AnyApplication, user: SimUser) -> None:
        self.user = user
        self.pace = 2.0  # seconds a human needs per action; also refills rate-limit buckets
        self.last_answer: str | None = None
        self._standin = standin
        self._application = application

    @property
    def user_id(self) -> int:
        return self.user.user_id

    @property
    def chat_id(self) -> int:
        return self.user.user_id

    @property
    def first_name(self) -> str:
        return self.user.first_name

    @property
    def language_code(self) -> str | None:
        return self.user.language_code

    async def send(self, text: str) -> list[SentMessage]:
        return await self._act(lambda: self._standin.message_update(self.user, text))

    async def send_document(
        self,
        file_name: str = "notes.pdf",
        *,
        size: int = 12_345,
        data: bytes | None = None,
        mime_type: str | None = None,
        reported_size: int | None = None,
    ) -> list[SentMessage]:
        return await self._send_content(
            lambda: self._standin.document_content(
                file_name, size, data, mime_type=mime_type, reported_size=reported_size
            )
        )

    async def send_photo(self) -> list[SentMessage]:
        return await self._send_content(self._standin.photo_content)

    async def send_sticker(self) -> list[SentMessage]:
        return await self._send_content(self._standin.sticker_content)

    async def press(
        self, label: str | int, *, message: SentMessage | None = None
    ) -> list[SentMessage]:
        target = self._keyboard_message(message)
        button = _pick_button(target, label)
        if button.callback_data is None:
            raise ValueError(f"button {button.text!r} opens {button.url}; the bot gets nothing")
        return await self._press(target, button.callback_data)

    async def press_data(
        self, callback_data: str, *, message: SentMessage | None = None
    ) -> list[SentMessage]:
        """Send a raw callback query, e.g. forged data or a press on a stale keyboard."""
        if message is None:
            with contextlib.suppress(LookupError):
                message = self._keyboard_message(None)
        if message is None:
            message = self._standin.last_message(self.chat_id)
        if message is None:
            raise LookupError(f"no bot message in chat {self.chat_id} to attach a press to")
        return await self._press(message, callback_data)

    async def _send_content(self, content: Callable[[], JsonDict]) -> list[SentMessage]:
        return await self._act(lambda: self._standin.message_update(self.user, content=content()))

    async def _press(self, message: SentMessage, data: str) -> list[SentMessage]:
        query_ids: list[str] = []

        def build() -> JsonDict:
            update = self._standin.callback_update(self.user, message, data)
            query_ids.append(update["callback_query"]["id"])
            return update

        replies = await self._act(build)
        answered, self.last_answer = self._standin.callback_answer(query_ids[0])
        if not answered:
            # Telegram clients keep showing a spinner until the query is answered.
            self._standin.record_violation(
                f"callback query not answered [chat_id={self.chat_id}, data={data!r}]"
            )
        return replies

    async def _act(self, build: Callable[[], JsonDict]) -> list[SentMessage]:
        self._standin.clock.advance(self.pace)
        update = readable(build(), self._application.bot)
        mark = self._standin.history_mark()
        # Through the update processor, as PTB's own fetcher hands updates over.
        application = self._application
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
        return self._standin.messages_since(mark, self.chat_id)

    def _keyboard_message(self, message: SentMessage | None) -> SentMessage:
        if message is not None:
            # Clients always show the current state of a message, so press on that.
            return self._standin.stored_message(message.chat_id, message.message_id)
        for candidate in reversed(self._standin.chat_messages(self.chat_id)):
            if candidate.buttons():
                return candidate
        raise LookupError(f"no bot message with an inline keyboard in chat {self.chat_id}")


def _pick_button(message: SentMessage, label: str | int) -> Button:
    buttons = message.buttons()
    if isinstance(label, int):
        if -len(buttons) <= label < len(buttons):
            return buttons[label]
    else:
        exact = [button for button in buttons if button.text == label]
        partial = [button for button in buttons if label in button.text]
        if exact or len(partial) == 1:
            return (exact or partial)[0]
    available = ", ".join(repr(button.text) for button in buttons)
    raise LookupError(
        f"no unique button {label!r} on message {message.message_id}; available: {available}"
    )
