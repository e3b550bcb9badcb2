"""Each private chat paced as Telegram paces it: a burst of three, then one a second."""

from __future__ import annotations

import asyncio
import time

from telegram.ext import ExtBot

from bot.pacing import ChatPacedLimiter
from bot.standin import BotApiStandIn
from bot.standin.clock import VirtualClock
from bot.standin.records import SimUser


async def test_many_messages_to_one_person_draw_no_429_and_others_do_not_wait() -> None:
    # Real time (about four seconds): the stand-in's buckets and the limiter's read one clock.
    standin = BotApiStandIn(clock=VirtualClock(real=True))
    limiter = ChatPacedLimiter(overall_max_rate=0)
    bot = ExtBot(standin.token, request=standin.request(), rate_limiter=limiter)
    ana, leo = SimUser(501, "Ana"), SimUser(502, "Leo")
    for person in (ana, leo):
        standin.message_update(person, "/start")  # the chats exist: they wrote first
    async with bot:
        started = time.monotonic()
        sends = [bot.send_message(ana.user_id, f"part {n}") for n in range(7)]
        await asyncio.gather(*sends, bot.send_message(leo.user_id, "hello"))
        leo_at = standin.chat_messages(leo.user_id)[-1].date
        ana_took = time.monotonic() - started
    assert standin.rate_limited == 0 and standin.violations == []
    assert sorted(m.text for m in standin.chat_messages(ana.user_id)) == [
        f"part {n}" for n in range(7)
    ]
    assert 3.8 <= ana_took <= 6  # three at once, then one a second
    assert leo_at <= standin.chat_messages(ana.user_id)[3].date  # Leo had his own burst


async def test_the_same_messages_without_pacing_draw_429s() -> None:
    """What the pacing is for: Telegram refuses the fourth message of a burst to one chat."""
    standin = BotApiStandIn()
    bot = ExtBot(standin.token, request=standin.request())
    ana = SimUser(501, "Ana")
    standin.message_update(ana, "/start")
    async with bot:
        results = await asyncio.gather(
            *(bot.send_message(ana.user_id, f"part {n}") for n in range(5)),
            return_exceptions=True,
        )
    assert sum(isinstance(r, Exception) for r in results) == 2 and standin.rate_limited == 2
    standin.violations.clear()  # expected here: this is the bot without pacing
