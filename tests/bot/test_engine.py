"""Commit, then send: a Telegram failure never undoes a saved answer or says what is untrue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import PledgeApplication, register_default_commands, sender_of
from bot.engine import ATTEMPTS
from bot.outage import TELEGRAM_PATIENCE, backoff
from bot.services import Services
from bot.standin import BotApiStandIn, FaultKind, SimulatedPerson
from storage.engine import SessionFactory, transaction
from storage.models import DeliveryStatus, Notice, ProgressReport, Role, WorkflowState
from tests.conftest import Invitations, on_standin
from tests.conversations.helpers import (
    STEP_ORDER,
    answer,
    join,
    latest_pledge,
    state_of,
    submit_pledge,
    texts,
    walk_to,
)

APOLOGY = "something went wrong"


def _attempts_while_down() -> int:
    """Every attempt the engine makes at a reply while Telegram answers 5xx, before it gives up."""
    waited, attempts = 0.0, 1
    while waited + backoff(attempts - 1) <= TELEGRAM_PATIENCE:
        waited += backoff(attempts - 1)
        attempts += 1
    return attempts


# Beyond the engine's retries: every attempt at the call fails.
FAULTS: list[tuple[FaultKind, int]] = [
    ("502", _attempts_while_down()),
    ("500", _attempts_while_down()),
    ("429", ATTEMPTS),
    ("timeout", 1),
    ("drop", 1),  # the connection dropped before Telegram got the call: sent again
    ("reset", 1),  # the connection broke after Telegram acted: never sent again
]


@dataclass
class MovableClock:
    """The sender's time: moves only when told to, or when the sender waits."""

    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def app(
    services: Services, standin: BotApiStandIn, clock: MovableClock
) -> AsyncIterator[PledgeApplication]:
    """The real Application on the stand-in, its sender on a clock the test moves."""
    application = on_standin(services, standin, clock=clock)
    async with application:
        await register_default_commands(application)
        yield application
    assert standin.violations == [], "\n".join(standin.violations)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch, standin: BotApiStandIn) -> None:
    """The engine's back-off between attempts passes on the stand-in's clock, not the test's."""

    async def instantly(seconds: float) -> None:
        standin.clock.advance(seconds)

    monkeypatch.setattr("bot.engine.asyncio.sleep", instantly)


def methods_of(standin: BotApiStandIn, since: int) -> list[str]:
    """The Bot API methods the bot called since a point in `standin.calls`, in order."""
    return [method for method, _params in standin.calls[since:]]


async def progress_saved(sessions: SessionFactory) -> list[str]:
    async with transaction(sessions) as session:
        return [r.narrative for r in (await session.exec(select(ProgressReport))).all()]


@pytest.mark.parametrize(("kind", "times"), FAULTS)
async def test_a_progress_report_stays_saved_when_the_card_after_it_fails(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    kind: FaultKind,
    times: int,
) -> None:
    """The reported defect: "saved", then the card fails; the report must be in the table."""
    official = await join(standin, app, invitations, user_id=22)
    reference = await submit_pledge(official)
    await official.send("/mypledges")
    await official.press(f"1. {reference}")
    await official.press("📈 Report progress")
    await official.press("In progress")
    # The reply "saved" goes through; the card sent after it fails, whatever the retries.
    standin.fail("sendMessage", kind, times=times, after=1)
    narrative = "Opened in March: 120 people advised and 40 in classes."
    mark = len(standin.calls)
    replies = await official.send(narrative)
    assert await progress_saved(sessions) == [narrative]
    assert APOLOGY not in texts(replies)
    assert "Progress report saved" in texts(replies)
    # A timed-out message is never sent again: it may have arrived.
    if kind in ("timeout", "reset"):
        assert methods_of(standin, mark).count("sendMessage") == 2
    assert await state_of(sessions, 22) is None


async def _step_calls(person: SimulatedPerson, standin: BotApiStandIn, step: str) -> list[str]:
    mark = len(standin.calls)
    await answer(person, step)
    return methods_of(standin, mark)


@pytest.mark.parametrize("step", STEP_ORDER[:-1])
async def test_every_wizard_step_is_kept_whichever_call_fails(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    step: str,
) -> None:
    """Each Bot API call a step makes fails in turn, in each way: the answer is saved, the
    person is never told it was not, and the person can carry on (after /help if the next
    question was lost) to a submitted pledge."""
    official = await join(standin, app, invitations, user_id=22)
    # Recovering (/help: its list, a word, the question again) takes three messages at once.
    official.pace = 3.0
    # The calls this step makes when all goes well, learnt from a first pledge.
    await walk_to(official, step)
    methods = sorted(set(await _step_calls(official, standin, step)))
    assert methods, step
    for method in methods:
        for kind, times in FAULTS:
            await official.send("/cancel")  # the draft stays; a new pledge starts
            await walk_to(official, step)
            before = await state_of(sessions, 22)
            assert before is not None and before.step == step
            standin.fail(method, kind, times=times)
            replies = await answer(official, step)
            standin.faults.clear()
            where = f"{method} {kind} at {step}"
            if method == "answerCallbackQuery":  # what the fault did, not the bot
                standin.violations.clear()
            assert APOLOGY not in texts(replies), where
            after = await state_of(sessions, 22)
            assert after is not None and after.step != step, where  # the answer is saved
            # The next question may have been lost with the failed call: /help repeats it.
            replies = await official.send("/help")
            assert "here it is again" in texts(replies), where
            next_step = STEP_ORDER[STEP_ORDER.index(step) + 1]
            assert after.step == next_step, where
            for later in STEP_ORDER[STEP_ORDER.index(next_step) : -1]:
                assert APOLOGY not in texts(await answer(official, later)), where
            replies = await official.press("✅ Submit")
            assert "Your pledge is submitted" in texts(replies), where
            assert (await latest_pledge(sessions, 22)).state == WorkflowState.SUBMITTED.value


