"""Exports written as CSV or XLSX files, streamed from the database into a byte stream."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.exchange.layout import CODES, Cell, RowFormat, guard_formula
from storage.exchange.stream import ExportFilter, iter_pledges, iter_reports


@dataclass(frozen=True)
class ExportCounts:
    pledges: int
    reports: int


async def export_csv(
    *,
    session: AsyncSession,
    out: IO[bytes],
    # Frozen, so never changed; ruff sees that only for a dataclass of the same module.
    filters: ExportFilter = ExportFilter(),  # noqa: B008
    row_format: RowFormat = CODES,
) -> int:
    """The pledges as CSV (UTF-8 with a BOM, so spreadsheet programs read it right) into `out`;
    returns how many rows were written. Progress reports travel in the XLSX file only.
    Only the pledges `row_format` holds are written (a UN form's layout holds fewer)."""
    filters = filters.within(row_format.selection)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(row_format.pledge_header())
        count = 0
        async for record in iter_pledges(session=session, filters=filters):
            row = row_format.pledge_row(record)
            writer.writerow([guard_formula(row_format.text(v)) for v in row])
            count += 1
        text.flush()
    finally:
        text.detach()  # `out` stays open: it is the caller's
    return count


async def export_xlsx(
    *,
    session: AsyncSession,
    out: IO[bytes],
    filters: ExportFilter = ExportFilter(),  # noqa: B008
    row_format: RowFormat = CODES,
) -> ExportCounts:
    """The pledges and their progress reports as an XLSX workbook of two sheets into `out`;
    only the pledges `row_format` holds, and their reports."""
    from storage.xlsx import XlsxWriter

    filters = filters.within(row_format.selection)
    zone = ZoneInfo(row_format.time_zone)
    with XlsxWriter(out) as workbook:
        sheet = workbook.open_sheet(row_format.pledges_sheet, row_format.pledge_header())
        async for record in iter_pledges(session=session, filters=filters):
            sheet.append([_local(v, zone) for v in row_format.pledge_row(record)])
        sheet.close()
        reports = workbook.open_sheet(row_format.reports_sheet, row_format.report_header())
        async for report in iter_reports(session=session, filters=filters):
            reports.append([_local(v, zone) for v in row_format.report_row(report)])
        reports.close()
    return ExportCounts(pledges=sheet.count, reports=reports.count)


def _local(value: Cell, zone: ZoneInfo) -> Cell:
    """A moment as the reader's wall-clock time: an XLSX date-time has no zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone).replace(tzinfo=None)
    return value
