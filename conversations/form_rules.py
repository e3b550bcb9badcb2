"""What the UN pledge forms would send back, said as notes rather than refusals.

The UN Network on Migration's GCM form takes pledges for migrants; UNHCR's GRF form takes
pledges after the deadline only as late ones. pledgebot accepts such pledges and says so, to
the official before they submit and to the coordinators who review them.
"""

from __future__ import annotations

from datetime import datetime

from conversations.forum_cards import deadline_text
from conversations.i18n import Html, Translator
from storage.models import Compact, Forum, Pledge, TargetGroup

REFUGEE_GROUPS = frozenset({TargetGroup.REFUGEES.value, TargetGroup.ASYLUM_SEEKERS.value})


def is_late(forum: Forum | None, at: datetime) -> bool:
    """Whether a pledge submitted (or to be submitted) at `at` misses its forum's deadline."""
    deadline = forum.pledge_deadline if forum is not None else None
    return deadline is not None and at > deadline


def late_note(t: Translator, forum: Forum) -> Html:
    return t.gettext(
        "⏰ The pledge deadline of this forum, %(deadline)s, has passed. The pledge is still "
        "taken, marked as late for the coordinators.",
        deadline=deadline_text(t, forum),
    )


def gcm_refugees_only(pledge: Pledge) -> bool:
    """A pledge to the GCM alone whose target groups are only refugees or asylum seekers."""
    return (
        pledge.compacts == [Compact.GCM.value]
        and bool(pledge.target_groups)
        and set(pledge.target_groups) <= REFUGEE_GROUPS
    )


def form_notes(t: Translator, pledge: Pledge, forum: Forum | None, now: datetime) -> list[Html]:
    """The notes a pledge's review card carries before it is submitted."""
    notes: list[Html] = []
    if gcm_refugees_only(pledge):
        notes.append(
            t.gettext(
                "ℹ️ The GCM pledge form is for pledges that serve migrants, so it would send "
                "back one that serves only refugees and asylum seekers. Add the Global Compact "
                "on Refugees (✏️ Compacts), or the groups of migrants it serves."
            )
        )
    if forum is not None and forum.multistakeholder_pledges and not pledge.multistakeholder_pledges:
        notes.append(
            t.gettext(
                "ℹ️ This forum has multistakeholder pledges: ✏️ Multistakeholder pledges says "
                "which this pledge contributes to, if any."
            )
        )
    if forum is not None and is_late(forum, now):
        notes.append(late_note(t, forum))
    return notes


def late_line(t: Translator, pledge: Pledge, forum: Forum | None) -> Html | None:
    """For coordinators: a submitted pledge that came after its forum's deadline says so."""
    if forum is None or pledge.submitted_at is None or not is_late(forum, pledge.submitted_at):
        return None
    return t.gettext(
        "⏰ Submitted after the pledge deadline (%(deadline)s).", deadline=deadline_text(t, forum)
    )
