"""CSV and XLSX files read as sheets of text, a row at a time, as often as the import needs.

Nothing here holds more than a row: a file of a million rows is read once to be validated and
once more to be written. What cannot be read is refused with an `ImportFileError` whose
problem says why, wherever it is found (a damaged row near the end, too many bytes unpacked).
"""

from __future__ import annotations

import csv
import warnings
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from storage.exchange.layout import FALSE, PLEDGES_SHEET, TRUE, unguard_formula
from storage.exchange.problems import ImportFileError, Trouble

# A workbook may unpack to this much XML in all: a million exported pledges are about 1.9 GB.
MAX_UNPACKED_BYTES = 4 * 1024**3
# Deflate packs a sheet's XML 20 to 150 times; a zip bomb's part, near deflate's limit of 1,032.
MAX_RATIO = 500
RATIO_FROM_BYTES = 1024**2  # small parts (styles, an empty sheet) may pack better, harmlessly
# A line of a CSV file: 34 columns of at most 3,000 characters fit many times over.
MAX_LINE_BYTES = 8 * 1024**2
_MB = 1024**2


@dataclass(frozen=True)
class Sheet:
    """A sheet read as text: its header, and its rows read anew from the file on each pass."""

    name: str
    header: list[str]
    lines: Callable[[], Iterator[Sequence[object]]]  # the rows below the header, as cells

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row that is not blank, with its row number in the file, by column."""
        for number, values in enumerate(self.lines(), start=2):
            texts = [_cell_text(v) for v in values]
            if any(texts):  # spreadsheets keep blank rows at the end
                yield number, dict(zip(self.header, texts, strict=False))


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text the codes layout has (a program may have typed it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(cells: Sequence[object]) -> list[str]:
    header = [_cell_text(v) for v in cells]
    while header and not header[-1]:
        header.pop()
    return header


@contextmanager
def open_sheets(path: Path) -> Iterator[tuple[Sheet, Sheet | None]]:
    """The pledges and, in an XLSX file, the progress reports (the first two sheets)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        lines = _csv_lines(path)
        try:
            header = _header(next(lines, []))
        finally:
            lines.close()
        yield Sheet(PLEDGES_SHEET, header, lambda: _csv_lines(path, skip=1)), None
    elif suffix == ".xlsx":
        with _workbook(path) as sheets:
            yield sheets
    else:
        raise ImportFileError(Trouble.UNKNOWN_FILE_TYPE)


def _csv_lines(path: Path, *, skip: int = 0) -> Generator[list[str]]:
    try:
        with path.open("rb") as handle:
            reader = csv.reader(_decoded_lines(handle))
            try:
                for number, line in enumerate(reader):
                    if number >= skip:
                        yield [unguard_formula(v) for v in line]
            except csv.Error as error:
                raise ImportFileError(
                    Trouble.NOT_CSV, line=reader.line_num, error=str(error)
                ) from None
    except OSError as error:
        raise ImportFileError(Trouble.UNREADABLE, error=error.strerror or str(error)) from None


def _decoded_lines(handle: IO[bytes]) -> Iterator[str]:
    """Each line of the file as text, checked on its own: a binary file is caught at its first
    line that is not UTF-8, with its number, and never read whole as one endless line."""
    number = 0
    while raw := handle.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise ImportFileError(Trouble.LINE_TOO_LONG, line=number, limit=MAX_LINE_BYTES // _MB)
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(Trouble.NOT_UTF8, line=number) from None


class _NamingZip(zipfile.ZipFile):
    """A workbook's zip that remembers the part it opened last, to name it in a problem."""

    part = ""

    def open(
        self, name: str | zipfile.ZipInfo, mode: Any = "r", pwd: bytes | None = None, **kw: Any
    ) -> IO[bytes]:
        self.part = name if isinstance(name, str) else name.filename
        return super().open(name, mode, pwd, **kw)


def _check_sizes(archive: zipfile.ZipFile) -> None:
    """Refuse a zip bomb by what its headers say, before unpacking anything. Headers can lie,
    but zipfile unpacks a part only up to the size its header declares, then checks its CRC:
    a part that holds more is refused as damaged, having unpacked no more than declared."""
    parts = archive.infolist()
    if sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        raise ImportFileError(Trouble.TOO_LARGE_UNPACKED, limit=MAX_UNPACKED_BYTES // _MB)
    for part in parts:
        if part.file_size > RATIO_FROM_BYTES and part.file_size > MAX_RATIO * part.compress_size:
            raise ImportFileError(Trouble.TOO_COMPRESSED, part=part.filename, limit=MAX_RATIO)


# What openpyxl raises on a zip that is not a workbook or on a damaged part (a missing part, a
# bad CRC, a truncated stream, a value it cannot convert).
_NOT_A_WORKBOOK = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    NotImplementedError,
)


@contextmanager
def _refusing(archive: _NamingZip) -> Iterator[None]:
    """Whatever goes wrong reading the workbook, said as the problem it is."""
    try:
        yield
    except ParseError as error:
        line, column = error.position
        raise ImportFileError(
            Trouble.MALFORMED_XML, part=archive.part, line=line, column=column + 1
        ) from None
    except _NOT_A_WORKBOOK:
        raise ImportFileError(Trouble.NOT_A_WORKBOOK) from None
    except OSError as error:
        raise ImportFileError(Trouble.UNREADABLE, error=error.strerror or str(error)) from None


@contextmanager
def _workbook(path: Path) -> Iterator[tuple[Sheet, Sheet | None]]:
    from openpyxl.reader.excel import ExcelReader

    try:
        archive = _NamingZip(path)
    except zipfile.BadZipFile:
        raise ImportFileError(Trouble.NOT_A_ZIP) from None
    except OSError as error:
        raise ImportFileError(Trouble.UNREADABLE, error=error.strerror or str(error)) from None
    try:
        _check_sizes(archive)
        with _refusing(archive), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on styles it does not know
            reader = ExcelReader(path, read_only=True, data_only=True)
            # openpyxl opened the zip itself; it reads the counted one instead.
            reader.archive.close()
            reader.archive = archive
            reader.read()
            sheets = reader.wb.worksheets
            if not sheets:
                raise ImportFileError(Trouble.NO_SHEET)
            read = [_xlsx_sheet(archive, sheet) for sheet in sheets[:2]]
        yield read[0], read[1] if len(read) > 1 else None
    finally:
        archive.close()


def _xlsx_sheet(archive: _NamingZip, sheet: Any) -> Sheet:
    header = _header(next(sheet.iter_rows(max_row=1, values_only=True), ()))

    def lines() -> Iterator[Sequence[object]]:
        with _refusing(archive):
            yield from sheet.iter_rows(min_row=2, values_only=True)

    return Sheet(sheet.title, header, lines)
