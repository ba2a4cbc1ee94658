"""The layering rules of docs/ARCHITECTURE.md, checked on every import statement.

- ``crypto`` imports nothing from ``app`` or ``relay`` and no I/O module.
- ``relay`` imports nothing from ``app``.
- ``app.core`` imports no Qt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

IO_MODULES = {
    "asyncio", "io", "os", "pathlib", "socket", "ssl", "select", "selectors", "subprocess",
    "shutil", "sqlite3", "tempfile", "threading", "multiprocessing", "time", "datetime",
    "random", "logging", "urllib", "http", "websockets", "keyring", "sqlcipher3",
}
QT_MODULES = {"PySide6", "qasync", "shiboken6"}

RULES: list[tuple[str, set[str], str]] = [
    ("crypto", {"app", "relay"} | IO_MODULES, "crypto must stay pure: no app, relay or I/O"),
    ("relay", {"app"}, "the relay must not depend on the client"),
    ("app/core", QT_MODULES, "the client core must not import Qt"),
]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(("package", "forbidden", "reason"), RULES)
def test_layering(package: str, forbidden: set[str], reason: str) -> None:
    violations = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path) & forbidden
        if bad:
            violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not violations, f"{reason}:\n" + "\n".join(violations)


def test_layering_check_catches_a_violation(tmp_path: Path) -> None:
    offender = tmp_path / "bad.py"
    offender.write_text("import os\nfrom app.core import x\n", encoding="utf-8")
    assert imported_roots(offender) == {"os", "app"}
