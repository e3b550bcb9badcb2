"""The virtual clock that drives the stand-in's time (rate limits, dates, time windows)."""

from __future__ import annotations

import time
from typing import Final

# Virtual second 0 maps to a fixed Unix time so message dates are reproducible between runs.
EPOCH: Final = 1_750_000_000


class VirtualClock:
    """Monotonic seconds that move only when told to, so rate-limit tests are deterministic.

    With ``real=True`` it follows ``time.monotonic()`` (for the interactive simulator) and
    ``advance`` still fast-forwards on top of it.
    """

    def __init__(self, start: float = 0.0, *, real: bool = False) -> None:
        self._real = real
        self._offset = start

    def __call__(self) -> float:
        return (time.monotonic() if self._real else 0.0) + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        self._offset += seconds
