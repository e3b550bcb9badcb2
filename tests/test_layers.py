"""Layers one way: bot → conversations → storage; never back up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A package may not import the packages listed for it.
FORBIDDEN = {"storage": ("bot", "conversations"), "conversations": ("bot",)}


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports, at run time or for type checking alike."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_lower_layer_never_imports_a_higher_one(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported(path) & set(FORBIDDEN[package]))
        for path in (ROOT / package).rglob("*.py")
        if imported(path) & set(FORBIDDEN[package])
    }
    assert offenders == {}
