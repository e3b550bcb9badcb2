"""Exports and imports of pledges: one column layout, streamed out, validated whole on the way in.

The layout is data (`PLEDGE_COLUMNS`, `REPORT_COLUMNS`): each column has a stable code, which
is also its header in the "codes" layout that `import_file` reads. Values in that layout are
codes too: lists joined with `;` (`gcm;gcr`, `5;15`), ISO dates, `true`/`false`, amounts with
two decimals, partners as `Name (CC)`, a locality's answer as `yes`/`no` (empty: not said).
Translated headers and labels are the business of `conversations/export.py`, which formats the
same records for a reader.

The modules, each doing one job: `layout` (the columns and codes, records as rows), `stream`
(pledges read out of the database), `write` (CSV and XLSX files out), `read` (CSV and XLSX
files in), `validate` (their rows checked), `problems` (what is wrong, as codes), `load` (the
import written to the database) and `files` (both export files built off the event loop).
"""

from storage.exchange.files import ExportFiles, build_export_files
from storage.exchange.layout import (
    CODES,
    EVERY_PLEDGE,
    PLEDGE_COLUMNS,
    REPORT_COLUMNS,
    Cell,
    PledgeRecord,
    ReportRecord,
    RowFormat,
    Selection,
    figures_code,
    partners_code,
)
from storage.exchange.load import import_file
from storage.exchange.problems import FILE_ROW, ImportFileError, Problem, Trouble
from storage.exchange.stream import ExportError, ExportFilter
from storage.exchange.write import export_csv, export_xlsx

__all__ = [
    "CODES",
    "EVERY_PLEDGE",
    "FILE_ROW",
    "PLEDGE_COLUMNS",
    "REPORT_COLUMNS",
    "Cell",
    "ExportError",
    "ExportFiles",
    "ExportFilter",
    "ImportFileError",
    "PledgeRecord",
    "Problem",
    "ReportRecord",
    "RowFormat",
    "Selection",
    "Trouble",
    "build_export_files",
    "export_csv",
    "export_xlsx",
    "figures_code",
    "import_file",
    "partners_code",
]
