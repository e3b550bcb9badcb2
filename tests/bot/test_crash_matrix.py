"""The crash and fault matrices over HTTP: `pledgebot run` killed with SIGKILL at a Bot API
call of a wizard step, before the stand-in acts on the call or after it acted (its answer
never reaching the bot), then started again; or the call failing once (500, 502, 429, a
timeout, a connection broken after the stand-in acted). The official carries on.

Each pass is one official through the whole wizard, on a database and a Telegram of their
own, with the bot killed (or a call failing) at most once per step; a reference pass without
either says what each step should end with and which calls it makes. CI runs a fast profile:
every third step and Submit killed once, at the first call before or the last call after,
alternately; every step failing once, the kinds in turn. With `PLEDGEBOT_CRASH_MATRIX=full`
every call of every step is killed both ways and fails each way (docs/RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from bot.standin import BotApiStandIn, SimUser
from bot.standin.crowd import wizard_steps
from bot.standin.records import FaultKind
from bot.standin_server import StandInServer
from tests.bot.test_runner import SETTLE, TIMEOUT, HttpPerson, launch, logged, prepare_database

When = Literal["before", "after"]
# Over HTTP a connection that breaks once the request is written looks the same to the bot
# whether Telegram acted or not, so the bot takes it as done (never twice on the screen):
# "drop" (nothing done) is the in-process matrix's, where it is a connection never made.
FAULTS: tuple[FaultKind, ...] = ("500", "502", "429", "timeout", "reset")
Fault = tuple[int, FaultKind]  # the nth Bot API call of the step, and how it fails
Kill = tuple[int, When]  # the nth Bot API call of the step, and when
FULL = os.environ.get("PLEDGEBOT_CRASH_MATRIX") == "full"
COORDINATOR, OFFICIAL = 501, 502
REFERENCE = re.compile(r"CLA-\d{4}-\d{4}")
# Telegram's answer to an edit done already: the one edit in flight at a kill is made again.
REPEATED_EDIT = "message is not modified"
WAITING_NOTICES = "SELECT count(*) FROM notice WHERE status IN ('pending', 'claimed', 'sending')"


@dataclass
class Pass:
    """What one official's way through the wizard left behind."""

    calls: list[int] = field(default_factory=list)  # Bot API calls each step made
    methods: list[list[str]] = field(default_factory=list)  # and which, in order
    faults: list[tuple[int, Fault]] = field(default_factory=list)
    endings: list[str] = field(default_factory=list)  # what the official last read, each step
    kills: list[tuple[int, Kill]] = field(default_factory=list)
    messages: int = 0  # the bot's messages in the official's chat
    apologies: int = 0  # of them, "something went wrong"
    references_told: set[str] = field(default_factory=set)
    pledge: dict[str, object] = field(default_factory=dict)
    coordinator_told: int = 0
    notice_statuses: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class RunningBot:
    """`pledgebot run`, started again each time it is killed; each run logs to a file."""

    def __init__(self, tmp_path: Path, standin: BotApiStandIn, port: int, url: str) -> None:
        self.tmp_path, self.standin, self.port, self.url = tmp_path, standin, port, url
        self.runs = 0
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.runs += 1
        name = f"run-{self.runs}"
        self.process, log_path = await launch(
            self.tmp_path, self.standin, self.port, self.url, name=name
        )
        await logged(log_path, r"pledgebot is running")

    def kill(self) -> None:
        """SIGKILL, at once: called by the stand-in in the middle of a Bot API call."""
        assert self.process is not None
        self.process.kill()

    async def killed_and_restarted(self) -> None:
        assert self.process is not None
        async with asyncio.timeout(TIMEOUT):
            await self.process.wait()
        await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), TIMEOUT)


def _count(database: Path, query: str) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(query).fetchone()
    return int(count)


def _inbox_rows(database: Path) -> int:
    return _count(database, "SELECT count(*) FROM inbound_update")


