"""Building the shared services from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from conversations.i18n import Catalogs
from storage.engine import SessionFactory, create_engine, session_factory
from storage.migrate import upgrade


@dataclass(frozen=True)
class Services:
    """Long-lived objects the application shares, built once from the settings."""

    settings: Settings
    sessions: SessionFactory
    catalogs: Catalogs

    @property
    def database_url(self) -> str:
        return self.settings.effective_database_url

    @property
    def data_dir(self) -> Path:
        """Where the project keeps its files (pledges' documents among them)."""
        return self.settings.data_dir

    @property
    def engine(self) -> AsyncEngine:
        """The engine the sessions are bound to (for checks that need no session)."""
        engine: AsyncEngine = self.sessions.kw["bind"]
        return engine


@asynccontextmanager
async def open_services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    """The database (brought up to date first) and the compiled catalogs; closed on exit."""
    engine = create_engine(settings.effective_database_url)
    try:
        if migrate:
            await upgrade(engine)
        yield Services(
            settings=settings,
            sessions=session_factory(engine),
            catalogs=Catalogs(default_language=settings.default_language),
        )
    finally:
        await engine.dispose()
