"""Shared fixtures: a migrated database, the services, the Bot API stand-in and the bot."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.app import PledgeApplication, build_application, register_default_commands
from bot.services import Services
from bot.settings import Settings
from bot.standin import BotApiStandIn
from conversations.i18n import Catalogs
from storage.engine import SessionFactory, create_engine, session_factory, transaction
from storage.invites import issue_invite
from storage.migrate import upgrade
from storage.models import Role

POSTGRES_ENV = "PLEDGEBOT_TEST_POSTGRES_URL"


def _on_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this run's own, dropped at its end: two runs on one machine
    (the server's `test` database is shared) never disturb each other."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. "
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    name = f"pledgebot_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    try:
        yield _on_database(url, name)
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_url(request: pytest.FixtureRequest) -> str:
    """This run's PostgreSQL database, or a skip that says how to enable it."""
    url: str = request.getfixturevalue("postgres_database")
    return url


async def fresh_postgres(url: str) -> AsyncEngine:
    """An engine on an emptied public schema of this run's database, so each test starts
    from nothing."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    return engine


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite unless a test module asks for both databases."""
    return f"sqlite+aiosqlite:///{tmp_path / 'pledgebot.sqlite3'}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if database_url.startswith("postgresql"):
        engine = await fresh_postgres(database_url)
    else:
        engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=tmp_path,  # type: ignore[call-arg]
        telegram_bot_token=None,
    )


@pytest.fixture(scope="session")
def catalogs() -> Catalogs:
    return Catalogs()


@pytest.fixture
def services(settings: Settings, sessions: SessionFactory, catalogs: Catalogs) -> Services:
    return Services(settings=settings, sessions=sessions, catalogs=catalogs)


@pytest.fixture
def standin() -> BotApiStandIn:
    return BotApiStandIn()


def on_standin(services: Services, standin: BotApiStandIn, **options: Any) -> PledgeApplication:
    """The real Application talking to `standin` (options as build_application's: no rate
    limiter unless asked, a clock)."""
    options.setdefault("rate_limiter", False)
    return build_application(
        services,
        token=standin.token,
        request=standin.request(),
        get_updates_request=standin.request(),
        **options,
    )


@pytest.fixture
async def app(services: Services, standin: BotApiStandIn) -> AsyncIterator[PledgeApplication]:
    """The real Application on the stand-in; any breach of Telegram's limits fails the test."""
    application = on_standin(services, standin)
    await application.initialize()
    await register_default_commands(application)
    yield application
    await application.shutdown()
    assert standin.violations == [], "\n".join(standin.violations)


class Invitations:
    """Invites made the way `pledgebot invite` makes them."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def make(
        self,
        role: Role,
        *,
        locality: str | None = None,
        country: str = "FR",
        uses: int = 1,
        expires_in: timedelta = timedelta(days=14),
    ) -> str:
        async with transaction(self.sessions) as session:
            issued = await issue_invite(
                session=session,
                role=role,
                locality=locality,
                country=country,
                uses=uses,
                expires_in=expires_in,
            )
        return issued.token


@pytest.fixture
def invitations(sessions: SessionFactory) -> Invitations:
    return Invitations(sessions)
