"""The command line: one-line configuration errors, invites, the simulator, log redaction."""

from __future__ import annotations

import csv
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.logs import REDACTED, RedactSecrets
from bot.services import Services
from bot.simulator import simulate
from storage.exchange import PLEDGE_COLUMNS
from storage.invites import hash_token
from storage.models import Invite


def _run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, **env: str) -> int:
    monkeypatch.chdir(tmp_path)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "DATABASE_URL",
        "TELEGRAM_BOT_USERNAME",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(list(args))


# One pledge as a codes file holds it, for the export and import commands' tests.
KAMPALA = {
    **dict.fromkeys(PLEDGE_COLUMNS, ""),
    "reference": "CLA-2023-0012",
    "locality": "Kampala",
    "country": "UG",
    "compacts": "gcr",
    "title": "Schools for refugee children",
    "description": "Ten new classrooms.",
    "gcr_objectives": "2",
    "state": "delivered",
    "stage": "in_progress",
    "language": "en",
    "contact": "Grace",
}


def csv_file(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    """A codes file of `rows` (every column of the layout unless `header` names others)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header or list(PLEDGE_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_run_without_a_token_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, tmp_path, "run") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TELEGRAM_BOT_TOKEN is not set" in err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_API_BASE_URL", "ftp://example.org"),
        ("TELEGRAM_API_BASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://x/y"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_malformed_settings_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
) -> None:
    assert _run(monkeypatch, tmp_path, "run", **{name: value, "TELEGRAM_BOT_TOKEN": "1:x"}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err and "Traceback" not in err


def test_invite_quiet_prints_a_token_that_is_stored_hashed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    code = _run(
        monkeypatch,
        tmp_path,
        "invite",
        "--role",
        "official",
        "--locality",
        "Porto Alegre",
        "--country",
        "BR",
        "--uses",
        "3",
        "--quiet",
        DATABASE_URL=database,
    )
    assert code == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 32 and token.replace("-", "").replace("_", "").isalnum()
    import sqlite3

    rows = (
        sqlite3.connect(tmp_path / "cli.sqlite3")
        .execute("select token_hash, uses_left, role from invite")
        .fetchall()
    )
    assert rows == [(hash_token(token), 3, "official")]
    assert Invite.__tablename__ == "invite"


def test_invite_prints_a_deep_link_with_the_bot_username(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        monkeypatch,
        tmp_path,
        "invite",
        "--role",
        "coordinator",
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        TELEGRAM_BOT_USERNAME="pledge_test_bot",
    )
    assert code == 0
    assert capsys.readouterr().out.startswith("https://t.me/pledge_test_bot?start=")


def test_an_officials_invite_needs_a_known_country(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        monkeypatch,
        tmp_path,
        "invite",
        "--role",
        "official",
        "--locality",
        "Lyon",
        "--country",
        "Atlantis",
        DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}",
    )
    assert code == 2 and "unknown country" in capsys.readouterr().err


def test_the_token_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    token = "123456:SECRET-token"
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "HTTP Request: POST %s",
        (f"https://x/bot{token}/getMe",),
        None,
    )
    RedactSecrets([token]).filter(record)
    assert token not in record.getMessage() and REDACTED in record.getMessage()


async def test_the_simulator_takes_a_new_user_from_invite_to_submitted_pledge(
    services: Services,
) -> None:
    out: list[str] = []

    def last_token() -> str:
        return next(line for line in reversed(out) if "/start " in line).split("/start ")[-1]

    async def typed() -> AsyncIterator[str]:
        """What a newcomer types, reading the screen as they go."""
        yield ":invite coordinator"
        yield f"/start {last_token()}"
        yield ':invite official "Porto Alegre" BR'
        yield ":as Olga pt-br"
        yield f"/start {last_token()}"
        for line in [
            "/pledge",
            "1",
            "2",
            "Casas para famílias refugiadas",
            "A cidade oferecerá 200 casas para famílias refugiadas.",
            "1",
            "5",
            "2",
            "7",
            "2",
            "8",
            "2027-03-01",
            "2028-12-31",
            "1",
            "1",
            "1",
            "Olga Souza, Secretária de Direitos Humanos, olga@portoalegre.example.org",
            "17",  # 🏛 Yes, endorsed (the Marrakech Mayors Declaration, asked once)
            "18",  # ✅ Submit (after the edits and 🏛 to correct the endorsement)
        ]:
            yield line
        yield ":as Alice"
        yield "/export"
        yield "1"
        yield ":quit"

    await simulate(services, typed(), out.append)
    screen = "\n".join(out)
    assert "CLA-" in screen, screen[-3000:]
    assert "Telegram would refuse" not in screen
    assert "bot → Alice" in screen and "bot → Olga" in screen
    # What Olga's submission sent the coordinator shows too, addressed to her.
    submitted = screen.index("CLA-")
    assert "bot → Alice" in screen[submitted:] and "New pledge submitted" in screen[submitted:]
    assert "(pop-up: " in screen  # a button press answered with a note
    saved = [line.split("(saved: ")[1].rstrip(")") for line in out if "(saved: " in line]
    assert len(saved) == 2 and all(size > 0 for size in _sizes(saved))  # the CSV and the XLSX


def _sizes(paths: list[str]) -> list[int]:
    return [Path(path).stat().st_size for path in paths]


def _forum_rows(tmp_path: Path, code: str) -> list[tuple[object, ...]]:
    import sqlite3

    return (
        sqlite3.connect(tmp_path / "forums.sqlite3")
        .execute(
            "select names, location, compacts, starts_on, ends_on, pledge_deadline, "
            "deadline_time_zone, reminder_offsets, is_open from forum where code = ?",
            (code,),
        )
        .fetchall()
    )


def test_forum_add_edit_and_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'forums.sqlite3'}"}
    code = _run(
        monkeypatch,
        tmp_path,
        "forum",
        "add",
        "--code",
        "grf2029",
        "--name",
        "Global Refugee Forum 2029",
        "--name",
        "fr=Forum mondial sur les réfugiés 2029",
        "--name-es",
        "Foro Mundial 2029",
        "--location",
        "Geneva",
        "--compacts",
        "gcr",
        "--starts",
        "2029-12-10",
        "--ends",
        "2029-12-12",
        "--deadline",
        "2029-10-01 17:00",
        "--time-zone",
        "Europe/Zurich",
        "--offsets",
        "7,30,7,1",
        **database,
    )
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("added GRF2029")
    assert "deadline 2029-10-01 17:00 Europe/Zurich" in out
    [row] = _forum_rows(tmp_path, "GRF2029")
    names, location, compacts, starts, ends, deadline, zone, offsets, is_open = row
    assert json.loads(str(names)) == {
        "en": "Global Refugee Forum 2029",
        "fr": "Forum mondial sur les réfugiés 2029",
        "es": "Foro Mundial 2029",
    }
    assert (location, json.loads(str(compacts)), starts, ends) == (
        "Geneva",
        ["gcr"],
        "2029-12-10",
        "2029-12-12",
    )
    assert str(deadline).startswith("2029-10-01 15:00:00")  # stored in UTC
    assert (zone, json.loads(str(offsets)), is_open) == ("Europe/Zurich", [30, 7, 1], 1)

    # A corrected time zone keeps the deadline's local time; other names are kept.
    code = _run(
        monkeypatch,
        tmp_path,
        "forum",
        "edit",
        "GRF2029",
        "--time-zone",
        "New York",
        "--name-fr",
        "FMR 2029",
        "--closed",
        **database,
    )
    out = capsys.readouterr().out
    assert code == 0 and "deadline 2029-10-01 17:00 America/New_York" in out and "closed" in out
    [row] = _forum_rows(tmp_path, "GRF2029")
    assert json.loads(str(row[0]))["fr"] == "FMR 2029"
    assert json.loads(str(row[0]))["en"] == "Global Refugee Forum 2029"
    assert str(row[5]).startswith("2029-10-01 21:00:00") and row[8] == 0

    assert _run(monkeypatch, tmp_path, "forum", "list", **database) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("GRF2029") and "closed" in line for line in listed)
    assert any(line.startswith("GRF2027") and "open" in line for line in listed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "--code", "G1", "--name", "x"], "3 to 16 letters"),
        (["add", "--code", "GRF2027", "--name", "x"], "already a forum GRF2027"),
        (["add", "--code", "NEW2029"], "needs a name"),
        (["add", "--code", "NEW2029", "--name", "x", "--offsets", "30,0"], "1 to 365 days"),
        (["add", "--code", "NEW2029", "--name", "x", "--offsets", "a,b"], "--offsets"),
        (["add", "--code", "NEW2029", "--name", "x", "--compacts", "gcx"], "--compacts"),
        (["add", "--code", "NEW2029", "--name", "x", "--starts", "10/12/2029"], "--starts"),
        (["add", "--code", "NEW2029", "--name", "x", "--deadline", "2029-10-01"], "--deadline"),
        (["add", "--code", "NEW2029", "--name", "x", "--time-zone", "Mars/Base"], "time zone"),
        (
            [
                "add",
                "--code",
                "NEW2029",
                "--name",
                "x",
                "--starts",
                "2029-12-12",
                "--ends",
                "2029-12-10",
            ],
            "cannot end before it starts",
        ),
        (["edit", "NOPE", "--open"], "there is no forum 'NOPE'"),
        (["edit", "GRF2027"], "nothing to change"),
    ],
)
def test_forum_mistakes_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'forums.sqlite3'}"}
    assert _run(monkeypatch, tmp_path, "forum", *args, **database) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert _forum_rows(tmp_path, "NEW2029") == []


async def test_reminders_arrive_in_the_simulator_as_time_passes(services: Services) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import select

    from storage.engine import transaction
    from storage.models import Forum

    async with transaction(services.sessions) as session:
        forum = (await session.exec(select(Forum).where(Forum.code == "GRF2027"))).one()
        forum.pledge_deadline = datetime.now(UTC) + timedelta(days=10)
        forum.reminder_offsets = [7, 3]
        session.add(forum)
    out: list[str] = []

    def last_token() -> str:
        return next(line for line in reversed(out) if "/start " in line).split("/start ")[-1]

    async def typed() -> AsyncIterator[str]:
        yield ":invite coordinator"
        yield f"/start {last_token()}"
        yield ":wait 5d"
        yield ":wait 6d"
        yield ":quit"

    await simulate(services, typed(), out.append)
    screen = "\n".join(out)
    assert screen.count("📊") == 2, screen[-2000:]  # the 7- and the 3-day digests
    assert screen.count("🏁") == 1  # and the closing summary after the deadline
    assert "Invited localities without a pledge: 0" in screen


async def test_waiting_in_the_simulator_moves_every_clock_not_only_the_reminders(
    services: Services,
) -> None:
    from datetime import UTC, datetime, timedelta

    out: list[str] = []

    def last_token() -> str:
        return next(line for line in reversed(out) if "/start " in line).split("/start ")[-1]

    async def typed() -> AsyncIterator[str]:
        yield ":invite coordinator"
        yield f"/start {last_token()}"
        yield ":wait 40d"
        yield "/export"
        yield "1"
        yield ":quit"

    await simulate(services, typed(), out.append)
    later = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    saved = [line.split("(saved: ")[1].rstrip(")") for line in out if "(saved: " in line]
    # The export is named after the simulated day, as it would be forty days from now.
    assert saved and all(later in Path(path).name for path in saved), saved
    assert f"(simulated time: {later}" in "\n".join(out)


def test_export_to_a_path_and_import_with_dry_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = {"DATABASE_URL": f"sqlite:///{tmp_path / 'source.sqlite3'}"}
    target = {"DATABASE_URL": f"sqlite:///{tmp_path / 'target.sqlite3'}"}
    given = csv_file(tmp_path / "given.csv", [{**KAMPALA, "forum": "GRF2023"}])

    assert _run(monkeypatch, tmp_path, "import", str(given), "--dry-run", **source) == 0
    assert "Dry run: 1 pledge and 0 progress reports are fine" in capsys.readouterr().out
    assert _run(monkeypatch, tmp_path, "import", str(given), **source) == 0
    assert "Imported 1 pledge and 0 progress reports." in capsys.readouterr().out
    # The same file again: every row is a duplicate, reported by row and column.
    assert _run(monkeypatch, tmp_path, "import", str(given), **source) == 1
    assert "pledges, row 2, reference: CLA-2023-0012 already exists" in capsys.readouterr().out

    exported = tmp_path / "out.xlsx"
    code = _run(
        monkeypatch,
        tmp_path,
        "export",
        "--format",
        "xlsx",
        "--forum",
        "grf2023",
        "--output",
        str(exported),
        **source,
    )
    assert code == 0 and "wrote 1 pledges" in capsys.readouterr().out
    assert _run(monkeypatch, tmp_path, "import", str(exported), "--dry-run", **target) == 0
    capsys.readouterr()
    in_french = tmp_path / "fr.csv"
    code = _run(
        monkeypatch, tmp_path, "export", "--language", "fr", "--output", str(in_french), **source
    )
    assert code == 0 and "Kampala" in in_french.read_text(encoding="utf-8-sig")
    assert _run(monkeypatch, tmp_path, "export", "--forum", "NOPE", **source) == 2
    assert "there is no forum 'NOPE'" in capsys.readouterr().err

    # The UN forms' layouts, with the documents copied beside the file.
    grf = tmp_path / "grf.csv"
    code = _run(
        monkeypatch,
        tmp_path,
        "export",
        "--layout",
        "unhcr-grf",
        "--output",
        str(grf),
        "--documents",
        str(tmp_path / "documents"),
        **source,
    )
    said = capsys.readouterr().out
    assert code == 0 and "wrote 1 pledges" in said and "copied 0 documents" in said
    header = grf.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("Name of entity submitting this form,Country,")
    # The pledge serves the refugee compact only: the GCM form's layout does not hold it.
    gcm = tmp_path / "gcm.csv"
    code = _run(
        monkeypatch, tmp_path, "export", "--layout", "unn-gcm", "--output", str(gcm), **source
    )
    assert code == 0 and "wrote 0 pledges" in capsys.readouterr().out
    assert _run(monkeypatch, tmp_path, "export", "--layout", "unn-gcm", "--codes", **source) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_a_file_exported_before_the_un_form_fields_still_imports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.exchange.layout import OPTIONAL_COLUMNS

    older = [c for c in PLEDGE_COLUMNS if c not in OPTIONAL_COLUMNS]
    row = {c: v for c, v in {**KAMPALA, "reference": "CLA-2023-0013"}.items() if c in older}
    given = csv_file(tmp_path / "older.csv", [row], header=older)
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'older.sqlite3'}"}
    assert _run(monkeypatch, tmp_path, "import", str(given), **database) == 0
    assert "Imported 1 pledge and 0 progress reports." in capsys.readouterr().out


def test_db_backup_copies_a_live_sqlite_database_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    for _ in range(3):
        assert _run(monkeypatch, tmp_path, "invite", "--role", "staff", DATABASE_URL=database) == 0
    # A writer in the middle of a transaction: the copy has what was committed, whole.
    writer = sqlite3.connect(tmp_path / "cli.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM invite")
    capsys.readouterr()
    code = _run(
        monkeypatch, tmp_path, "db", "backup", "copies/first.sqlite3", DATABASE_URL=database
    )
    writer.execute("ROLLBACK")
    assert code == 0
    assert capsys.readouterr().out.startswith("backed up to copies/first.sqlite3 (")
    copy = sqlite3.connect(tmp_path / "copies" / "first.sqlite3")
    assert copy.execute("SELECT count(*) FROM invite").fetchone() == (3,)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = _run(
        monkeypatch, tmp_path, "db", "backup", "copies/first.sqlite3", DATABASE_URL=database
    )
    assert again == 2 and "exists" in capsys.readouterr().err
    postgres = "postgresql://postgres@127.0.0.1:5432/test"
    assert _run(monkeypatch, tmp_path, "db", "backup", "x.sqlite3", DATABASE_URL=postgres) == 2
    assert "pg_dump" in capsys.readouterr().err


def test_db_backup_keeps_the_pledges_documents_beside_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert _run(monkeypatch, tmp_path, "invite", "--role", "staff", DATABASE_URL=database) == 0
    kept = tmp_path / "data" / "attachments" / "7"
    kept.mkdir(parents=True)
    (kept / "0123456789abcdef-plan.pdf").write_bytes(b"%PDF-1.7 plan")
    (kept / "fedcba9876543210-half.pdf.part").write_bytes(b"%PDF")  # still being written
    capsys.readouterr()
    assert _run(monkeypatch, tmp_path, "db", "backup", "b/one.sqlite3", DATABASE_URL=database) == 0
    assert capsys.readouterr().out.strip().endswith("and 1 document to b/one.sqlite3.attachments")
    copied = tmp_path / "b" / "one.sqlite3.attachments" / "7"
    assert [p.name for p in copied.iterdir()] == ["0123456789abcdef-plan.pdf"]
    assert (copied / "0123456789abcdef-plan.pdf").read_bytes() == b"%PDF-1.7 plan"

    # A disk that fills while the documents are copied: one line, nothing half-made stays.
    def full_disk(source: Path, target: Path, **_: object) -> None:
        Path(target).mkdir(parents=True)
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr("storage.backup.shutil.copytree", full_disk)
        code = _run(monkeypatch, tmp_path, "db", "backup", "b/two.sqlite3", DATABASE_URL=database)
    assert code == 2 and "its documents could not be" in capsys.readouterr().err
    assert not (tmp_path / "b" / "two.sqlite3.attachments.partial").exists()
    # A second backup to the same name touches neither the copy nor its documents.
    assert _run(monkeypatch, tmp_path, "db", "backup", "b/one.sqlite3", DATABASE_URL=database) == 2
    assert "exists" in capsys.readouterr().err


def test_export_copies_an_attached_document_into_the_documents_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pledgebot export --documents FOLDER` copies the project's own copy of each document
    to FOLDER/<reference>/<its name>; a copy gone missing is left out and not counted."""
    import sqlite3

    from storage.attachments import keep_copy

    source = {"DATABASE_URL": f"sqlite:///{tmp_path / 'source.sqlite3'}"}
    given = csv_file(
        tmp_path / "given.csv",
        [{**KAMPALA, "reference": "CLA-2023-0014", "forum": "GRF2023"}],
    )
    assert _run(monkeypatch, tmp_path, "import", str(given), **source) == 0

    # A document as the bot keeps it: its bytes under data/attachments/, its row beside it.
    plan = b"%PDF-1.7 the plan for ten classrooms" * 30
    database = sqlite3.connect(tmp_path / "source.sqlite3")
    [(pledge_id,)] = database.execute(
        "SELECT id FROM pledge WHERE reference = 'CLA-2023-0014'"
    ).fetchall()
    kept: list[tuple[str, str, str]] = [
        (
            "Plan des écoles.pdf",
            *keep_copy(tmp_path / "data", pledge_id, "Plan des écoles.pdf", plan),
        ),
        ("gone.pdf", f"attachments/{pledge_id}/0000000000000000-gone.pdf", "0" * 64),
    ]
    with database:
        for name, stored_as, digest in kept:
            database.execute(
                "INSERT INTO attachment (pledge_id, file_name, mime_type, size, sha256,"
                " stored_as, telegram_file_id, created_at)"
                " VALUES (?, ?, 'application/pdf', ?, ?, ?, '', '2027-03-01 10:00:00.000000')",
                (pledge_id, name, len(plan), digest, stored_as),
            )
    database.close()
    capsys.readouterr()

    folder = tmp_path / "documents"
    code = _run(
        monkeypatch,
        tmp_path,
        "export",
        "--output",
        str(tmp_path / "out.csv"),
        "--documents",
        str(folder),
        **source,
    )
    said = capsys.readouterr().out
    assert code == 0 and "wrote 1 pledges" in said
    assert f"copied 1 document to {folder}" in said
    assert [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()] == [
        "CLA-2023-0014/Plan des écoles.pdf"
    ]
    assert (folder / "CLA-2023-0014" / "Plan des écoles.pdf").read_bytes() == plan
