"""`pledgebot import` on files it must refuse: one line each, exit 1, and a dry run that says
exactly what the real import says; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage.exchange import PLEDGE_COLUMNS
from storage.xlsx import XlsxWriter
from tests.bot.test_cli import KAMPALA, _run, csv_file
from tests.conftest import fresh_postgres, postgres_url

SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """DATABASE_URL of an empty database."""
    if request.param == "postgresql":
        url = postgres_url(request)

        async def empty() -> None:
            await (await fresh_postgres(url)).dispose()

        asyncio.run(empty())
        return {"DATABASE_URL": url}
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'import.sqlite3'}"}


def workbook(rows: list[dict[str, str]]) -> bytes:
    out = io.BytesIO()
    with XlsxWriter(out) as book:
        book.sheet("pledges", list(PLEDGE_COLUMNS), ([r[c] for c in PLEDGE_COLUMNS] for r in rows))
    return out.getvalue()


def with_part(xlsx: bytes, name: str, content: bytes) -> bytes:
    """The workbook with one part's content replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = content if info.filename == name else source.read(info)
            target.writestr(info.filename, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def declaring(xlsx: bytes, name: str, size: int) -> bytes:
    """The workbook with the unpacked size its zip headers declare for one part changed."""
    data = bytearray(xlsx)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        info = archive.getinfo(name)
    struct.pack_into("<I", data, info.header_offset + 22, size)  # the local header
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_length]) == name.encode():
            struct.pack_into("<I", data, central + 24, size)
            break
        central = data.find(b"PK\x01\x02", central + 46)
    return bytes(data)


