"""Members: the people who talk to the bot."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import timedelta

from babel.core import get_global
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.access import forget_revocation
from storage.models import ConversationState, Locality, Member, ReminderKind, Role
from storage.types import utc_now
from storage.zones import DEFAULT_TIME_ZONE, is_time_zone

# The capital's zone, for the countries Babel lists with more than one zone. Babel (CLDR) has
# no capitals, and its lists are alphabetical by zone code: the first of Brazil's is Araguaina,
# the first of the United States' is Adak, Alaska.
CAPITAL_ZONES = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",  # Canberra
    "BR": "America/Sao_Paulo",  # Brasília
    "CA": "America/Toronto",  # Ottawa
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",  # Beijing
    "CY": "Asia/Nicosia",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",  # Quito
    "ES": "Europe/Madrid",
    "FM": "Pacific/Pohnpei",  # Palikir
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta",
    "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty",  # Astana
    "MH": "Pacific/Majuro",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",  # Wellington
    "PF": "Pacific/Tahiti",  # Papeete
    "PG": "Pacific/Port_Moresby",
    "PS": "Asia/Hebron",  # Ramallah
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",  # Washington
    "UZ": "Asia/Tashkent",
}


LAST_SEEN_PRECISION = timedelta(hours=1)


async def get_or_create_member(
    *, session: AsyncSession, telegram_id: int, display_name: str, language: str
) -> tuple[Member, bool, ConversationState | None]:
    """The member for a Telegram user, created at first contact (True when new), and the step
    they are on: one query, as every update starts with it."""
    found = (
        await session.exec(
            select(Member, ConversationState)
            .outerjoin(ConversationState, col(ConversationState.member_id) == col(Member.id))
            .where(Member.telegram_id == telegram_id)
        )
    ).first()
    if found is not None:
        member, state = found
        now = utc_now()
        # Within the hour is recent enough; writing it on every update costs a write per step.
        if now - member.last_seen_at > LAST_SEEN_PRECISION:
            member.last_seen_at = now
        if display_name and member.display_name != display_name:
            member.display_name = display_name[:200]
        session.add(member)
        return member, False, state
    member = Member(telegram_id=telegram_id, display_name=display_name[:200], language=language)
    session.add(member)
    await session.flush()
    return member, True, None


async def get_member_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Member | None:
    """The member for a Telegram user, if they have written before."""
    return (await session.exec(select(Member).where(Member.telegram_id == telegram_id))).first()


async def get_member(*, session: AsyncSession, member_id: int) -> Member | None:
    """A member by id."""
    return await session.get(Member, member_id)


async def set_member_language(*, session: AsyncSession, member: Member, language: str) -> None:
    """Change the language a member reads the bot in."""
    member.language = language
    session.add(member)


async def grant_role(
    *, session: AsyncSession, member: Member, role: Role, locality_id: int | None
) -> None:
    """Let a member in with a role (and, for officials, a locality, whose country's time zone
    becomes theirs unless they already chose one)."""
    member.role = role.value
    member.locality_id = locality_id if role is Role.OFFICIAL else None
    member.active = True
    forget_revocation(member)
    if member.locality_id is not None and member.time_zone == DEFAULT_TIME_ZONE:
        locality = await session.get(Locality, member.locality_id)
        if locality is not None:
            member.time_zone = default_time_zone(country=locality.country)
    session.add(member)


async def list_coordinators(*, session: AsyncSession) -> Sequence[Member]:
    """Active coordinators, who receive requests and submissions."""
    statement = (
        select(Member)
        .where(Member.role == Role.COORDINATOR.value, col(Member.active).is_(True))
        .order_by(col(Member.id))
    )
    return (await session.exec(statement)).all()


async def mark_stopped(*, session: AsyncSession, member_ids: Sequence[int]) -> None:
    """Members who blocked the bot: no more messages until they come back."""
    for member_id in member_ids:
        member = await session.get(Member, member_id)
        if member is not None:
            member.active = False
            session.add(member)


# ---------------------------------------------------------------- settings


def default_time_zone(*, country: str | None) -> str:
    """A sensible zone for a country (ISO 3166-1 alpha-2): its only zone, its capital's,
    or the first Babel lists; UTC when the country is unknown."""
    country = (country or "").upper()
    if country == "ZZ":  # CLDR's unknown region
        return DEFAULT_TIME_ZONE
    listed: list[str] = get_global("territory_zones").get(country, [])
    zones = [z for z in listed if is_time_zone(z)]
    if not zones:
        return DEFAULT_TIME_ZONE
    capital = CAPITAL_ZONES.get(country, zones[0])
    return capital if capital in zones else zones[0]


async def set_time_zone(*, session: AsyncSession, member: Member, time_zone: str) -> None:
    """The zone a member's reminders and dates follow; an unknown zone is refused."""
    if not is_time_zone(time_zone):
        raise ValueError(f"not an IANA time zone: {time_zone!r}")
    member.time_zone = time_zone
    session.add(member)


async def set_reminder_hour(*, session: AsyncSession, member: Member, hour: int) -> None:
    """The local hour (0–23) at which reminders reach a member."""
    if not 0 <= hour <= 23:
        raise ValueError(f"an hour is 0–23, not {hour}")
    member.reminder_hour = hour
    session.add(member)


async def set_muted_kinds(
    *, session: AsyncSession, member: Member, kinds: Iterable[ReminderKind | str]
) -> None:
    """The reminder kinds a member does not want (kept once each, in the enumeration's order)."""
    wanted = {ReminderKind(k).value for k in kinds}  # ValueError on an unknown kind
    member.muted_kinds = [k.value for k in ReminderKind if k.value in wanted]
    session.add(member)


async def stop_member(*, session: AsyncSession, member: Member) -> bool:
    """The member opted out: nothing proactive reaches them until they resume; True if changed."""
    changed = member.active
    member.active = False
    session.add(member)
    return changed


async def resume_member(*, session: AsyncSession, member: Member) -> bool:
    """The member wants messages again (/start); True if they had been stopped."""
    changed = not member.active
    member.active = True
    session.add(member)
    return changed


async def member_languages(*, session: AsyncSession) -> list[str]:
    """The languages the active members read, as forum names are kept (zh_Hans → zh)."""
    rows = await session.exec(select(Member.language).where(col(Member.active).is_(True)))
    return sorted({str(language).split("_", 1)[0] for language in rows.all() if language})


async def get_members(*, session: AsyncSession, ids: Collection[int]) -> Sequence[Member]:
    """Members by id (for a batch of reminders)."""
    if not ids:
        return []
    return (await session.exec(select(Member).where(col(Member.id).in_(ids)))).all()
