"""A consistent copy of a live SQLite database (PostgreSQL has pg_dump for that)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.attachments import ATTACHMENTS_DIR

PAGES_PER_STEP = 1024  # between steps the bot may write: the copy restarts only if it did


class BackupError(Exception):
    """Why no copy was made, in one line."""


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy the database at `database_url` to `target` with SQLite's online backup, while the
    bot keeps running; returns the copy's size in bytes. Refuses PostgreSQL and overwriting."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError("db backup copies SQLite databases; for PostgreSQL use pg_dump")
    if not url.database or url.database == ":memory:" or not Path(url.database).exists():
        raise BackupError(f"no SQLite database at {url.database}")
    if target.exists():
        raise BackupError(f"{target} exists: choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=PAGES_PER_STEP)
            if copy.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError("the copy failed its integrity check; the original is untouched")
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    partial.replace(target)  # only a whole copy ever carries the name asked for
    return target.stat().st_size


def documents_beside(target: Path) -> Path:
    """Where a backup keeps the pledges' documents: a folder beside the database copy."""
    return target.with_name(target.name + "." + ATTACHMENTS_DIR)


def backup_documents(data_dir: Path, target: Path) -> int:
    """Copy the documents kept under `data_dir` into the folder beside the database copy
    `target`; returns how many. Run it after the database copy: a document is written before
    its row is committed and never deleted, so every row in the copy finds its file."""
    source = data_dir / ATTACHMENTS_DIR
    folder = documents_beside(target)
    if folder.exists():
        raise BackupError(f"{folder} exists: choose a new file name")
    if not source.is_dir():
        return 0
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        # A ".part" file is a document still being written; its row is not committed yet.
        shutil.copytree(source, partial, ignore=shutil.ignore_patterns("*.part"))
        partial.replace(folder)
    except OSError as error:  # shutil.Error too: a full disk, a file it may not read
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(
            f"the database was copied to {target}, but its documents could not be: {error}"
        ) from None
    return sum(1 for path in folder.rglob("*") if path.is_file())
