"""A crowd of officials walking the pledge wizard at once over HTTP, each sending their next
update only when the bot has answered the last: what the throughput benchmark times and what
the scale-out tests check, with the stand-in noting which call answered which chat.

A step is answered either at a known number of calls for the chat (learnt beforehand by one
person walking alone), or, untimed, once the chat has been quiet for CALIBRATION_SETTLE after
at least one call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.standin.aliases import JsonDict
from bot.standin.api import BotApiStandIn
from bot.standin.clock import VirtualClock
from bot.standin.params import normalize_params
from bot.standin.records import SentMessage, SimUser, UploadedFile

CALIBRATION_SETTLE = 1.5  # seconds without a call before a step counts as answered, untimed
# (longer than the pause of the bot's per-chat pacing, one message a second after a burst)


@dataclass(frozen=True)
class Step:
    kind: Literal["text", "press"]
    value: str  # the text sent, or the label of the button pressed


def wizard_steps(token: str, title: str = "Welcome centre for newcomers") -> list[Step]:
    """Join, then a whole pledge serving both compacts (tests/conversations/helpers.py)."""

    def say(value: str) -> Step:
        return Step("text", value)

    def press(value: str) -> Step:
        return Step("press", value)

    return [
        say(f"/start {token}"),
        say("/pledge"),
        press("Global Refugee Forum 2027"),
        press("Both, in unison"),
        say(title),
        say(
            "We will open a one-stop centre for newcomers, with language classes and legal advice."
        ),
        press("GCM 1 "),
        press("Done"),
        press("GCR 2"),
        press("Done"),
        press("Technical"),
        press("Done"),
        press("Refugees"),
        press("Done"),
        say("2027-01-15"),
        say("2028-12-31"),
        say("250000 EUR"),
        press("No partners"),
        press("Local"),
        say("Ana Silva\nDeputy Mayor\nana@example.org"),
        press("✅ Submit"),
    ]


class MeteredStandIn(BotApiStandIn):
    """The stand-in, noting when each Bot API call for a chat is answered."""

    def __init__(self, *, rate_limits: bool = False) -> None:
        """In real time; Telegram's rate limits off unless asked (the bot's own work is timed)."""
        super().__init__(clock=VirtualClock(real=True))
        self.rate_limits_enabled = rate_limits
        self.chat_calls: dict[int, list[float]] = defaultdict(list)
        self.query_chats: dict[str, int] = {}
        self.failed_calls = 0
        self.polls = 0
        self.methods: Counter[str] = Counter()  # calls other than getUpdates
        self.with_chat_id = 0  # what PTB's AIORateLimiter meters (30/s overall by default)
        self._wakeups: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def dispatch(
        self,
        method: str,
        params: Mapping[str, object],
        files: Mapping[str, UploadedFile] | None = None,
    ) -> tuple[int, bytes]:
        status, body = await super().dispatch(method, params, files)
        answered = time.perf_counter()
        if method.lower() == "getupdates":
            self.polls += 1
            return status, body
        self.methods[method] += 1
        self.with_chat_id += "chat_id" in params
        chat = self._chat_of(method, normalize_params(params))
        if chat is not None and status != 200:
            self.failed_calls += 1  # not an answer the person sees: it does not count as one
        elif chat is not None:
            self.chat_calls[chat].append(answered)
            self._wakeups[chat].set()
        return status, body

    def _chat_of(self, method: str, params: JsonDict) -> int | None:
        if method.lower() == "answercallbackquery":
            return self.query_chats.get(str(params.get("callback_query_id")))
        scope = params.get("scope")
        chat = scope.get("chat_id") if isinstance(scope, dict) else params.get("chat_id")
        return chat if isinstance(chat, int) and not isinstance(chat, bool) else None

    async def next_call(self, chat: int, within: float) -> None:
        """Return at the chat's next call, or after `within` seconds (whichever is first)."""
        wakeup = self._wakeups[chat]
        wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), within)


