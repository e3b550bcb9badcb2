"""Status by chat: a forum's figures, searching pledges, and localities that have not pledged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Forum,
    Invite,
    Locality,
    Member,
    Pledge,
    PledgePartner,
    Role,
    WorkflowState,
)
from storage.pledges import fold
from storage.types import utc_now

HIDDEN_FROM_READERS = (WorkflowState.DRAFT.value, WorkflowState.WITHDRAWN.value)
NOT_PLEDGED = HIDDEN_FROM_READERS  # a draft or a withdrawn pledge does not count as pledging
READERS = frozenset({Role.COORDINATOR.value, Role.STAFF.value})
FACETS = (
    "forum",
    "country",
    "locality",
    "stage",
    "compact",
    "objective",
    "scope",
    "type",
    "situation",
)
MAX_WORDS = 8
# Facets that are one column of the pledge.
SIMPLE_FACETS = {"stage": Pledge.stage, "scope": Pledge.scope, "type": Pledge.pledge_type}
# Facets that are the values of one JSON list of the pledge.
JSON_FACETS = {
    "compact": Pledge.compacts,
    "gcm": Pledge.gcm_objectives,
    "gcr": Pledge.gcr_objectives,
    "situation": Pledge.refugee_situations,
}
COUNT_CAP = 1000


@dataclass(frozen=True)
class ForumSummary:
    """Where a forum stands, as far as the viewer may see."""

    forum_id: int
    total: int
    by_state: dict[str, int]
    by_stage: dict[str, int]
    localities: int
    countries: int
    budgets: list[tuple[str, Decimal]]  # (currency, total), largest first


@dataclass(frozen=True)
class FindFilters:
    """What a search is narrowed to; None means any."""

    forum_id: int | None = None
    country: str | None = None
    locality_id: int | None = None
    compact: str | None = None
    objective: str | None = None  # "gcm7", "gcr2"
    stage: str | None = None
    scope: str | None = None
    pledge_type: str | None = None
    situation: str | None = None  # a RefugeeSituation code

    def to_data(self) -> dict[str, Any]:
        """For the conversation state: only what is set."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> FindFilters:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        def number(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            forum_id=number("forum_id"),
            country=text("country"),
            locality_id=number("locality_id"),
            compact=text("compact"),
            objective=text("objective"),
            stage=text("stage"),
            scope=text("scope"),
            pledge_type=text("pledge_type"),
            situation=text("situation"),
        )

    @property
    def any(self) -> bool:
        return bool(self.to_data())


@dataclass(frozen=True)
class FoundPledge:
    """One line of search results."""

    pledge_id: int
    reference: str | None
    title: str
    locality: str
    country: str
    state: str


@dataclass(frozen=True)
class FoundPage:
    pledges: Sequence[FoundPledge]
    total: int
    capped: bool = False  # more than `total` match; only the first `total` can be paged


@dataclass(frozen=True)
class FacetValue:
    code: str
    count: int


@dataclass(frozen=True)
class LocalityPage:
    localities: Sequence[Locality]
    total: int = 0
    invited_only: frozenset[int] = frozenset()  # invited, but no official has joined yet


def split_objective(code: str) -> tuple[str, int] | None:
    """("gcm", 7) from "gcm7"; None for anything else."""
    compact, number = code[:3], code[3:]
    if compact not in ("gcm", "gcr") or not number.isdigit():
        return None
    return compact, int(number)


def search_words(text: str) -> list[str]:
    """The folded words of a search, each to be found; repeats dropped, at most MAX_WORDS."""
    words = list(dict.fromkeys(fold(text).split()))
    return words[:MAX_WORDS]


def visible(viewer: Member) -> ColumnElement[bool]:
    """The pledges a member may see in lists and figures."""
    if viewer.role in READERS:
        return col(Pledge.state).not_in(HIDDEN_FROM_READERS)
    if viewer.role == Role.OFFICIAL.value and viewer.locality_id is not None:
        as_partner = select(PledgePartner.pledge_id).where(
            PledgePartner.locality_id == viewer.locality_id
        )
        return or_(
            col(Pledge.locality_id) == viewer.locality_id,
            and_(
                col(Pledge.id).in_(as_partner),
                col(Pledge.state) != WorkflowState.DRAFT.value,  # drafts stay with their locality
            ),
        )
    return false_condition()


def false_condition() -> ColumnElement[bool]:
    return col(Pledge.id).is_(None)


