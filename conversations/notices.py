"""What each kind of notice says, rendered when it is sent, in its recipient's language.

A step queues a notice (`common.notify`) in its own transaction; the sender claims it after
the commit and asks `render_notice` for the words. A notice whose subject is gone says nothing.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from conversations.cards import pledge_card
from conversations.form_rules import late_line
from conversations.history import changes_since_sent_back, load_history
from conversations.i18n import Html, Translator
from conversations.onboarding import (
    access_decision_notice,
    access_ended_text,
    access_request_card,
    access_restored_text,
)
from conversations.reminders import Message
from conversations.review import changes_notice, decision_notice, open_keyboard
from conversations.review_card import decision_keyboard, review_card
from storage.access_requests import get_access_request
from storage.models import NoticeKind, Pledge
from storage.pledges import get_pledge, load_pledge_view


async def render_notice(
    *, session: AsyncSession, t: Translator, kind: str, payload: dict[str, Any]
) -> Message | None:
    """The message a notice carries, or None when what it was about no longer exists."""
    if kind == NoticeKind.ACCESS_REQUEST.value:
        request = await get_access_request(session=session, request_id=int(payload["request"]))
        if request is None:
            return None
        return Message(*access_request_card(t, request))
    if kind == NoticeKind.ACCESS_DECISION.value:
        return Message(access_decision_notice(t, approved=bool(payload["approved"])))
    if kind == NoticeKind.ACCESS_ENDED.value:
        return Message(access_ended_text(t))
    if kind == NoticeKind.ACCESS_RESTORED.value:
        return Message(access_restored_text(t))
    pledge = await get_pledge(session=session, pledge_id=int(payload["pledge"]))
    if pledge is None:
        return None
    return await _pledge_notice(session, t, kind, pledge, payload)


async def _pledge_notice(
    session: AsyncSession, t: Translator, kind: str, pledge: Pledge, payload: dict[str, Any]
) -> Message | None:
    if kind == NoticeKind.DECISION.value:
        return Message(decision_notice(t, pledge, str(payload["state"])))
    if kind == NoticeKind.CHANGES.value:
        return Message(changes_notice(t, pledge, str(payload["comment"])), open_keyboard(t, pledge))
    view = await load_pledge_view(session=session, pledge=pledge)
    if kind == NoticeKind.NEW_PLEDGE.value:
        heading = t.gettext(
            "📥 <b>New pledge submitted</b>: %(reference)s", reference=pledge.reference
        )
        late = late_line(t, pledge, view.forum)
        if late:
            heading = Html("\n".join([heading, late]))
        return Message(pledge_card(t, view, heading=heading), decision_keyboard(t, pledge))
    if kind == NoticeKind.RESUBMITTED.value:
        heading = t.gettext(
            "🔁 <b>Pledge resubmitted after changes</b>: %(reference)s",
            reference=pledge.reference,
        )
        changed = changes_since_sent_back(t, await load_history(session=session, pledge=pledge))
        if changed:
            what = t.gettext("<b>Changed since it was sent back:</b>")
            heading = Html("\n".join([heading, what, *changed]))
        return Message(review_card(t, view, heading=heading), decision_keyboard(t, pledge))
    return None
