"""The taskbar badge as a dock sees it: exact LauncherEntry signals on the session bus.

Runs on the private bus of tests/with-secret-service.sh (SOURDINE_SECRET_SERVICE set).
"""

from __future__ import annotations

import asyncio
import os

import pytest

from app.adapters.launcher_badge import LauncherEntry, TaskbarOverlay
from tests.support.desktop_bus import LauncherEntryListener, wait_until


@pytest.fixture
def private_bus() -> None:
    # These tests must never broadcast on a developer's real desktop session.
    assert os.environ.get("SOURDINE_SECRET_SERVICE") == os.environ.get(
        "DBUS_SESSION_BUS_ADDRESS"), "run inside tests/with-secret-service.sh (a private bus)"


async def _record(updates: list[int], expected: int) -> LauncherEntryListener:
    listener = LauncherEntryListener()
    await listener.start()
    entry = LauncherEntry("sourdine")
    try:
        for count in updates:
            assert entry.update(count)
        await wait_until(lambda: len(listener.updates) >= expected)
    finally:
        entry.close()
        await listener.stop()
    return listener


def test_the_count_reaches_the_dock_with_exact_types(private_bus: None) -> None:
    listener = asyncio.run(_record([3, 0, 1200], 3))
    first, hidden, big = listener.updates
    assert first.signature == "sa{sv}"
    assert first.app_uri == "application://sourdine.desktop"
    assert (first.value("count"), first.type_of("count")) == (3, "x")
    assert (first.value("count-visible"), first.type_of("count-visible")) == (True, "b")
    assert set(first.properties) == {"count", "count-visible"}
    assert (hidden.value("count"), hidden.value("count-visible")) == (0, False)
    assert (big.value("count"), big.value("count-visible")) == (1200, True)


def test_a_negative_count_is_shown_as_nothing(private_bus: None) -> None:
    listener = asyncio.run(_record([-4], 1))
    assert (listener.updates[0].value("count"), listener.updates[0].value("count-visible")) == (
        0, False)


def test_without_a_session_bus_it_reports_failure_and_recovers(private_bus: None) -> None:
    attempts: list[str] = []

    def no_bus() -> object:
        attempts.append("connect")
        raise OSError("no session bus")

    entry = LauncherEntry("sourdine", connect=no_bus)  # type: ignore[arg-type]
    assert entry.update(2) is False
    assert entry.update(2) is False
    assert attempts == ["connect", "connect"]  # tried again: a bus may appear later


def test_a_missing_bus_address_is_a_failure_not_a_crash(
    private_bus: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    assert LauncherEntry("sourdine").update(5) is False


def test_the_windows_overlay_does_nothing_elsewhere() -> None:
    # The ctypes ITaskbarList3 path only runs on Windows (untested here); elsewhere it says no.
    overlay = TaskbarOverlay()
    assert overlay.set_overlay(1, 2, "3 unread") is False
    overlay.close()
