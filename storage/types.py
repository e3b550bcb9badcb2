"""Column types shared by the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; SQLite forgets the zone, so it is put back on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: times are stored aware, in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A context variable, not a parameter threaded through every storage call: only the simulator
# moves time, and everything it runs (handlers, history, file names, default columns) must
# read the same clock. Tasks and threads started inside `clock_of` inherit it.
_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar("pledgebot_clock", default=None)


def utc_now() -> datetime:
    """The current time, aware, in UTC (the simulated time inside `clock_of`)."""
    clock = _CLOCK.get()
    return clock() if clock is not None else datetime.now(UTC)


@contextmanager
def clock_of(now: Callable[[], datetime]) -> Iterator[None]:
    """Make `now` the time of everything run inside, so a simulated `:wait` moves it all."""
    token = _CLOCK.set(now)
    try:
        yield
    finally:
        _CLOCK.reset(token)