async def forum_summary(
    *, session: AsyncSession, forum_id: int, viewer: Member | None = None
) -> ForumSummary:
    """Counts by state and stage, localities and countries, budgets per currency.

    Without a viewer: what staff see (no drafts, no withdrawn pledges)."""
    condition = and_(
        col(Pledge.forum_id) == forum_id,
        visible(viewer) if viewer is not None else col(Pledge.state).not_in(HIDDEN_FROM_READERS),
    )
    rows = (
        await session.exec(
            select(Pledge.state, Pledge.stage, func.count())
            .where(condition)
            .group_by(col(Pledge.state), col(Pledge.stage))
        )
    ).all()
    by_state: dict[str, int] = {}
    by_stage: dict[str, int] = {}
    for state, stage, count in rows:
        by_state[state] = by_state.get(state, 0) + int(count)
        by_stage[stage] = by_stage.get(stage, 0) + int(count)
    covered = (
        await session.exec(
            select(
                func.count(func.distinct(Locality.id)), func.count(func.distinct(Locality.country))
            )
            .select_from(Pledge)
            .join(Locality, col(Locality.id) == col(Pledge.locality_id))
            .where(condition)
        )
    ).one()
    budgets = (
        await session.exec(
            select(Pledge.currency, func.sum(Pledge.amount))
            .where(condition, col(Pledge.amount).is_not(None), col(Pledge.currency).is_not(None))
            .group_by(col(Pledge.currency))
            .order_by(func.sum(Pledge.amount).desc(), col(Pledge.currency))
        )
    ).all()
    return ForumSummary(
        forum_id=forum_id,
        total=sum(by_state.values()),
        by_state=by_state,
        by_stage=by_stage,
        localities=int(covered[0]),
        countries=int(covered[1]),
        budgets=[(str(c), Decimal(a)) for c, a in budgets if c is not None and a is not None],
    )