async def _notices_out(database: Path) -> None:
    """Until no notice waits to be sent: one the kill left pending goes with the restarted
    bot's first tick of its sender."""
    async with asyncio.timeout(TIMEOUT):
        while await asyncio.to_thread(_count, database, WAITING_NOTICES):  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def _settled(standin: BotApiStandIn, database: Path) -> None:
    """Until the restarted bot has finished what was in hand: nothing left in its inbox and
    no call to Telegram for a while."""
    deadline = time.monotonic() + TIMEOUT
    seen, quiet_since = standin.counted_calls, time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if standin.counted_calls != seen:
            seen, quiet_since = standin.counted_calls, time.monotonic()
        elif time.monotonic() - quiet_since > SETTLE and not await asyncio.to_thread(
            _inbox_rows, database
        ):
            return
    raise TimeoutError("the restarted bot did not finish the update in hand")


def _ending(standin: BotApiStandIn) -> str:
    """What the official reads last: the latest message, references made alike."""
    messages = standin.chat_messages(OFFICIAL)
    latest = max(messages, key=lambda m: m.message_id)
    return REFERENCE.sub("CLA-…", latest.text)


async def _walk(
    tmp_path: Path,
    kills: Mapping[int, Kill],
    faults: Mapping[int, Fault] | None = None,
    methods: Sequence[Sequence[str]] = (),
) -> Pass:
    """One official through the wizard on a database of their own, the bot killed at the
    given call of the given steps (or the call failing, with `faults` and the reference's
    methods)."""
    database = tmp_path / "bot.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    coordinator_token, official_token = await prepare_database(url)
    standin = BotApiStandIn()
    server = StandInServer(standin)
    port = await server.start()
    bot = RunningBot(tmp_path, standin, port, url)
    walked = Pass()
    await bot.start()
    try:
        await HttpPerson(standin, SimUser(COORDINATOR, "Coco")).send(f"/start {coordinator_token}")
        official = HttpPerson(standin, SimUser(OFFICIAL, "Olga"))
        for index, step in enumerate(wizard_steps(official_token)):
            before, mark = standin.counted_calls, len(standin.calls)
            if faults and index in faults:
                nth, kind = faults[index]
                method = methods[index][nth - 1]
                # The step's nth call: after as many calls of its method as come before it.
                standin.fail(method, kind, after=methods[index][: nth - 1].count(method))
                await official.do(step)
                standin.faults.clear()
                walked.faults.append((index, faults[index]))
            elif index in kills:
                nth, when = kills[index]
                standin.set_trap(nth, when, bot.kill)
                standin.clock.advance(2.0)
                standin.push_update(official.update(step))
                await bot.killed_and_restarted()
                assert standin.trap is None, f"step {index} made fewer than {nth} calls"
                await _settled(standin, database)
                walked.kills.append((index, kills[index]))
            else:
                await official.do(step)
            walked.calls.append(standin.counted_calls - before)
            walked.methods.append([m for m, _ in standin.calls[mark:] if m != "getUpdates"])
            walked.endings.append(_ending(standin))
        await _notices_out(database)
    finally:
        await bot.stop()
        await server.stop()
    told = [m.text for m in standin.chat_messages(OFFICIAL)]
    walked.messages = len(told)
    walked.apologies = sum("something went wrong" in text for text in told)
    walked.references_told = {r for text in told for r in REFERENCE.findall(text)}
    walked.coordinator_told = sum(
        "New pledge submitted" in m.text for m in standin.chat_messages(COORDINATOR)
    )
    walked.violations = standin.violations
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        pledges = connection.execute("SELECT * FROM pledge").fetchall()
        walked.notice_statuses = [
            row[0] for row in connection.execute("SELECT status FROM notice").fetchall()
        ]
    assert len(pledges) == 1, "one pledge, however often the bot was killed"
    walked.pledge = {
        key: pledges[0][key]
        for key in pledges[0].keys()  # noqa: SIM118 (a Row's keys() is no dict's)
        if not key.endswith("_at") and key not in {"id", "search_text"}
    }
    return walked


