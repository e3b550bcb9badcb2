"""Reading what people type: dates, amounts with currencies, countries, contacts, free text."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.core import get_global
from babel.numbers import get_currency_name, get_territory_currencies, is_currency

from conversations.i18n import directions_paired
from storage.pledges import EMAIL

# Marks and isolates that set the direction of text around them; they mean nothing to a reader.
BIDI_CONTROLS = frozenset(
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
AMOUNT_AND_CURRENCY = re.compile(
    r"(?P<before>[^\d]*?)\s*(?P<amount>\d[\d\s.,'’\u066b\u066c]*?)\s*(?P<after>[^\d]*)"
)
# A day written as an ordinal: 1er janvier, 1º de março, 1st March, 1-го марта.
ORDINAL_DAY = re.compile(r"\b(\d{1,2})(?:er|re|ère|e|ème|º|ª|°|st|nd|rd|th|-?го|-?е)(?=\s|$)")
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


# Letters and symbols that show nothing: the Hangul fillers and the blank braille pattern.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def can_be_seen(text: str) -> bool:
    """Whether `text` has a letter, digit, punctuation or symbol: not only spaces, zero-width
    and format characters, or combining marks with nothing to sit on."""
    return any(unicodedata.category(c)[0] in "LNPS" and c not in BLANK_LETTERS for c in text)


def check_shown(text: str) -> TextProblem | None:
    """A problem if a name or title could not be read where it is shown: nothing in it can be
    seen, or a direction control in it is left open (it would turn the text after it)."""
    if text and not can_be_seen(text):
        return TextProblem("invisible")
    if not directions_paired(text):
        return TextProblem("direction")
    return None


def check_name(text: str, *, minimum: int, maximum: int) -> TextProblem | None:
    """`check_length` and `check_shown`, for a title or a name."""
    return check_shown(text) or check_length(text, minimum=minimum, maximum=maximum)


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
    text = ORDINAL_DAY.sub(r"\1", _plain(text))
    read = _read_date(text, locale)
    if read is None and (without := _without_weekday(text, locale)) != text:
        read = _read_date(without, locale)  # a full date, as the bot shows it: '2027年1月1日星期五'
    return read


def _read_date(text: str, locale: Locale) -> date | AmbiguousDate | None:
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


def _without_weekday(text: str, locale: Locale) -> str:
    """The date without the day of the week a full date carries ('2027年1月1日星期五')."""
    names = {
        str(name)
        for context in ("format", "stand-alone")
        for width in ("wide", "abbreviated")
        for name in locale.days[context][width].values()
    }
    for name in sorted(names, key=len, reverse=True):
        if name in text:
            return text.replace(name, " ").strip(" ,")
    return text


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


def _plain(text: str) -> str:
    """What was typed, ready to read: no direction marks or isolates (the bot's own Arabic
    examples carry them, and a copied value brings them back), digits as 0–9, one kind of
    space."""
    kept = "".join(c for c in text if c not in BIDI_CONTROLS)
    return re.sub(r"[^\S\n]+", " ", _ascii_digits(kept)).strip()


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
    """An amount and its currency in either order, as people write them and as the bot shows
    them: an ISO 4217 code ('250000 EUR', 'USD 1,500.50'), a symbol ('250 000 €', 'R$ 1.234,50')
    or a name in the reader's language or English ('250000 euros', '500000 جنيه')."""
    found = AMOUNT_AND_CURRENCY.fullmatch(_plain(text))
    if found is None:
        return None
    code = _currency(f"{found['before']} {found['after']}", locale)
    amount = _amount(found["amount"])
    if code is None or amount is None or amount >= MAX_AMOUNT:
        return None
    return amount.quantize(Decimal("0.01")), code


def _amount(text: str) -> Decimal | None:
    """A positive number with any grouping: '1 234,50', '1.234,50', '1,234.50', '250000'.

    Where both '.' and ',' appear, the later one is the decimal sign. A lone sign followed by
    exactly three digits groups thousands ('1.500', '1,500': 1500, whatever the language: a
    budget of one and a half is not what anyone means); otherwise it is the decimal sign.
    """
    digits = re.sub(r"[\s'’]", "", text).replace("\u066c", ",").replace("\u066b", ".")
    if not re.fullmatch(r"\d[\d.,]*", digits):
        return None
    signs = [c for c in digits if c in ".,"]
    decimal_sign = None
    if len(set(signs)) == 2:
        decimal_sign = signs[-1]
    elif len(signs) == 1 and len(digits) - digits.index(signs[0]) - 1 != 3:
        decimal_sign = signs[0]
    if decimal_sign is not None and digits.count(decimal_sign) > 1:
        return None
    whole, _, fraction = digits.partition(decimal_sign) if decimal_sign else (digits, "", "")
    groups = re.split(r"[.,]", whole)
    if len(groups) > 1 and (len(groups[-1]) != 3 or any(len(g) not in (2, 3) for g in groups[1:])):
        return None  # '1,2,3' is no grouping anyone writes ('1,00,000' in India is)
    number = whole.replace(".", "").replace(",", "") + ("." + fraction if fraction else "")
    try:
        amount = Decimal(number)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _currency(words: str, locale: Locale) -> str | None:
    """The ISO code meant by a code, symbol or name; where a symbol or name could mean several,
    the one of the language's main country, else none."""
    wanted = _fold(words).strip(" .")
    if not wanted:
        return None
    if CURRENCY_CODE.fullmatch(wanted):
        code = wanted.upper()
        usable = is_currency(code) and (not code.startswith("X") or code in REAL_X_CURRENCIES)
        return code if usable else None
    names = _currency_words(str(locale))
    for table in (names.exact, names.first_word):
        codes = table.get(wanted, set())
        if len(codes) == 1:
            return next(iter(codes))
        if codes & names.home:
            return next(iter(codes & names.home))
        if codes:
            return None
    return None


