"""Requests for access from people who came without an invite."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AccessRequest, AccessRequestStatus
from storage.types import utc_now


async def create_access_request(
    *,
    session: AsyncSession,
    member_id: int,
    name: str,
    position: str,
    locality_name: str,
    country: str,
) -> AccessRequest:
    """Record a request for coordinators to decide on."""
    request = AccessRequest(
        member_id=member_id,
        name=name,
        position=position,
        locality_name=locality_name,
        country=country.upper(),
    )
    session.add(request)
    await session.flush()
    return request


async def get_pending_request(*, session: AsyncSession, member_id: int) -> AccessRequest | None:
    """The member's request still waiting for a decision, if any."""
    statement = select(AccessRequest).where(
        AccessRequest.member_id == member_id,
        AccessRequest.status == AccessRequestStatus.PENDING.value,
    )
    return (await session.exec(statement)).first()


async def get_access_request(*, session: AsyncSession, request_id: int) -> AccessRequest | None:
    """A request by id."""
    return await session.get(AccessRequest, request_id)


async def decide_access_request(
    *, session: AsyncSession, request: AccessRequest, approve: bool, decided_by_id: int
) -> bool:
    """Approve or reject a pending request; False if someone already decided it (`request`
    then says who, and what)."""
    if request.status != AccessRequestStatus.PENDING.value:
        return False
    # A conditional UPDATE, so of two coordinators deciding at once only the first does (on
    # PostgreSQL the second waits for the first's commit, then finds nothing pending).
    decided = await session.exec(
        update(AccessRequest)
        .where(
            col(AccessRequest.id) == request.id,
            col(AccessRequest.status) == AccessRequestStatus.PENDING.value,
        )
        .values(
            status=(
                AccessRequestStatus.APPROVED if approve else AccessRequestStatus.REJECTED
            ).value,
            decided_by_id=decided_by_id,
            decided_at=utc_now(),
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(request)
    return decided.rowcount == 1
