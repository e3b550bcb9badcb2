"""What reminders say: each kind rendered in the recipient's language, at their time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardMarkup

from conversations.buttons import NewPledge, ReportProgress, ResumeDraft
from conversations.i18n import Html, Translator
from conversations.keyboards import button
from conversations.time_zones import zone_city
from storage.forums import forum_name
from storage.models import Forum, Locality, Pledge
from storage.reminders import ForumStatus


@dataclass(frozen=True)
class Message:
    text: Html
    keyboard: InlineKeyboardMarkup | None = None


def deadline_words(t: Translator, deadline: datetime, now: datetime, time_zone: str) -> str:
    """'in 7 days — 15 December 2027, 17:00' in the reader's language and zone."""
    when = t.plain(
        "%(when)s (%(zone)s)",
        when=t.moment(deadline, time_zone=time_zone),
        zone=zone_city(t, time_zone),
    )
    relative = t.days_until(deadline, now, time_zone=time_zone)
    return t.plain("%(relative)s — %(when)s", relative=relative, when=when)


def digest(
    t: Translator,
    forum: Forum,
    status: ForumStatus,
    *,
    now: datetime,
    time_zone: str,
    closing: bool = False,
) -> Message:
    """Where a forum stands: the coordinators' digest, or the closing summary."""
    assert forum.pledge_deadline is not None
    name = forum_name(forum, t.language)
    if closing:
        head = t.gettext(
            "🏁 <b>%(forum)s</b>: the pledge deadline has passed (%(when)s). Final count:",
            forum=name,
            when=t.moment(forum.pledge_deadline, time_zone=time_zone),
        )
    else:
        head = t.gettext(
            "📊 <b>%(forum)s</b>: pledge deadline %(deadline)s.",
            forum=name,
            deadline=deadline_words(t, forum.pledge_deadline, now, time_zone),
        )
    lines = [
        head,
        t.gettext("Submitted, awaiting review: %(count)s", count=t.number(status.submitted)),
        t.gettext("Approved: %(count)s", count=t.number(status.approved)),
        t.gettext("Delivered to the forum: %(count)s", count=t.number(status.delivered)),
        t.gettext("Drafts in progress: %(count)s", count=t.number(status.drafts)),
        t.gettext(
            "Invited localities without a pledge: %(count)s",
            count=t.number(status.not_pledged_total),
        ),
    ]
    if status.not_pledged:
        shown = t.join(status.not_pledged)
        hidden = status.not_pledged_total - len(status.not_pledged)
        if hidden > 0:
            shown = t.plain("%(names)s and %(count)s more", names=shown, count=t.number(hidden))
        lines.append(t.gettext("<i>%(names)s</i>", names=shown))
    if status.failed_deliveries:
        lines.append(
            t.gettext(
                "⚠️ Reminders that could not be delivered since the last digest: %(count)s",
                count=t.number(status.failed_deliveries),
            )
        )
    return Message(Html("\n".join(lines)))


def draft_nudge(
    t: Translator, forum: Forum, pledge: Pledge, *, now: datetime, time_zone: str
) -> Message:
    """An unfinished draft, with a button that opens it where it stopped."""
    assert forum.pledge_deadline is not None and pledge.id is not None
    text = t.gettext(
        "⏰ Your draft pledge <b>%(title)s</b> for %(forum)s is not submitted yet. "
        "The deadline is %(deadline)s.",
        title=pledge.title or t.plain("(untitled)"),
        forum=forum_name(forum, t.language),
        deadline=deadline_words(t, forum.pledge_deadline, now, time_zone),
    )
    keyboard = InlineKeyboardMarkup(
        [[button(t.plain("▶️ Continue this draft"), ResumeDraft(pledge.id))]]
    )
    return Message(text, keyboard)


def invitation(
    t: Translator, forum: Forum, locality: Locality | None, *, now: datetime, time_zone: str
) -> Message:
    """A locality with no pledge yet for an open forum, invited to make one."""
    assert forum.pledge_deadline is not None
    text = t.gettext(
        "🤝 %(forum)s is collecting pledges, and %(locality)s has none yet. "
        "The deadline is %(deadline)s.",
        forum=forum_name(forum, t.language),
        locality=locality.name if locality else "—",
        deadline=deadline_words(t, forum.pledge_deadline, now, time_zone),
    )
    keyboard = InlineKeyboardMarkup([[button(t.plain("➕ Start a new pledge"), NewPledge())]])
    return Message(text, keyboard)


def progress_request(
    t: Translator, forum: Forum, pledge: Pledge, *, now: datetime, time_zone: str
) -> Message:
    """A pledge with no recent progress report, before a progress review."""
    assert forum.pledge_deadline is not None and pledge.id is not None
    text = t.gettext(
        "📈 %(forum)s will review progress on pledges. <b>%(title)s</b> (%(reference)s) has "
        "no progress report for six months. Please report by %(deadline)s.",
        forum=forum_name(forum, t.language),
        title=pledge.title,
        reference=pledge.reference or "—",
        deadline=deadline_words(t, forum.pledge_deadline, now, time_zone),
    )
    keyboard = InlineKeyboardMarkup(
        [[button(t.plain("📈 Report progress"), ReportProgress(pledge.id or 0))]]
    )
    return Message(text, keyboard)
