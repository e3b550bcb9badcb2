"""Which IANA time zones exist: one answer for members, forums and reminders."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIME_ZONE = "UTC"


@cache
def time_zone_names() -> frozenset[str]:
    """Every IANA zone this system knows (read from disk once), without the system's own
    `localtime` and tzdata's `Factory`."""
    return frozenset(available_timezones() - {"localtime", "Factory", "posixrules"})


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this system knows, spelled exactly."""
    return name in time_zone_names()


def zone_or_utc(name: str) -> ZoneInfo:
    """A stored zone; one that no longer exists reads as UTC rather than failing."""
    return ZoneInfo(name if is_time_zone(name) else DEFAULT_TIME_ZONE)
