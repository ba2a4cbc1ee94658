"""The system tray icon: unread dot and tooltip from the attention state, and a small menu.

Menu: Open Sourdine, Off duty (a check box: the bridge's ``setOffDuty``), Quit (emits
:attr:`Tray.quitRequested`; the application decides how to quit and shut down).
Clicking the icon opens the window.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from app.core.attention import AttentionState
from app.ui.bridge import Bridge
from app.ui.surfaces.icons import tray_icon

APP_NAME: Final = "Sourdine"


class Tray(QObject):
    """The tray icon of one profile's window (see the module docstring)."""

    openRequested = Signal()  # "Open Sourdine" or a click on the icon
    quitRequested = Signal()  # "Quit"

    def __init__(self, bridge: Bridge, window: QWidget) -> None:
        super().__init__(window)
        self._bridge = bridge
        self.icon = QSystemTrayIcon(window)
        self.icon_key = ""  # "normal" or "unread": which icon is shown (set by show_state)

        self.menu = QMenu(window)
        self.menu.setAccessibleName(self.tr("Sourdine menu"))
        self.open_action = QAction(self.tr("Open Sourdine"), self.menu)
        self.off_duty_action = QAction(self.tr("Off duty"), self.menu)
        self.off_duty_action.setCheckable(True)
        self.off_duty_action.setToolTip(
            self.tr("Hide unread counts and notifications until you switch it off")
        )
        self.quit_action = QAction(self.tr("Quit"), self.menu)
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.off_duty_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)

        self.open_action.triggered.connect(self.openRequested)
        self.off_duty_action.toggled.connect(self._off_duty_toggled)
        self.quit_action.triggered.connect(self.quitRequested)
        self.icon.activated.connect(self._activated)
        bridge.attentionChanged.connect(self.show_state)
        self.show_state(bridge.attention_state)
        self.icon.show()

    def tooltip_for(self, state: AttentionState) -> str:
        """The tooltip for ``state``."""
        if state.off_duty:
            return self.tr("Sourdine — off duty")
        if state.total == 0:
            return APP_NAME
        return self.tr("Sourdine — %n unread", "tray tooltip", state.total)

    def show_state(self, state: AttentionState) -> None:
        key = "unread" if state.total > 0 and not state.off_duty else "normal"
        if key != self.icon_key:
            self.icon.setIcon(tray_icon(key))
            self.icon_key = key
        self.icon.setToolTip(self.tooltip_for(state))
        if self.off_duty_action.isChecked() != state.off_duty:
            self.off_duty_action.blockSignals(True)  # showing the state is not a user choice
            self.off_duty_action.setChecked(state.off_duty)
            self.off_duty_action.blockSignals(False)

    def hide(self) -> None:
        self.icon.hide()

    def _off_duty_toggled(self, checked: bool) -> None:
        self._bridge.setOffDuty(checked)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.openRequested.emit()
