"""Documents sent for a pledge: the project's own copy on disk, and the rows that list them."""

from __future__ import annotations

import asyncio
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
# What the UN forms take: documents, spreadsheets, presentations and pictures.
KEPT_TYPES = frozenset(
    {".pdf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods", ".ppt", ".pptx", ".png", ".jpg"}
    | {".jpeg", ".webp", ".txt", ".csv"}
)


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


def is_kept_type(file_name: str) -> bool:
    return Path(file_name).suffix.lower() in KEPT_TYPES


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
