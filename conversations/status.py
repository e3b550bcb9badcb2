"""Status by chat: /status, /pledge <reference>, /find with filter buttons, /missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from conversations import pledge_wizard
from conversations.cards import pledge_card
from conversations.common import ack, replace, say
from conversations.context import PledgeContext
from conversations.flow import MEMBERS, SECRETARIAT, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import button, page_count, pager_row, rows
from conversations.parsing import country_name
from conversations.pledge_card import show_pledge_card
from conversations.vocabulary import (
    COMPACT_SHORT,
    OBJECTIVES,
    PLEDGE_TYPES,
    REFUGEE_SITUATIONS,
    SCOPES,
    STAGES,
    WORKFLOW_STATES,
    label,
    objective_label,
)
from storage.conversation_state import get_state, set_state
from storage.forums import forum_name, get_forum, get_forum_by_code, list_open_forums
from storage.models import Forum, Member, Pledge, Role, Stage, WorkflowState
from storage.pledges import (
    can_view,
    get_pledge_by_reference,
    load_pledge_view,
    looks_like_reference,
)
from storage.queries import (
    READERS,
    FacetValue,
    FindFilters,
    ForumSummary,
    FoundPage,
    find_facet,
    find_pledges,
    forum_summary,
    forums_by_ids,
    localities_by_ids,
    missing_localities,
    objective_facet,
    search_words,
    split_objective,
)

STATE = "find"
RESULTS = "results"
FIND_PER_PAGE = 10
MISSING_PER_PAGE = 25
MAX_CURRENCIES = 12
TITLE_SHOWN = 100
NAME_SHOWN = 60
WORDS_SHOWN = 100
FACET_LABELS = {
    "forum": N_("Forum"),
    "country": N_("Country"),
    "locality": N_("Locality"),
    "stage": N_("Stage"),
    "compact": N_("Compact"),
    "objective": N_("Objective"),
    "scope": N_("Scope"),
    "type": N_("Pledge type"),
    "situation": N_("Refugee situation"),
}
FILTER_FIELDS = {
    "forum": "forum_id",
    "country": "country",
    "locality": "locality_id",
    "stage": "stage",
    "compact": "compact",
    "objective": "objective",
    "scope": "scope",
    "type": "pledge_type",
    "situation": "situation",
}
# Facets whose values are codes with a label each.
CODE_LABELS = {
    "stage": STAGES,
    "compact": COMPACT_SHORT,
    "scope": SCOPES,
    "type": PLEDGE_TYPES,
    "situation": REFUGEE_SITUATIONS,
}
# What a role that may not press a button is told (strings translated already).
NOT_AVAILABLE = N_("That is not available to you.")
PLEDGE_NOT_AVAILABLE = N_("That pledge is not available.")


@dataclass(frozen=True)
class FindPage(ButtonData, prefix="q.p"):
    """A page of the current search's results."""

    page: int


@dataclass(frozen=True)
class FacetValues(ButtonData, prefix="q.f"):
    """The values of one filter (a FACET_LABELS key) in the current results."""

    facet: str


@dataclass(frozen=True)
class SetFilter(ButtonData, prefix="q.s"):
    """Narrow the results to one value of a filter."""

    facet: str
    value: str


@dataclass(frozen=True)
class ClearFilters(ButtonData, prefix="q.x"):
    """Drop every filter; the words stay."""


@dataclass(frozen=True)
class OpenFound(ButtonData, prefix="q.o"):
    """The card of one pledge of the results."""

    pledge: int


@dataclass(frozen=True)
class MissingPage(ButtonData, prefix="q.m"):
    """A page of the localities that have not pledged for a forum."""

    forum: int
    page: int = 0


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_reader(member: Member) -> bool:
    """Coordinators and staff: they see every pledge past the draft."""
    return member.role in READERS


def may_read(member: Member, pledge: Pledge) -> bool:
    """Who may open a pledge's card here: a draft stays with its own locality."""
    if not can_view(member, pledge):
        return False
    return pledge.state != WorkflowState.DRAFT.value or pledge.locality_id == member.locality_id


# --- /status -------------------------------------------------------------------------------