def _json_values(session: AsyncSession, column: Any) -> Any:
    """A JSON array column as a table of its values (one row per element)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


def _contains(session: AsyncSession, column: Any, value: str | int) -> ColumnElement[bool]:
    """The JSON array `column` holds `value`."""
    values = _json_values(session, column)
    if session.get_bind().dialect.name == "postgresql":
        value = str(value)  # json_array_elements_text gives text
    return exists().select_from(values).where(values.c.value == value)


def _conditions(
    session: AsyncSession, words: Sequence[str], filters: FindFilters, viewer: Member
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [visible(viewer)]
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(col(Pledge.search_text).like(f"%{escaped}%", escape="\\"))
    if filters.forum_id is not None:
        conditions.append(col(Pledge.forum_id) == filters.forum_id)
    if filters.country is not None:
        in_country = select(Locality.id).where(Locality.country == filters.country.upper())
        conditions.append(col(Pledge.locality_id).in_(in_country))
    if filters.locality_id is not None:
        conditions.append(col(Pledge.locality_id) == filters.locality_id)
    if filters.stage is not None:
        conditions.append(col(Pledge.stage) == filters.stage)
    if filters.scope is not None:
        conditions.append(col(Pledge.scope) == filters.scope)
    if filters.pledge_type is not None:
        conditions.append(col(Pledge.pledge_type) == filters.pledge_type)
    if filters.compact is not None:
        conditions.append(_contains(session, Pledge.compacts, filters.compact))
    if filters.situation is not None:
        conditions.append(_contains(session, Pledge.refugee_situations, filters.situation))
    objective = split_objective(filters.objective) if filters.objective else None
    if filters.objective is not None:
        if objective is None:
            conditions.append(false_condition())
        else:
            compact, number = objective
            column = Pledge.gcm_objectives if compact == "gcm" else Pledge.gcr_objectives
            conditions.append(_contains(session, Pledge.compacts, compact))
            conditions.append(_contains(session, column, number))
    return conditions


async def find_pledges(
    *,
    session: AsyncSession,
    words: Sequence[str],
    filters: FindFilters,
    viewer: Member,
    offset: int,
    limit: int,
) -> FoundPage:
    """Pledges whose title or description holds every word (folded), newest first."""
    folded = [w for word in words for w in fold(word).split()]
    conditions = _conditions(session, folded, filters, viewer)
    # Counting stops past COUNT_CAP, so a common word costs no more than a rare one.
    matching = select(Pledge.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    counted = int((await session.exec(select(func.count()).select_from(matching))).one())
    total, capped = min(counted, COUNT_CAP), counted > COUNT_CAP
    if total == 0 or offset >= total:
        return FoundPage(pledges=[], total=total, capped=capped)
    # Newest first by primary key: the scan stops as soon as the page is full.
    statement = (
        select(Pledge)
        .where(*conditions)
        .order_by(col(Pledge.id).desc())
        .offset(offset)
        .limit(limit)
    )
    found = (await session.exec(statement)).all()
    places = await localities_by_ids(session=session, ids=sorted({p.locality_id for p in found}))
    rows = [(p, places[p.locality_id]) for p in found if p.locality_id in places]
    return FoundPage(
        pledges=[
            FoundPledge(
                pledge_id=pledge.id or 0,
                reference=pledge.reference,
                title=pledge.title,
                locality=locality.name,
                country=locality.country,
                state=pledge.state,
            )
            for pledge, locality in rows
        ],
        total=total,
        capped=capped,
    )


async def find_facet(
    *,
    session: AsyncSession,
    words: Sequence[str],
    filters: FindFilters,
    viewer: Member,
    facet: str,
    limit: int = 24,
) -> list[FacetValue]:
    """The values of one filter present in the current results, most frequent first."""
    folded = [w for word in words for w in fold(word).split()]
    conditions = _conditions(session, folded, filters, viewer)
    count = func.count(col(Pledge.id).distinct()).label("n")
    base: Any
    if facet == "forum":
        base = select(col(Pledge.forum_id).label("code"), count).where(
            col(Pledge.forum_id).is_not(None)
        )
    elif facet == "country":
        base = select(col(Locality.country).label("code"), count)
    elif facet == "locality":
        base = select(col(Pledge.locality_id).label("code"), count)
    elif facet in SIMPLE_FACETS:
        base = select(col(SIMPLE_FACETS[facet]).label("code"), count)
    elif facet in JSON_FACETS:
        values = _json_values(session, JSON_FACETS[facet])
        base = select(values.c.value.label("code"), count).join_from(Pledge, values, true())
        if facet in ("gcm", "gcr"):  # objectives count only under a compact the pledge serves
            base = base.where(_contains(session, Pledge.compacts, facet))
    else:
        raise ValueError(f"unknown facet {facet!r}")
    statement = (
        base.join_from(Pledge, Locality, col(Locality.id) == col(Pledge.locality_id))
        .where(*conditions)
        .group_by(base.selected_columns[0])
        .order_by(count.desc(), base.selected_columns[0])
        .limit(limit)
    )
    rows = (await session.exec(statement)).all()
    # A value not given ("" scope of a pledge made before scopes were asked) is no filter.
    return [FacetValue(code=str(code), count=int(n)) for code, n in rows if code not in (None, "")]


async def objective_facet(
    *,
    session: AsyncSession,
    words: Sequence[str],
    filters: FindFilters,
    viewer: Member,
    limit: int = 24,
) -> list[FacetValue]:
    """GCM and GCR objectives present in the results, as "gcm7" / "gcr2", most frequent first."""
    found: list[FacetValue] = []
    for compact in ("gcm", "gcr"):
        values = await find_facet(
            session=session, words=words, filters=filters, viewer=viewer, facet=compact, limit=limit
        )
        found += [FacetValue(code=f"{compact}{v.code}", count=v.count) for v in values]
    found.sort(key=lambda v: (-v.count, v.code[:3], int(v.code[3:])))
    return found[:limit]


def _pending_official_invites(now: datetime) -> Any:
    return select(Invite.locality_id).where(
        Invite.role == Role.OFFICIAL.value,
        col(Invite.locality_id).is_not(None),
        col(Invite.uses_left) > 0,
        col(Invite.expires_at) > now,
    )


def not_pledged(forum_id: int, now: datetime) -> ColumnElement[bool]:
    """Which localities have not pledged for the forum: invited (an active official, or an
    official's invite still open), and neither leading nor partnering in a pledge for it past
    the draft and not withdrawn. /missing and the coordinators' digest both count by this."""
    officials = select(Member.locality_id).where(
        Member.role == Role.OFFICIAL.value,
        col(Member.active).is_(True),
        col(Member.locality_id).is_not(None),
    )
    invites = _pending_official_invites(now)
    counted = and_(col(Pledge.forum_id) == forum_id, col(Pledge.state).not_in(NOT_PLEDGED))
    leads = exists().where(col(Pledge.locality_id) == col(Locality.id), counted)
    partners = exists().where(
        col(PledgePartner.locality_id) == col(Locality.id),
        col(PledgePartner.pledge_id) == col(Pledge.id),
        counted,
    )
    invited = or_(col(Locality.id).in_(officials), col(Locality.id).in_(invites))
    return and_(invited, ~leads, ~partners)


async def missing_localities(
    *, session: AsyncSession, forum_id: int, offset: int, limit: int
) -> LocalityPage:
    """The localities that have not pledged for the forum (`not_pledged`), by name."""
    officials = select(Member.locality_id).where(
        Member.role == Role.OFFICIAL.value,
        col(Member.active).is_(True),
        col(Member.locality_id).is_not(None),
    )
    condition = not_pledged(forum_id, utc_now())
    total = int(
        (await session.exec(select(func.count()).select_from(Locality).where(condition))).one()
    )
    if total == 0 or offset >= total:
        return LocalityPage(localities=[], total=total)
    statement = (
        select(Locality)
        .where(condition)
        .order_by(col(Locality.name_key), col(Locality.country), col(Locality.id))
        .offset(offset)
        .limit(limit)
    )
    localities = (await session.exec(statement)).all()
    ids = [loc.id for loc in localities if loc.id is not None]
    with_official = set(
        (await session.exec(officials.where(col(Member.locality_id).in_(ids)))).all()
    )
    return LocalityPage(
        localities=localities,
        total=total,
        invited_only=frozenset(i for i in ids if i not in with_official),
    )


async def forums_by_ids(*, session: AsyncSession, ids: Sequence[int]) -> dict[int, Forum]:
    if not ids:
        return {}
    found = (await session.exec(select(Forum).where(col(Forum.id).in_(ids)))).all()
    return {f.id: f for f in found if f.id is not None}


async def localities_by_ids(*, session: AsyncSession, ids: Sequence[int]) -> dict[int, Locality]:
    if not ids:
        return {}
    found = (await session.exec(select(Locality).where(col(Locality.id).in_(ids)))).all()
    return {loc.id: loc for loc in found if loc.id is not None}
