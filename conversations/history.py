"""/history <reference>: every revision and progress report of a pledge, a page at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from conversations.buttons import OpenHistory
from conversations.cards import compacts_text, locality_text, other_partner_text, utf16_length
from conversations.common import ack, replace, say
from conversations.context import PledgeContext
from conversations.flow import MEMBERS, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import pager_row
from conversations.parsing import country_name
from conversations.vocabulary import (
    FIELD_LABELS,
    PLEDGE_TYPES,
    REFUGEE_SITUATIONS,
    SCOPES,
    STAGES,
    SUPPORT_TYPES,
    TARGET_GROUPS,
    WORKFLOW_STATES,
    label,
    objective_label,
)
from storage.forums import forum_name, get_forums
from storage.localities import get_localities
from storage.members import get_members
from storage.models import Forum, Locality, Pledge, PledgeRevision, ProgressReport
from storage.pledges import (
    get_pledge_by_reference,
    get_visible_pledge,
    list_progress_reports,
    list_revisions,
)

SITTING = timedelta(minutes=30)  # changes by one person this close together are one change
PAGE_LIMIT = 3800  # of Telegram's 4096, leaving room for the heading
VALUE_LIMIT = 80
NARRATIVE_LIMIT = 300
REFERENCE_ECHO = 30
NOT_AVAILABLE = N_("That pledge is not available.")

ACTIONS = {
    "created": N_("Created"),
    "edited": N_("Edited"),
    "submitted": N_("Submitted"),
    "changes_requested": N_("Changes requested"),
    "approved": N_("Approved"),
    "delivered": N_("Delivered"),
    "withdrawn": N_("Withdrawn"),
    "progress": N_("Stage changed"),
}


@dataclass(frozen=True)
class HistoryPage(ButtonData, prefix="h.page"):
    """Another page of a pledge's history, in the same message."""

    pledge: int
    page: int


@dataclass(frozen=True)
class History:
    """What a pledge's history shows, with the names its ids stand for."""

    pledge: Pledge
    revisions: Sequence[PledgeRevision]
    reports: Sequence[ProgressReport]
    members: Mapping[int, str]
    forums: Mapping[int, Forum]
    localities: Mapping[int, Locality]


async def load_history(*, session: AsyncSession, pledge: Pledge) -> History:
    """A pledge's revisions and reports, and the members, forums and localities they name."""
    assert pledge.id is not None
    revisions = await list_revisions(session=session, pledge_id=pledge.id)
    reports = await list_progress_reports(session=session, pledge_id=pledge.id)
    member_ids = {r.member_id for r in revisions if r.member_id is not None}
    member_ids |= {r.member_id for r in reports}
    forum_ids: set[int] = set()
    locality_ids: set[int] = set()
    for revision in revisions:
        for field, change in revision.changes.items():
            values = change if isinstance(change, list) else []
            if field == "forum_id":
                forum_ids |= {v for v in values if isinstance(v, int)}
            if field == "partner_ids":
                locality_ids |= {i for v in values if isinstance(v, list) for i in v}
    members = await get_members(session=session, ids=member_ids)
    forums = await get_forums(session=session, ids=forum_ids)
    localities = await get_localities(session=session, ids=sorted(locality_ids))
    return History(
        pledge=pledge,
        revisions=revisions,
        reports=reports,
        members={m.id: m.display_name for m in members if m.id is not None},
        forums={f.id: f for f in forums if f.id is not None},
        localities={loc.id: loc for loc in localities if loc.id is not None},
    )