def summary_text(t: Translator, forum: Forum, summary: ForumSummary, *, reader: bool) -> Html:
    """A forum's figures: by state, by stage, where from, and how much money."""
    lines = [
        t.gettext(
            "<b>%(forum)s</b> · %(code)s", forum=forum_name(forum, t.language), code=forum.code
        ),
        t.ngettext("%(count)s pledge you can see", "%(count)s pledges you can see", summary.total)
        if not reader
        else t.ngettext("%(count)s pledge", "%(count)s pledges", summary.total),
    ]
    if summary.total:
        lines.append(t.gettext("<b>By state:</b>"))
        lines += [
            t.gettext("• %(label)s: %(count)s", label=label(t, WORKFLOW_STATES, s.value), count=n)
            for s in WorkflowState
            if (n := summary.by_state.get(s.value))
        ]
        lines.append(t.gettext("<b>By stage:</b>"))
        lines += [
            t.gettext("• %(label)s: %(count)s", label=label(t, STAGES, s.value), count=n)
            for s in Stage
            if (n := summary.by_stage.get(s.value))
        ]
        lines.append(
            t.gettext(
                "<b>Localities:</b> %(localities)s · <b>countries:</b> %(countries)s",
                localities=t.number(summary.localities),
                countries=t.number(summary.countries),
            )
        )
        lines.append(
            t.gettext("<b>Budgets:</b>") if summary.budgets else t.gettext("No budgets given.")
        )
        lines += [
            t.gettext("• %(amount)s", amount=t.money(amount, currency))
            for currency, amount in summary.budgets[:MAX_CURRENCIES]
        ]
        hidden = len(summary.budgets) - MAX_CURRENCIES
        if hidden > 0:
            lines.append(
                t.ngettext("and %(count)s more currency", "and %(count)s more currencies", hidden)
            )
    if reader:
        lines.append(
            t.gettext(
                "/missing %(code)s lists the invited localities that have not pledged.",
                code=forum.code,
            )
        )
    return Html("\n".join(lines))


async def status(update: Update, ctx: PledgeContext) -> None:
    """/status [forum]: each open forum's figures, or one forum's."""
    t, reader = ctx.t, is_reader(ctx.member)
    async with ctx.db() as session:
        if ctx.args:
            code = forum_code_typed(ctx.args)
            forum = await get_forum_by_code(session=session, code=code)
            if forum is None:
                await _unknown_forum(update, ctx, session, code)
                return
            forums: Sequence[Forum] = [forum]
        else:
            forums = await list_open_forums(session=session)
        if not forums:
            say(ctx, t.gettext("No forum is open for pledges at the moment."))
            return
        for forum in forums:
            assert forum.id is not None
            summary = await forum_summary(session=session, forum_id=forum.id, viewer=ctx.member)
            say(ctx, summary_text(t, forum, summary, reader=reader))


def forum_code_typed(args: Sequence[str]) -> str:
    """A forum's code as typed, spaces and all: `/status grf 2027` means GRF2027."""
    return "".join(args)


async def _unknown_forum(
    update: Update, ctx: PledgeContext, session: AsyncSession, code: str
) -> None:
    open_codes = ", ".join(f.code for f in await list_open_forums(session=session)) or "—"
    say(
        ctx,
        ctx.t.gettext(
            "There is no forum %(code)s. Forums open for pledges: %(codes)s.",
            code=_cut(code, 32),
            codes=open_codes,
        ),
    )


# --- /pledge <reference> -------------------------------------------------------------------


async def pledge_command(update: Update, ctx: PledgeContext) -> None:
    """/pledge <reference>: that pledge's card; /pledge alone: the officials' wizard."""
    if ctx.args:
        await show_by_reference(update, ctx, ctx.args[0])
    elif ctx.member.role == Role.OFFICIAL.value:
        await pledge_wizard.start_pledge(update, ctx)
    else:
        say(
            ctx,
            ctx.t.gettext(
                "Pledges are written by officials of a locality. To read one, send /pledge "
                "with its reference, e.g. /pledge CLA-2027-0042, or search with /find."
            ),
        )


