"""Languages: negotiation, plurals, right-to-left isolation, formatting, and catalog health."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot import translations
from conversations.i18n import FSI, LOCALES_DIR, PDI, Catalogs, Html

LANGUAGES = ("ar", "en", "es", "fr", "pt", "ru", "zh_Hans")
PLURAL_NUMBERS = (0, 1, 2, 3, 5, 11, 21, 100, 101)
# Which plural form each language's rules (CLDR, as in the catalogs' headers) pick for each n.
EXPECTED_FORM = {
    "ar": (0, 1, 2, 3, 3, 4, 4, 5, 5),
    "ru": (2, 0, 1, 1, 2, 2, 0, 2, 0),
    "en": (1, 0, 1, 1, 1, 1, 1, 1, 1),
    "es": (2, 0, 2, 2, 2, 2, 2, 2, 2),
    "fr": (0, 0, 2, 2, 2, 2, 2, 2, 2),
    "pt": (0, 0, 2, 2, 2, 2, 2, 2, 2),
    "zh_Hans": (0,) * 9,
}
HEADING = (
    "<b>Your locality's pledges</b>: %(count)s pledge",
    "<b>Your locality's pledges</b>: %(count)s pledges",
)


def test_all_seven_languages_are_there(catalogs: Catalogs) -> None:
    assert set(LANGUAGES) <= set(catalogs.languages)  # an eighth is a catalog away


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("pt-br", "pt"),
        ("pt-PT", "pt"),
        ("zh-hans", "zh_Hans"),
        ("zh-hant", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("es-419", "es"),
        ("fr-CA", "fr"),
        ("ar-EG", "ar"),
        ("ru", "ru"),
        ("en-GB", "en"),
        ("de", None),
        ("", None),
        (None, None),
    ],
)
def test_telegram_language_tags_find_the_best_catalog(
    catalogs: Catalogs, tag: str | None, expected: str | None
) -> None:
    assert catalogs.negotiate(tag) == expected


def test_unknown_languages_fall_back_to_english(catalogs: Catalogs) -> None:
    assert catalogs.translator("de").language == "en"
    assert catalogs.translator(None).language == "en"


@pytest.mark.parametrize("language", LANGUAGES)
def test_plurals_pick_each_languages_own_form(catalogs: Catalogs, language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    forms = catalog[HEADING[0]].string
    assert isinstance(forms, tuple) and all(forms)
    t = catalogs.translator(language)
    for n, form in zip(PLURAL_NUMBERS, EXPECTED_FORM[language], strict=True):
        rendered = t.ngettext(*HEADING, n)
        expected = forms[form] % {"count": t.number(n) if not t.rtl else f"{FSI}{t.number(n)}{PDI}"}
        assert rendered == expected, (language, n)


def test_arabic_and_russian_really_use_their_forms(catalogs: Catalogs) -> None:
    for language, distinct in (("ar", 6), ("ru", 3)):
        t = catalogs.translator(language)
        texts = {t.ngettext(*HEADING, n).replace(t.number(n), "N") for n in PLURAL_NUMBERS}
        assert len(texts) == distinct, (language, texts)


def test_arabic_isolates_latin_references_and_numbers(catalogs: Catalogs) -> None:
    t = catalogs.translator("ar")
    text = t.gettext("Reference: %(reference)s", reference="CLA-2027-0042")
    assert f"{FSI}CLA-2027-0042{PDI}" in text
    assert text.startswith(str(t.gettext("Reference: %(reference)s", reference="x"))[:3])
    label = t.plain("%(compact)s %(number)s · %(label)s", compact="GCM", number="5", label="x")
    assert f"{FSI}GCM{PDI}" in label
    # Left-to-right languages are left as they are.
    assert FSI not in catalogs.translator("fr").gettext("Reference: %(reference)s", reference="X")


def test_values_are_escaped_but_html_fragments_are_kept(catalogs: Catalogs) -> None:
    t = catalogs.translator("en")
    text = t.gettext("<b>%(title)s</b>", title="<script>&")
    assert text == "<b>&lt;script&gt;&amp;</b>"
    assert t.gettext("<b>%(title)s</b>", title=Html("<i>ok</i>")) == "<b><i>ok</i></b>"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "December 15, 2027"),
        ("fr", "15 décembre 2027"),
        ("es", "15 de diciembre de 2027"),
        ("ru", "15 декабря 2027\u202fг."),
        ("zh_Hans", "2027年12月15日"),
    ],
)
def test_dates_are_written_the_readers_way(
    catalogs: Catalogs, language: str, expected: str
) -> None:
    assert catalogs.translator(language).date(date(2027, 12, 15)) == expected


def test_money_and_relative_times_follow_the_locale(catalogs: Catalogs) -> None:
    assert catalogs.translator("en").money(Decimal("1234.5"), "EUR") == "€1,234.50"
    assert catalogs.translator("fr").money(Decimal("1234.5"), "EUR") == "1\u202f234,50\u00a0€"
    assert catalogs.translator("en").relative(timedelta(days=7)) == "in 7 days"
    assert catalogs.translator("ru").relative(timedelta(days=7)) == "через 7 дней"


def test_catalogs_are_complete_and_their_placeholders_match_the_source() -> None:
    problems = translations.check()
    assert problems == [], "\n".join(f"{p.catalog}: {p.message}" for p in problems[:40])


@pytest.mark.parametrize(
    ("language", "zone", "said"),
    [
        (
            "en",
            "America/New_York",
            ["in 30 days", "in 14 days", "in 7 days", "in 3 days", "in 1 day"],
        ),
        (
            "fr",
            "Europe/Paris",
            ["dans 30 jours", "dans 14 jours", "dans 7 jours", "dans 3 jours", "dans 1 jour"],
        ),
    ],
)
def test_days_left_are_counted_in_the_readers_own_days(
    catalogs: Catalogs, language: str, zone: str, said: list[str]
) -> None:
    """A deadline at 17:00 in New York, read at 09:00 where the reader is, 30, 14, 7, 3 and 1
    days before: never a day more than the calendar says (it once said 31, 15, 8, 4, 2)."""
    t = catalogs.translator(language)
    deadline = datetime(2027, 12, 15, 17, 0, tzinfo=ZoneInfo("America/New_York"))
    local = deadline.astimezone(ZoneInfo(zone))
    read_at = [(local - timedelta(days=d)).replace(hour=9, minute=0) for d in (30, 14, 7, 3, 1)]
    assert [t.days_until(deadline, at, time_zone=zone) for at in read_at] == said
    same_day = local.replace(hour=9, minute=0)
    assert t.days_until(deadline, same_day, time_zone=zone) == t.relative(deadline - same_day)


def test_one_compact_is_never_named_in_the_arabic_dual(catalogs: Catalogs) -> None:
    """الاتفاقان (the two compacts) once headed a pledge serving only the GCM."""
    t = catalogs.translator("ar")
    one = t.ngettext(
        "<b>Compact:</b> %(compacts)s", "<b>Compacts:</b> %(compacts)s", 1, compacts="x"
    )
    two = t.ngettext(
        "<b>Compact:</b> %(compacts)s", "<b>Compacts:</b> %(compacts)s", 2, compacts="x"
    )
    assert "الاتفاقان" not in one and "الاتفاق العالمي" in one
    assert "الاتفاقان" in two


def test_lists_are_joined_the_readers_way(catalogs: Catalogs) -> None:
    assert catalogs.translator("en").join(["A", "B", "C"]) == "A, B, and C"
    assert catalogs.translator("zh_Hans").join(["甲", "乙", "丙"]) == "甲、乙和丙"
    assert "،" not in catalogs.translator("ar").join(["أ", "ب"])  # two: joined by و alone
    assert catalogs.translator("ar").join(["أ", "ب", "ج"]).count("و") == 2


def test_an_arabic_line_made_only_of_values_is_set_right_to_left(catalogs: Catalogs) -> None:
    """'1. CLA-2027-0001 Title — Lyon' would otherwise be laid out left to right."""
    t = catalogs.translator("ar")
    line = t.gettext(
        "%(number)s. %(reference)s <b>%(title)s</b> — %(locality)s",
        number="١",
        reference="CLA-2027-0001",
        title="Welcome",
        locality="Lyon",
    )
    assert line.startswith("\u200f")
    assert not catalogs.translator("fr").gettext("%(count)s more", count=3).startswith("\u200f")
