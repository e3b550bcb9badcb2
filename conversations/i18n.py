"""Catalogs, language negotiation and locale-aware formatting (Babel)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from storage.zones import zone_or_utc

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
_DateTime = datetime  # Translator.datetime shadows the name inside the class


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


class Html(str):
    """Text already safe to put into a Telegram HTML message as it is."""

    __slots__ = ()


def escape(value: object) -> Html:
    """Text made safe for Telegram HTML: `Html` passes through, anything else is escaped, and
    a direction control left open in it is closed, so it cannot turn the rest of a card."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(close_directions(str(value)), quote=True))


# First-strong isolate … pop directional isolate: an inserted value keeps its own direction.
FSI, PDI = "\u2068", "\u2069"
# Embeddings and overrides (LRE, RLE, LRO, RLO) end at PDF; isolates (LRI, RLI, FSI) at PDI.
EMBEDDINGS, PDF = frozenset("\u202a\u202b\u202d\u202e"), "\u202c"
ISOLATES = frozenset("\u2066\u2067\u2068")
DIRECTION_CONTROLS = EMBEDDINGS | ISOLATES | {PDF, PDI}


def close_directions(text: str) -> str:
    """`text` with each embedding, override and isolate closed where it must be: a closing
    control that closes nothing is dropped, one still open is closed at the end, and an
    isolate's end first closes what was opened inside it (as Unicode's bidi algorithm reads
    it). Text whose controls pair properly comes back as it is."""
    if DIRECTION_CONTROLS.isdisjoint(text):
        return text
    kept: list[str] = []
    open_: list[str] = []
    for c in text:
        if c in EMBEDDINGS or c in ISOLATES:
            open_.append(c)
        elif c == PDF:
            if not open_ or open_[-1] not in EMBEDDINGS:
                continue
            open_.pop()
        elif c == PDI:
            if not any(o in ISOLATES for o in open_):
                continue
            while open_[-1] not in ISOLATES:
                kept.append(PDF)
                open_.pop()
            open_.pop()
        kept.append(c)
    kept += [PDF if o in EMBEDDINGS else PDI for o in reversed(open_)]
    return "".join(kept)


def directions_paired(text: str) -> bool:
    """Whether every embedding, override and isolate in `text` is closed, in order."""
    return close_directions(text) == text


class CommandText(str):
    """A /command inside a sentence. It is never isolated: Telegram makes `/name` tappable
    only when nothing, not even an invisible control character, comes between its parts, and
    being ASCII it keeps its direction in right-to-left text by itself."""

    @classmethod
    def named(cls, name: str) -> str:
        """`/name` as a tappable command, or as plain text if `name` could not be one."""
        if re.fullmatch(r"[A-Za-z0-9_]{1,32}", name):
            return cls(f"/{name}")
        return f"/{name}"


def isolate(text: str) -> str:
    """`text` set apart from the right-to-left sentence around it (names, references, numbers);
    a CommandText stays as it is."""
    if isinstance(text, CommandText) or not text:
        return text
    return f"{FSI}{text}{PDI}"


RLM = "\u200f"  # right-to-left mark: sets the direction of a line that starts with a value


def _rtl_lines(template: str) -> str:
    """A right-to-left template whose lines begin with a value (a number, a reference, a
    name, each isolated) would be laid out left to right: each such line starts with RLM."""
    return "\n".join(
        RLM + line if line.lstrip().startswith("%(") else line for line in template.split("\n")
    )


def _interpolate(template: str, values: Mapping[str, object], *, rtl: bool) -> Html:
    if rtl:
        template = _rtl_lines(template)
    if not values:
        return Html(template)
    escaped = {key: escape(value) for key, value in values.items()}
    if rtl:
        escaped = {
            key: value if isinstance(values[key], CommandText) else Html(isolate(value))
            for key, value in escaped.items()
        }
    return Html(template % escaped)


