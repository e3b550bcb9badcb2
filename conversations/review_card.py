"""The coordinators' review card: the pledge and the decisions its state allows.

Kept apart from conversations.review so the pledge wizard can send it on submission without
importing the review flow (which itself borrows the wizard's wording of length problems).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from conversations.buttons import Approve, Deliver, NextReview, OpenHistory, SendBack
from conversations.cards import pledge_card
from conversations.i18n import Html, Translator
from conversations.keyboards import button
from storage.models import Pledge, WorkflowState
from storage.pledges import PledgeView


def decision_keyboard(t: Translator, pledge: Pledge) -> InlineKeyboardMarkup:
    """Approve / Request changes for a submitted pledge, Mark delivered for an approved one;
    once decided, the way on to the next pledge awaiting review."""
    assert pledge.id is not None
    rows = []
    if pledge.state == WorkflowState.SUBMITTED.value:
        rows.append(
            [
                button(t.plain("✅ Approve"), Approve(pledge=pledge.id)),
                button(t.plain("✏️ Request changes"), SendBack(pledge=pledge.id)),
            ]
        )
    if pledge.state == WorkflowState.APPROVED.value:
        rows.append([button(t.plain("📦 Mark delivered"), Deliver(pledge=pledge.id))])
    history = button(t.plain("📜 History"), OpenHistory(pledge=pledge.id))
    if pledge.state == WorkflowState.SUBMITTED.value:
        rows.append([history])
    else:
        rows.append([history, button(t.plain("⏭ Next awaiting review"), NextReview())])
    return InlineKeyboardMarkup(rows)


def review_card(t: Translator, view: PledgeView, *, heading: Html | None = None) -> Html:
    """The whole pledge as coordinators review it."""
    return pledge_card(t, view, heading=heading)