def _fault_plan(calls: list[int]) -> list[dict[int, Fault]]:
    """The passes of faults, each step failing at most once a pass. Fast: one pass, every
    step failing once, the kinds in turn, at its first or (every other round) its last call."""
    wanted: list[list[Fault]] = []
    for index, count in enumerate(calls):
        if FULL:
            wanted.append([(n, kind) for n in range(1, count + 1) for kind in FAULTS])
        elif count:
            nth = 1 if (index // len(FAULTS)) % 2 == 0 else count
            wanted.append([(nth, FAULTS[index % len(FAULTS)])])
        else:
            wanted.append([])
    passes = max(len(faults) for faults in wanted)
    return [
        {index: faults[p] for index, faults in enumerate(wanted) if p < len(faults)}
        for p in range(passes)
    ]


def _plan(calls: list[int]) -> list[dict[int, Kill]]:
    """The passes: each kills each step at most once, until every kill asked for is done.
    Fast: one pass, killing every third step and Submit, alternately at the step's first call
    before the stand-in acts and at its last call after."""
    wanted: list[list[Kill]] = []
    for index, count in enumerate(calls):
        every: list[Kill] = [(n, when) for n in range(1, count + 1) for when in ("before", "after")]
        if FULL:
            wanted.append(every)
        elif count and (index % 3 == 0 or index == len(calls) - 1):
            wanted.append([(1, "before")] if index % 2 == 0 else [(count, "after")])
        else:
            wanted.append([])
    passes = max(len(kills) for kills in wanted)
    return [
        {index: kills[p] for index, kills in enumerate(wanted) if p < len(kills)}
        for p in range(passes)
    ]


def _check(reference: Pass, walked: Pass) -> None:
    """Everything the official was told is true in the database, nothing they sent is lost,
    one reference for one pledge, and the coordinator told once (or the notice failed)."""
    # Each step ends where it ends without kills: the answer kept, the next question asked.
    assert walked.endings == reference.endings, walked.kills
    assert walked.pledge == reference.pledge, walked.kills
    assert walked.pledge["state"] == "submitted"
    # Examples on the cards look like references too: only the pledge's own may be told.
    examples = reference.references_told - {reference.pledge["reference"]}
    assert walked.references_told - examples == {walked.pledge["reference"]}
    # Only a reply in flight at a kill may come twice (sent again rather than never).
    again = sum(1 for _index, (_nth, when) in walked.kills if when == "after")
    assert reference.messages <= walked.messages <= reference.messages + again, walked.kills
    # A notice to someone else arrives once, or, caught mid-send, is recorded as failed.
    assert walked.coordinator_told == 1 or walked.notice_statuses == ["failed"], walked
    assert walked.coordinator_told <= 1
    assert [v for v in walked.violations if REPEATED_EDIT not in v] == [], walked.kills


def _check_faults(reference: Pass, walked: Pass) -> None:
    """Every fault waited out or known to be harmless: each question asked once, the same
    pledge, no apology, the coordinator told once."""
    where = walked.faults
    assert walked.endings == reference.endings, where
    assert walked.pledge == reference.pledge, where
    assert walked.messages == reference.messages, where  # none lost, none twice
    assert walked.coordinator_told == 1, where
    assert walked.apologies == 0, where
    assert walked.violations == [], where


async def test_a_fault_at_any_call_of_any_step_is_waited_out(tmp_path: Path) -> None:
    reference = await _walk(tmp_path / "reference", {})
    passes = _fault_plan(reference.calls)
    for number, faults in enumerate(passes):
        walked = await _walk(tmp_path / f"pass-{number}", {}, faults, reference.methods)
        _check_faults(reference, walked)
    done = sum(len(faults) for faults in passes)
    print(f"fault matrix over HTTP: {done} faults over {len(reference.calls)} steps waited out")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
async def test_killed_at_any_call_of_any_step_the_official_carries_on(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    reference = await _walk(tmp_path / "reference", {})
    assert reference.coordinator_told == 1 and reference.violations == []
    passes = _plan(reference.calls)
    for number, kills in enumerate(passes):
        walked = await _walk(tmp_path / f"pass-{number}", kills)
        _check(reference, walked)
    kills_done = sum(len(kills) for kills in passes)
    record_property("kills", kills_done)
    print(f"crash matrix: {kills_done} kills over {len(reference.calls)} steps survived")
