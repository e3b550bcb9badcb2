"""The .ics file of pledge deadlines: RFC 5545 escaping, folding, CRLF, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from conversations.render.calendar import deadlines_calendar, escape_text, fold_line
from storage.models import Forum

NOW = datetime(2027, 1, 10, 12, 0, 5, tzinfo=UTC)


def unfold(content: bytes) -> list[str]:
    """Content lines as a calendar reads them: CRLF + one blank joins a line to the previous."""
    text = content.decode()
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(char)
    return "".join(out)


def _forum(code: str, name: str, deadline: datetime | None) -> Forum:
    return Forum(code=code, names={"en": name}, pledge_deadline=deadline)


def test_text_is_escaped() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    assert escape_text("tab\there\x00") == "tabhere"
    assert unescape(escape_text("Geneva; Zurich, Bern\\x\nend")) == "Geneva; Zurich, Bern\\x\nend"


def test_long_lines_fold_at_75_octets_without_splitting_characters() -> None:
    line = "SUMMARY:" + "é" * 100 + "x" * 50
    folded = fold_line(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 1
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join([pieces[0], *(p[1:] for p in pieces[1:])]) == line
    assert fold_line("SHORT:x") == "SHORT:x"


def test_the_calendar_has_one_event_per_deadline_in_utc() -> None:
    geneva = datetime(2027, 3, 15, 17, 0, tzinfo=ZoneInfo("Europe/Zurich"))
    forums = [
        _forum("GRF2027", "Global Refugee Forum, 2027; \\Geneva\\ edition " + "x" * 80, geneva),
        _forum("NODATE", "Undated", None),
        _forum("IMRF2026", "Форум по обзору международной миграции 2026 года", geneva),
    ]
    content = deadlines_calendar(forums, NOW)
    assert content.endswith(b"\r\n")
    assert b"\n" not in content.replace(b"\r\n", b"")  # every line ends with CRLF, nothing else
    assert all(len(line) <= 75 for line in content.split(b"\r\n"))
    lines = unfold(content)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 2 and lines.count("END:VEVENT") == 2
    assert lines.count("BEGIN:VALARM") == 2 and lines.count("TRIGGER:-P1D") == 2
    assert "UID:GRF2027-deadline@pledgebot" in lines
    assert "UID:IMRF2026-deadline@pledgebot" in lines
    assert "DTSTART:20270315T160000Z" in lines  # 17:00 in Geneva is 16:00 UTC in March
    assert lines.count("DTSTAMP:20270110T120005Z") == 2
    summaries = [unescape(line.split(":", 1)[1]) for line in lines if line.startswith("SUMMARY:")]
    assert summaries[0] == (
        "Pledge deadline: Global Refugee Forum, 2027; \\Geneva\\ edition " + "x" * 80
    )
    assert summaries[1].endswith("2026 года")
    assert not any("NODATE" in line for line in lines)


def test_summary_and_alarm_can_be_translated() -> None:
    forum = _forum("GRF2027", "Forum", datetime(2027, 3, 15, 16, 0, tzinfo=UTC))
    content = deadlines_calendar(
        [forum], NOW, summary=lambda f: f"Date limite : {f.code}", alarm=lambda f: "Demain"
    )
    lines = unfold(content)
    assert "SUMMARY:Date limite : GRF2027" in lines
    assert "DESCRIPTION:Demain" in lines


def test_an_empty_calendar_is_still_valid() -> None:
    lines = unfold(deadlines_calendar([], NOW))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "BEGIN:VEVENT" not in lines
