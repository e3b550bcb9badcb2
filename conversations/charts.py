"""/chart [forum]: a forum's pledges by objective and by stage, as a picture for a phone.

Coordinators and staff only: they see every pledge. Officials are refused (the flow declares
who may use the command and the buttons), as a chart of one locality's few pledges says little.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from conversations.common import ack, say, upload
from conversations.context import PledgeContext
from conversations.flow import SECRETARIAT, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import button, rows
from conversations.render.charts import font_families, render_chart
from storage.charts import ChartData, chart_counts
from storage.forums import forum_name, get_forum, get_forum_by_code, list_open_forums
from storage.models import Forum

CHART_FILE = "chart.png"
MAX_FORUM_BUTTONS = 90  # Telegram allows 100 buttons; open forums are a handful
MAX_CODE_SHOWN = 32
ALL_FORUMS = 0


@dataclass(frozen=True)
class ChartOf(ButtonData, prefix="g.f"):
    """A forum's chart (ALL_FORUMS: every open forum together)."""

    forum: int


def forums_keyboard(t: Translator, forums: Sequence[Forum]) -> InlineKeyboardMarkup:
    """A button per open forum, and one for all of them together."""
    buttons = [button(forum_name(f, t.language), ChartOf(f.id or 0)) for f in forums]
    return InlineKeyboardMarkup(
        [
            *rows(buttons[:MAX_FORUM_BUTTONS], 1),
            [button(t.plain("📊 All open forums"), ChartOf(ALL_FORUMS))],
        ]
    )


def chart_caption(t: Translator, name: str, data: ChartData) -> Html:
    """What the picture shows, in a caption well under Telegram's 1,024 characters."""
    return t.gettext(
        "📊 <b>%(forum)s</b>: %(count)s, by objective (a pledge may serve several) and by "
        "implementation stage.",
        forum=name[:200],
        count=t.ngettext("%(count)s pledge", "%(count)s pledges", data.total),
    )


async def chart(update: Update, ctx: PledgeContext) -> None:
    """/chart CODE: that forum's chart; /chart alone: which forum to chart."""
    t = ctx.t
    if ctx.args:
        code = ctx.args[0]
        async with ctx.db() as session:
            forum = await get_forum_by_code(session=session, code=code)
        if forum is None:
            say(
                ctx,
                t.gettext(
                    "There is no forum with the code %(code)s. "
                    "Send /chart alone to choose among the open forums.",
                    code=code[:MAX_CODE_SHOWN],
                ),
            )
            return
        await _send_chart(update, ctx, forum)
        return
    async with ctx.db() as session:
        forums = await list_open_forums(session=session)
    if not forums:
        say(ctx, t.gettext("No forum is open just now, so there is nothing to chart."))
        return
    say(ctx, t.gettext("Which forum should I chart?"), forums_keyboard(t, forums))


async def on_forum(update: Update, ctx: PledgeContext, data: ChartOf) -> None:
    """Button: one forum's chart, or all open forums' together."""
    t = ctx.t
    forum = None
    if data.forum != ALL_FORUMS:
        async with ctx.db() as session:
            forum = await get_forum(session=session, forum_id=data.forum)
        if forum is None:
            ack(ctx, t.plain("That forum is not available."), alert=True)
            return
    ack(ctx)
    await _send_chart(update, ctx, forum)


async def _send_chart(update: Update, ctx: PledgeContext, forum: Forum | None) -> None:
    """Count, draw and send; a clear word instead of an empty picture."""
    t, chat = ctx.t, update.effective_chat
    if chat is None:
        return
    name = forum_name(forum, t.language) if forum else t.plain("All open forums")
    async with ctx.db() as session:
        data = await chart_counts(session=session, forum_id=forum.id if forum else None)
    if data.empty:
        say(
            ctx,
            t.gettext(
                "No pledges to chart for %(forum)s yet: drafts and withdrawn pledges are not "
                "counted.",
                forum=name,
            ),
        )
        return
    font_families()  # registered here, once, so that threads never race to do it
    # Drawing takes a tenth of a second or so: off the event loop, so other chats wait not.
    png = await asyncio.to_thread(render_chart, t, data, name)
    upload(ctx, png, CHART_FILE, chart_caption(t, name, data), picture=True)


FLOW = Flow(
    name="charts",
    commands=(
        Command(
            "chart",
            N_("A picture of a forum's pledges by objective and by stage"),
            SECRETARIAT,
            chart,
        ),
    ),
    buttons=(Button(ChartOf, on_forum, SECRETARIAT, N_("Charts are for coordinators and staff.")),),
)
