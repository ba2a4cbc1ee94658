"""The unread count in the main window's title: "(3) Sourdine", plain "Sourdine" otherwise."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.core.attention import AttentionState
from app.ui.bridge import Bridge

APP_NAME: Final = "Sourdine"


class WindowTitle(QObject):
    """Keeps ``window``'s title in step with the attention state (off duty: no count).

    The window title is this object's alone: views do not set it.
    """

    def __init__(self, bridge: Bridge, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        bridge.attentionChanged.connect(self.show_state)
        self.show_state(bridge.attention_state)

    def text_for(self, state: AttentionState) -> str:
        """The title for ``state``."""
        if state.off_duty or state.total == 0:
            return APP_NAME
        return self.tr("(%n) Sourdine", "window title with the unread count", state.total)

    def show_state(self, state: AttentionState) -> None:
        self._window.setWindowTitle(self.text_for(state))
