"""Type aliases shared by the stand-in's modules."""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram.ext import Application

JsonDict: TypeAlias = dict[str, Any]
AnyApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