@dataclass
class Outcome:
    """One step: its latency and the calls that answered it."""

    latency: float
    calls: int
    answered_at: float


class Person:
    """One user on the client side: injects updates and waits for the bot's answer."""

    def __init__(
        self, standin: MeteredStandIn, user_id: int, name: str, *, echo: bool, steps: list[Step]
    ) -> None:
        self.standin = standin
        self.user = SimUser(user_id, name, "en")
        self.echo = echo
        self.steps = steps
        self.outcomes: list[Outcome] = []

    @property
    def chat(self) -> int:
        return self.user.user_id

    def _update(self, step: Step) -> JsonDict:
        if step.kind == "text":
            return self.standin.message_update(self.user, step.value)
        if self.echo:  # the echo bot has no keyboards: press on its last message
            message = self.standin.last_message(self.chat)
            if message is None:
                raise LookupError(f"no bot message in chat {self.chat} to press on")
            data = f"press:{step.value}"[:32]
        else:
            message, data = self._button(step.value)
        update = self.standin.callback_update(self.user, message, data)
        self.standin.query_chats[update["callback_query"]["id"]] = self.chat
        return update

    def _button(self, label: str) -> tuple[SentMessage, str]:
        """The latest message with buttons, and the data of its button `label`."""
        for message in reversed(self.standin.chat_messages(self.chat)):
            buttons = message.buttons()
            if not buttons:
                continue
            exact = [b for b in buttons if b.text == label]
            partial = [b for b in buttons if label in b.text]
            chosen = exact or (partial if len(partial) == 1 else [])
            if chosen and chosen[0].callback_data is not None:
                return message, chosen[0].callback_data
            shown = ", ".join(repr(b.text) for b in buttons)
            raise LookupError(
                f"no button {label!r} in chat {self.chat}; buttons: {shown}; "
                f"the bot said {self.standin.last_message(self.chat)!r:.300}"
            )
        last = self.standin.last_message(self.chat)
        said = repr(last.text[:300]) if last is not None else "nothing"
        raise LookupError(f"no keyboard in chat {self.chat} for {label!r}; the bot said {said}")

    async def act(self, step: Step, expected: int | None, *, patience: float) -> Outcome:
        """Send one update and wait for the bot's answer to it.

        Timed (`expected` given): answered at that many calls for this chat, however long the
        bot's own queues (PTB's rate limiter, say) hold some of them; never on a pause, which
        would let a late call count for the next step. Learning (None): answered once the chat
        has been quiet for CALIBRATION_SETTLE after at least one call.
        """
        calls = self.standin.chat_calls[self.chat]
        before = len(calls)
        update = self._update(step)
        sent = time.perf_counter()
        deadline = sent + patience
        self.standin.push_update(update)
        while True:
            got = len(calls) - before
            now = time.perf_counter()
            if expected is not None and got >= expected:
                got = expected
                break
            if expected is None and got and now - calls[-1] >= CALIBRATION_SETTLE:
                break
            if now >= deadline:
                raise TimeoutError(
                    f"user {self.chat}: {got} of {expected or 'some'} calls answering {step} "
                    f"within {patience:.0f} s"
                )
            wait = deadline - now
            if expected is None and got:
                wait = min(wait, calls[-1] + CALIBRATION_SETTLE - now)
            await self.standin.next_call(self.chat, max(0.0, wait))
        answered_at = calls[before + got - 1]
        outcome = Outcome(answered_at - sent, got, answered_at)
        self.outcomes.append(outcome)
        return outcome

    async def walk(self, expected: Sequence[int] | None, *, patience: float) -> None:
        """Every step in turn; `patience` is the most a step may wait for its answer."""
        for i, step in enumerate(self.steps):
            await self.act(step, None if expected is None else expected[i], patience=patience)

    def submitted(self) -> bool:
        return any("CLA-" in m.text for m in self.standin.chat_messages(self.chat))
