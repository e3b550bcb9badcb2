"""Reading what people type, in their own locale's way."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
from babel import Locale
from babel.dates import format_time
from babel.numbers import get_currency_precision

from conversations.i18n import Catalogs
from conversations.parsing import (
    AmbiguousDate,
    read_country,
    read_date,
    read_date_time,
    read_money,
)
from conversations.pledge_steps import budget_example


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("fr", "15/12/2027", date(2027, 12, 15)),
        ("en", "12/15/2027", date(2027, 12, 15)),
        ("en", "15/12/2027", date(2027, 12, 15)),
        ("es", "3/4/2027", date(2027, 4, 3)),
        ("ru", "05.06.2027", date(2027, 6, 5)),
        ("pt", "31/01/27", date(2027, 1, 31)),
        ("zh_Hans", "2027/6/5", date(2027, 6, 5)),
        ("zh_Hans", "2027年6月5日", date(2027, 6, 5)),
        ("ar", "٠٥/٠٦/٢٠٢٧", date(2027, 6, 5)),
        ("fr", "2027-12-15", date(2027, 12, 15)),
        ("ar", "2027-12-15", date(2027, 12, 15)),
        ("en", "15 December 2027", date(2027, 12, 15)),
        ("en", "December 15, 2027", date(2027, 12, 15)),
        ("fr", "15 décembre 2027", date(2027, 12, 15)),
        ("es", "3 de marzo de 2027", date(2027, 3, 3)),
        ("ru", "5 июня 2027", date(2027, 6, 5)),
    ],
)
def test_dates_are_read_in_the_persons_locale(language: str, text: str, expected: date) -> None:
    assert read_date(text, Locale.parse(language)) == expected


def test_a_date_with_two_english_readings_is_asked_back() -> None:
    reading = read_date("05/06/2027", Locale.parse("en"))
    assert reading == AmbiguousDate(date(2027, 6, 5), date(2027, 5, 6))


@pytest.mark.parametrize("text", ["2027-02-30", "31/31/2027", "hello", "1/2/3/4", "", "12/2027"])
def test_impossible_dates_are_refused(text: str) -> None:
    assert read_date(text, Locale.parse("en")) is None


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("es", "1.234,50 EUR", (Decimal("1234.50"), "EUR")),
        ("en", "1,500.50 USD", (Decimal("1500.50"), "USD")),
        ("en", "USD 250000", (Decimal("250000.00"), "USD")),
        ("fr", "1 234,50 eur", (Decimal("1234.50"), "EUR")),
        ("ar", "٢٥٠٠٠٠ USD", (Decimal("250000.00"), "USD")),
        ("pt", "10.000 BRL", (Decimal("10000.00"), "BRL")),
        ("en", "5000 XOF", (Decimal("5000.00"), "XOF")),
    ],
)
def test_amounts_are_read_in_the_persons_locale(
    language: str, text: str, expected: tuple[Decimal, str]
) -> None:
    assert read_money(text, Locale.parse(language)) == expected


@pytest.mark.parametrize(
    "text", ["250000", "EUR", "-5 EUR", "0 EUR", "12 XXX", "12 ABC", "1,500.50 USD EUR"]
)
def test_bad_amounts_are_refused(text: str) -> None:
    assert read_money(text, Locale.parse("en")) is None


def test_a_grouping_of_another_region_is_read_as_written() -> None:
    """Spanish readers in Latin America write 1,500.50: the later sign is the decimal one."""
    assert read_money("1,500.50 USD", Locale.parse("es")) == (Decimal("1500.50"), "USD")
    assert read_money("1,500 USD", Locale.parse("es")) == (Decimal("1500.00"), "USD")


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("fr", "250 000 €", (Decimal("250000.00"), "EUR")),
        ("pt", "R$ 1.234,50", (Decimal("1234.50"), "BRL")),
        ("fr", "250000 euros", (Decimal("250000.00"), "EUR")),
        ("fr", "1.234,50 EUR", (Decimal("1234.50"), "EUR")),
        ("ar", "٥٠٠٬٠٠٠ EGP", (Decimal("500000.00"), "EGP")),
        ("ar", "500000 جنيه", (Decimal("500000.00"), "EGP")),
        ("ar", "\u2068250000 EUR\u2069", (Decimal("250000.00"), "EUR")),
        ("en", "1,00,000 INR", (Decimal("100000.00"), "INR")),
    ],
)
def test_amounts_written_with_symbols_names_and_marks(
    language: str, text: str, expected: tuple[Decimal, str]
) -> None:
    assert read_money(text, Locale.parse(language)) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("fr", "1er janvier 2027", date(2027, 1, 1)),
        ("pt", "1º de março de 2027", date(2027, 3, 1)),
        ("en", "1st March 2027", date(2027, 3, 1)),
        ("ar", "\u2068١٥ ديسمبر ٢٠٢٧\u2069", date(2027, 12, 15)),
        ("ar", "\u200f15/12/2027", date(2027, 12, 15)),
    ],
)
def test_dates_with_ordinals_and_direction_marks(language: str, text: str, expected: date) -> None:
    assert read_date(text, Locale.parse(language)) == expected


LANGUAGES = ("ar", "en", "es", "fr", "pt", "ru", "zh_Hans")
# Readers whose region writes numbers or dates unlike the catalog's own locale does.
REGIONS = ("es-419", "es-MX", "pt-PT", "fr-CA", "en-GB", "ar-MA", "zh-TW")


@pytest.mark.parametrize("language", LANGUAGES + REGIONS)
def test_every_date_the_bot_shows_is_read_back_as_the_same_date(
    catalogs: Catalogs, language: str
) -> None:
    t = catalogs.translator(language)
    for day in (date(2027, 1, 1), date(2027, 3, 15), date(2028, 12, 31)):
        for shown in ("short", "medium", "long", "full"):
            text = t.date(day, format=shown)
            read = read_date(text, t.locale)
            if isinstance(read, AmbiguousDate):
                assert day in (read.first, read.second), (text, read)
            else:
                assert read == day, (text, read)


@pytest.mark.parametrize("language", LANGUAGES + REGIONS)
def test_every_amount_the_bot_shows_is_read_back_as_the_same_amount(
    catalogs: Catalogs, language: str
) -> None:
    t = catalogs.translator(language)
    for amount in (Decimal("250000"), Decimal("1234.5"), Decimal("0.5"), Decimal("1500")):
        for currency in ("EUR", "USD", "BRL", "EGP", "CNY", "RUB", "XOF"):
            if -amount.as_tuple().exponent > get_currency_precision(currency):  # type: ignore[operator]
                continue  # shown rounded (1,234 F CFA): the reader sees another amount
            text = t.money(amount, currency)
            assert read_money(text, t.locale) == (amount.quantize(Decimal("0.01")), currency), text


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "France", "FR"),
        ("fr", "Allemagne", "DE"),
        ("en", "br", "BR"),
        ("es", "Brasil", "BR"),
        ("en", "Cote d'Ivoire", None),
        ("en", "ZZ", None),
        ("ru", "Германия", "DE"),
    ],
)
def test_countries_by_name_or_code(language: str, text: str, expected: str | None) -> None:
    assert read_country(text, Locale.parse(language)) == expected


@pytest.mark.parametrize("language", LANGUAGES + REGIONS)
def test_the_examples_and_times_the_bot_shows_are_read_back(
    catalogs: Catalogs, language: str
) -> None:
    """What the bot offers as an example is accepted when sent back, marks and all."""
    t = catalogs.translator(language)
    assert read_money(budget_example(t), t.locale) == (Decimal("250000.00"), "EUR")
    sample = date(2028, 1, 31)
    for shown in (t.date(sample, format="short"), sample.isoformat()):
        assert read_date(shown, t.locale) == sample, shown
    for at in (time(17, 0), time(9, 5)):
        shown = format_time(at, format="short", locale=t.locale)
        assert read_date_time(f"{sample.isoformat()} {shown}", t.locale) == (sample, at), shown


def test_a_regional_reader_sees_and_is_read_in_their_regions_numbers(catalogs: Catalogs) -> None:
    """es-419 writes 1,234.50 where Spain writes 1.234,50; the words stay the Spanish catalog's,
    and a script the catalog is not written in (zh-TW) is not taken for its dates."""
    mexico, spain = catalogs.translator("es-MX"), catalogs.translator("es")
    assert mexico.language == spain.language == "es"
    assert mexico.number(Decimal("1234.5")) == "1,234.5"
    assert spain.number(Decimal("1234.5")) == "1.234,5"
    assert read_money("$1,234.50", mexico.locale) == (Decimal("1234.50"), "MXN")
    assert catalogs.regional("es-419") == "es_419" and catalogs.regional("es") == "es"
    assert catalogs.regional("zh-TW") == "zh_Hans" and catalogs.regional("xx-YY") is None
    assert str(catalogs.translator("zh-TW").locale) == "zh_Hans"
