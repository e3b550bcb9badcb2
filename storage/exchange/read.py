"""CSV and XLSX files read as tables of text, ready to be validated."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from storage.exchange.layout import FALSE, PLEDGES_SHEET, TRUE, unguard_formula


@dataclass
class Table:
    """A sheet read as text: its header and its rows, each with its row number in the file."""

    sheet: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


class ImportFileError(ValueError):
    """A file that cannot be read at all (not CSV or XLSX, unreadable)."""


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


def _table(sheet: str, lines: Iterable[Sequence[object]]) -> Table:
    rows = iter(lines)
    header = [_cell_text(v) for v in next(rows, [])]
    while header and not header[-1]:
        header.pop()
    table = Table(sheet=sheet, header=header, rows=[])
    for number, values in enumerate(rows, start=2):
        texts = [_cell_text(v) for v in values]
        if not any(texts):
            continue  # spreadsheets keep blank rows at the end
        table.rows.append((number, dict(zip(header, texts, strict=False))))
    return table


def read_tables(path: Path) -> tuple[Table, Table | None]:
    """The pledges and, in an XLSX file, the progress reports (the first two sheets)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                lines = [[unguard_formula(v) for v in line] for line in csv.reader(handle)]
            return _table(PLEDGES_SHEET, lines), None
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True, data_only=True)
            try:
                sheets = workbook.worksheets
                if not sheets:
                    raise ImportFileError(f"{path.name} has no sheet")
                pledges = _table(sheets[0].title, sheets[0].iter_rows(values_only=True))
                reports = None
                if len(sheets) > 1:
                    reports = _table(sheets[1].title, sheets[1].iter_rows(values_only=True))
                return pledges, reports
            finally:
                workbook.close()
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError) as error:
        if isinstance(error, ImportFileError):
            raise
        raise ImportFileError(f"cannot read {path.name}: {error}") from None
    raise ImportFileError(f"{path.name}: only .csv and .xlsx files can be imported")
