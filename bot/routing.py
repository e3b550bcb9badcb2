"""Sending each update to the step it belongs to: by command, by button, or by stored state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram import Update

from conversations import (
    admin,
    charts,
    deadlines,
    export,
    forums,
    history,
    my_pledges,
    onboarding,
    pledge_steps,
    pledge_wizard,
    review,
    settings,
    status,
)
from conversations.callbacks import Callback, unpack
from conversations.common import ack, say
from conversations.context import PledgeContext
from conversations.menu import BY_NAME
from storage.models import ConversationState

CommandStep = Callable[[Update, PledgeContext], Awaitable[None]]
CallbackStep = Callable[[Update, PledgeContext, Callback], Awaitable[None]]

ReaskStep = Callable[[Update, PledgeContext, ConversationState], Awaitable[bool]]

# Each flow's way of repeating the question its person is on.
REASK_STEPS: Mapping[str, ReaskStep] = {
    onboarding.ACCESS: onboarding.reask,
    pledge_steps.WIZARD: pledge_wizard.reask,
    pledge_steps.EDIT: pledge_wizard.reask,
    my_pledges.PROGRESS: my_pledges.reask,
    admin.INVITE: admin.reask,
    settings.SETTINGS: settings.reask,
    forums.FLOW: forums.reask,
    review.FLOW: review.reask,
}


async def help_command(update: Update, ctx: PledgeContext) -> None:
    """/help: the commands of the reader's role; then the question they were on, if any."""
    await onboarding.help_command(update, ctx)
    state = ctx.conversation
    reask = REASK_STEPS.get(state.flow) if state is not None else None
    if state is not None and reask is not None:
        say(
            ctx,
            ctx.t.gettext(
                "You were in the middle of something; here it is again (or /cancel to leave it)."
            ),
        )
        await reask(update, ctx, state)


COMMAND_STEPS: Mapping[str, CommandStep] = {
    "start": onboarding.start,
    "help": help_command,
    "cancel": onboarding.cancel,
    "language": onboarding.language,
    "pledge": status.pledge_command,  # with a reference: its card; alone: the wizard
    "mypledges": my_pledges.my_pledges,
    "invite": admin.invite,
    "settings": settings.settings,
    "stop": settings.stop,
    "forums": forums.forums,
    "deadlines": deadlines.deadlines,
    "review": review.review,
    "history": history.history,
    "export": export.export,
    "status": status.status,
    "find": status.find,
    "missing": status.missing,
    "chart": charts.chart,
}

CALLBACK_STEPS: Mapping[str, CallbackStep] = {
    **pledge_wizard.CALLBACKS,
    **my_pledges.CALLBACKS,
    **admin.CALLBACKS,
    **settings.CALLBACKS,
    **forums.CALLBACKS,
    **deadlines.CALLBACKS,
    **review.CALLBACKS,
    **history.CALLBACKS,
    **export.CALLBACKS,
    **status.CALLBACKS,
    **charts.CALLBACKS,
    "a.req": onboarding.on_request_access,
    "l.set": onboarding.on_language,
}

MESSAGE_STEPS: Mapping[tuple[str, str], CommandStep] = {
    **{(onboarding.ACCESS, step): onboarding.on_access_answer for step in onboarding.ACCESS_STEPS},
    **my_pledges.MESSAGE_STEPS,
    **admin.MESSAGE_STEPS,
    **settings.MESSAGE_STEPS,
    **forums.MESSAGE_STEPS,
    **review.MESSAGE_STEPS,
}


async def route_command(update: Update, ctx: PledgeContext) -> None:
    """A /command: run it if the person's role has it, otherwise say why not."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    name = text.split()[0][1:].split("@", 1)[0].lower() if text.startswith("/") else ""
    command = BY_NAME.get(name)
    ctx.args = text.split()[1:]  # a MessageHandler does not split arguments as CommandHandler does
    t, role = ctx.t, ctx.member.role
    if command is None:
        say(ctx, t.gettext("I do not know the command /%(command)s.", command=name[:32]))
        say(ctx, onboarding.help_text(t, role))
        return
    if role not in command.roles:
        if role is None:
            say(
                ctx,
                t.gettext(
                    "You need an invitation to use /%(command)s. "
                    "Without one, you can ask for access.",
                    command=name,
                ),
                onboarding.request_access_keyboard(t),
            )
        else:
            say(ctx, t.gettext("/%(command)s is not available to you.", command=name))
            say(ctx, onboarding.help_text(t, role))
        return
    await COMMAND_STEPS[command.name](update, ctx)


async def route_callback(update: Update, ctx: PledgeContext) -> None:
    """A button press: to its action's step, or told that the button is no longer valid."""
    callback = unpack(update.callback_query.data if update.callback_query else None)
    if callback.action == "noop":
        ack(ctx)
        return
    step = CALLBACK_STEPS.get(callback.action)
    if step is None:
        ack(ctx, ctx.t.plain("That button is no longer valid."), alert=True)
        return
    try:
        await step(update, ctx, callback)
    finally:
        ack(ctx)  # whatever happened, the phone's spinner stops


async def route_message(update: Update, ctx: PledgeContext) -> None:
    """Anything but a command: the answer to the current step, or a helpful word if none."""
    state, t = ctx.conversation, ctx.t
    if state is not None:
        if state.flow in pledge_wizard.FLOWS:
            await pledge_wizard.on_message(update, ctx)
            return
        step = MESSAGE_STEPS.get((state.flow, state.step))
        if step is not None:
            await step(update, ctx)
            return
    if ctx.member.role is None:
        say(ctx, onboarding.help_text(t, None), onboarding.request_access_keyboard(t))
        return
    say(
        ctx,
        t.gettext("I am not waiting for an answer from you just now. Here is what you can do:"),
    )
    say(ctx, onboarding.help_text(t, ctx.member.role))


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
