"""`pledgebot i18n`: extract, update, compile and check the gettext catalogs with Babel."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from conversations.i18n import DOMAIN, LOCALES_DIR, SOURCE_LANGUAGE

PROJECT_DIR = LOCALES_DIR.parent
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
SOURCES = ("bot", "conversations", "storage")
# Besides Babel's defaults (gettext, ngettext, pgettext, N_ …): Translator.plain.
KEYWORDS = ("plain",)


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]


def extract(output: Path = TEMPLATE) -> None:
    """Collect every translatable string of the source into the template."""
    keyword_args = [arg for k in KEYWORDS for arg in ("-k", k)]
    _pybabel(
        "extract",
        *keyword_args,
        "--no-location",
        "--sort-output",
        "--no-wrap",
        "--project",
        "pledgebot",
        "--copyright-holder",
        "pledgebot contributors",
        "-o",
        str(output),
        *(str(PROJECT_DIR / s) for s in SOURCES),
    )


def update() -> None:
    """Carry new and changed strings from the template into every language's catalog."""
    _pybabel(
        "update",
        "-i",
        str(TEMPLATE),
        "-d",
        str(LOCALES_DIR),
        "-D",
        DOMAIN,
        "--no-wrap",
        "--ignore-obsolete",
        "--no-fuzzy-matching",
    )
    fill_source_catalog()


def fill_source_catalog() -> None:
    """The source language's catalog reads as the source: every empty entry gets its msgid."""
    path = LOCALES_DIR / SOURCE_LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.po"
    catalog = _read(path)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            strings = message.string if isinstance(message.string, tuple | list) else ()
            if not all(strings):
                message.string = (message.id[0], *[message.id[1]] * (catalog.num_plurals - 1))
        elif not message.string:
            message.string = message.id
    with path.open("wb") as file:
        write_po(file, catalog, width=0, omit_header=False)


def compile_all() -> None:
    """Write the .mo files (the bot also compiles the .po files in memory at start)."""
    _pybabel("compile", "-d", str(LOCALES_DIR), "-D", DOMAIN, "--statistics")


def init(language: str) -> None:
    """Start a catalog for a new language."""
    _pybabel(
        "init",
        "-i",
        str(TEMPLATE),
        "-d",
        str(LOCALES_DIR),
        "-D",
        DOMAIN,
        "-l",
        language,
        "--no-wrap",
    )


@dataclass(frozen=True)
class Problem:
    catalog: str
    message: str


def _read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def check() -> list[Problem]:
    """Everything wrong with the catalogs: a stale template, gaps, fuzzy or broken entries."""
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        extract(fresh)
        wanted = {m.id for m in _read(fresh) if m.id}
    have = {m.id for m in _read(TEMPLATE) if m.id} if TEMPLATE.exists() else set()
    problems += [
        Problem(TEMPLATE.name, f"missing from the template: {i!r}")
        for i in sorted(wanted - have, key=str)
    ]
    problems += [
        Problem(TEMPLATE.name, f"no longer in the source: {i!r}")
        for i in sorted(have - wanted, key=str)
    ]
    for po_path in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po_path.parent.parent.name
        catalog = _read(po_path)
        ids = {m.id for m in catalog if m.id}
        problems += [Problem(language, f"missing: {i!r}") for i in sorted(wanted - ids, key=str)]
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                problems.append(Problem(language, f"fuzzy: {message.id!r}"))
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                problems.append(Problem(language, f"untranslated: {message.id!r}"))
        for message, errors in catalog.check():
            problems += [Problem(language, f"{message.id!r}: {e}") for e in errors]
    return problems


def run(action: str, *, language: str | None = None) -> int:
    """Carry out `pledgebot i18n <action>`; 1 when `check` finds problems."""
    if action == "extract":
        extract()
    elif action == "update":
        extract()
        update()
    elif action == "compile":
        compile_all()
    elif action == "init":
        if not language:
            print("pledgebot: i18n init needs --language, e.g. --language sw", file=sys.stderr)
            return 2
        extract()
        init(language)
    elif action == "check":
        problems = check()
        for problem in problems:
            print(f"{problem.catalog}: {problem.message}")
        print(f"{len(problems)} problem(s) in the catalogs" if problems else "catalogs complete")
        return 1 if problems else 0
    return 0