@dataclass(frozen=True)
class Translator:
    """One person's language: translated messages and Babel formatting."""

    language: str
    locale: Locale
    translations: NullTranslations

    @property
    def rtl(self) -> bool:
        """Whether the language is written right to left (Arabic)."""
        return bool(self.locale.character_order == "right-to-left")

    def gettext(self, message: str, /, **values: object) -> Html:
        """The translation of `message`, with `values` escaped and filled in."""
        return _interpolate(self.translations.gettext(message), values, rtl=self.rtl)

    def plain(self, message: str, /, **values: object) -> str:
        """The translation as plain text (buttons, alerts, values): nothing is escaped."""
        translated = str(self.translations.gettext(message))
        if not values:
            return translated
        if self.rtl:
            values = {
                key: isolate(value if isinstance(value, str) else str(value))
                for key, value in values.items()
            }
        return translated % values

    def pgettext(self, context: str, message: str, /, **values: object) -> Html:
        """Like gettext, for a message whose meaning depends on `context`."""
        translated = str(self.translations.pgettext(context, message))
        return _interpolate(translated, values, rtl=self.rtl)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> Html:
        """The plural form for `n`; `%(count)s` is `n` formatted for the locale."""
        values.setdefault("count", self.number(n))
        translated = self.translations.ngettext(singular, plural, n)
        return _interpolate(translated, values, rtl=self.rtl)

    def language_name(self, code: str) -> str:
        """A language's name as the reader calls it, e.g. 'French' for an English reader."""
        try:
            name = Locale.parse(code).get_display_name(self.locale) or code
        except (ValueError, UnknownLocaleError):
            return code
        return str(name[:1].upper() + name[1:])

    def relative(self, delta: timedelta) -> str:
        """'in 7 days', '3 hours ago' in the reader's language; whole days stay days."""
        days = abs(delta.total_seconds()) / 86400
        # Babel would say "in 1 week" for 7 days; a deadline reads better counted in days.
        threshold = days if days >= 1 else 0.85
        return str(
            format_timedelta(delta, threshold=threshold, add_direction=True, locale=self.locale)
        )

    def join(self, items: Iterable[str]) -> str:
        """Values listed the reader's way: 'A, B, and C', 'A وB وC', 'A、B和C'."""
        values = [item for item in items if item]
        return str(format_list(values, locale=self.locale)) if values else ""

    def days_until(self, deadline: datetime, now: datetime, *, time_zone: str) -> str:
        """'in 30 days' counted in calendar days where the reader is: a deadline tomorrow
        evening is 'in 1 day' this morning, however many hours that is; within the same day
        (or once past), hours."""
        zone = ZoneInfo(time_zone)
        days = (deadline.astimezone(zone).date() - now.astimezone(zone).date()).days
        if days <= 0 or deadline <= now:
            return self.relative(deadline - now)
        return str(
            format_timedelta(
                timedelta(days=days),
                granularity="day",
                threshold=days + 1,  # never rounded up into weeks or months
                add_direction=True,
                locale=self.locale,
            )
        )

    def date(self, value: date, *, format: str = "long") -> str:
        return str(format_date(value, format=format, locale=self.locale))

    def datetime(self, value: datetime, *, time_zone: str = "UTC", format: str = "medium") -> str:
        return str(
            format_datetime(value, format=format, tzinfo=ZoneInfo(time_zone), locale=self.locale)
        )

    def moment(self, value: _DateTime, *, time_zone: str) -> str:
        """'15 December 2027, 17:00' in the reader's language, at `time_zone`."""
        zone = zone_or_utc(time_zone)
        local = value.astimezone(zone)
        return self.plain(
            "%(date)s, %(time)s",
            date=self.date(local.date()),
            time=str(format_time(local, format="short", tzinfo=zone, locale=self.locale)),
        )

    def number(self, value: int | Decimal) -> str:
        return str(format_decimal(value, locale=self.locale))

    def money(self, amount: Decimal, currency: str) -> str:
        return str(format_currency(amount, currency, locale=self.locale))


def _formats_locale(tag: str | None, code: str) -> Locale | None:
    """The reader's regional locale when it writes the catalog's language in the catalog's
    script: `es-419` for the `es` catalog, but not `zh-hant` for `zh_Hans`, whose month names
    would then be in another script than the messages around them."""
    if not tag:
        return None
    try:
        regional, catalog = Locale.parse(tag.strip().replace("-", "_")), Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return None
    if regional.territory is None or regional.language != catalog.language:
        return None
    if regional.script not in (None, catalog.script):
        return None
    return regional


def compile_catalog(po_path: Path) -> Translations:
    """Compile a .po file in memory, so what runs is never older than the catalog."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


class Catalogs:
    """Every language found under `locales/`, compiled at start."""

    def __init__(self, locales_dir: Path = LOCALES_DIR, *, default_language: str = "en") -> None:
        self._translations: dict[str, NullTranslations] = {SOURCE_LANGUAGE: NullTranslations()}
        for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            self._translations[po_path.parent.parent.name] = compile_catalog(po_path)
        self.default_language = self.negotiate(default_language) or SOURCE_LANGUAGE

    @property
    def languages(self) -> list[str]:
        return sorted(self._translations)

    def negotiate(self, tag: str | None) -> str | None:
        """The best catalog for a tag Telegram sends (`pt-br`, `zh-hans`, `es-419`), or None."""
        if not tag:
            return None
        wanted = tag.strip().replace("-", "_").casefold()
        by_folded = {code.casefold(): code for code in self._translations}
        if wanted in by_folded:
            return by_folded[wanted]
        base = wanted.split("_", 1)[0]
        if base in by_folded:
            return by_folded[base]
        # One catalog per language whatever the region or script: zh-hant readers get zh_Hans,
        # the closest there is, rather than English.
        same_language = sorted(c for c in self._translations if c.split("_", 1)[0] == base)
        return same_language[0] if same_language else None

    def regional(self, tag: str | None) -> str | None:
        """What a reader's language is kept as: the catalog, narrowed to their region where
        that region writes numbers and dates its own way (`es-419` → `es_419`, which reads
        1,234.50 where Spain writes 1.234,50), or None when there is no catalog for it."""
        code = self.negotiate(tag)
        if code is None or tag is None:
            return code
        formats = _formats_locale(tag, code)
        return str(formats) if formats is not None else code

    def translator(self, language: str | None) -> Translator:
        """A translator for `language`, or for the default language if it is not available;
        its messages come from the catalog, its numbers and dates from the reader's region."""
        code = self.negotiate(language) or self.default_language
        try:
            locale = _formats_locale(language, code) or Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            code, locale = SOURCE_LANGUAGE, Locale.parse(SOURCE_LANGUAGE)
        return Translator(code, locale, self._translations[code])

    def native_name(self, language: str) -> str:
        """A language's name in that language, e.g. `Français`."""
        name = Locale.parse(language).get_display_name(language) or language
        return str(name[:1].upper() + name[1:])