def shorten(text: str, limit: int = VALUE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def value_text(t: Translator, history: History, field: str, value: Any) -> str:
    """A recorded value as its reader understands it, never a raw code or id."""
    if value is None or value == "" or value == []:
        return "—"
    if field == "state":
        return label(t, WORKFLOW_STATES, str(value))
    if field == "stage":
        return label(t, STAGES, str(value))
    if field == "forum_id":
        forum = history.forums.get(value)
        return forum_name(forum, t.language) if forum else "—"
    if field == "compacts":
        return compacts_text(t, list(value))
    if field == "pledge_type":
        return label(t, PLEDGE_TYPES, str(value))
    if field == "scope":
        return label(t, SCOPES, str(value))
    if field == "other_partners":
        return t.join(other_partner_text(t, other) for other in value)
    if field == "multistakeholder_pledges":
        return t.join(str(name) for name in value)
    if field == "attachments":
        return t.join(str(name) for name in value)
    if field == "beneficiary_countries":
        return t.join(country_name(str(code), t.locale) for code in value)
    if field == "refugee_situations":
        return t.join(label(t, REFUGEE_SITUATIONS, str(code)) for code in value)
    if field in ("support_types", "target_groups"):
        names = SUPPORT_TYPES if field == "support_types" else TARGET_GROUPS
        return t.join(label(t, names, str(v)) for v in value)
    if field in ("gcm_objectives", "gcr_objectives"):
        compact = "gcm" if field == "gcm_objectives" else "gcr"
        return "; ".join(objective_label(t, compact, int(v)) for v in value)
    if field == "partner_ids":
        return t.join(locality_text(t, history.localities.get(i)) for i in value)
    if field in ("starts_on", "ends_on"):
        try:
            return t.date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if field == "ongoing":
        return t.plain("yes") if value else t.plain("no")
    if field == "amount":
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        currency = history.pledge.currency
        return t.money(amount, currency) if currency else t.number(amount)
    return str(value)


def _old_and_new(
    t: Translator, history: History, field: str, old: Any, new: Any
) -> tuple[str, str]:
    """Both values as the card shows them, cut to fit; a long text changed far from its start
    is shown around the first difference, so the two sides never read the same."""
    before, after = value_text(t, history, field, old), value_text(t, history, field, new)
    if len(before) <= VALUE_LIMIT and len(after) <= VALUE_LIMIT:
        return before, after
    start = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    if start < VALUE_LIMIT - 10:
        return shorten(before), shorten(after)
    around = max(start - 20, 0)
    return shorten("…" + before[around:]), shorten("…" + after[around:])


def change_line(t: Translator, history: History, field: str, old: Any, new: Any) -> Html:
    """'• Title: old → new', both values as the card shows them."""
    before, after = _old_and_new(t, history, field, old, new)
    return t.gettext(
        "• %(field)s: %(old)s → %(new)s",
        field=t.plain(FIELD_LABELS[field]) if field in FIELD_LABELS else field,
        old=before,
        new=after,
    )


def _who(t: Translator, history: History, member_id: int | None) -> str:
    if member_id is None:
        return t.plain("the bot")
    return history.members.get(member_id) or t.plain("someone")


def revision_entry(
    t: Translator, history: History, revision: PledgeRevision, time_zone: str
) -> Html:
    """One change: what, when, by whom, and each field's old → new value."""
    lines = [
        t.gettext(
            "<b>%(action)s</b> · %(when)s · %(who)s",
            action=t.plain(ACTIONS[revision.action])
            if revision.action in ACTIONS
            else revision.action,
            when=t.moment(revision.created_at, time_zone=time_zone),
            who=_who(t, history, revision.member_id),
        )
    ]
    for field, change in revision.changes.items():
        if field == "comment":
            lines.append(t.gettext("💬 %(comment)s", comment=str(change)))
            continue
        old, new = change if isinstance(change, list) and len(change) == 2 else (None, change)
        lines.append(change_line(t, history, field, old, new))
    return Html("\n".join(lines))


def changes_since_sent_back(t: Translator, history: History) -> list[Html]:
    """What the officials changed since the pledge was last sent back for changes, a line
    per field (its value then → now); [] if it never was, or nothing changed."""
    sent_back = [i for i, r in enumerate(history.revisions) if r.action == "changes_requested"]
    if not sent_back:
        return []
    first: dict[str, Any] = {}
    latest: dict[str, Any] = {}
    for revision in history.revisions[sent_back[-1] + 1 :]:
        if revision.action != "edited":
            continue
        for field, change in revision.changes.items():
            if isinstance(change, list) and len(change) == 2:
                first.setdefault(field, change[0])
                latest[field] = change[1]
    return [
        change_line(t, history, field, first[field], new)
        for field, new in latest.items()
        if new != first[field]
    ]


def report_entry(t: Translator, history: History, report: ProgressReport, time_zone: str) -> Html:
    """One progress report: stage and the start of its narrative."""
    return t.gettext(
        "📈 <b>Progress report</b> · %(when)s · %(who)s\n%(stage)s: %(narrative)s",
        when=t.moment(report.created_at, time_zone=time_zone),
        who=_who(t, history, report.member_id),
        stage=label(t, STAGES, report.stage),
        narrative=shorten(report.narrative, NARRATIVE_LIMIT),
    )


def told(revisions: Sequence[PledgeRevision]) -> list[PledgeRevision]:
    """The revisions a history tells: from the submission on (a draft's every tap is the
    drafting, not the pledge's history; a draft shows its creation), with what one person
    changed in one sitting told as one change, and nothing that ends where it began."""
    submitted = next((i for i, r in enumerate(revisions) if r.action == "submitted"), None)
    kept = revisions[submitted:] if submitted is not None else revisions[:1]
    merged: list[PledgeRevision] = []
    last_at: datetime | None = None
    for revision in kept:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and last_at is not None
            and revision.action == previous.action == "edited"
            and revision.member_id == previous.member_id
            and revision.created_at - last_at <= SITTING
        ):
            for field, change in revision.changes.items():
                if field in previous.changes and isinstance(change, list) and len(change) == 2:
                    previous.changes[field] = [previous.changes[field][0], change[1]]
                else:
                    previous.changes[field] = change
        else:
            merged.append(
                PledgeRevision(
                    pledge_id=revision.pledge_id,
                    member_id=revision.member_id,
                    action=revision.action,
                    changes=dict(revision.changes),
                    created_at=revision.created_at,
                )
            )
        last_at = revision.created_at
    for revision in merged:
        revision.changes = {
            field: change
            for field, change in revision.changes.items()
            if not (isinstance(change, list) and len(change) == 2 and change[0] == change[1])
        }
    return [r for r in merged if r.action != "edited" or r.changes]


