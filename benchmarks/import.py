"""Benchmark: `pledgebot import` of 100,000 and 1,000,000 pledges, CSV and XLSX, dry run and real.

    .venv/bin/python benchmarks/import.py [--rows 100000,1000000] [--formats csv,xlsx]
                                          [--postgres URL] [--keep DIR]

Writes valid files in the codes layout (the XLSX one with a progress report for every tenth
pledge), then runs each import as its own process (`python -m bot.cli import FILE`), on SQLite
and, given `--postgres` or PLEDGEBOT_TEST_POSTGRES_URL, on PostgreSQL too, each real import
into an empty database, and prints the time and the peak RSS of that process. Targets: peak
RSS well under 500 MB whatever the size.

On PostgreSQL every run gets a database of its own (a unique name, created from the URL's
server and dropped after), so the URL's own database is never touched.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.exchange import PLEDGE_COLUMNS, REPORT_COLUMNS
from storage.xlsx import XlsxWriter

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = ["FR", "BR", "EG", "CN", "DE", "ES", "IT", "KE", "MX", "JO", "TR", "CO", "PT", "US"]
CURRENCIES = ["EUR", "USD", "BRL", "EGP", "CNY", "KES", "MXN", "JOD", "TRY", "COP"]
PER_YEAR = 900_000  # references run CLA-YYYY-000001 … CLA-YYYY-999999


def reference(i: int) -> str:
    return f"CLA-{2030 + i // PER_YEAR}-{i % PER_YEAR + 1:06d}"


def pledge_row(i: int) -> list[str]:
    town, partner = i % 2000, i % 500  # 2,000 localities, 500 partners
    country = COUNTRIES[town % len(COUNTRIES)]
    values = dict.fromkeys(PLEDGE_COLUMNS, "")
    values.update(
        reference=reference(i),
        locality=f"Town {town}",
        country=country,
        forum="GRF2027" if i % 2 else "",
        compacts="gcm;gcr" if i % 3 else "gcm",
        title=f"Welcome centre number {i} for newcomers",
        description="One desk for every service a newcomer needs, from housing to school. " * 3,
        gcm_objectives="5;15",
        gcr_objectives="2" if i % 3 else "",
        support_types="financial;technical",
        target_groups="migrants;refugees",
        starts_on="2027-01-15",
        ends_on="2028-12-31",
        ongoing="false",
        amount=f"{1000 + i % 50000}.50",
        currency=CURRENCIES[i % len(CURRENCIES)],
        state="delivered",
        stage="in_progress",
        submitted_on="2027-01-10",
        contact=f"Official {i % 300}",
        language="fr",
        partners=f"Partner {partner} ({COUNTRIES[(partner + 1) % len(COUNTRIES)]})",
        pledge_type="individual",
        contact_email=f"official{i % 300}@example.org",
    )
    return [values[c] for c in PLEDGE_COLUMNS]


def report_rows(count: int) -> Iterator[list[str]]:
    for i in range(0, count, 10):
        yield [reference(i), "2027-06-01T10:00:00Z", "in_progress", "Half done.", "", "Ana"]


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLEDGE_COLUMNS)
        writer.writerows(pledge_row(i) for i in range(count))


def write_xlsx(path: Path, count: int) -> None:
    with path.open("wb") as out, XlsxWriter(out) as workbook:
        workbook.sheet("pledges", list(PLEDGE_COLUMNS), (pledge_row(i) for i in range(count)))
        workbook.sheet("progress_reports", list(REPORT_COLUMNS), report_rows(count))


async def admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def cli(*args: str, database: str) -> tuple[float, int, str]:
    """Run `python -m bot.cli ARGS`: seconds, peak RSS in MB, and its last line of output."""
    env = {**os.environ, "DATABASE_URL": database, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    # wait4 gives this child's own peak, where RUSAGE_CHILDREN is the largest of them all.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    last = output.strip().splitlines()[-1] if output.strip() else ""
    if process.returncode not in (0,):
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{output[-2000:]}")
    return seconds, usage.ru_maxrss // 1024, last


class Databases:
    """Empty databases, one per run: SQLite files, or PostgreSQL databases dropped after."""

    def __init__(self, folder: Path, postgres: str | None) -> None:
        self.folder, self.postgres = folder, postgres
        self.created: list[str] = []

    def fresh(self, kind: str) -> str:
        name = f"pledgebot_bench_{os.getpid()}_{secrets.token_hex(4)}"
        if kind == "sqlite":
            url = f"sqlite:///{self.folder / f'{name}.sqlite3'}"
        else:
            assert self.postgres is not None
            asyncio.run(admin(self.postgres, f'CREATE DATABASE "{name}"'))
            self.created.append(name)
            url = make_url(self.postgres).set(database=name).render_as_string(False)
        cli("db", "upgrade", database=url)
        return url

    def drop_all(self) -> None:
        """Drop the PostgreSQL databases and delete the SQLite files made so far."""
        for name in self.created:
            assert self.postgres is not None
            asyncio.run(admin(self.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()
        for file in self.folder.glob("pledgebot_bench_*"):
            file.unlink()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--rows", default="100000,1000000", help="comma-separated sizes")
    options.add_argument("--formats", default="csv,xlsx", help="csv, xlsx or both")
    options.add_argument("--postgres", default=os.environ.get("PLEDGEBOT_TEST_POSTGRES_URL"))
    options.add_argument("--keep", help="write the files here and keep them")
    args = options.parse_args()
    sizes = [int(s) for s in args.rows.split(",") if s.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    kinds = ["sqlite", *(["postgresql"] if args.postgres else [])]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        databases = Databases(Path(scratch), args.postgres)
        try:
            print(
                f"{'file':<24} {'database':<11} {'run':<8} {'seconds':>8} {'peak MB':>8}  outcome"
            )
            for size in sizes:
                for suffix in formats:
                    path = folder / f"pledges-{size}.{suffix}"
                    started = time.perf_counter()
                    (write_csv if suffix == "csv" else write_xlsx)(path, size)
                    made = time.perf_counter() - started
                    megabytes = path.stat().st_size / 1024**2
                    print(f"{path.name:<24} written in {made:.1f} s, {megabytes:.1f} MB")
                    for kind in kinds:
                        for run in ("dry run", "import"):
                            url = databases.fresh(kind)
                            extra = ["--dry-run"] if run == "dry run" else []
                            seconds, peak, last = cli("import", str(path), *extra, database=url)
                            print(
                                f"{path.name:<24} {kind:<11} {run:<8} {seconds:>8.1f} "
                                f"{peak:>8}  {last}",
                                flush=True,
                            )
                            databases.drop_all()
                    if not args.keep:
                        path.unlink()
        finally:
            databases.drop_all()


if __name__ == "__main__":
    main()
