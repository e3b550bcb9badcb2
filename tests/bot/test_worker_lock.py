"""A second worker on one SQLite database is refused, in one line; a dead one is no obstacle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError
from bot.worker_lock import sole_worker


def test_a_second_worker_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from bot.worker_lock import sole_worker\n"
            f"with sole_worker({url!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SettingsError) as refused, sole_worker(url):
            pass
        message = str(refused.value)
        assert f"pid {holder.pid}" in message and "use PostgreSQL" in message
        assert "\n" not in message
    finally:
        holder.kill()  # as SIGKILL leaves it: the lock goes with the process
        holder.wait()
    with sole_worker(url):
        assert (tmp_path / "bot.sqlite3.run-lock").read_text() == str(os.getpid())


def test_postgresql_takes_any_number_of_workers() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/any"
    with sole_worker(url), sole_worker(url):
        pass
