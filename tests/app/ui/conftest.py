"""Fixtures of the UI tests: an offscreen Qt, a qasync loop, a real relay, real profiles.

The whole UI suite runs with ``QT_QPA_PLATFORM=offscreen`` unless the caller chose a platform
(the Xvfb screenshot run sets ``xcb``). Coroutines run with ``run(qloop, coro)``; never call
``qtbot.wait``/``waitSignal`` inside a coroutine (under qasync they hang).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from app.adapters.keystore import open_secret_store
from app.config import ProfilePaths
from app.ui.bridge import Bridge
from app.ui.collector import GuiThreadCollector
from tests.app.ui.support import create_bridge, run, unique_profile
from tests.integration.conftest import RelayProcess, start_relay

SCREENSHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots"
"""Where screenshot tests leave their PNG files for people to look at (a build artifact)."""


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop on pytest-qt's application, running on Qt's own dispatcher for the whole
    test (as in the application), so ``qtbot.waitUntil``/``waitSignal`` also drive asyncio.
    Coroutines run with ``run(qloop, coro)``. Pending tasks are cancelled after the test."""
    collector = GuiThreadCollector()  # as in the application: no collection in worker threads
    collector.start()
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        run(loop, asyncio.gather(*pending, return_exceptions=True))
    run(loop, loop.shutdown_asyncgens())
    # Mark it stopped without QCoreApplication.exit() (qasync's stop() calls it, and the next
    # test's first Qt event loop would then return at once).
    loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
    asyncio.events._set_running_loop(None)
    loop.close()
    asyncio.set_event_loop(None)
    collector.stop()


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    """One real relay process on 127.0.0.1 for a test module (each test uses new identities)."""
    process = start_relay(tmp_path_factory.mktemp("relay"), "--max-connections-per-address", "0")
    yield process
    assert process.stop() == 0, process.log_text()


@pytest.fixture
def make_profile(tmp_path: Path) -> Callable[[str], ProfilePaths]:
    """New profile locations under the test's directory, with a name unique in the keyring."""
    return lambda name: unique_profile(tmp_path / "profiles", name)


@pytest.fixture
def bridge_for(
    qloop: qasync.QEventLoop, make_profile: Callable[[str], ProfilePaths]
) -> Iterator[Callable[..., Bridge]]:
    """``bridge_for("Alice", relay, start=True, preferences=None, options=None)``: a real
    account (real keyring, real SQLCipher) on ``relay``, behind a started bridge. Every bridge
    is closed and its keyring entries deleted after the test."""
    made: list[tuple[Bridge, ProfilePaths]] = []

    def factory(display_name: str, relay: RelayProcess, **kwargs: Any) -> Bridge:
        paths = make_profile(display_name.lower())
        bridge = run(qloop, create_bridge(paths, display_name, relay.url, **kwargs))
        made.append((bridge, paths))
        return bridge

    yield factory
    for bridge, paths in made:
        with contextlib.suppress(Exception):
            run(qloop, bridge.close())
        with contextlib.suppress(Exception):
            open_secret_store(paths).delete()


@pytest.fixture
def screenshots() -> Path:
    """The folder where screenshots are kept as build artifacts (created if needed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
