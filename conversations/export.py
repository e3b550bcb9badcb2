"""/export: the pledges as a CSV and an XLSX file, in the reader's language or as codes."""

from __future__ import annotations

import asyncio
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel.numbers import format_decimal
from telegram import InlineKeyboardMarkup, Update

from conversations.common import ack, close_keyboard, say, upload
from conversations.context import PledgeContext
from conversations.flow import MEMBERS, Button, ButtonData, Command, Flow
from conversations.i18n import N_, Html, Translator
from conversations.keyboards import button
from conversations.parsing import country_name
from conversations.un_forms import LAYOUTS
from conversations.vocabulary import (
    COMPACT_SHORT,
    FIELD_LABELS,
    PARTNER_KINDS,
    PLEDGE_TYPES,
    REFUGEE_SITUATIONS,
    SCOPES,
    STAGES,
    SUPPORT_TYPES,
    TARGET_GROUPS,
    WORKFLOW_STATES,
    label,
    objective_label,
)
from storage.attachments import iter_documents
from storage.exchange import (
    CODES,
    EVERY_PLEDGE,
    PLEDGE_COLUMNS,
    REPORT_COLUMNS,
    Cell,
    ExportError,
    ExportFilter,
    PledgeRecord,
    ReportRecord,
    RowFormat,
    build_export_files,
    figures_code,
    partners_code,
)
from storage.forums import FORUM_CODE, forum_name
from storage.models import Compact, Role
from storage.types import utc_now

PLEDGES_SHEET = N_("Pledges")
REPORTS_SHEET = N_("Progress reports")
LIST_JOIN = "; "


@dataclass(frozen=True)
class ExportAs(ButtonData, prefix="x.go"):
    """Export a forum's pledges (or every forum's: ""), as codes or in the reader's language."""

    forum: str
    codes: bool


@dataclass(frozen=True)
class ExportForm(ButtonData, prefix="x.form"):
    """Export a forum's pledges laid out as a UN pledge form (a key of `LAYOUTS`)."""

    forum: str
    layout: str


@dataclass(frozen=True)
class ExportDocuments(ButtonData, prefix="x.docs"):
    """The documents of a forum's pledges (or every forum's: ""), as one ZIP."""

    forum: str


class LabelFormat:
    """Headers and values in the reader's language; dates and amounts the reader's way."""

    selection = EVERY_PLEDGE

    def __init__(self, t: Translator, time_zone: str = "UTC") -> None:
        self.t, self.time_zone = t, time_zone
        self.pledges_sheet = t.plain(PLEDGES_SHEET)
        self.reports_sheet = t.plain(REPORTS_SHEET)

    def pledge_header(self) -> list[str]:
        return [self.t.plain(FIELD_LABELS[c]) for c in PLEDGE_COLUMNS]

    def report_header(self) -> list[str]:
        return [self.t.plain(FIELD_LABELS[c]) for c in REPORT_COLUMNS]

    def _labels(self, labels: dict[str, str], codes: list[str]) -> str:
        return LIST_JOIN.join(label(self.t, labels, c) for c in codes)

    def _objectives(self, compact: str, numbers: list[int]) -> str:
        return LIST_JOIN.join(objective_label(self.t, compact, n) for n in numbers)

    def text(self, value: Cell) -> str:
        """A cell as a CSV file writes it: amounts, days and moments the reader's way."""
        if isinstance(value, Decimal):
            return amount_text(self.t, value)
        if isinstance(value, datetime):
            return self.t.moment(value, time_zone=self.time_zone)
        if isinstance(value, date):
            return self.t.date(value, format="medium")
        return value

    def pledge_row(self, r: PledgeRecord) -> list[Cell]:
        t = self.t
        return [
            r.reference,
            r.locality,
            country_name(r.country, t.locale),
            forum_name(r.forum, t.language) if r.forum is not None else "",
            self._labels(COMPACT_SHORT, r.compacts),
            r.title,
            r.description,
            self._objectives(Compact.GCM.value, r.gcm_objectives),
            self._objectives(Compact.GCR.value, r.gcr_objectives),
            self._labels(SUPPORT_TYPES, r.support_types),
            self._labels(TARGET_GROUPS, r.target_groups),
            r.starts_on or "",
            r.ends_on or "",
            t.plain("Yes") if r.ongoing else t.plain("No"),
            r.amount if r.amount is not None else "",
            r.currency or "",
            label(t, WORKFLOW_STATES, r.state),
            label(t, STAGES, r.stage),
            r.submitted_at.date() if r.submitted_at else "",
            r.last_progress or "",
            r.contact,
            t.language_name(r.language),
            partners_code(r.partners),
            label(t, PLEDGE_TYPES, r.pledge_type),
            label(t, SCOPES, r.scope) if r.scope else "",
            LIST_JOIN.join(country_name(c, t.locale) for c in r.beneficiary_countries),
            r.contact_name,
            r.contact_title,
            r.contact_email,
            r.contact_phone,
            LIST_JOIN.join(
                f"{name} ({label(t, PARTNER_KINDS, kind)})" for name, kind in r.other_partners
            ),
            r.matching_reference,
            r.project_url,
            LIST_JOIN.join(r.multistakeholder_pledges),
            self._labels(REFUGEE_SITUATIONS, list(r.refugee_situations)),
            self._answer(r.locality_endorsed_mmd),
        ]

    def _answer(self, answer: bool | None) -> str:
        """Yes or No in the reader's language; empty until it was said."""
        if answer is None:
            return ""
        return self.t.plain("Yes") if answer else self.t.plain("No")

    def report_row(self, r: ReportRecord) -> list[Cell]:
        return [
            r.reference,
            r.reported_at,
            label(self.t, STAGES, r.stage),
            r.narrative,
            figures_code(r.figures),
            r.reported_by,
        ]