async def show_by_reference(update: Update, ctx: PledgeContext, reference: str) -> None:
    """The card of the pledge with that reference, if the reader may see it."""
    async with ctx.db() as session:
        pledge = await get_pledge_by_reference(session=session, reference=reference)
        if pledge is None or not may_read(ctx.member, pledge):
            say(
                ctx,
                ctx.t.gettext(
                    "There is no pledge %(reference)s that you can see. /find searches by words.",
                    reference=_cut(reference, 32),
                ),
            )
            return
        await _card(update, ctx, session, pledge)


async def _card(update: Update, ctx: PledgeContext, session: AsyncSession, pledge: Pledge) -> None:
    if ctx.member.role == Role.OFFICIAL.value:
        await show_pledge_card(update, ctx, session, pledge)  # with what they may do with it
        return
    view = await load_pledge_view(session=session, pledge=pledge)
    say(ctx, pledge_card(ctx.t, view))


# --- /find ---------------------------------------------------------------------------------


def found_line(t: Translator, number: int, found: Any) -> Html:
    return t.gettext(
        "%(number)s. %(reference)s <b>%(title)s</b> — %(locality)s, %(country)s — %(state)s",
        number=t.number(number),
        reference=found.reference or t.plain("(draft)"),
        title=_cut(found.title or t.plain("(untitled)"), TITLE_SHOWN),
        locality=_cut(found.locality, NAME_SHOWN),
        country=found.country,
        state=label(t, WORKFLOW_STATES, found.state),
    )


def facet_value_label(
    t: Translator,
    facet: str,
    code: str,
    *,
    forums: dict[int, Forum],
    localities: dict[int, Any],
) -> str:
    """How a filter's value reads on a button and in the results' heading."""
    if facet == "forum":
        forum = forums.get(int(code)) if code.isdigit() else None
        return forum.code if forum else "—"
    if facet == "country":
        return country_name(code, t.locale)
    if facet == "locality":
        locality = localities.get(int(code)) if code.isdigit() else None
        return _cut(locality.name, NAME_SHOWN) if locality else "—"
    if facet in CODE_LABELS:
        return label(t, CODE_LABELS[facet], code)
    objective = split_objective(code)
    if objective is None or objective[1] not in OBJECTIVES[objective[0]]:
        return "—"
    return objective_label(t, *objective)


async def _labels(
    session: AsyncSession, filters: FindFilters, values: Sequence[FacetValue] = (), facet: str = ""
) -> tuple[dict[int, Forum], dict[int, Any]]:
    forum_ids = [filters.forum_id] if filters.forum_id else []
    locality_ids = [filters.locality_id] if filters.locality_id else []
    if facet == "forum":
        forum_ids += [int(v.code) for v in values]
    if facet == "locality":
        locality_ids += [int(v.code) for v in values]
    return (
        await forums_by_ids(session=session, ids=forum_ids),
        await localities_by_ids(session=session, ids=locality_ids),
    )


def results_message(
    t: Translator,
    words: Sequence[str],
    filters: FindFilters,
    found: FoundPage,
    page: int,
    *,
    forums: dict[int, Forum],
    localities: dict[int, Any],
) -> tuple[Html, InlineKeyboardMarkup]:
    """One page of results: the search, its filters, a line and a button per pledge."""
    heading = (
        t.gettext("<b>Search:</b> %(words)s", words=_cut(" ".join(words), WORDS_SHOWN))
        if words
        else t.gettext("<b>All the pledges you can see</b>")
    )
    lines = [heading]
    chosen = filters.to_data()
    if chosen:
        shown = [
            t.plain(
                "%(filter)s: %(value)s",
                filter=t.plain(FACET_LABELS[facet]),
                value=facet_value_label(
                    t, facet, str(chosen[field]), forums=forums, localities=localities
                ),
            )
            for facet, field in FILTER_FIELDS.items()
            if field in chosen
        ]
        lines.append(t.gettext("Filters: %(filters)s", filters=" · ".join(shown)))
    lines.append(
        t.gettext(
            "More than %(count)s pledges found: add words or filters to narrow them down.",
            count=t.number(found.total),
        )
        if found.capped
        else t.ngettext("%(count)s pledge found", "%(count)s pledges found", found.total)
    )
    first = page * FIND_PER_PAGE + 1
    lines += [found_line(t, first + i, p) for i, p in enumerate(found.pledges)]
    if not found.total:
        lines.append(t.gettext("Try fewer words, or clear the filters."))
    opens = [
        button(
            f"{t.number(first + i)}. {p.reference or _cut(p.title, 30) or '—'}",
            OpenFound(p.pledge_id),
        )
        for i, p in enumerate(found.pledges)
    ]
    keyboard = rows(opens, 2)
    pager = pager_row(t, page=page, pages=page_count(found.total, FIND_PER_PAGE), to_page=FindPage)
    if pager:
        keyboard.append(pager)
    filter_buttons = [
        button(f"🔎 {t.plain(text)}", FacetValues(facet)) for facet, text in FACET_LABELS.items()
    ]
    keyboard += rows(filter_buttons, 3)
    if chosen:
        keyboard.append([button(t.plain("✖ clear filters"), ClearFilters())])
    return Html("\n".join(lines)), InlineKeyboardMarkup(keyboard)


