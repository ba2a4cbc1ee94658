"""The attention surfaces outside the window's content: tray icon, window title, taskbar
badge, native notifications and the taskbar alert.

All of them show only what the :class:`~app.core.attention.AttentionService` publishes
through the bridge (``attentionChanged``, ``noticeRaised``, ``attention_state``); nothing else
in the app sets these indicators. :func:`install_surfaces` creates them for the main window::

    surfaces = install_surfaces(bridge, window)
    surfaces.quitRequested.connect(app.quit)           # the tray's Quit
    surfaces.openConversation.connect(window.open...)  # a notification was clicked

The surfaces are children of the window (they live as long as it does).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.adapters.launcher_badge import LauncherEntry
from app.adapters.notifications import DesktopNotifications
from app.ui.bridge import Bridge
from app.ui.surfaces.alert import AttentionAlert
from app.ui.surfaces.icons import APP_ICON
from app.ui.surfaces.notifications import NotificationSurface
from app.ui.surfaces.taskbar_badge import TaskbarBadge
from app.ui.surfaces.tray import Tray
from app.ui.surfaces.window_title import APP_NAME, WindowTitle

__all__ = ["Surfaces", "install_surfaces"]


class Surfaces(QObject):
    """The installed surfaces of one window, and the two requests they make of the app."""

    quitRequested = Signal()  # the tray menu's Quit: the application quits (and shuts down)
    openConversation = Signal(int)  # a notification was clicked: show this conversation

    def __init__(
        self, bridge: Bridge, window: QWidget, *,
        notifications: DesktopNotifications | None = None, launcher: LauncherEntry | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self.title = WindowTitle(bridge, window)
        self.tray = Tray(bridge, window)
        self.badge = TaskbarBadge(bridge, window, launcher)
        self.notifications = NotificationSurface(
            bridge, notifications or DesktopNotifications(APP_NAME, APP_ICON), self
        )
        self.alert = AttentionAlert(bridge, window)
        self.tray.quitRequested.connect(self.quitRequested)
        self.tray.openRequested.connect(self.present_window)
        self.notifications.openConversation.connect(self._open_conversation)

    def present_window(self) -> None:
        """Show the window in front (restored if minimised) and give it the keyboard."""
        window = self._window
        if window.isMinimized():
            window.showNormal()
        else:
            window.show()
        window.raise_()
        window.activateWindow()

    async def close(self) -> None:
        """Take the surfaces down: tray hidden, badge cleared, notifications withdrawn."""
        self.tray.hide()
        self.badge.close()
        await self.notifications.close()

    def _open_conversation(self, conversation_id: int) -> None:
        self.present_window()
        self.openConversation.emit(conversation_id)


def install_surfaces(bridge: Bridge, window: QWidget) -> Surfaces:
    """Create every attention surface for ``window`` (the main window) on ``bridge``."""
    return Surfaces(bridge, window)
