"""Python's garbage collector runs on the GUI thread only.

The core runs the database and the keyring in worker threads. If Python's automatic garbage
collection starts there, it can destroy Qt objects caught in reference cycles (timers, a
closed event loop's helpers) outside their thread, and Qt then crashes at a random later point.
:class:`GuiThreadCollector` turns automatic collection off and runs the same generational
collections from a Qt timer, so cycles are always freed on the GUI thread.
"""

from __future__ import annotations

import gc
from typing import Final

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS: Final = 250
"""How often allocation counts are looked at (a check is a few microseconds)."""


class GuiThreadCollector(QObject):
    """Collects garbage from the GUI thread, with Python's own thresholds."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS
                 ) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()  # restored by stop()
        self._thresholds = gc.get_threshold()  # Python's per-generation triggers
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self.collections = 0  # collections run by this object (for tests)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer, collect once more, and give automatic collection back."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def check(self) -> None:
        """Run the oldest generation whose count passed its threshold, as Python would."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                self.collections += 1
                return
