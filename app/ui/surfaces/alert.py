"""The taskbar "demands attention" flash when a notice arrives while the window is inactive."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget

from app.core.attention import Notice
from app.ui.bridge import Bridge


class AttentionAlert(QObject):
    """Calls ``QApplication.alert(window)`` (X11: ``_NET_WM_STATE_DEMANDS_ATTENTION``;
    Windows: ``FlashWindowEx``) for each notice while the window is not the active one.

    Notices are already filtered by the attention service (none off duty, none for the
    conversation the user is looking at); off duty is checked again here as a last guard.
    """

    alerted = Signal(int)  # conversation id of the notice that made the window ask for attention

    def __init__(self, bridge: Bridge, window: QWidget) -> None:
        super().__init__(window)
        self._bridge = bridge
        self._window = window
        bridge.noticeRaised.connect(self._on_notice)

    def _on_notice(self, notice: Notice) -> None:
        if self._bridge.attention_state.off_duty or self._window.isActiveWindow():
            return
        QApplication.alert(self._window, 0)  # 0: until the window is activated
        self.alerted.emit(notice.conversation_id)
