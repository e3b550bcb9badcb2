"""What this process knows of a database outage: who has been told, whether to go on, and
the updates it had to hold over a stop because the database never came back in time."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import httpx
from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application

from bot.unreadable import readable

log = logging.getLogger(__name__)

OUTAGE_KEY: Final = "outage"
HELD_UPDATES: Final = "held-updates.jsonl"  # in DATA_DIR
# Seconds between attempts at an update while the database is away: soon at first (most
# outages are a restart), then every few seconds, so recovery is noticed within that.
BACKOFF: Final = (0.5, 1.0, 2.0, 3.0, 5.0)


@dataclass
class Outage:
    """Shared by the updates of one process: each person is told once per outage."""

    told: set[int] = field(default_factory=set)
    stopping: bool = False  # set on SIGTERM: updates still waiting are held over
    held: Path | None = None  # where they are held (one JSON update a line), if anywhere
    # Webhook mode: an update that cannot be handled stays in the database's inbox (the
    # database being what is away, its row cannot be removed), so nothing is written here.
    kept_by_inbox: bool = False

    def first_word_to(self, person: int) -> bool:
        """Whether `person` has not yet been told of this outage (they are, from now on)."""
        if person in self.told:
            return False
        self.told.add(person)
        return True

    def ended(self) -> None:
        """The database answered: a later outage is news again."""
        self.told.clear()

    def hold_over(self, update: Update) -> bool:
        """Keep an update the database could not take before the stop, for the next start
        (blocking: call it off the event loop). False if there is nowhere to keep it."""
        if self.kept_by_inbox:
            return True
        if self.held is None:
            return False
        self.held.parent.mkdir(parents=True, exist_ok=True)
        with self.held.open("a", encoding="utf-8") as file:
            file.write(json.dumps(update.to_dict(), ensure_ascii=False) + "\n")
        return True

    def take_held(self) -> list[dict[str, Any]]:
        """The updates held over the last stop, oldest first; the file is gone after (blocking)."""
        if self.held is None or not self.held.exists():
            return []
        lines = self.held.read_text(encoding="utf-8").splitlines()
        self.held.unlink()
        return [json.loads(line) for line in lines if line.strip()]


# Seconds of Telegram answering 5xx or refusing connections that a reply or a reminder waits
# out (retrying with back-off) before it is given up as failed.
TELEGRAM_PATIENCE: Final = 120.0


def retry_seconds(error: RetryAfter) -> float:
    """How long a 429 asks to wait (PTB gives seconds or a timedelta, by its settings)."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def maybe_delivered(error: NetworkError) -> bool:
    """Whether a call that failed may have reached Telegram all the same: the connection
    broke after the request went out, before the answer came back. Sending it again could
    show the message twice. (A 5xx answer, a refused or dropped connection: nothing shown.)"""
    return isinstance(error.__cause__, httpx.ReadError | httpx.RemoteProtocolError)


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1`."""
    return BACKOFF[min(attempt, len(BACKOFF) - 1)]


def outage_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Outage:
    """The outage record an application was built with."""
    outage: Outage = application.bot_data[OUTAGE_KEY]
    return outage


async def replay_held(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Hand the updates held over the last stop to the running application, before any new
    one: they are older. Returns how many."""
    held = await asyncio.to_thread(outage_of(application).take_held)
    for data in held:
        await application.update_queue.put(readable(data, application.bot))
    if held:
        log.info("handling %s updates held over the last stop", len(held))
    return len(held)
