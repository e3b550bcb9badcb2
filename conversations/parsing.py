"""Reading what people type: dates, amounts with currencies, countries, free text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.dates import parse_date
from babel.numbers import NumberFormatError, is_currency, parse_decimal

ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
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


def read_date(text: str, locale: Locale) -> date | None:
    """A date typed as ISO (2027-12-15) or in the locale's short form; None if unreadable."""
    match = ISO_DATE.match(text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        return parse_date(text.strip(), locale=locale)
    except (ValueError, IndexError):
        return None


def read_money(text: str, locale: Locale) -> tuple[Decimal, str] | None:
    """An amount and an ISO 4217 code in either order ('250000 EUR', 'USD 1,500.50')."""
    parts = text.replace("\u00a0", " ").split()
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
        amount = parse_decimal(amount_text, locale=locale, strict=False)
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