def entries(t: Translator, history: History, time_zone: str) -> list[Html]:
    """Revisions (as `told`) and reports interleaved, oldest first."""
    dated: list[tuple[datetime, int, Html]] = [
        (r.created_at, 0, revision_entry(t, history, r, time_zone)) for r in told(history.revisions)
    ]
    dated += [(r.created_at, 1, report_entry(t, history, r, time_zone)) for r in history.reports]
    dated.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in dated]


def paginate(items: Sequence[Html], limit: int = PAGE_LIMIT) -> list[list[Html]]:
    """Entries packed into pages that each fit one message."""
    pages: list[list[Html]] = [[]]
    used = 0
    for item in items:
        size = utf16_length(item) + 2
        if pages[-1] and used + size > limit:
            pages.append([])
            used = 0
        pages[-1].append(item)
        used += size
    return pages


def history_message(
    t: Translator, history: History, time_zone: str, number: int
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """One page of a pledge's history, with arrows to the others."""
    pages = paginate(entries(t, history, time_zone))
    number = min(max(number, 0), len(pages) - 1)
    heading = t.gettext(
        "📜 <b>History of %(reference)s</b> “%(title)s”",
        reference=history.pledge.reference or t.plain("(draft)"),
        title=shorten(history.pledge.title or t.plain("(untitled)")),
    )
    text = Html("\n\n".join([heading, *pages[number]]))
    pledge_id = history.pledge.id or 0
    pager = pager_row(
        t,
        page=number,
        pages=len(pages),
        to_page=lambda page: HistoryPage(pledge=pledge_id, page=page),
    )
    return text, InlineKeyboardMarkup([pager]) if pager else None


async def history(update: Update, ctx: PledgeContext) -> None:
    """/history <reference>: the pledge's history, if the reader may see the pledge."""
    t = ctx.t
    reference = " ".join(ctx.args or [])
    if not reference:
        say(
            ctx,
            t.gettext(
                "Send /history followed by a pledge's reference, for example "
                "/history CLA-2027-0042."
            ),
        )
        return
    async with ctx.db() as session:
        pledge = await get_pledge_by_reference(session=session, reference=reference)
        if pledge is None or pledge.id is None:
            visible = None
        else:
            visible = await get_visible_pledge(
                session=session, pledge_id=pledge.id, member=ctx.member
            )
        # A pledge the reader may not see is "not found", so its existence is not revealed.
        if visible is None:
            say(
                ctx,
                t.gettext(
                    "No pledge %(reference)s was found.",
                    reference=shorten(reference, REFERENCE_ECHO),
                ),
            )
            return
        found = await load_history(session=session, pledge=visible)
    text, keyboard = history_message(t, found, ctx.member.time_zone, 0)
    say(ctx, text, keyboard)


async def _page(ctx: PledgeContext, pledge_id: int, number: int, *, new: bool) -> None:
    async with ctx.db() as session:
        pledge = await get_visible_pledge(session=session, pledge_id=pledge_id, member=ctx.member)
        if pledge is None:
            ack(ctx, ctx.t.plain(NOT_AVAILABLE), alert=True)
            return
        found = await load_history(session=session, pledge=pledge)
    ack(ctx)
    text, keyboard = history_message(ctx.t, found, ctx.member.time_zone, number)
    if new:
        say(ctx, text, keyboard)
    else:
        replace(ctx, text, keyboard)


async def on_open(update: Update, ctx: PledgeContext, data: OpenHistory) -> None:
    """Button History (on a review card): the first page, in a new message."""
    await _page(ctx, data.pledge, 0, new=True)


async def on_page(update: Update, ctx: PledgeContext, data: HistoryPage) -> None:
    """Button: another page of the history."""
    await _page(ctx, data.pledge, data.page, new=False)


FLOW = Flow(
    name="history",
    commands=(
        Command(
            "history",
            N_("A pledge's changes and progress: /history CLA-2027-0042"),
            MEMBERS,
            history,
        ),
    ),
    buttons=(
        Button(OpenHistory, on_open, MEMBERS, NOT_AVAILABLE),
        Button(HistoryPage, on_page, MEMBERS, NOT_AVAILABLE),
    ),
)
