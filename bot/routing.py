"""Sending each update to the step it belongs to: by command, by button, or by stored state."""

from __future__ import annotations

from telegram import Update

from conversations import (
    access,
    admin,
    charts,
    deadlines,
    export,
    forums,
    history,
    my_pledges,
    onboarding,
    pledge_wizard,
    review,
    settings,
    status,
)
from conversations.buttons import NoOp
from conversations.common import ack, say
from conversations.context import PledgeContext
from conversations.flow import EVERYONE, Button, Flow, Router, prefix_of
from conversations.i18n import CommandText


async def _nothing(update: Update, ctx: PledgeContext, _data: NoOp) -> None:
    """A button that only shows something (a page number): its press is just answered."""


# Buttons that belong to no flow.
SHARED = Flow(name="shared", buttons=(Button(NoOp, _nothing, EVERYONE),))

# Every flow, in the order their commands appear in menus and in /help.
FLOWS: tuple[Flow, ...] = (
    SHARED,
    status.PLEDGE_FLOW,
    pledge_wizard.FLOW,
    my_pledges.FLOW,
    admin.FLOW,
    access.FLOW,
    forums.FLOW,
    status.FLOW,
    export.FLOW,
    charts.FLOW,
    review.FLOW,
    history.FLOW,
    deadlines.FLOW,
    settings.FLOW,
    onboarding.FLOW,
)


def build_router() -> Router:
    """The router of every flow; a command, button or step declared twice stops the bot here."""
    return Router(FLOWS)


async def route_command(update: Update, ctx: PledgeContext) -> None:
    """A /command: run it if the person's role has it, otherwise say why not."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    name = text.split()[0][1:].split("@", 1)[0].lower() if text.startswith("/") else ""
    command = ctx.router.commands.get(name)
    ctx.args = text.split()[1:]  # a MessageHandler does not split arguments as CommandHandler does
    t, role = ctx.t, ctx.member.role
    if command is None:
        say(
            ctx,
            t.gettext(
                "I do not know the command %(command)s.", command=CommandText.named(name[:32])
            ),
        )
        say(ctx, onboarding.help_text(ctx, role))
        return
    if role not in command.roles:
        if role is None:
            say(
                ctx,
                t.gettext(
                    "You need an invitation to use %(command)s. "
                    "Without one, you can ask for access.",
                    command=CommandText.named(name),
                ),
                onboarding.request_access_keyboard(t),
            )
        else:
            say(
                ctx,
                t.gettext("%(command)s is not available to you.", command=CommandText.named(name)),
            )
            say(ctx, onboarding.help_text(ctx, role))
        return
    await command.run(update, ctx)


async def route_callback(update: Update, ctx: PledgeContext) -> None:
    """A button press: checked against what its flow declared, then to its step; a forged,
    outdated or misplaced button is told so."""
    data = (update.callback_query.data if update.callback_query else None) or ""
    try:
        await _press(update, ctx, data)
    finally:
        ack(ctx)  # whatever happened, the phone's spinner stops


async def _press(update: Update, ctx: PledgeContext, data: str) -> None:
    t, router = ctx.t, ctx.router
    button = router.buttons.get(prefix_of(data))
    if button is None:
        ack(ctx, t.plain("That button is no longer valid."), alert=True)
        return
    parsed = button.data.parse(data)
    if parsed is None:
        ack(ctx, t.plain("That button is no longer valid."), alert=True)
        return
    if ctx.member.role not in button.roles:
        ack(ctx, t.plain(button.refusal), alert=True)
        return
    # Whether the button still belongs to where the person is depends on its data (which
    # pledge, which step), so each flow answers that: the wizard with the current question.
    await button.run(update, ctx, parsed)


async def route_message(update: Update, ctx: PledgeContext) -> None:
    """Anything but a command: the answer to the current step, or a helpful word if none."""
    state, t = ctx.conversation, ctx.t
    step = ctx.router.text_step(state) if state is not None else None
    if step is not None:
        await step(update, ctx)
        return
    if ctx.member.role is None:
        say(ctx, onboarding.help_text(ctx, None), onboarding.request_access_keyboard(t))
        return
    say(
        ctx,
        t.gettext("I am not waiting for an answer from you just now. Here is what you can do:"),
    )
    say(ctx, onboarding.help_text(ctx, ctx.member.role))


async def route_edited(update: Update, ctx: PledgeContext) -> None:
    """An edited message: edits are not read, so say so rather than stay silent."""
    say(
        ctx,
        ctx.t.gettext(
            "I do not read edits to messages already sent. "
            "Please send the corrected text as a new message."
        ),
        None if ctx.member.role else onboarding.request_access_keyboard(ctx.t),
    )
