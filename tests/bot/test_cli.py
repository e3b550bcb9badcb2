"""The command line: one-line configuration errors, invites, the simulator, log redaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.context import Services
from bot.logs import REDACTED, RedactSecrets
from bot.simulator import simulate
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
            "12",
        ]:
            yield line
        yield ":quit"

    await simulate(services, typed(), out.append)
    screen = "\n".join(out)
    assert "CLA-" in screen, screen[-3000:]
    assert "Telegram would refuse" not in screen
    assert "(to Alice" not in screen  # the coordinator's notice is shown as addressed to Alice
    assert "bot → Alice" in screen and "bot → Olga" in screen
