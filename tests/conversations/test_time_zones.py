"""Reading a time zone from what a person types; showing one."""

from __future__ import annotations

import pytest
from babel import Locale

from conversations.i18n import Catalogs
from conversations.time_zones import (
    NotWholeHours,
    city_zone,
    read_time_zone,
    utc_offset_label,
    zone_label,
)


@pytest.mark.parametrize(
    ("typed", "language", "zone"),
    [
        ("America/Sao_Paulo", "en", "America/Sao_Paulo"),
        ("  AMERICA/SAO_PAULO ", "en", "America/Sao_Paulo"),
        ("São Paulo", "en", "America/Sao_Paulo"),
        ("SAO-PAULO", "en", "America/Sao_Paulo"),
        ("New York", "en", "America/New_York"),
        ("Buenos Aires", "en", "America/Argentina/Buenos_Aires"),
        ("Asia/Calcutta", "en", "Asia/Kolkata"),  # old names lead to the current zone
        ("Kiev", "en", "Europe/Kyiv"),
        ("Londres", "fr", "Europe/London"),  # a city in the reader's language
        ("Москва", "ru", "Europe/Moscow"),
        ("UTC", "en", "UTC"),
        ("gmt", "en", "UTC"),
        ("+00:00", "en", "UTC"),
        ("+03:00", "en", "Etc/GMT-3"),  # POSIX signs: UTC+3 is Etc/GMT-3
        ("+3", "en", "Etc/GMT-3"),
        ("UTC+14", "en", "Etc/GMT-14"),
        ("GMT-5", "en", "Etc/GMT+5"),
        ("−12:00", "en", "Etc/GMT+12"),  # a typographic minus
        ("Lyon", "en", None),  # a city, but no zone is named after it
        ("Mars/Olympus_Mons", "en", None),
        ("localtime", "en", None),
        ("+15", "en", None),
        ("-13", "en", None),
        ("+03:75", "en", None),
        ("", "en", None),
    ],
)
def test_read_time_zone(typed: str, language: str, zone: str | None) -> None:
    assert read_time_zone(typed, Locale.parse(language)) == zone


def test_offsets_that_are_not_whole_hours_need_a_city() -> None:
    assert read_time_zone("+05:30", Locale.parse("en")) == NotWholeHours("+05:30")
    assert read_time_zone("UTC-0930", Locale.parse("en")) == NotWholeHours("−09:30")


def test_zone_labels(catalogs: Catalogs) -> None:
    en, fr = catalogs.translator("en"), catalogs.translator("fr")
    assert zone_label(en, "America/Sao_Paulo") == "São Paulo (America/Sao_Paulo)"
    assert zone_label(fr, "Europe/London") == "Londres (Europe/London)"
    assert zone_label(en, "Etc/GMT-3") == "UTC+03:00"
    assert zone_label(en, "UTC") == "UTC"
    assert utc_offset_label("Etc/GMT+12") == "UTC−12:00"
    assert utc_offset_label("Europe/Paris") is None


@pytest.mark.parametrize(
    ("typed", "country", "zone"),
    [
        ("北京", None, "Asia/Shanghai"),
        ("Beijing", None, "Asia/Shanghai"),
        ("Lyon", None, "Europe/Paris"),
        ("Marseille", "FR", "Europe/Paris"),
        ("Porto Alegre", None, "America/Sao_Paulo"),
        ("Rio de Janeiro", None, "America/Sao_Paulo"),
        ("Brasília", "BR", "America/Sao_Paulo"),
        ("New Delhi", None, "Asia/Kolkata"),
        ("Ottawa", None, "America/Toronto"),
        ("Ottawa", "US", "America/Chicago"),  # the one in the person's country first
        ("Bern", None, "Europe/Zurich"),
        ("Quito", None, "America/Guayaquil"),
        ("Женева", None, "Europe/Zurich"),
        ("Atlantis", None, "Africa/Johannesburg"),  # a town of 67,000 near Cape Town
        ("Xyzzyville", None, None),
    ],
)
def test_cities_are_found_by_their_names_in_any_language(
    typed: str, country: str | None, zone: str | None
) -> None:
    assert city_zone(typed, country) == zone
