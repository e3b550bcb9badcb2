"""Reading what people type, in their own locale's way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel import Locale

from conversations.parsing import AmbiguousDate, read_country, read_date, read_money


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


def test_a_grouping_that_contradicts_the_locale_is_refused_not_guessed() -> None:
    assert read_money("1,500.50 USD", Locale.parse("es")) is None


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
