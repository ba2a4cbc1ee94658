"""The warning shown when a contact's security key changed.

A new key usually means the contact reinstalled Sourdine or uses a new computer; it can also
mean someone is trying to intercept the conversation. Sending to the contact stays blocked
until the user accepts the new key (after comparing the new safety number, ideally) or
rejects it (keeps the old one).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final, Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.adapters.store import ContactRecord
from app.core.errors import ContactError
from app.ui.views.safety import SafetyNumberView

if TYPE_CHECKING:
    import asyncio

    from app.ui.bridge import Bridge

Outcome = Literal["accepted", "rejected", "kept"]
ICON_SCALE: Final = 3
"""The warning icon's size in text lines."""


class KeyChangeDialog(QDialog):
    """Accept, keep blocked, or reject a contact's new identity key.

    :meth:`outcome` says what happened once the dialog is closed: ``"accepted"`` or
    ``"rejected"`` after the bridge confirmed it, ``"kept"`` when the user closed it.
    """

    def __init__(self, bridge: Bridge, conversation_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._conversation_id = conversation_id
        self._outcome: Outcome = "kept"
        self._asked: Outcome | None = None  # accepted/rejected requested, not confirmed yet
        self.task: asyncio.Task[None] | None = None  # the accept/reject intent in flight
        contact = bridge.contact(conversation_id)
        name = contact.display_name
        self.setWindowTitle(self.tr("The security key of %1 changed").replace("%1", name))
        self.setAccessibleName(self.windowTitle())

        icon = QLabel(self)
        side = self.fontMetrics().height() * ICON_SCALE
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(side, side))
        heading = QLabel(self.tr("The security key of %1 has changed.").replace("%1", name), self)
        font = heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2 if font.pointSizeF() > 0 else -1)
        heading.setFont(font)
        heading.setWordWrap(True)
        explanation = QLabel(self.tr(
            "This usually means %1 reinstalled Sourdine or uses a new computer. It can also "
            "mean that someone is trying to intercept your messages."
        ).replace("%1", name), self)
        explanation.setWordWrap(True)
        blocked = QLabel(self.tr(
            "Your messages to %1 are held and not sent until you accept the new key. Before "
            "you accept it, compare the new safety number below with %1 in person or on a call."
        ).replace("%1", name), self)
        blocked.setWordWrap(True)
        for label in (heading, explanation, blocked):
            label.setTextFormat(Qt.TextFormat.PlainText)

        self.view: SafetyNumberView | None = None
        try:
            number = bridge.safety_number(conversation_id, pending=True)
        except ContactError:  # the change was accepted or rejected elsewhere meanwhile
            number = None
        if number is not None:
            self.view = SafetyNumberView(number, name, self)

        self.accept_button = QPushButton(self.tr("&Accept the new key"), self)
        self.accept_button.setAccessibleName(self.tr("Accept the new key"))
        self.accept_button.setAccessibleDescription(self.tr(
            "Do this once you have compared the new safety number. Sending works again."
        ))
        self.keep_button = QPushButton(self.tr("&Keep blocked"), self)
        self.keep_button.setAccessibleName(self.tr("Keep blocked"))
        self.keep_button.setAccessibleDescription(self.tr(
            "Decide later. Nothing is sent to this contact until you decide."
        ))
        self.reject_button = QPushButton(self.tr("&Reject the new key"), self)
        self.reject_button.setAccessibleName(self.tr("Reject the new key"))
        self.reject_button.setAccessibleDescription(self.tr(
            "Forget the new key and keep using the old one."
        ))
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.accept_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.reject_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        for button in (self.accept_button, self.keep_button, self.reject_button):
            button.setAutoDefault(False)
        self.keep_button.setDefault(True)  # the safe choice is the default one
        self.accept_button.clicked.connect(lambda: self._decide("accepted"))
        self.reject_button.clicked.connect(lambda: self._decide("rejected"))
        self.keep_button.clicked.connect(self.reject)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.hide()

        top = QVBoxLayout()
        top.addWidget(heading)
        top.addWidget(explanation)
        top.addWidget(blocked)
        layout = QVBoxLayout(self)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(top)
        if self.view is not None:
            layout.addWidget(self.view)
            QWidget.setTabOrder(self.view.compare_button, self.accept_button)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        if self.view is None:
            self._no_change_pending(contact)
        bridge.contactUpdated.connect(self._contact_updated)
        self.keep_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def outcome(self) -> Outcome:
        return self._outcome

    def _no_change_pending(self, contact: ContactRecord) -> None:
        self._say(self.tr("No key change is waiting for %1 any more.").replace(
            "%1", contact.display_name))
        self.accept_button.setEnabled(False)
        self.reject_button.setEnabled(False)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setAccessibleName(text)
        self.status.show()

    def _decide(self, choice: Outcome) -> None:
        self._asked = choice
        self.accept_button.setEnabled(False)
        self.reject_button.setEnabled(False)
        if choice == "accepted":
            self.task = self._bridge.acceptKey(self._conversation_id)
        else:
            self.task = self._bridge.rejectKey(self._conversation_id)
        if self.task is not None:
            self.task.add_done_callback(self._task_finished)

    def _task_finished(self, _task: object) -> None:
        with contextlib.suppress(RuntimeError):  # the dialog was deleted meanwhile
            if self._outcome != "kept":  # confirmed and closed
                return
            contact = self._bridge.contact(self._conversation_id)
            if contact.pending_identity_key is not None:  # it failed: the bridge said why
                self._asked = None
                self.accept_button.setEnabled(True)
                self.reject_button.setEnabled(True)

    def _contact_updated(self, contact: ContactRecord) -> None:
        if contact.contact_id != self._conversation_id or contact.pending_identity_key:
            return
        if self._asked is not None:
            self._outcome = self._asked
            self.accept()
        else:
            self._no_change_pending(contact)

    def done(self, result: int) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self._bridge.contactUpdated.disconnect(self._contact_updated)
        super().done(result)

