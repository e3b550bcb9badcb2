"""Documents sent for a pledge: the project's own copy on disk, and the rows that list them."""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import re
import shutil
import unicodedata
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.exchange.stream import ExportFilter, export_conditions
from storage.models import Attachment, Locality, Pledge
from storage.pledges import record_revision

ATTACHMENTS_DIR = "attachments"
MAX_ATTACHMENTS = 10
# What the UN forms take: documents, spreadsheets, presentations and pictures (an iPhone's
# photos sent as files are HEIC).
KEPT_TYPES = frozenset(
    {".pdf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods", ".ppt", ".pptx", ".png", ".jpg"}
    | {".jpeg", ".gif", ".webp", ".heic", ".heif", ".txt", ".csv"}
)
# The kept type a file with no extension is taken as, by the MIME type Telegram reports.
TYPE_OF_MIME = {
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "text/plain": ".txt",
    "text/csv": ".csv",
}
# The first bytes each kept type starts with (text is checked apart: it has none).
OOXML_ODF = b"PK\x03\x04"  # a ZIP: Word, Excel, PowerPoint since 2007, and OpenDocument
# Word, Excel and PowerPoint before 2007, and any of them since when protected by a password
OLE2 = b"\xd0\xcf\x11\xe0"
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".docx": (OOXML_ODF, OLE2),
    ".xlsx": (OOXML_ODF, OLE2),
    ".pptx": (OOXML_ODF, OLE2),
    ".odt": (OOXML_ODF,),
    ".ods": (OOXML_ODF,),
    ".doc": (OLE2, b"{\\rtf"),  # Word saves RTF under .doc too
    ".xls": (OLE2,),
    ".ppt": (OLE2,),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
}
TEXT_TYPES = frozenset({".txt", ".csv"})
# PDF readers take a %PDF mark anywhere in the first kilobyte (some writers put bytes before).
PDF_MARK, PDF_MARK_WITHIN = b"%PDF", 1024
# Control characters text does not hold (tab, line feed, form feed, return and the old
# end-of-file mark 0x1A aside): a program is full of them, a letter in any 8-bit code page not.
NOT_IN_TEXT = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1A}
HEIF_TYPES = frozenset({".heic", ".heif"})
HEIF_BRANDS = frozenset({b"heic", b"heix", b"mif1", b"msf1", b"heif"})


# Bytes a kept name may take: disks allow 255 per name, and the copy adds a 17-byte prefix and
# a ".part" suffix while it is written.
MAX_NAME_BYTES = 200


def safe_file_name(name: str) -> str:
    """A name that is safe on any disk and in a ZIP: no folders, no control characters, at
    most MAX_NAME_BYTES in UTF-8 (a Chinese name is cut sooner than a Latin one), its
    extension kept."""
    plain = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    plain = re.sub(r'[\x00-\x1f\x7f<>:"/\\|?*]+', "_", plain).strip(" .") or "document"
    stem, suffix = Path(plain).stem, Path(plain).suffix[:16]
    room = MAX_NAME_BYTES - len(suffix.encode())
    cut = stem.encode()[:room].decode(errors="ignore").strip(" .") or "document"
    return cut + suffix


def kept_name(file_name: str, mime_type: str) -> str | None:
    """The name a document is kept by, its extension one of KEPT_TYPES; a name with no
    extension takes the one of the MIME type Telegram reports. None for a type not kept."""
    suffix = Path(file_name).suffix.lower()
    if suffix:
        return file_name if suffix in KEPT_TYPES else None
    taken_as = TYPE_OF_MIME.get(mime_type.split(";")[0].strip().lower())
    return None if taken_as is None else file_name.rstrip(" .") + taken_as


def content_matches(file_name: str, content: bytes) -> bool:
    """Whether the bytes are what the name's extension says: a PDF holds %PDF at its start,
    a picture or an Office file starts with its format's mark, a text holds no control
    character text never has. A renamed program never passes as a document."""
    suffix = Path(file_name).suffix.lower()
    if suffix in TEXT_TYPES:
        return _is_text(content)
    if suffix == ".webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    if suffix in HEIF_TYPES:
        return _is_heif(content)
    if suffix == ".pdf":
        return PDF_MARK in content[:PDF_MARK_WITHIN]
    return content.startswith(SIGNATURES.get(suffix, ()))


