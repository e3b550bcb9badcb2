"""What every step gets: the member, their translator, the database, and the replies it makes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import Application, CallbackContext, ExtBot

from conversations.i18n import Catalogs, Translator
from conversations.replies import Replies
from storage.engine import SessionFactory, transaction, watch_writes
from storage.models import ConversationState, Member

if TYPE_CHECKING:
    from conversations.flow import Router

SERVICES_KEY = "services"
ROUTER_KEY = "router"


class FlowServices(Protocol):
    """What the flows use of the long-lived services the application is built with."""

    @property
    def sessions(self) -> SessionFactory: ...

    @property
    def catalogs(self) -> Catalogs: ...

    @property
    def database_url(self) -> str:
        """For work done off the event loop on a connection of its own (exports)."""
        ...

    @property
    def data_dir(self) -> Path:
        """Where the project keeps its files (pledges' documents)."""
        ...


class PledgeContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """A callback context that carries the member who sent the update and what to answer."""

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
        self.replies = Replies()
        self.commits = 0  # transactions this update committed (the engine retries none twice)
        # Run inside the first transaction that saves anything, so that it commits with what
        # the update said or not at all (the inbox marks the update handled there).
        self.on_first_save: Callable[[AsyncSession], Awaitable[None]] | None = None
        self.saved_update = False  # whether on_first_save committed: the update is handled

    @property
    def services(self) -> FlowServices:
        services: FlowServices = self.application.bot_data[SERVICES_KEY]
        return services

    @property
    def router(self) -> Router:
        """Every flow's commands, buttons and steps (for /help, menus and asking again)."""
        router: Router = self.application.bot_data[ROUTER_KEY]
        return router

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

    async def state_in(self, session: AsyncSession) -> ConversationState | None:
        """The person's conversation state as loaded for this update, attached to `session`
        without reading it again: one person's updates never run at once, so it is current."""
        if self.conversation is None:
            return None
        return await session.merge(self.conversation, load=False)

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed at the end of the block, rolled back on error; what the
        block said is dropped with a rollback, and sent only after the commit."""
        mark, first_save = self.replies.mark(), self.on_first_save
        try:
            async with transaction(self.services.sessions) as session:
                wrote = watch_writes(session)
                yield session
                if first_save is not None:
                    await session.flush()
                    if not wrote():
                        first_save = None
                    else:
                        await first_save(session)
        except BaseException:
            self.replies.drop_after(mark)
            raise
        self.commits += 1
        if first_save is not None:
            self.on_first_save = None  # committed: later transactions go on without it
            self.saved_update = True
