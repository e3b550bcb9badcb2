"""What /chart draws: a forum's pledges counted by objective and by implementation stage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    GCM_OBJECTIVES,
    GCR_OBJECTIVES,
    Compact,
    Forum,
    Pledge,
    WorkflowState,
)

# Past draft and not withdrawn: what a forum will actually receive.
CHARTED_STATES = (
    WorkflowState.SUBMITTED.value,
    WorkflowState.CHANGES_REQUESTED.value,
    WorkflowState.APPROVED.value,
    WorkflowState.DELIVERED.value,
)
STREAM_BATCH = 1000


@dataclass(frozen=True)
class ChartData:
    """Counts of pledges: in all, by objective ((compact, number) → pledges) and by stage."""

    total: int = 0
    by_objective: dict[tuple[str, int], int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.total == 0


def _known(numbers: object, valid: range) -> set[int]:
    """The valid objective numbers in a stored JSON list, each once (bad values are skipped)."""
    if not isinstance(numbers, list):
        return set()
    return {n for n in numbers if isinstance(n, int) and not isinstance(n, bool) and n in valid}


def count_objectives(rows: Iterable[tuple[object, object]]) -> Counter[tuple[str, int]]:
    """Pledges per objective from (gcm_objectives, gcr_objectives) pairs."""
    counts: Counter[tuple[str, int]] = Counter()
    for gcm, gcr in rows:
        counts.update((Compact.GCM.value, n) for n in _known(gcm, GCM_OBJECTIVES))
        counts.update((Compact.GCR.value, n) for n in _known(gcr, GCR_OBJECTIVES))
    return counts


async def chart_counts(*, session: AsyncSession, forum_id: int | None) -> ChartData:
    """Counts for one forum, or for every open forum when `forum_id` is None."""
    where: list[ColumnElement[bool]] = [col(Pledge.state).in_(CHARTED_STATES)]
    if forum_id is not None:
        where.append(col(Pledge.forum_id) == forum_id)
    else:
        open_forums = select(Forum.id).where(col(Forum.is_open).is_(True))
        where.append(col(Pledge.forum_id).in_(open_forums))

    # Stages in SQL: the (forum, state, stage) index answers it without reading pledges.
    stage_rows = await session.exec(
        select(Pledge.stage, func.count()).where(*where).group_by(col(Pledge.stage))
    )
    by_stage = {stage: int(count) for stage, count in stage_rows.all()}

    # Objectives are JSON lists, counted here rather than with each dialect's JSON functions;
    # only the two lists are read, a batch at a time, so memory stays flat at any size.
    objectives: Counter[tuple[str, int]] = Counter()
    result = await session.stream(
        select(col(Pledge.gcm_objectives), col(Pledge.gcr_objectives))
        .where(*where)
        .execution_options(yield_per=STREAM_BATCH)
    )
    async for batch in result.partitions(STREAM_BATCH):
        objectives.update(count_objectives((row[0], row[1]) for row in batch))

    return ChartData(total=sum(by_stage.values()), by_objective=dict(objectives), by_stage=by_stage)
