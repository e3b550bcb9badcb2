"""Where each person is in a conversation, written at every step so a restart loses nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ConversationState
from storage.types import utc_now


async def get_state(*, session: AsyncSession, member_id: int) -> ConversationState | None:
    """The member's current step, or None outside any flow."""
    return await session.get(ConversationState, member_id)


async def set_state(
    *,
    session: AsyncSession,
    member_id: int,
    flow: str,
    step: str,
    pledge_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> ConversationState:
    """Put the member on a step; `data` replaces what the previous step kept."""
    state = await session.get(ConversationState, member_id)
    if state is None:
        state = ConversationState(member_id=member_id, flow=flow, step=step)
    state.flow, state.step, state.pledge_id = flow, step, pledge_id
    state.data = dict(data or {})
    state.updated_at = utc_now()
    session.add(state)
    await session.flush()
    return state


async def clear_state(*, session: AsyncSession, member_id: int) -> bool:
    """Leave any flow; True if the member was in one."""
    state = await session.get(ConversationState, member_id)
    if state is None:
        return False
    await session.delete(state)
    await session.flush()
    return True


async def count_in_progress(*, session: AsyncSession) -> int:
    """How many members are in the middle of a conversation."""
    counted = await session.exec(select(func.count()).select_from(ConversationState))
    return counted.one()