def amount_text(t: Translator, amount: Decimal | None) -> str:
    """An amount with its cents, the reader's way: 250,000.50 or 250 000,50."""
    if amount is None:
        return ""
    return str(format_decimal(amount, format="#,##0.00", locale=t.locale))


# Telegram takes files up to 50 MB from a bot.
MAX_UPLOAD = 50 * 1024 * 1024
ZIP_HEADROOM = 1024 * 1024  # the ZIP's own headers, a few hundred bytes a document


def file_name(forum: str | None, extension: str, *, kind: str = "pledges") -> str:
    """pledges-GRF2027-2027-03-01.csv, or pledges-2027-03-01.csv for every forum (a UN form's
    layout names the file after it: unhcr-grf-GRF2027-2027-03-01.csv)."""
    parts = [kind, *([forum] if forum else []), utc_now().date().isoformat()]
    return "-".join(parts) + "." + extension


def mode_keyboard(t: Translator, forum: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(t.plain("🌐 In my language"), ExportAs(forum, codes=False))],
            [button(t.plain("🔤 Codes (to re-import)"), ExportAs(forum, codes=True))],
            [button(t.plain("📋 UN Network GCM pledge form"), ExportForm(forum, "unn-gcm"))],
            [button(t.plain("📋 UNHCR GRF pledge form"), ExportForm(forum, "unhcr-grf"))],
            [button(t.plain("📎 Their documents (ZIP)"), ExportDocuments(forum))],
        ]
    )


async def export(update: Update, ctx: PledgeContext) -> None:
    """/export [FORUM]: ask whether headers and values should be in words or codes."""
    t = ctx.t
    forum = (ctx.args[0].upper() if ctx.args else "")[:16]
    if forum and not FORUM_CODE.match(forum):
        say(ctx, t.gettext("There is no forum %(code)s.", code=forum))
        return
    if ctx.member.role == Role.OFFICIAL.value:
        intro = t.gettext("I will send your locality's pledges as a CSV and an XLSX file.")
    else:
        intro = t.gettext("I will send the pledges as a CSV and an XLSX file.")
    question = t.gettext(
        "Headers and values in your language, as codes (for systems that re-import them), or "
        "laid out as a UN pledge form, in the form's English (only the pledges it takes)?"
    )
    say(ctx, Html(f"{intro}\n{question}"), mode_keyboard(t, forum))


async def on_export(update: Update, ctx: PledgeContext, data: ExportAs) -> None:
    """Button: the pledges in the reader's language or as codes."""
    row_format: RowFormat = CODES if data.codes else LabelFormat(ctx.t, ctx.member.time_zone)
    await _send_export(update, ctx, data.forum, row_format)


async def on_export_form(update: Update, ctx: PledgeContext, data: ExportForm) -> None:
    """Button: the pledges a UN pledge form takes, in its columns."""
    if data.layout not in LAYOUTS:
        ack(ctx, ctx.t.plain("That button is no longer valid."), alert=True)
        return
    await _send_export(update, ctx, data.forum, LAYOUTS[data.layout], kind=data.layout)


