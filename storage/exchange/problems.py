"""What an import finds wrong, as codes and values: the reader's language words them.

Storage knows no language, so a problem is its place (sheet, row, column) and a code with the
values it needs; `conversations/imports.py` turns each into one line in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

FILE_ROW = 0  # a problem of the file as a whole, not of one of its rows


class Trouble(StrEnum):
    """What is wrong. Values each needs are named in the comment."""

    # Cells
    REQUIRED = "required"
    TOO_LONG = "too_long"  # maximum, length
    UNKNOWN_CODE = "unknown_code"  # value, codes
    NOT_AN_OBJECTIVE = "not_an_objective"  # value, first, last
    NOT_A_DATE = "not_a_date"  # value
    NOT_A_FLAG = "not_a_flag"  # value
    NOT_AN_ANSWER = "not_an_answer"  # value (yes, no or empty)
    NOT_A_CHOICE = "not_a_choice"  # value, choices
    NOT_A_REFERENCE = "not_a_reference"  # value
    NOT_A_COUNTRY = "not_a_country"  # value
    NO_SUCH_FORUM = "no_such_forum"  # value
    OBJECTIVES_WITHOUT_COMPACT = "objectives_without_compact"  # compact
    ENDS_BEFORE_START = "ends_before_start"
    ONGOING_WITH_END = "ongoing_with_end"
    NOT_A_CURRENCY = "not_a_currency"  # value
    REQUIRED_WITH_AMOUNT = "required_with_amount"
    REQUIRED_WITH_CURRENCY = "required_with_currency"
    NOT_A_LANGUAGE = "not_a_language"  # value
    NOT_AN_EMAIL = "not_an_email"  # value
    NOT_AN_OTHER_PARTNER = "not_an_other_partner"  # value
    NOT_A_WEB_ADDRESS = "not_a_web_address"  # value
    NOT_AN_AMOUNT = "not_an_amount"  # value
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"  # value, maximum
    TOO_MANY_DECIMALS = "too_many_decimals"  # value
    NOT_A_PARTNER = "not_a_partner"  # value
    OWN_PARTNER = "own_partner"
    NOT_A_TIME = "not_a_time"  # value
    NOT_FIGURES = "not_figures"
    FORBIDDEN_CHARACTER = "forbidden_character"  # character (U+0000)
    # Rows
    ALREADY_EXISTS = "already_exists"  # reference
    ALSO_ON_ROW = "also_on_row"  # reference, row
    NO_PLEDGE_IN_FILE = "no_pledge_in_file"  # reference
    PLEDGE_HAS_PROBLEMS = "pledge_has_problems"  # reference
    # Header
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    REPEATED_COLUMN = "repeated_column"  # first, second (positions, from 1)
    # The file
    UNKNOWN_FILE_TYPE = "unknown_file_type"
    UNREADABLE = "unreadable"  # error
    NOT_UTF8 = "not_utf8"  # line
    NOT_CSV = "not_csv"  # line, error
    LINE_TOO_LONG = "line_too_long"  # line, limit (MB)
    NOT_A_ZIP = "not_a_zip"
    NOT_A_WORKBOOK = "not_a_workbook"
    NO_SHEET = "no_sheet"
    TOO_LARGE_UNPACKED = "too_large_unpacked"  # limit (MB)
    TOO_COMPRESSED = "too_compressed"  # part, limit (times)
    MALFORMED_XML = "malformed_xml"  # part, line, column


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell, a whole row (no column) or the file (row `FILE_ROW`).
    Row 1 is the header."""

    sheet: str
    row: int
    column: str
    trouble: Trouble
    values: Mapping[str, str | int | tuple[str, ...]] = field(default_factory=dict)


class ImportFileError(Exception):
    """A file that cannot be read at all (not CSV or XLSX, unreadable, a zip bomb)."""

    def __init__(self, trouble: Trouble, **values: str | int) -> None:
        super().__init__(trouble.value)
        self.problem = Problem("", FILE_ROW, "", trouble, values)
