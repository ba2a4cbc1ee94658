"""The layering rules of docs/ARCHITECTURE.md, checked on every import statement.

- ``crypto`` imports nothing from ``app`` or ``relay`` and no I/O module.
- ``relay`` imports nothing from ``app``.
- ``app.core`` imports no Qt and no I/O library (WebSockets, keyring, SQLite/SQLCipher, the
  Secret Service): its I/O goes through ``app.adapters``.
- The client (``app``) imports from ``relay`` only ``relay.protocol`` and ``relay.errors``,
  never the server or its storage.
- Nothing below the user interface imports ``app.ui``; inside it, only the bridge (and the
  application that builds it) reaches the client facade, and only the bridge has async slots.

Every import statement counts, including those inside functions. Each rule is also run on a
small offending tree (``test_each_rule_catches_*``) so that a rule that cannot fail is noticed.
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
CLIENT_IO_MODULES = {"websockets", "keyring", "sqlite3", "sqlcipher3", "secretstorage", "jeepney"}
"""I/O libraries only app/adapters may import."""

RULES: list[tuple[str, set[str], str]] = [
    ("crypto", {"app", "relay"} | IO_MODULES, "crypto must stay pure: no app, relay or I/O"),
    ("relay", {"app"}, "the relay must not depend on the client"),
    ("app/core", QT_MODULES | CLIENT_IO_MODULES,
     "the client core must not import Qt or I/O libraries (use app/adapters)"),
]

RELAY_PUBLIC = {"relay.protocol", "relay.errors"}
"""The only parts of the relay package the client may import (and their submodules)."""
SUBMODULE_RULES: list[tuple[str, str, set[str], str]] = [
    ("app", "relay", RELAY_PUBLIC,
     "the client may import only relay.protocol and relay.errors from the relay"),
    ("app/core", "app.ui", set(), "the core must not depend on the user interface"),
    ("app/adapters", "app.ui", set(), "adapters must not depend on the user interface"),
]

UI_SEAM = {"app/ui/bridge.py", "app/ui/application.py"}
"""The only UI modules that may hold the client facade (the application builds the bridge)."""
UI_SEAM_MODULES = {"app.core.client.SourdineClient", "qasync.asyncSlot"}


def seam_violations(ui_dir: Path, base: Path = ROOT) -> list[str]:
    """UI files outside the seam that import the client facade or qasync's asyncSlot
    (``asyncSlot`` is allowed in the bridge only)."""
    found = []
    for path in sorted(ui_dir.rglob("*.py")):
        relative = path.relative_to(base).as_posix()
        names = imported_modules(path)
        bad = names & UI_SEAM_MODULES if relative not in UI_SEAM else set()
        if relative == "app/ui/application.py":
            bad = names & {"qasync.asyncSlot"}
        if bad:
            found.append(f"{relative} imports {sorted(bad)}")
    return found


def test_views_reach_the_core_only_through_the_bridge() -> None:
    bad = seam_violations(ROOT / "app" / "ui")
    assert not bad, "the UI talks to the core only through app/ui/bridge.py:\n" + "\n".join(bad)


@pytest.mark.parametrize(("where", "statement", "caught"), [
    ("app/ui/views/chat.py", "from app.core.client import SourdineClient", True),
    ("app/ui/views/chat.py", "from qasync import asyncSlot", True),
    ("app/ui/application.py", "from qasync import asyncSlot", True),
    ("app/ui/application.py", "from app.core.client import SourdineClient", False),
    ("app/ui/bridge.py", "from qasync import asyncSlot", False),
    ("app/ui/views/chat.py", "from app.adapters.store import MessageRecord", False),
])
def test_the_seam_rule_can_fail(tmp_path: Path, where: str, statement: str,
                                caught: bool) -> None:
    offender = tmp_path / where
    offender.parent.mkdir(parents=True)
    offender.write_text(statement + "\n", encoding="utf-8")
    assert bool(seam_violations(tmp_path / "app" / "ui", tmp_path)) is caught


def test_the_core_rule_catches_a_ui_import(tmp_path: Path) -> None:
    offender = tmp_path / "app" / "core" / "bad.py"
    offender.parent.mkdir(parents=True)
    offender.write_text("from app.ui.bridge import Bridge\n", encoding="utf-8")
    assert submodule_violations(tmp_path / "app" / "core", "app.ui", set(), tmp_path)


def imported_modules(path: Path) -> set[str]:
    """Full names of the absolute imports in ``path``: ``from a.b import c`` gives ``a.b.c``
    (``c`` may be a module or a name in ``a.b``; both spellings are kept)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imported_roots(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def violations(package_dir: Path, forbidden: set[str], base: Path = ROOT) -> list[str]:
    """Files under ``package_dir`` importing a top-level package in ``forbidden``."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        bad = imported_roots(path) & forbidden
        if bad:
            found.append(f"{path.relative_to(base)} imports {sorted(bad)}")
    return found


def outside_allowed(name: str, package: str, allowed: set[str]) -> bool:
    """``name`` is ``package`` or inside it, but not one of ``allowed`` nor inside one."""
    if name != package and not name.startswith(package + "."):
        return False
    return not any(name == a or name.startswith(a + ".") for a in allowed)


def submodule_violations(
    package_dir: Path, imported: str, allowed: set[str], base: Path = ROOT
) -> list[str]:
    """Files under ``package_dir`` importing a part of ``imported`` outside ``allowed``."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        bad = {n for n in imported_modules(path) if outside_allowed(n, imported, allowed)}
        if bad:
            found.append(f"{path.relative_to(base)} imports {sorted(bad)}")
    return found


@pytest.mark.parametrize(("package", "forbidden", "reason"), RULES)
def test_layering(package: str, forbidden: set[str], reason: str) -> None:
    bad = violations(ROOT / package, forbidden)
    assert not bad, f"{reason}:\n" + "\n".join(bad)


@pytest.mark.parametrize(("package", "imported", "allowed", "reason"), SUBMODULE_RULES)
def test_client_imports_only_the_relay_protocol(
    package: str, imported: str, allowed: set[str], reason: str
) -> None:
    bad = submodule_violations(ROOT / package, imported, allowed)
    assert not bad, f"{reason}:\n" + "\n".join(bad)


def test_the_checked_packages_exist_and_hold_code() -> None:
    for package in {rule[0] for rule in RULES} | {rule[0] for rule in SUBMODULE_RULES}:
        assert any((ROOT / package).rglob("*.py")), f"{package} has no Python file to check"


def test_layering_check_catches_a_violation(tmp_path: Path) -> None:
    offender = tmp_path / "bad.py"
    offender.write_text("import os\nfrom app.core import x\n", encoding="utf-8")
    assert imported_roots(offender) == {"os", "app"}


@pytest.mark.parametrize(
    ("package", "module"),
    sorted({(package, module) for package, forbidden, _ in RULES for module in forbidden}),
)
def test_each_rule_catches_each_forbidden_import(
    tmp_path: Path, package: str, module: str
) -> None:
    clean = tmp_path / package / "clean.py"
    clean.parent.mkdir(parents=True)
    clean.write_text("from __future__ import annotations\nimport json\n", encoding="utf-8")
    forbidden = next(f for p, f, _ in RULES if p == package)
    assert violations(tmp_path / package, forbidden, tmp_path) == []
    nested = tmp_path / package / "sub" / "bad.py"
    nested.parent.mkdir()
    nested.write_text(
        f"def later() -> None:\n    from {module}.part import thing\n", encoding="utf-8"
    )
    assert violations(tmp_path / package, forbidden, tmp_path) == [
        f"{package}/sub/bad.py imports {[module]}"
    ]


@pytest.mark.parametrize("statement", [
    "import relay",
    "import relay.server",
    "import relay.store.sqlite as store",
    "from relay import server",
    "from relay import protocol, operations",
    "from relay.store import SQLiteRelayStore",
    "from relay.protocolx import thing",
    "from relay.server import RelayServer",
])
def test_the_client_rule_catches_other_relay_modules(tmp_path: Path, statement: str) -> None:
    offender = tmp_path / "app" / "adapters" / "bad.py"
    offender.parent.mkdir(parents=True)
    offender.write_text(statement + "\n", encoding="utf-8")
    assert len(submodule_violations(tmp_path / "app", "relay", RELAY_PUBLIC, tmp_path)) == 1


@pytest.mark.parametrize("statement", [
    "from relay import protocol as p",
    "from relay import errors, protocol",
    "from relay.errors import ProtocolError",
    "from relay.protocol import MAX_SEARCH_RESULTS",
    "import relay.protocol.wire",
    "import relayed",  # another package whose name starts like the relay's
])
def test_the_client_rule_allows_the_protocol(tmp_path: Path, statement: str) -> None:
    allowed = tmp_path / "app" / "core" / "fine.py"
    allowed.parent.mkdir(parents=True)
    allowed.write_text(statement + "\n", encoding="utf-8")
    assert submodule_violations(tmp_path / "app", "relay", RELAY_PUBLIC, tmp_path) == []