@pytest.mark.parametrize(("kind", "times"), FAULTS)
async def test_submitting_is_committed_before_anyone_is_told(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    kind: FaultKind,
    times: int,
) -> None:
    """Whatever fails after Submit, the pledge is submitted with its reference."""
    await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    official = await join(standin, app, invitations, user_id=22)
    await walk_to(official, "review")
    standin.fail("sendMessage", kind, times=times, chat_id=official.chat_id)
    replies = await official.press("✅ Submit")
    pledge = await latest_pledge(sessions, 22)
    assert pledge.state == WorkflowState.SUBMITTED.value and pledge.reference
    assert APOLOGY not in texts(replies)
    for reply in replies:  # whatever reached the person names the reference that was saved
        if "Your pledge is submitted" in reply.text:
            assert pledge.reference in reply.text
    # The coordinators hear of it either way.
    note = standin.last_message(11)
    assert note is not None and f"New pledge submitted: {pledge.reference}" in note.text


@pytest.mark.parametrize(
    ("kind", "times"),
    [("502", 1), ("500", 1), ("429", 6), ("timeout", 1), ("drop", 1), ("reset", 1)],
)
async def test_a_notice_to_a_coordinator_arrives_once_after_telegram_recovers(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    clock: MovableClock,
    kind: FaultKind,
    times: int,
) -> None:
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    official = await join(standin, app, invitations, user_id=22)
    standin.fail("sendMessage", kind, times=times, chat_id=coordinator.chat_id)
    reference = await submit_pledge(official)

    def notes() -> list[str]:
        return [
            m.text
            for m in standin.chat_messages(coordinator.chat_id)
            if f"New pledge submitted: {reference}" in m.text
        ]

    # Later ticks of the sender (a minute on, then more) deliver what is still due, once.
    for _ in range(3):
        clock.at += timedelta(minutes=20)
        await sender_of(app).tick()
    assert len(notes()) == 1, notes()
    async with transaction(sessions) as session:
        notice = (await session.exec(select(Notice))).one()
    # A timed-out send may have arrived (here it did): recorded as uncertain, never resent.
    expected = DeliveryStatus.FAILED if kind in ("timeout", "reset") else DeliveryStatus.SENT
    assert notice.status == expected.value, notice


async def test_a_failed_step_rolls_back_what_it_would_have_said(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A step that raises inside its transaction: nothing saved, nothing claimed, an apology
    in the person's language."""
    official = standin.person(app, user_id=22, first_name="Pierre", language_code="fr")
    await official.send("/start " + await invitations.make(Role.OFFICIAL, locality="Lyon"))
    await official.send("/pledge")
    await official.press(0)  # the first forum
    await official.press(0)  # the first compact

    async def broken(**_kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("conversations.pledge_wizard.update_pledge", broken)
    replies = await official.send("Un centre d'accueil")
    assert texts(replies).startswith("Veuillez nous excuser"), texts(replies)
    assert "n’a pas été traité" in texts(replies)  # nothing claimed saved
    assert (await latest_pledge(sessions, 22)).title == ""
    state = await state_of(sessions, 22)
    assert state is not None and state.step == "title"


async def test_notices_that_cannot_go_out_at_once_wait_for_the_next_tick(
    app: PledgeApplication,
    standin: BotApiStandIn,
    invitations: Invitations,
    sessions: SessionFactory,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database hiccups right after the commit: the official is told the truth, the
    coordinators' notice stays pending and goes out, once, with the sender's next tick."""
    coordinator = await join(standin, app, invitations, user_id=11, role=Role.COORDINATOR)
    official = await join(standin, app, invitations, user_id=22)
    sender = sender_of(app)
    deliver = sender.deliver_notices

    async def broken(**_kwargs: object) -> None:
        raise ConnectionResetError("the database went away for a moment")

    monkeypatch.setattr(sender, "deliver_notices", broken)
    reference = await submit_pledge(official)
    assert APOLOGY not in texts(standin.chat_messages(official.chat_id))
    async with transaction(sessions) as session:
        notice = (await session.exec(select(Notice))).one()
    assert notice.status == DeliveryStatus.PENDING.value
    monkeypatch.setattr(sender, "deliver_notices", deliver)
    clock.at = max(clock.at, notice.due_at) + timedelta(seconds=1)
    await sender.tick()
    notes = [m for m in standin.chat_messages(coordinator.chat_id) if reference in m.text]
    assert len(notes) == 1