async def _send_export(
    update: Update, ctx: PledgeContext, forum: str, row_format: RowFormat, *, kind: str = "pledges"
) -> None:
    """Build both files off the event loop, and send them."""
    t, chat = ctx.t, update.effective_chat
    filters = _export_filter(ctx, forum)
    if filters is None:
        return
    ack(ctx)
    close_keyboard(ctx)
    if chat is None:
        return
    try:
        files = await build_export_files(
            database_url=ctx.services.database_url, filters=filters, row_format=row_format
        )
    except ExportError:
        say(ctx, t.gettext("There is no forum %(code)s.", code=forum))
        return
    caption = t.ngettext("📄 %(count)s pledge", "📄 %(count)s pledges", files.pledges)
    if forum:
        caption = t.ngettext(
            "📄 %(count)s pledge for %(forum)s",
            "📄 %(count)s pledges for %(forum)s",
            files.pledges,
            forum=forum,
        )
    upload(ctx, files.csv, file_name(forum, "csv", kind=kind), caption)
    reports = t.ngettext(
        "📊 %(count)s pledge and its progress reports",
        "📊 %(count)s pledges and their progress reports",
        files.pledges,
    )
    upload(ctx, files.xlsx, file_name(forum, "xlsx", kind=kind), reports)


def _export_filter(ctx: PledgeContext, forum: str) -> ExportFilter | None:
    """What a member may export: officials their own locality's pledges, whatever the button
    says; None (with the reason told) when there is nothing they may export."""
    t, member = ctx.t, ctx.member
    if forum and not FORUM_CODE.match(forum):
        ack(ctx, t.plain("That button is no longer valid."), alert=True)
        return None
    if member.role == Role.OFFICIAL.value and member.locality_id is None:
        ack(ctx, t.plain("You have no locality to export."), alert=True)
        return None
    locality_id = member.locality_id if member.role == Role.OFFICIAL.value else None
    return ExportFilter(forum=forum or None, locality_id=locality_id)


async def on_export_documents(update: Update, ctx: PledgeContext, data: ExportDocuments) -> None:
    """Button: the exported pledges' documents as one ZIP, a folder per reference."""
    t, forum = ctx.t, data.forum
    filters = _export_filter(ctx, forum)
    if filters is None:
        return
    ack(ctx)
    close_keyboard(ctx)
    try:
        async with ctx.db() as session:
            found = [a async for a in iter_documents(session=session, filters=filters)]
    except ExportError:
        say(ctx, t.gettext("There is no forum %(code)s.", code=forum))
        return
    if not found:
        say(ctx, t.gettext("These pledges have no documents."))
        return
    documents = [(f"{reference}/{a.file_name}", a.stored_as) for reference, a in found]
    # Added up before anything is read: a ZIP Telegram would refuse is never built.
    if sum(a.size for _reference, a in found) > MAX_UPLOAD - ZIP_HEADROOM:
        say(
            ctx,
            t.gettext(
                "The documents of these pledges are over %(size)s MB together, more than "
                "Telegram takes; the secretariat can copy them with pledgebot export --documents.",
                size=t.number(MAX_UPLOAD // (1024 * 1024)),
            ),
        )
        return
    archive = await asyncio.to_thread(zip_documents, ctx.services.data_dir, documents)
    caption = t.ngettext(
        "📎 %(count)s document of these pledges",
        "📎 %(count)s documents of these pledges",
        len(documents),
    )
    upload(ctx, archive, file_name(forum, "zip").replace("pledges-", "documents-", 1), caption)


def zip_documents(data_dir: Path, documents: list[tuple[str, str]]) -> bytes:
    """A ZIP of kept copies (blocking: run in a thread); a copy gone missing is left out.
    Stored, not deflated: PDFs, office files and pictures are compressed already, so the ZIP
    is no bigger than the sizes added up before it was built."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, stored_as in documents:
            source = data_dir / stored_as
            if source.is_file():
                archive.write(source, arcname=name)
    return buffer.getvalue()


FLOW = Flow(
    name="export",
    commands=(Command("export", N_("The pledges as CSV and XLSX files"), MEMBERS, export),),
    buttons=(
        Button(ExportAs, on_export, MEMBERS),
        Button(ExportForm, on_export_form, MEMBERS),
        Button(ExportDocuments, on_export_documents, MEMBERS),
    ),
)