def _is_text(content: bytes) -> bool:
    """UTF-8, UTF-16 with its byte-order mark (Notepad), or an 8-bit code page (a CSV from
    Excel on Windows): text, as long as it holds no control character text never has."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            decoded = content.decode("utf-16")
        except UnicodeDecodeError:
            return False
        return not any(ord(ch) in NOT_IN_TEXT for ch in decoded)
    return not any(byte in NOT_IN_TEXT for byte in content)


def _is_heif(content: bytes) -> bool:
    """An ISO media file whose "ftyp" box names a HEIF brand, as its main brand or one of
    those it is compatible with."""
    if content[4:8] != b"ftyp":
        return False
    box_end = min(int.from_bytes(content[:4], "big"), len(content))
    brands = [content[8:12]] + [content[i : i + 4] for i in range(16, box_end - 3, 4)]
    return any(brand in HEIF_BRANDS for brand in brands)


def keep_copy(data_dir: Path, pledge_id: int, file_name: str, content: bytes) -> tuple[str, str]:
    """Write the bytes under the data directory (blocking: run it in a thread); returns the
    path kept, relative to `data_dir`, and the content's SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    kept_name = digest[:16] + "-" + safe_file_name(file_name)  # two names never collide
    relative = Path(ATTACHMENTS_DIR) / str(pledge_id) / kept_name
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(content)
        partial.replace(target)  # a crash mid-write never leaves a half file under its name
    return relative.as_posix(), digest


async def read_copy(data_dir: Path, attachment: Attachment) -> bytes | None:
    """The kept bytes of a document, or None if its copy is gone."""
    path = data_dir / attachment.stored_as
    try:
        return await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        return None


async def list_attachments(*, session: AsyncSession, pledge_id: int) -> Sequence[Attachment]:
    """A pledge's documents, in the order they were sent."""
    statement = (
        select(Attachment).where(Attachment.pledge_id == pledge_id).order_by(col(Attachment.id))
    )
    return (await session.exec(statement)).all()


async def get_attachment(
    *, session: AsyncSession, pledge_id: int, attachment_id: int
) -> Attachment | None:
    """One document of a pledge (None when it is another pledge's, or gone)."""
    found = await session.get(Attachment, attachment_id)
    return found if found is not None and found.pledge_id == pledge_id else None


async def add_attachment(
    *, session: AsyncSession, pledge: Pledge, attachment: Attachment, member_id: int
) -> bool:
    """Attach a document, recorded in the pledge's history; False if the same content is
    already attached."""
    assert pledge.id is not None
    before = await list_attachments(session=session, pledge_id=pledge.id)
    if any(a.sha256 == attachment.sha256 for a in before):
        return False
    attachment.file_name = _unused_name(attachment.file_name, {a.file_name for a in before})
    session.add(attachment)
    names = [a.file_name for a in before]
    await record_revision(
        session=session,
        pledge=pledge,
        member_id=member_id,
        changes={"attachments": [names, [*names, attachment.file_name]]},
    )
    await session.flush()
    return True


def _unused_name(name: str, taken: set[str]) -> str:
    """`scan.pdf`, or `scan (2).pdf` when another document of the pledge has that name: in a
    ZIP or a folder two documents never share a name."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return candidate


async def remove_attachment(
    *, session: AsyncSession, pledge: Pledge, attachment: Attachment, member_id: int
) -> None:
    """Take a document off the pledge (its copy stays on disk: history still names it)."""
    assert pledge.id is not None
    before = await list_attachments(session=session, pledge_id=pledge.id)
    names = [a.file_name for a in before]
    after = [a.file_name for a in before if a.id != attachment.id]
    await session.delete(attachment)
    await record_revision(
        session=session, pledge=pledge, member_id=member_id, changes={"attachments": [names, after]}
    )


async def iter_documents(
    *, session: AsyncSession, filters: ExportFilter
) -> AsyncIterator[tuple[str, Attachment]]:
    """The documents of the pledges an export holds, with each pledge's reference."""
    statement = (
        select(Pledge.reference, Attachment)
        .join(Pledge, col(Pledge.id) == col(Attachment.pledge_id))
        .join(Locality, col(Locality.id) == col(Pledge.locality_id))
        .where(*await export_conditions(session, filters))
        .order_by(col(Attachment.id))
    )
    for reference, attachment in (await session.exec(statement)).all():
        yield reference or "", attachment


async def copy_documents(
    *, session: AsyncSession, data_dir: Path, to: Path, filters: ExportFilter
) -> int:
    """Copy the exported pledges' documents into `to/<reference>/`; returns how many."""
    copied = 0
    async for reference, attachment in iter_documents(session=session, filters=filters):
        source = data_dir / attachment.stored_as
        target = to / reference / attachment.file_name
        copied += await asyncio.to_thread(_copy, source, target)
    return copied


def _copy(source: Path, target: Path) -> int:
    """1 when copied; 0 for a copy gone missing, left out as the chat's ZIP leaves it out."""
    if not source.is_file():
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return 1
