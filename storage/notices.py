"""Notices: messages to other members, written beside the change that causes them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Notice, NoticeKind


async def queue_notices(
    *,
    session: AsyncSession,
    kind: NoticeKind,
    member_ids: Collection[int],
    payload: dict[str, Any],
    now: datetime,
) -> list[int]:
    """One notice per member, due now; sent only once the session's transaction commits.
    Returns their ids."""
    notices = [
        Notice(kind=kind.value, member_id=member_id, payload=payload, due_at=now)
        for member_id in dict.fromkeys(member_ids)
    ]
    session.add_all(notices)
    await session.flush()
    return [n.id for n in notices if n.id is not None]