async def find(update: Update, ctx: PledgeContext) -> None:
    """/find <words>: pledges whose title or description holds every word; filters by button.
    A reference alone (/find CLA-2027-0003) is that pledge's card, as /pledge gives it."""
    typed = ctx.args or []
    if len(typed) == 1 and looks_like_reference(typed[0]):
        await show_by_reference(update, ctx, typed[0])
        return
    words = search_words(" ".join(ctx.args or []))
    async with ctx.db() as session:
        await set_state(
            session=session,
            member_id=ctx.member.id or 0,
            flow=STATE,
            step=RESULTS,
            data={"words": words, "filters": {}},
        )
        text, keyboard = await _results(session, ctx, words, FindFilters(), 0)
    say(ctx, text, keyboard)


async def _results(
    session: AsyncSession,
    ctx: PledgeContext,
    words: Sequence[str],
    filters: FindFilters,
    page: int,
) -> tuple[Html, InlineKeyboardMarkup]:
    found = await _found(session, ctx, words, filters, page)
    if page and not found.pledges:  # fewer results than when that button was made
        page = page_count(found.total, FIND_PER_PAGE) - 1
        found = await _found(session, ctx, words, filters, page)
    forums, localities = await _labels(session, filters)
    return results_message(ctx.t, words, filters, found, page, forums=forums, localities=localities)


async def _found(
    session: AsyncSession,
    ctx: PledgeContext,
    words: Sequence[str],
    filters: FindFilters,
    page: int,
) -> FoundPage:
    return await find_pledges(
        session=session,
        words=words,
        filters=filters,
        viewer=ctx.member,
        offset=page * FIND_PER_PAGE,
        limit=FIND_PER_PAGE,
    )


async def _search(
    update: Update, ctx: PledgeContext, session: AsyncSession
) -> tuple[list[str], FindFilters] | None:
    """The search this person is on, from the stored state; None (and told) if it ended."""
    state = await get_state(session=session, member_id=ctx.member.id or 0)
    if state is None or state.flow != STATE:
        ack(
            ctx,
            ctx.t.plain("That search has ended. Send /find to search again."),
            alert=True,
        )
        return None
    raw_words = state.data.get("words")
    words = [w for w in raw_words if isinstance(w, str)] if isinstance(raw_words, list) else []
    raw_filters = state.data.get("filters")
    filters = FindFilters.from_data(raw_filters if isinstance(raw_filters, dict) else {})
    return words, filters


async def _save(
    session: AsyncSession, ctx: PledgeContext, words: Sequence[str], filters: FindFilters
) -> None:
    await set_state(
        session=session,
        member_id=ctx.member.id or 0,
        flow=STATE,
        step=RESULTS,
        data={"words": list(words), "filters": filters.to_data()},
    )


async def on_page(update: Update, ctx: PledgeContext, data: FindPage) -> None:
    """Button: another page of the results (or back to them from a filter's choices)."""
    async with ctx.db() as session:
        search = await _search(update, ctx, session)
        if search is None:
            return
        text, keyboard = await _results(session, ctx, *search, max(data.page, 0))
    ack(ctx)
    replace(ctx, text, keyboard)


