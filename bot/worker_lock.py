"""One `pledgebot run` per SQLite database: SQLite takes one writer, so a second worker would
only queue behind the first (and two senders would share one file's locks). PostgreSQL is the
way to run several."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import SettingsError


@contextmanager
def sole_worker(database_url: str) -> Iterator[None]:
    """Hold the SQLite database's run lock while the block runs, or refuse in one line. The
    operating system lets go of it when the process ends, however it ends (SIGKILL too)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(f"{url.database}.run-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise SettingsError(
                f"another pledgebot run (pid {holder}) already serves {url.database}: SQLite "
                "takes one worker; use PostgreSQL (DATABASE_URL=postgresql://…) to run several"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