@dataclass(frozen=True)
class _CurrencyWords:
    exact: dict[str, set[str]]  # symbol, name or plural name, folded → codes
    first_word: dict[str, set[str]]  # the first word of a name ('جنيه' of 'جنيه مصري') → codes
    home: set[str]  # the currencies of the language's main country


@functools.cache
def _currency_words(locale_name: str) -> _CurrencyWords:
    """Every currency's symbols and names in the locale and in English (computed once each)."""
    locale = Locale.parse(locale_name)
    exact: dict[str, set[str]] = {}
    first_word: dict[str, set[str]] = {}
    for source in (locale, Locale.parse("en")):
        for code, symbol in source.currency_symbols.items():
            if not CURRENCY_CODE.fullmatch(symbol):
                exact.setdefault(_fold(_plain(symbol)).strip(" ."), set()).add(code)
        for currency in [str(c) for c in source.currencies]:
            if currency.startswith("X") and currency not in REAL_X_CURRENCIES:
                continue
            names = {
                get_currency_name(currency, count=count, locale=source)
                for count in (1, 2, 5, 11, 0.5)
            }
            for name in names:
                folded = _fold(_plain(name))
                exact.setdefault(folded, set()).add(currency)
                if " " in folded:
                    first_word.setdefault(folded.split()[0], set()).add(currency)
    likely = get_global("likely_subtags").get(locale.language, "")
    territory = locale.territory or next((p for p in likely.split("_") if p.isupper()), None)
    home = set(get_territory_currencies(territory)) if territory else set()
    return _CurrencyWords(exact, first_word, home)


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
    plain = "".join(c for c in text if c not in BIDI_CONTROLS)
    decomposed = unicodedata.normalize("NFKD", plain.casefold().strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# A time at the end: 17:00, 17h00, 17 h 00 (Canadian French), or with a day period, as English
# (5:00 PM) and Arabic (5:00 م) write it.
TIME_AT_END = re.compile(r"(?:^|[\s,T])(\d{1,2})\s*[:h]\s*(\d{2})(?:\s*([^\d\s,]{1,6}))?\s*$")


def read_date_time(text: str, locale: Locale) -> tuple[date | AmbiguousDate | None, time | None]:
    """A typed date followed by a time ('2027-03-15 17:00', '… 5:00 PM' as the bot shows it
    in English); None for a missing part."""
    text = _plain(text)
    match = TIME_AT_END.search(text)
    if match is None:
        return read_date(text, locale), None
    hour, minute = int(match[1]), int(match[2])
    period = _day_period(match[3], locale) if match[3] else None
    if match[3] and period is None:
        return read_date(text, locale), None  # not a time after all
    if period is not None and 1 <= hour <= 12:
        hour = hour % 12 + (12 if period == "pm" else 0)
    at = time(hour, minute) if hour < 24 and minute < 60 else None
    return read_date(text[: match.start()].strip(" ,T"), locale), at


def _day_period(word: str, locale: Locale) -> str | None:
    """'am' or 'pm' for a day period as the locale or English abbreviates it."""
    wanted = _fold(word).replace(".", "").replace(" ", "")
    for source in (locale, Locale.parse("en")):
        for period in ("am", "pm"):
            for width in ("abbreviated", "narrow", "wide"):
                name = source.day_periods["format"][width].get(period)
                if name and _fold(str(name)).replace(".", "").replace(" ", "") == wanted:
                    return period
    return None


def read_offsets(text: str) -> list[int] | None:
    """Whole numbers separated by commas or spaces ('30, 14, 7'), or None if anything else."""
    parts = [p for p in re.split(r"[\s,;、،]+", _plain(text)) if p]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


PHONE = re.compile(r"\+?[\d\s().\-]{6,32}")
MAX_EMAIL, MAX_PHONE, MAX_CONTACT_TEXT = 254, 32, 200


@dataclass(frozen=True)
class Contact:
    """A pledge's contact person as typed: name, title, e-mail and (optional) phone."""

    name: str
    title: str
    email: str
    phone: str = ""


def read_contact(text: str) -> Contact | list[str]:
    """A contact from lines (or, on one line, parts between commas) in any order: the part with
    an @ is the e-mail, a run of digits the phone, the first other part the name and the rest
    the title. Otherwise the parts still missing: 'name', 'title', 'email'."""
    plain = _plain(clean_text(text))
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    parts = lines if len(lines) > 1 else [p.strip() for p in re.split(r"[,;،]", plain) if p.strip()]
    email = phone = ""
    words: list[str] = []
    for part in parts:
        if "@" in part and not email:
            email = part
        elif PHONE.fullmatch(part) and sum(c.isdigit() for c in part) >= 6 and not phone:
            phone = " ".join(part.split())
        else:
            words.append(" ".join(part.split()))
    missing = []
    if not words or len(words[0]) > MAX_CONTACT_TEXT:
        missing.append("name")
    title = ", ".join(words[1:])
    if not title or len(title) > MAX_CONTACT_TEXT:
        missing.append("title")
    if not EMAIL.fullmatch(email) or len(email) > MAX_EMAIL:
        missing.append("email")
    if missing:
        return missing
    return Contact(words[0], title, email.lower(), phone[:MAX_PHONE])


def read_countries(text: str, locale: Locale) -> tuple[list[str], list[str]]:
    """Countries named or coded, separated by commas or lines: their codes, in the order typed
    and once each, and the parts that are no country."""
    codes: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[,;،、\n]+", _plain(text)):
        if not part.strip():
            continue
        code = read_country(part.strip(), locale)
        if code is None:
            unknown.append(part.strip())
        elif code not in codes:
            codes.append(code)
    return codes, unknown
