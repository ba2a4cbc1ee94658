"""The unread count on the taskbar or dock button, from the attention state.

Linux: a LauncherEntry signal for the desktop id ``sourdine`` (the one
``QGuiApplication.setDesktopFileName`` and the ``.desktop`` file use); sent when the count to
show changes, and again when a dock takes the ``com.canonical.Unity`` bus name (a dock started
after us has missed the last signal). Windows [untested here]: an overlay icon with the
count on the window's taskbar button. Off duty or nothing unread: no badge.
"""

from __future__ import annotations

import sys
from typing import Final

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QWidget

from app.adapters.launcher_badge import UNITY_SERVICE, LauncherEntry, TaskbarOverlay
from app.core.attention import AttentionState
from app.ui.bridge import Bridge

DESKTOP_ID: Final = "sourdine"


class TaskbarBadge(QObject):
    """Shows the attention state's total on the app's taskbar/dock button."""

    def __init__(
        self, bridge: Bridge, window: QWidget, launcher: LauncherEntry | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self.count: int | None = None  # the count last shown (None: nothing sent yet)
        self._launcher = launcher
        self._overlay: TaskbarOverlay | None = None
        self._hicon = 0  # Windows: the overlay icon handle we own (0: none)
        if launcher is None and sys.platform.startswith("linux"):
            self._launcher = LauncherEntry(DESKTOP_ID)
        elif launcher is None and sys.platform == "win32":
            self._overlay = TaskbarOverlay()
        self._watcher: QObject | None = None  # re-sends when a dock appears (Linux)
        self._bridge = bridge
        bridge.attentionChanged.connect(self.show_state)
        # The bus connections and the first badge wait for the event loop: the window paints
        # first.
        QTimer.singleShot(0, self, self._start)

    def _start(self) -> None:
        if self._launcher is not None:
            self._watcher = self._watch_docks()
        if self.count is None:
            self.show_state(self._bridge.attention_state)

    def show_state(self, state: AttentionState) -> None:
        count = 0 if state.off_duty else state.total
        if count != self.count:
            self.count = count
            self._send(count)

    def close(self) -> None:
        """Remove the badge and release the bus connection or icon."""
        if self.count:
            self._send(0)
        self.count = None
        if self._launcher is not None:
            self._launcher.close()
        if self._overlay is not None:
            self._overlay.close()

    def _send(self, count: int) -> None:
        if self._launcher is not None:
            self._launcher.update(count)
        elif self._overlay is not None:
            self._show_overlay(self._overlay, count)

    def _dock_appeared(self) -> None:
        if self.count is not None:
            self._send(self.count)

    def _watch_docks(self) -> QObject | None:
        try:
            from PySide6.QtDBus import QDBusConnection, QDBusServiceWatcher
        except ImportError:  # a Qt build without D-Bus: no re-sending, the badge still works
            return None
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            return None
        watcher = QDBusServiceWatcher(
            UNITY_SERVICE, bus, QDBusServiceWatcher.WatchModeFlag.WatchForRegistration, self
        )
        watcher.serviceRegistered.connect(lambda _name: self._dock_appeared())
        return watcher

    def _show_overlay(self, overlay: TaskbarOverlay, count: int) -> None:
        """Windows [untested]: a red disc with the count over the taskbar button."""
        old, self._hicon = self._hicon, _badge_hicon(count) if count else 0
        shown = self.tr("%n unread", "taskbar badge", count) if count else ""
        overlay.set_overlay(int(self._window.winId()), self._hicon, shown)
        if old:
            _destroy_hicon(old)


def _badge_hicon(count: int) -> int:
    """An HICON of a 32 px red disc with ``count`` (99+ beyond 99); 0 when Qt cannot make one."""
    image = QImage(32, 32, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#E4572E"))
    painter.drawEllipse(0, 0, 32, 32)
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(14 if count < 100 else 11)  # an icon bitmap, not text the user scales
    painter.setFont(font)
    painter.setPen(QColor("white"))
    text = "99+" if count > 99 else str(count)
    painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    to_hicon = getattr(image, "toHICON", None)  # Qt 6 on Windows only
    return int(to_hicon()) if to_hicon is not None else 0


def _destroy_hicon(hicon: int) -> None:
    import ctypes  # Windows only

    ctypes.windll.user32.DestroyIcon(ctypes.c_void_p(hicon))  # type: ignore[attr-defined]
