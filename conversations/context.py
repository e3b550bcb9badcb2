"""What every handler gets: the member, their translator, the database and the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Catalogs, Translator
from bot.settings import Settings
from storage.engine import SessionFactory, transaction
from storage.models import ConversationState, Member

SERVICES_KEY = "services"


@dataclass(frozen=True)
class Services:
    """Long-lived objects the handlers share, built once in `build_application`."""

    settings: Settings
    sessions: SessionFactory
    catalogs: Catalogs


class PledgeContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """A callback context that carries the member who sent the update."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._member: Member | None = None
        self._translator: Translator | None = None
        self.conversation: ConversationState | None = None
        self.callback_answered = False

    @property
    def services(self) -> Services:
        services = self.application.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)
        return services

    @property
    def member(self) -> Member:
        if self._member is None:
            raise RuntimeError("no member loaded for this update")
        return self._member

    @property
    def has_member(self) -> bool:
        return self._member is not None

    @property
    def t(self) -> Translator:
        """The member's translator, or the default language's before a member is known."""
        if self._translator is None:
            return self.services.catalogs.translator(None)
        return self._translator

    def set_member(self, member: Member, translator: Translator) -> None:
        self._member, self._translator = member, translator

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed at the end of the block, rolled back on error."""
        async with transaction(self.services.sessions) as session:
            yield session