async def on_facet(update: Update, ctx: PledgeContext, data: FacetValues) -> None:
    """Button: the values of one filter present in the current results."""
    facet = data.facet
    t = ctx.t
    async with ctx.db() as session:
        search = await _search(update, ctx, session)
        if search is None:
            return
        if facet not in FACET_LABELS:
            ack(ctx, t.plain("That button is not valid."), alert=True)
            return
        words, filters = search
        if facet == "objective":
            values = await objective_facet(
                session=session, words=words, filters=filters, viewer=ctx.member
            )
        else:
            values = await find_facet(
                session=session, words=words, filters=filters, viewer=ctx.member, facet=facet
            )
        forums, localities = await _labels(session, filters, values, facet)
    ack(ctx)
    choices = [
        button(
            t.plain(
                "%(value)s (%(count)s)",
                value=facet_value_label(t, facet, v.code, forums=forums, localities=localities),
                count=t.number(v.count),
            ),
            SetFilter(facet, v.code),
        )
        for v in values
    ]
    back: list[list[InlineKeyboardButton]] = [
        [button(t.plain("‹ Back to the results"), FindPage(0))]
    ]
    text = (
        t.gettext("Narrow the results by %(filter)s:", filter=t.plain(FACET_LABELS[facet]).lower())
        if values
        else t.gettext("No pledge in these results has a value to narrow down by.")
    )
    replace(ctx, text, InlineKeyboardMarkup([*rows(choices, 2), *back]))


def _valid(facet: str, code: str) -> Any:
    """The filter value a button carries, checked; None if forged."""
    if facet in ("forum", "locality"):
        return int(code) if code.isdigit() and len(code) < 10 else None
    if facet == "country":
        return code.upper() if len(code) == 2 and code.isalpha() and code.isascii() else None
    if facet in CODE_LABELS:
        return code if code in CODE_LABELS[facet] else None
    if facet == "objective":
        objective = split_objective(code)
        valid = objective is not None and objective[1] in OBJECTIVES[objective[0]]
        return code if valid else None
    return None


async def on_set_filter(update: Update, ctx: PledgeContext, data: SetFilter) -> None:
    """Button: narrow the results by one value; back to the first page."""
    facet, code = data.facet, data.value
    async with ctx.db() as session:
        search = await _search(update, ctx, session)
        if search is None:
            return
        value = _valid(facet, code)
        if value is None:
            ack(ctx, ctx.t.plain("That button is not valid."), alert=True)
            return
        words, filters = search
        filters = FindFilters.from_data({**filters.to_data(), FILTER_FIELDS[facet]: value})
        await _save(session, ctx, words, filters)
        text, keyboard = await _results(session, ctx, words, filters, 0)
    ack(ctx)
    replace(ctx, text, keyboard)


async def on_clear(update: Update, ctx: PledgeContext, _data: ClearFilters) -> None:
    """Button: drop every filter; the words stay."""
    async with ctx.db() as session:
        search = await _search(update, ctx, session)
        if search is None:
            return
        words, _ = search
        await _save(session, ctx, words, FindFilters())
        text, keyboard = await _results(session, ctx, words, FindFilters(), 0)
    ack(ctx)
    replace(ctx, text, keyboard)


async def on_open(update: Update, ctx: PledgeContext, data: OpenFound) -> None:
    """Button: the card of one pledge of the results."""
    async with ctx.db() as session:
        pledge = await session.get(Pledge, data.pledge) if data.pledge else None
        if pledge is None or not may_read(ctx.member, pledge):
            ack(ctx, ctx.t.plain(PLEDGE_NOT_AVAILABLE), alert=True)
            return
        ack(ctx)
        await _card(update, ctx, session, pledge)


# --- /missing ------------------------------------------------------------------------------


