"""`pledgebot member` and `pledgebot invitations` against a real database file."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _official(tmp_path: Path, telegram_id: int, name: str) -> int:
    """An official of Lyon, as someone who joined by invitation is stored."""
    with sqlite3.connect(tmp_path / "cli.sqlite3") as connection:
        (lyon,) = connection.execute("SELECT id FROM locality WHERE name = 'Lyon'").fetchone()
        cursor = connection.execute(
            "INSERT INTO member (telegram_id, display_name, role, locality_id, language, "
            "time_zone, reminder_hour, muted_kinds, active, created_at, last_seen_at) "
            "VALUES (?, ?, 'official', ?, 'en', 'Europe/Paris', 9, '[]', 1, "
            "'2026-12-01 10:00:00.000000', '2026-12-01 10:00:00.000000')",
            (telegram_id, name, lyon),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def test_members_are_listed_deactivated_and_activated_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    invite = ("invite", "--role", "official", "--locality", "Lyon", "--country", "FR", "--quiet")
    assert _run(monkeypatch, capsys, tmp_path, *invite)[0] == 0
    olga = _official(tmp_path, 9001, "Olga Souza")

    code, out, _ = _run(monkeypatch, capsys, tmp_path, "member", "list")
    assert code == 0
    assert re.search(rf"^\s*{olga}\s+official\s+Lyon \(FR\)\s+Olga Souza\s+active$", out, re.M)

    code, out, _ = _run(monkeypatch, capsys, tmp_path, "member", "deactivate", str(olga))
    assert code == 0 and out.startswith("deactivated:") and "Olga Souza" in out
    with sqlite3.connect(tmp_path / "cli.sqlite3") as connection:
        row = connection.execute(
            "SELECT role, revoked_role, revoked_at IS NOT NULL FROM member WHERE id = ?", (olga,)
        ).fetchone()
        notices = connection.execute("SELECT kind, status FROM notice").fetchall()
    assert row == (None, "official", 1)
    assert notices == [("access_ended", "pending")]  # the running bot tells her
    out = _run(monkeypatch, capsys, tmp_path, "member", "list")[1]
    assert re.search(rf"^\s*{olga}\s+official\s+Lyon \(FR\)\s+Olga Souza\s+deactivated ", out, re.M)

    code, _, err = _run(monkeypatch, capsys, tmp_path, "member", "deactivate", str(olga))
    assert code == 2 and err.strip() == f"pledgebot: member {olga} is deactivated already"
    code, out, _ = _run(monkeypatch, capsys, tmp_path, "member", "activate", str(olga))
    assert code == 0 and out.startswith("activated:")
    code, _, err = _run(monkeypatch, capsys, tmp_path, "member", "activate", "999")
    assert code == 2 and "no member with id 999" in err and len(err.strip().splitlines()) == 1


def test_invitations_are_listed_and_withdrawn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    invite = ("invite", "--role", "official", "--locality", "Quito", "--country", "EC", "--quiet")
    assert _run(monkeypatch, capsys, tmp_path, *invite)[0] == 0
    assert _run(monkeypatch, capsys, tmp_path, "invite", "--role", "staff", "--quiet")[0] == 0

    code, out, _ = _run(monkeypatch, capsys, tmp_path, "invitations", "list")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 3  # the header and two invitations
    quito = next(line for line in lines if "Quito (EC)" in line)
    invite_id = quito.split()[0]

    code, out, _ = _run(monkeypatch, capsys, tmp_path, "invitations", "revoke", invite_id)
    assert code == 0 and "withdrawn" in out
    out = _run(monkeypatch, capsys, tmp_path, "invitations", "list")[1]
    assert "Quito" not in out and "staff" in out
    code, _, err = _run(monkeypatch, capsys, tmp_path, "invitations", "revoke", invite_id)
    assert code == 2 and "no open invitation" in err
