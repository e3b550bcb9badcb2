"""The async engine and its sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work beside the one writer; SQLite leaves foreign keys off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # The driver's own BEGIN is turned off: `_begin_immediately` says when and how to begin.
    dbapi_connection.isolation_level = None


def _begin_immediately(connection: Connection) -> None:
    # Updates are handled concurrently. A deferred transaction that read, then writes after
    # another writer committed, fails at once with SQLITE_BUSY (the busy timeout does not
    # apply): taking the write lock at BEGIN makes writers queue politely instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_reading(connection: Connection) -> None:
    # A reader's snapshot, which in WAL mode never holds up a writer.
    connection.exec_driver_sql("BEGIN")


def create_engine(database_url: str, *, read_only: bool = False) -> AsyncEngine:
    """An engine for SQLite (WAL, foreign keys on) or PostgreSQL (asyncpg); `read_only` for
    long reads (exports) that must see one snapshot and never hold up the writers."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        begin = _begin_reading if read_only else _begin_immediately
        event.listen(engine.sync_engine, "begin", begin)
        return engine
    if read_only:
        return create_async_engine(url, pool_pre_ping=True, isolation_level="REPEATABLE READ")
    return create_async_engine(url, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One session, committed when the block ends and rolled back if it raises."""
    async with sessions() as session, session.begin():
        yield session