async def missing(update: Update, ctx: PledgeContext) -> None:
    """/missing <forum>: invited localities with no pledge for it; without a forum, a choice."""
    t = ctx.t
    async with ctx.db() as session:
        if ctx.args:
            code = forum_code_typed(ctx.args)
            forum = await get_forum_by_code(session=session, code=code)
            if forum is None:
                await _unknown_forum(update, ctx, session, code)
                return
            text, keyboard = await _missing_page(session, t, forum, 0)
            say(ctx, text, keyboard)
            return
        forums = await list_open_forums(session=session)
    if not forums:
        say(ctx, t.gettext("No forum is open for pledges at the moment."))
        return
    choices = [button(forum_name(f, t.language), MissingPage(f.id or 0)) for f in forums]
    say(
        ctx,
        t.gettext("Which forum? (Or send /missing with its code, e.g. /missing GRF2027.)"),
        InlineKeyboardMarkup(rows(choices, 1)),
    )


async def _missing_page(
    session: AsyncSession, t: Translator, forum: Forum, page: int
) -> tuple[Html, InlineKeyboardMarkup | None]:
    assert forum.id is not None
    forum_id = forum.id
    found = await missing_localities(
        session=session, forum_id=forum_id, offset=page * MISSING_PER_PAGE, limit=MISSING_PER_PAGE
    )
    pages = page_count(found.total, MISSING_PER_PAGE)
    if page and not found.localities:
        page = pages - 1
        found = await missing_localities(
            session=session,
            forum_id=forum.id,
            offset=page * MISSING_PER_PAGE,
            limit=MISSING_PER_PAGE,
        )
    name = forum_name(forum, t.language)
    if not found.total:
        return t.gettext("Every invited locality has pledged for %(forum)s.", forum=name), None
    first = page * MISSING_PER_PAGE + 1
    lines = [
        t.ngettext(
            "<b>%(forum)s</b>: %(count)s invited locality has not pledged",
            "<b>%(forum)s</b>: %(count)s invited localities have not pledged",
            found.total,
            forum=name,
        )
    ]
    for i, locality in enumerate(found.localities):
        values = {
            "number": t.number(first + i),
            "name": _cut(locality.name, NAME_SHOWN),
            "country": country_name(locality.country, t.locale),
        }
        lines.append(
            t.gettext("%(number)s. %(name)s, %(country)s · invited, not joined yet", **values)
            if locality.id in found.invited_only
            else t.gettext("%(number)s. %(name)s, %(country)s", **values)
        )
    pager = pager_row(t, page=page, pages=pages, to_page=lambda to: MissingPage(forum_id, to))
    return Html("\n".join(lines)), InlineKeyboardMarkup([pager]) if pager else None


async def on_missing(update: Update, ctx: PledgeContext, data: MissingPage) -> None:
    """Button: a forum chosen, or another page of its missing localities."""
    async with ctx.db() as session:
        forum = await get_forum(session=session, forum_id=data.forum) if data.forum else None
        if forum is None:
            ack(ctx, ctx.t.plain("That forum no longer exists."), alert=True)
            return
        text, keyboard = await _missing_page(session, ctx.t, forum, max(data.page, 0))
    ack(ctx)
    replace(ctx, text, keyboard)


# Officials write pledges with /pledge; everyone reads one with /pledge <reference>.
PLEDGE_FLOW = Flow(
    name="pledge",
    commands=(
        Command(
            "pledge",
            N_("Write a pledge (officials), or show one: /pledge CLA-2027-0042"),
            MEMBERS,
            pledge_command,
        ),
    ),
)

FLOW = Flow(
    name="status",
    commands=(
        Command(
            "status", N_("Where each forum stands: pledges by state and stage"), MEMBERS, status
        ),
        Command("find", N_("Search pledges by words, with filters"), MEMBERS, find),
        Command(
            "missing",
            N_("Invited localities that have not pledged for a forum"),
            SECRETARIAT,
            missing,
        ),
    ),
    # The search's buttons check themselves that it is still on, to say so when it ended.
    buttons=(
        Button(FindPage, on_page, MEMBERS, NOT_AVAILABLE),
        Button(FacetValues, on_facet, MEMBERS, NOT_AVAILABLE),
        Button(SetFilter, on_set_filter, MEMBERS, NOT_AVAILABLE),
        Button(ClearFilters, on_clear, MEMBERS, NOT_AVAILABLE),
        Button(OpenFound, on_open, MEMBERS, PLEDGE_NOT_AVAILABLE),
        Button(MissingPage, on_missing, SECRETARIAT, NOT_AVAILABLE),
    ),
    states=(STATE,),
)