def pledges_in(database: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many pledges the database has, as `pledgebot export` finds them."""
    out = tmp_path / "check.csv"
    assert _run(monkeypatch, tmp_path, "export", "--output", str(out), **database) == 0
    return len(out.read_text(encoding="utf-8-sig").splitlines()) - 1


def _bomb(tmp_path: Path) -> Path:
    # 40 MB of spaces between the sheet's rows: legal XML that packs 1,000 times.
    xml = zipfile.ZipFile(io.BytesIO(workbook([KAMPALA]))).read(SHEET)
    padded = xml.replace(b"<sheetData>", b"<sheetData>" + b" " * 40_000_000)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(with_part(workbook([KAMPALA]), SHEET, padded))
    return path


def _lying_bomb(tmp_path: Path) -> Path:
    xml = zipfile.ZipFile(io.BytesIO(workbook([KAMPALA]))).read(SHEET)
    padded = xml.replace(b"<sheetData>", b"<sheetData>" + b" " * 400_000)
    path = tmp_path / "lying.xlsx"
    path.write_bytes(declaring(with_part(workbook([KAMPALA]), SHEET, padded), SHEET, 1000))
    return path


def _malformed(tmp_path: Path) -> Path:
    path = tmp_path / "malformed.xlsx"
    broken = b'<?xml version="1.0"?>\n<worksheet><sheetData><row><c></row></sheetData></worksheet>'
    path.write_bytes(with_part(workbook([KAMPALA]), SHEET, broken))
    return path


def _not_a_zip(tmp_path: Path) -> Path:
    path = tmp_path / "pledges.xlsx"
    path.write_text("reference,title\nCLA-2023-0012,Schools\n", encoding="utf-8")
    return path


def _binary_csv(tmp_path: Path) -> Path:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\xff\xfe")
    return path


def _unknown_extension(tmp_path: Path) -> Path:
    return csv_file(tmp_path / "pledges.txt", [KAMPALA])


def _nul(tmp_path: Path) -> Path:
    nul = {**KAMPALA, "title": "Schools\x00 for refugee children"}
    return csv_file(tmp_path / "nul.csv", [nul])


def _repeated_column(tmp_path: Path) -> Path:
    header = [*PLEDGE_COLUMNS, "title"]
    path = tmp_path / "twice.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow([*(KAMPALA[c] for c in PLEDGE_COLUMNS), "Another title"])
    return path


def _unknown_column(tmp_path: Path) -> Path:
    header = [*PLEDGE_COLUMNS, "colour"]
    return csv_file(tmp_path / "colour.csv", [{**KAMPALA, "colour": "blue"}], header)


TITLE = 1 + PLEDGE_COLUMNS.index("title")
REFUSED: list[tuple[Callable[[Path], Path], list[str]]] = [
    (_not_a_zip, ["pledges.xlsx: not an XLSX workbook: it is not a zip archive"]),
    (_binary_csv, ["photo.csv: line 1 is not UTF-8 text: save the file as CSV UTF-8"]),
    (_unknown_extension, ["pledges.txt: only .csv and .xlsx files can be imported"]),
    (
        _bomb,
        [
            f"bomb.xlsx: {SHEET} unpacks to more than 500 times its packed size: refused as a "
            "possible zip bomb"
        ],
    ),
    (
        _lying_bomb,
        # zipfile unpacks no more than the header says, and the CRC then fails.
        ["lying.xlsx: not an XLSX workbook, or a damaged one"],
    ),
    (_malformed, [f"malformed.xlsx: malformed XML in {SHEET} at line 2, column 33"]),
    (
        _nul,
        [
            "pledges, row 2, title: contains the character U+0000, which cannot be stored: "
            "remove it",
            "Nothing imported: 1 problem.",
        ],
    ),
    (
        _repeated_column,
        [
            f"pledges, row 1, title: the column is there twice (columns {TITLE} and "
            f"{len(PLEDGE_COLUMNS) + 1}): keep one",
            "Nothing imported: 1 problem.",
        ],
    ),
    (
        _unknown_column,
        [
            "pledges, row 1, colour: unknown column: headers must be the column codes",
            "Nothing imported: 1 problem.",
        ],
    ),
]


@pytest.mark.parametrize(("make", "lines"), REFUSED, ids=[m.__name__[1:] for m, _ in REFUSED])
def test_a_file_it_cannot_take_is_refused_in_one_line_the_same_by_a_dry_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    database: dict[str, str],
    make: Callable[[Path], Path],
    lines: list[str],
) -> None:
    path = make(tmp_path)
    for dry_run in (["--dry-run"], []):
        assert _run(monkeypatch, tmp_path, "import", str(path), *dry_run, **database) == 1
        out, err = capsys.readouterr()
        assert (out.splitlines(), err) == (lines, ""), dry_run
    assert pledges_in(database, tmp_path, monkeypatch) == 0


def test_problems_are_said_in_the_language_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _unknown_column(tmp_path)
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fr.sqlite3'}"}
    assert _run(monkeypatch, tmp_path, "import", str(path), "--language", "fr", **database) == 1
    assert capsys.readouterr().out.splitlines() == [
        "pledges, ligne 1, colour\u00a0: colonne inconnue\u00a0: les en-têtes doivent être les "
        "codes des colonnes",
        "Rien n’a été importé\u00a0: 1\u00a0problème.",
    ]
    assert _run(monkeypatch, tmp_path, "import", str(path), "--language", "xx", **database) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "pledgebot: no catalog for language 'xx'\n")


def test_more_rows_than_sqlite_takes_variables_in_one_statement(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite built with its former default limit of 999 variables, so that a small file
    # is already more rows than one IN (...) can take.
    connect = sqlite3.connect

    def limited(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return connection

    monkeypatch.setattr(sqlite3, "connect", limited)
    rows = [{**KAMPALA, "reference": f"CLA-2023-{i:04d}"} for i in range(1, 1201)]
    path = csv_file(tmp_path / "many.csv", rows)
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'many.sqlite3'}"}
    assert _run(monkeypatch, tmp_path, "import", str(path), "--dry-run", **database) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Dry run: 1,200 pledges and 0 progress reports are fine; nothing was written."
    ]
    assert _run(monkeypatch, tmp_path, "import", str(path), **database) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Imported 1,200 pledges and 0 progress reports."
    ]
    # Again: each of them is there already; the first thousand are listed.
    assert _run(monkeypatch, tmp_path, "import", str(path), "--dry-run", **database) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[999] == "pledges, row 1001, reference: CLA-2023-1000 already exists"
    assert out[1000:] == ["…and 200 more problems", "Nothing imported: 1,200 problems."]
