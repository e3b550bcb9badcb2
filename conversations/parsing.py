"""Reading what people type: dates, amounts with currencies, countries, free text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import NumberFormatError, is_currency, parse_decimal

ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
CURRENCY_CODE = re.compile(r"^[A-Za-z]{3}$")
MAX_AMOUNT = Decimal("1e15")
# Babel knows these codes, but they name regions, test values or metals, not a country's money.
NOT_COUNTRIES = frozenset({"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"})
REAL_X_CURRENCIES = frozenset({"XAF", "XOF", "XCD", "XPF"})


@dataclass(frozen=True)
class TextProblem:
    """Why a piece of text was refused: a code the step turns into a translated message."""

    code: str
    limit: int = 0
    length: int = 0


def clean_text(text: str) -> str:
    """Text with control characters dropped and surrounding blanks trimmed; lines are kept."""
    kept = "".join(
        c for c in text if c in "\n\t" or unicodedata.category(c) not in {"Cc", "Cs", "Co"}
    )
    return "\n".join(line.rstrip() for line in kept.strip().splitlines())


def check_length(text: str, *, minimum: int, maximum: int) -> TextProblem | None:
    """A problem if `text` is empty, too short or too long."""
    if not text:
        return TextProblem("empty")
    if len(text) < minimum:
        return TextProblem("short", minimum, len(text))
    if len(text) > maximum:
        return TextProblem("long", maximum, len(text))
    return None


@dataclass(frozen=True)
class AmbiguousDate:
    """Two readings of a typed date that are both possible: the person is asked which."""

    first: date
    second: date


def read_date(text: str, locale: Locale) -> date | AmbiguousDate | None:
    """A typed date: ISO always; otherwise in the locale's order, or with a month's name.

    English is written both day-first and month-first, so 05/06/2027 is ambiguous there and
    comes back as both readings; 15/12/2027 and 12/15/2027 can only mean one thing.
    """
    text = _ascii_digits(text).strip()
    match = ISO_DATE.match(text)
    if match:
        return _date(int(match[1]), int(match[2]), int(match[3]))
    named = _date_with_month_name(text, locale)
    if named is not None:
        return named
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if len(numbers) != 3 or re.search(r"[^\d\s./\-年月日\u200f]", text):
        return None
    if numbers[0] >= 1000:  # year first, as in Chinese: 2027/12/15
        return _date(numbers[0], numbers[1], numbers[2])
    first, second, year = numbers
    if year < 100:
        year += 2000
    day_first = _day_first(locale)
    as_day_month = _date(year, second, first)
    as_month_day = _date(year, first, second)
    if as_day_month and as_month_day and as_day_month != as_month_day:
        if day_first is None:
            return AmbiguousDate(as_day_month, as_month_day)
        return as_day_month if day_first else as_month_day
    return as_day_month or as_month_day


def _day_first(locale: Locale) -> bool | None:
    """Whether the locale writes the day before the month; None where both are usual."""
    if locale.language == "en":
        return None
    pattern = locale.date_formats["short"].pattern
    return bool(pattern.find("d") < pattern.find("M"))


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _ascii_digits(text: str) -> str:
    """Arabic-Indic and other decimal digits read as 0–9."""
    return "".join(
        str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text
    )


def _date_with_month_name(text: str, locale: Locale) -> date | None:
    words = re.findall(r"\w+", _fold(text))
    numbers = [int(w) for w in words if w.isdigit()]
    months = _month_names(locale)
    named = [months[w] for w in words if w in months]
    if len(named) != 1 or len(numbers) != 2:
        return None
    day, year = (numbers[0], numbers[1]) if numbers[1] >= 1000 else (numbers[1], numbers[0])
    return _date(year, named[0], day)


def _month_names(locale: Locale) -> dict[str, int]:
    names: dict[str, int] = {}
    for source in (locale, Locale.parse("en")):
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in source.months[context][width].items():
                    names.setdefault(_fold(name).rstrip("."), int(number))
    return names


def read_money(text: str, locale: Locale) -> tuple[Decimal, str] | None:
    """An amount and an ISO 4217 code in either order ('250000 EUR', 'USD 1,500.50')."""
    parts = _ascii_digits(text).replace("\u00a0", " ").replace("\u202f", " ").split()
    codes = [p for p in parts if CURRENCY_CODE.match(p)]
    if len(codes) != 1:
        return None
    code = codes[0].upper()
    amount_text = "".join(p for p in parts if p is not codes[0])
    if not is_currency(code) or not amount_text:
        return None
    if code.startswith("X") and code not in REAL_X_CURRENCIES:
        return None
    try:
        # Strict: "1.500" means 1500 in Spanish and 1.5 in English; a mismatch is refused.
        amount = parse_decimal(amount_text, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        return None
    if not amount.is_finite() or amount <= 0 or amount >= MAX_AMOUNT:
        return None
    return amount.quantize(Decimal("0.01")), code


def read_country(text: str, locale: Locale) -> str | None:
    """An ISO 3166-1 alpha-2 code from a code or a country's name in the locale or English."""
    wanted = _fold(text)
    if not wanted:
        return None
    territories = Locale.parse("en").territories
    if len(wanted) == 2 and wanted.upper() in territories and wanted.upper() not in NOT_COUNTRIES:
        return wanted.upper()
    for names in (locale.territories, territories):
        for code, name in names.items():
            if (
                len(code) == 2
                and code.isalpha()
                and code not in NOT_COUNTRIES
                and _fold(name) == wanted
            ):
                return str(code)
    return None


def country_name(code: str, locale: Locale) -> str:
    """A country's name in the locale, or its code if Babel does not know it."""
    return str(locale.territories.get(code, code))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


TIME_AT_END = re.compile(r"(?:^|[\s,T])(\d{1,2})[:h](\d{2})\s*$")


def read_date_time(text: str, locale: Locale) -> tuple[date | AmbiguousDate | None, time | None]:
    """A typed date followed by a 24-hour time ('2027-03-15 17:00'); None for a missing part."""
    text = _ascii_digits(text).strip()
    match = TIME_AT_END.search(text)
    if match is None:
        return read_date(text, locale), None
    hour, minute = int(match[1]), int(match[2])
    at = time(hour, minute) if hour < 24 and minute < 60 else None
    return read_date(text[: match.start()].strip(" ,T"), locale), at


def read_offsets(text: str) -> list[int] | None:
    """Whole numbers separated by commas or spaces ('30, 14, 7'), or None if anything else."""
    parts = [p for p in re.split(r"[\s,;、،]+", _ascii_digits(text)) if p]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]
