"""Catalogs, language negotiation and locale-aware formatting (Babel)."""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


class Html(str):
    """Text already safe to put into a Telegram HTML message as it is."""

    __slots__ = ()


def escape(value: object) -> Html:
    """Text made safe for Telegram HTML: `Html` passes through, anything else is escaped."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def _interpolate(template: str, values: Mapping[str, object]) -> Html:
    if not values:
        return Html(template)
    return Html(template % {key: escape(value) for key, value in values.items()})


@dataclass(frozen=True)
class Translator:
    """One person's language: translated messages and Babel formatting."""

    language: str
    locale: Locale
    translations: NullTranslations

    def gettext(self, message: str, /, **values: object) -> Html:
        """The translation of `message`, with `values` escaped and filled in."""
        return _interpolate(self.translations.gettext(message), values)

    def plain(self, message: str, /, **values: object) -> str:
        """The translation as plain text (buttons, alerts, values): nothing is escaped."""
        translated = self.translations.gettext(message)
        return str(translated % values) if values else str(translated)

    def pgettext(self, context: str, message: str, /, **values: object) -> Html:
        """Like gettext, for a message whose meaning depends on `context`."""
        return _interpolate(str(self.translations.pgettext(context, message)), values)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> Html:
        """The plural form for `n`; `%(count)s` is `n` formatted for the locale."""
        values.setdefault("count", self.number(n))
        return _interpolate(self.translations.ngettext(singular, plural, n), values)

    def date(self, value: date, *, format: str = "long") -> str:
        return str(format_date(value, format=format, locale=self.locale))

    def datetime(self, value: datetime, *, time_zone: str = "UTC", format: str = "medium") -> str:
        return str(
            format_datetime(value, format=format, tzinfo=ZoneInfo(time_zone), locale=self.locale)
        )

    def number(self, value: int | Decimal) -> str:
        return str(format_decimal(value, locale=self.locale))

    def money(self, amount: Decimal, currency: str) -> str:
        return str(format_currency(amount, currency, locale=self.locale))


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
        """The best available language for a tag such as `pt-br`, or None."""
        if not tag:
            return None
        wanted = tag.replace("-", "_")
        found = Locale.negotiate([wanted], self.languages, sep="_")
        if found is not None:
            return str(found)
        # Negotiation wants exact regions; fall back to the base language.
        base = wanted.split("_", 1)[0].lower()
        return base if base in self._translations else None

    def translator(self, language: str | None) -> Translator:
        """A translator for `language`, or for the default language if it is not available."""
        code = self.negotiate(language) or self.default_language
        try:
            locale = Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            code, locale = SOURCE_LANGUAGE, Locale.parse(SOURCE_LANGUAGE)
        return Translator(code, locale, self._translations[code])

    def native_name(self, language: str) -> str:
        """A language's name in that language, e.g. `Français`."""
        name = Locale.parse(language).get_display_name(language) or language
        return str(name[:1].upper() + name[1:])
