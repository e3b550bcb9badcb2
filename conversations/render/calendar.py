"""Pledge deadlines as an iCalendar file (RFC 5545), written by hand for phones' calendars."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from storage.forums import forum_name
from storage.models import Forum

PRODID = "-//pledgebot//Pledge deadlines//EN"
CRLF = "\r\n"
MAX_LINE_OCTETS = 75  # RFC 5545 §3.1, not counting the CRLF


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(c for c in value if c == "\n" or (c >= " " and c != "\x7f"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold_line(line: str) -> str:
    """A content line folded into pieces of at most 75 octets, never inside a UTF-8 character."""
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        octets = len(char.encode())
        if size + octets > MAX_LINE_OCTETS:
            pieces.append(current)
            current, size = " ", 1  # a continuation line starts with one space
        current += char
        size += octets
    pieces.append(current)
    return CRLF.join(pieces)


def utc_stamp(value: datetime) -> str:
    """A DATE-TIME in UTC form, e.g. 20270315T160000Z."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def default_summary(forum: Forum) -> str:
    return f"Pledge deadline: {forum_name(forum, 'en')}"


def default_alarm(forum: Forum) -> str:
    return f"The pledge deadline for {forum_name(forum, 'en')} is tomorrow."


def deadlines_calendar(
    forums: Sequence[Forum],
    now: datetime,
    *,
    summary: Callable[[Forum], str] = default_summary,
    alarm: Callable[[Forum], str] = default_alarm,
) -> bytes:
    """A VCALENDAR with one VEVENT per forum deadline, each with an alarm a day before."""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for forum in forums:
        if forum.pledge_deadline is None:
            continue
        lines += [
            "BEGIN:VEVENT",
            f"UID:{forum.code}-deadline@pledgebot",
            f"DTSTAMP:{utc_stamp(now)}",
            f"DTSTART:{utc_stamp(forum.pledge_deadline)}",
            f"SUMMARY:{escape_text(summary(forum))}",
        ]
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-P1D",
            f"DESCRIPTION:{escape_text(alarm(forum))}",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines).encode()
