"""An import's problems and outcome worded in the reader's language, one line each."""

from __future__ import annotations

from conversations.i18n import N_, Translator
from storage.exchange import FILE_ROW, Problem, Trouble

TROUBLES: dict[Trouble, str] = {
    Trouble.REQUIRED: N_("required"),
    Trouble.TOO_LONG: N_("at most %(maximum)s characters, not %(length)s"),
    Trouble.UNKNOWN_CODE: N_("unknown code '%(value)s': the codes are %(codes)s"),
    Trouble.NOT_AN_OBJECTIVE: N_("'%(value)s' is not an objective from %(first)s to %(last)s"),
    Trouble.NOT_A_DATE: N_("'%(value)s' is not a date like 2027-03-15"),
    Trouble.NOT_A_FLAG: N_("'%(value)s' is not true or false"),
    Trouble.NOT_AN_ANSWER: N_("'%(value)s' is not yes, no or empty"),
    Trouble.NOT_A_CHOICE: N_("'%(value)s' is not one of %(choices)s"),
    Trouble.NOT_A_REFERENCE: N_("'%(value)s' is not a reference like CLA-2027-0042"),
    Trouble.NOT_A_COUNTRY: N_("'%(value)s' is not an ISO 3166-1 alpha-2 country code"),
    Trouble.NO_SUCH_FORUM: N_("there is no forum '%(value)s'"),
    Trouble.OBJECTIVES_WITHOUT_COMPACT: N_("objectives given but %(compact)s not chosen"),
    Trouble.ENDS_BEFORE_START: N_("ends before it starts"),
    Trouble.ONGOING_WITH_END: N_("an ongoing pledge has no end date"),
    Trouble.NOT_A_CURRENCY: N_("'%(value)s' is not an ISO 4217 currency code"),
    Trouble.REQUIRED_WITH_AMOUNT: N_("required with an amount"),
    Trouble.REQUIRED_WITH_CURRENCY: N_("required with a currency"),
    Trouble.NOT_A_LANGUAGE: N_("'%(value)s' is not a language code like en or pt_BR"),
    Trouble.NOT_AN_EMAIL: N_("'%(value)s' is not an e-mail address"),
    Trouble.NOT_AN_OTHER_PARTNER: N_("'%(value)s' is not like 'Name [un_agency]'"),
    Trouble.NOT_A_WEB_ADDRESS: N_("'%(value)s' is not a web address starting with https://"),
    Trouble.NOT_AN_AMOUNT: N_("'%(value)s' is not an amount like 250000.00"),
    Trouble.AMOUNT_OUT_OF_RANGE: N_("'%(value)s' is not an amount from 0 to %(maximum)s"),
    Trouble.TOO_MANY_DECIMALS: N_("'%(value)s' has more than two decimals"),
    Trouble.NOT_A_PARTNER: N_("'%(value)s' is not a partner like Lyon (FR)"),
    Trouble.OWN_PARTNER: N_("a locality is not its own partner"),
    Trouble.NOT_A_TIME: N_("'%(value)s' is not a time like 2027-03-15T10:00:00Z"),
    Trouble.NOT_FIGURES: N_('figures are a JSON object like {"people": 200}'),
    Trouble.FORBIDDEN_CHARACTER: N_(
        "contains the character %(character)s, which cannot be stored: remove it"
    ),
    Trouble.ALREADY_EXISTS: N_("%(reference)s already exists"),
    Trouble.ALSO_ON_ROW: N_("%(reference)s is also on row %(row)s"),
    Trouble.NO_PLEDGE_IN_FILE: N_("no pledge %(reference)s in the file"),
    Trouble.PLEDGE_HAS_PROBLEMS: N_("its pledge %(reference)s has problems"),
    Trouble.MISSING_COLUMN: N_("missing column"),
    Trouble.UNKNOWN_COLUMN: N_("unknown column: headers must be the column codes"),
    Trouble.REPEATED_COLUMN: N_(
        "the column is there twice (columns %(first)s and %(second)s): keep one"
    ),
    Trouble.UNKNOWN_FILE_TYPE: N_("only .csv and .xlsx files can be imported"),
    Trouble.UNREADABLE: N_("cannot be read: %(error)s"),
    Trouble.NOT_UTF8: N_("line %(line)s is not UTF-8 text: save the file as CSV UTF-8"),
    Trouble.NOT_CSV: N_("line %(line)s is not CSV: %(error)s"),
    Trouble.LINE_TOO_LONG: N_("line %(line)s is longer than %(limit)s MB: this is not a CSV file"),
    Trouble.NOT_A_ZIP: N_("not an XLSX workbook: it is not a zip archive"),
    Trouble.NOT_A_WORKBOOK: N_("not an XLSX workbook, or a damaged one"),
    Trouble.NO_SHEET: N_("the workbook has no sheet"),
    Trouble.TOO_LARGE_UNPACKED: N_(
        "unpacks to more than %(limit)s MB: refused as a possible zip bomb"
    ),
    Trouble.TOO_COMPRESSED: N_(
        "%(part)s unpacks to more than %(limit)s times its packed size: refused as a possible "
        "zip bomb"
    ),
    Trouble.MALFORMED_XML: N_("malformed XML in %(part)s at line %(line)s, column %(column)s"),
}


def problem_line(t: Translator, problem: Problem, *, file: str) -> str:
    """Where the problem is (the file, or its sheet, row and column) and what is wrong."""
    values = {
        key: t.join(value) if isinstance(value, tuple) else str(value)
        for key, value in problem.values.items()
    }
    what = t.plain(TROUBLES[problem.trouble], **values)
    if problem.row == FILE_ROW:
        return t.plain("%(file)s: %(problem)s", file=file, problem=what)
    if problem.column:
        return t.plain(
            "%(sheet)s, row %(row)s, %(column)s: %(problem)s",
            sheet=problem.sheet,
            row=str(problem.row),
            column=problem.column,
            problem=what,
        )
    return t.plain(
        "%(sheet)s, row %(row)s: %(problem)s",
        sheet=problem.sheet,
        row=str(problem.row),
        problem=what,
    )


def not_listed(t: Translator, count: int) -> str:
    """The line after the problems listed, when there were more."""
    return str(t.ngettext("…and %(count)s more problem", "…and %(count)s more problems", count))


def outcome(
    t: Translator, *, written: bool, dry_run: bool, pledges: int, reports: int, problems: int
) -> str:
    """The last line: what was imported, what would be, or why nothing was."""
    counted = {
        "pledges": str(t.ngettext("%(count)s pledge", "%(count)s pledges", pledges)),
        "reports": str(
            t.ngettext("%(count)s progress report", "%(count)s progress reports", reports)
        ),
    }
    if written:
        return t.plain("Imported %(pledges)s and %(reports)s.", **counted)
    if dry_run and not problems:
        return t.plain(
            "Dry run: %(pledges)s and %(reports)s are fine; nothing was written.", **counted
        )
    found = str(t.ngettext("%(count)s problem", "%(count)s problems", problems))
    return t.plain("Nothing imported: %(problems)s.", problems=found)
