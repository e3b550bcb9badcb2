"""The async engine and its sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as SyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]

# Seconds to wait for a PostgreSQL connection: a server that does not answer (a cut network
# drops packets rather than refusing) is reported as unavailable, not waited on for a minute.
CONNECT_TIMEOUT: Final = 5
# What SQLite says when the file cannot be had for now (another process holds the write lock
# longer than the busy timeout, a disk or a mount is away), as opposed to a bug in a query.
_SQLITE_TRANSIENT: Final = ("locked", "busy", "unable to open", "disk i/o", "readonly database")
_DRIVERS: Final = ("/asyncpg/", "/aiosqlite/", "/sqlalchemy/")


class DatabaseUnavailable(Exception):
    """The database cannot be reached or used for now; the same work may succeed later."""


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
    # pool_pre_ping: a connection that died with a server restart is replaced, not used.
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "connect_args": {"timeout": CONNECT_TIMEOUT},
    }
    if read_only:
        options["isolation_level"] = "REPEATABLE READ"
    return create_async_engine(url, **options)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database is out of reach (down, cut off, locked), rather than
    that a statement or the code around it is wrong."""
    if isinstance(error, DatabaseUnavailable | PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, InterfaceError):
            return True
        if not isinstance(error, OperationalError):
            return False  # a constraint, a syntax error: trying again would fail again
        if type(error.orig).__module__.startswith("sqlite3"):
            return any(word in str(error.orig).lower() for word in _SQLITE_TRANSIENT)
        return True  # PostgreSQL's operational errors: shutting down, starting up, cut off
    # Connecting raises the socket's own error, unwrapped; count it only when a driver raised it.
    return isinstance(error, OSError) and _raised_in_driver(error.__traceback__)


def _raised_in_driver(trace: TracebackType | None) -> bool:
    while trace is not None:
        if any(part in trace.tb_frame.f_code.co_filename for part in _DRIVERS):
            return True
        trace = trace.tb_next
    return False


@asynccontextmanager
async def transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One session, committed when the block ends and rolled back if it raises. A database
    that cannot be reached surfaces as DatabaseUnavailable, whatever the driver raised."""
    try:
        async with sessions() as session, session.begin():
            yield session
    except DatabaseUnavailable:
        raise
    except Exception as error:
        if is_unavailable(error):
            # The driver's own message: never the statement or its parameters (what people typed).
            cause = error.orig if isinstance(error, DBAPIError) else error
            raise DatabaseUnavailable(f"{type(cause).__name__}: {str(cause)[:200]}") from error
        raise


def watch_writes(session: AsyncSession) -> Callable[[], bool]:
    """A question to ask later: has `session` written anything (a flush, or an INSERT, UPDATE
    or DELETE statement) since it was watched? Pending objects count only once flushed."""
    wrote = False

    def flushed(_session: SyncSession, _context: Any) -> None:
        nonlocal wrote
        wrote = True

    def executed(state: ORMExecuteState) -> None:
        nonlocal wrote
        wrote = wrote or state.is_insert or state.is_update or state.is_delete

    event.listen(session.sync_session, "after_flush", flushed)
    event.listen(session.sync_session, "do_orm_execute", executed)
    return lambda: wrote
