"""Both export files built off the event loop: in a worker thread, on a connection of its own."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass

from storage.engine import create_engine, session_factory
from storage.exchange.layout import RowFormat
from storage.exchange.stream import ExportFilter
from storage.exchange.write import export_csv, export_xlsx

SPOOL_BYTES = 8 * 1024 * 1024  # files larger than this wait on disk rather than in memory


@dataclass(frozen=True)
class ExportFiles:
    csv: bytes
    xlsx: bytes
    pledges: int
    reports: int


async def build_export_files(
    *, database_url: str, filters: ExportFilter, row_format: RowFormat
) -> ExportFiles:
    """The CSV and the XLSX file of the pledges `filters` selects. The rows are read and
    written in a worker thread with its own event loop and a read-only connection, so the bot's
    loop keeps answering everyone else and no transaction of theirs waits on this one."""
    return await asyncio.to_thread(_build_in_thread, database_url, filters, row_format)


def _build_in_thread(
    database_url: str, filters: ExportFilter, row_format: RowFormat
) -> ExportFiles:
    return asyncio.run(_build(database_url, filters, row_format))


async def _build(database_url: str, filters: ExportFilter, row_format: RowFormat) -> ExportFiles:
    engine = create_engine(database_url, read_only=True)
    try:
        with (
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as csv_file,
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as xlsx_file,
        ):
            async with session_factory(engine)() as session, session.begin():
                count = await export_csv(
                    session=session, out=csv_file, filters=filters, row_format=row_format
                )
                counts = await export_xlsx(
                    session=session, out=xlsx_file, filters=filters, row_format=row_format
                )
            # PTB sends an upload whole; the spool kept the files out of memory until now.
            csv_file.seek(0)
            xlsx_file.seek(0)
            return ExportFiles(csv_file.read(), xlsx_file.read(), count, counts.reports)
    finally:
        await engine.dispose()
