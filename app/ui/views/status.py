"""The connection to the relay, said calmly in the status bar (never a pop-up).

"Connected" when the relay knows us; "Connecting…" while the first connection of the run is
being made; "Offline — messages will be sent when the connection is back" once a connection
was lost or could not be made. A drop shorter than :data:`DROP_GRACE_MS` shows nothing (a
relay restart should not make the window flicker), and reconnection attempts while offline do
not flip the text back and forth.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

DROP_GRACE_MS: Final = 1500
"""How long a lost connection may take to come back before the status says offline."""


class ConnectionStatus(QLabel):
    """A status-bar label following the bridge's ``connectionChanged`` states."""

    def __init__(self, state: str = "offline", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown = ""  # the state whose text is shown: connected | connecting | offline
        self._grace = QTimer(self)  # delays "offline" after a drop
        self._grace.setSingleShot(True)
        self._grace.setInterval(DROP_GRACE_MS)
        self._grace.timeout.connect(lambda: self._show("offline"))
        self.setAccessibleName(self.tr("Connection status"))
        self.set_state(state)

    @property
    def shown(self) -> str:
        """What the label says now: ``connected``, ``connecting`` or ``offline``."""
        return self._shown

    def set_state(self, state: str) -> None:
        """Follow a transport state (offline | connecting | connected | authenticated)."""
        if state == "authenticated":
            self._grace.stop()
            self._show("connected")
        elif self._shown == "connected":  # a drop: say so only if it lasts
            if not self._grace.isActive():
                self._grace.start()
        elif state == "offline":
            self._show("offline")
        elif self._shown != "offline":  # attempts while offline do not flip the text
            self._show("connecting")

    def _show(self, shown: str) -> None:
        texts = {
            "connected": self.tr("Connected"),
            "connecting": self.tr("Connecting…"),
            "offline": self.tr("Offline — messages will be sent when the connection is back"),
        }
        self._shown = shown
        self.setText(texts[shown])
        self.setAccessibleDescription(texts[shown])
