"""Garbage is collected on the GUI thread, never in the core's worker threads."""

from __future__ import annotations

import gc
import threading

from pytestqt.qtbot import QtBot

from app.ui.collector import GuiThreadCollector


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_cycles_are_freed_by_the_gui_thread_and_automatic_collection_comes_back(
    qtbot: QtBot,
) -> None:
    threads: list[str] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            threads.append(threading.current_thread().name)

    collector = GuiThreadCollector(interval_ms=10)
    gc.callbacks.append(record)
    try:
        collector.start()
        assert not gc.isenabled()
        worker = threading.Thread(target=lambda: [Cycle() for _ in range(20_000)],
                                  name="database")
        worker.start()
        worker.join()
        assert threads == []  # the worker made plenty of garbage but collected nothing
        qtbot.waitUntil(lambda: collector.collections > 0, timeout=5000)
    finally:
        collector.stop()
        gc.callbacks.remove(record)
    assert set(threads) == {threading.main_thread().name}
    assert gc.isenabled()
