"""Callback data: an action code and ids, never user text, always within 64 bytes."""

from __future__ import annotations

from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
SEPARATOR = ":"


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int | None:
        """An argument read as a whole number, or None if it is missing or forged."""
        try:
            return int(self.args[index])
        except (IndexError, ValueError):
            return None

    def str_arg(self, index: int) -> str | None:
        return self.args[index] if index < len(self.args) else None


def pack(action: str, *args: int | str) -> str:
    """Callback data for a button; refuses anything Telegram would refuse."""
    parts = [action, *(str(a) for a in args)]
    if any(SEPARATOR in p for p in parts):
        raise ValueError(f"callback parts may not contain {SEPARATOR!r}: {parts}")
    data = SEPARATOR.join(parts)
    if not 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data must be 1–64 bytes: {data!r}")
    return data


def unpack(data: str | None) -> Callback:
    """The action and arguments of a button press (an empty action if there is no data)."""
    if not data:
        return Callback("", ())
    action, *args = data.split(SEPARATOR)
    return Callback(action, tuple(args))
