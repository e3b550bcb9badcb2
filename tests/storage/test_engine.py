"""The engine: SQLite pragmas, foreign keys, and times stored aware in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import col, select

from storage.engine import (
    SessionFactory,
    create_engine,
    session_factory,
    transaction,
    watch_writes,
)
from storage.migrate import upgrade
from storage.models import Forum, Locality, Pledge
from tests.storage.helpers import make_locality, make_member


async def test_sqlite_runs_in_wal_with_foreign_keys_on(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.sqlite3'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()
    assert str(journal).lower() == "wal"
    assert foreign_keys == 1
    assert busy >= 1000
    assert (tmp_path / "data" / "bot.sqlite3").exists()  # the folder was made for it


async def test_sqlite_pragmas_hold_on_every_pooled_connection(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    try:
        async with engine.connect() as first:
            assert (await first.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            await first.rollback()  # a transaction holds the write lock from its BEGIN
            async with engine.connect() as second:  # a second connection from the pool
                assert (await second.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_a_pledge_for_a_missing_locality_is_refused(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        locality = await make_locality(session)
        member = await make_member(session, locality_id=locality.id)
        member_id = member.id
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(Pledge(locality_id=987_654, created_by_id=member_id))
            await session.flush()
    async with transaction(sessions) as session:
        assert (await session.exec(select(Pledge))).all() == []


async def test_aware_datetimes_come_back_aware_in_utc(sessions: SessionFactory) -> None:
    deadline = datetime(2027, 3, 31, 23, 59, 30, 123456, tzinfo=ZoneInfo("America/New_York"))
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        forum.pledge_deadline = deadline
        forum.deadline_time_zone = "America/New_York"
        session.add(forum)
    async with transaction(sessions) as session:
        loaded = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        created = loaded.created_at
        stored = loaded.pledge_deadline
    assert stored is not None
    assert stored == deadline
    assert stored.utcoffset() == timedelta(0)
    assert stored.hour == 3 and stored.day == 1 and stored.month == 4  # 23:59 EDT is 03:59 UTC
    assert stored.microsecond == 123456
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)


async def test_times_compare_in_sql_as_instants(sessions: SessionFactory) -> None:
    paris = datetime(2027, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 10:00 UTC
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        forum.pledge_deadline = paris
        session.add(forum)
    async with transaction(sessions) as session:
        before = datetime(2027, 6, 1, 9, 30, tzinfo=UTC)
        after = datetime(2027, 6, 1, 10, 30, tzinfo=UTC)
        late = select(Forum).where(Forum.pledge_deadline > before, Forum.pledge_deadline < after)
        assert [f.code for f in (await session.exec(late)).all()] == ["GRF2027"]


async def test_naive_datetimes_are_refused(sessions: SessionFactory) -> None:
    with pytest.raises(StatementError, match="naive") as raised:
        async with transaction(sessions) as session:
            forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
            forum.pledge_deadline = datetime(2027, 3, 31, 12, 0)
            session.add(forum)
            await session.flush()
    assert isinstance(raised.value.orig, ValueError)
    async with transaction(sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        assert forum.pledge_deadline is None


async def test_a_second_engine_sees_committed_rows(
    database_url: str, sessions: SessionFactory
) -> None:
    async with transaction(sessions) as session:
        await make_locality(session, "Kampala", "UG")
    other = create_engine(database_url)
    try:
        await upgrade(other)  # already at head: a no-op
        async with transaction(session_factory(other)) as session:
            names = [loc.name for loc in (await session.exec(select(Locality))).all()]
    finally:
        await other.dispose()
    assert names == ["Kampala"]


async def test_a_session_knows_whether_it_wrote(sessions: SessionFactory) -> None:
    """What decides which transaction marks an inbox update handled: reads never count."""
    async with transaction(sessions) as session:
        wrote = watch_writes(session)
        await session.exec(select(Forum))
        await session.flush()
        assert not wrote()
    async with transaction(sessions) as session:
        wrote = watch_writes(session)
        await make_locality(session)
        await session.flush()
        assert wrote()
    async with transaction(sessions) as session:
        wrote = watch_writes(session)
        await session.exec(update(Forum).where(col(Forum.code) == "none").values(location="x"))
        assert wrote()
