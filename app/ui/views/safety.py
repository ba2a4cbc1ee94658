"""Safety-number verification: show the number two people compare, check one they sent.

Both sides of a conversation see the same 60 digits (crypto.safety), shown as 12 groups of 5
and as a QR code. The user compares them with the contact in person or on a call, or pastes
the number the contact sent and lets Sourdine compare it (in constant time, digits only).
Scanning the other screen's QR code needs a camera, which this client does not use.
"""

from __future__ import annotations

import contextlib
import hmac
import unicodedata
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.adapters.store import ContactRecord
from app.ui.qr import QrCodeWidget
from crypto.safety import SafetyNumber

if TYPE_CHECKING:
    import asyncio

    from app.ui.bridge import Bridge

GROUPS_PER_LINE: Final = 4
NUMBER_SCALE: Final = 1.4
"""The number's font size relative to the system font (it must be easy to read out)."""


def normalized_digits(text: str) -> str:
    """The decimal digits of ``text`` as ASCII, in order; spaces, dashes and other
    separators dropped (any script's decimal digits count: a number typed on a phone with
    another keyboard still compares)."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def numbers_match(expected: SafetyNumber, typed: str) -> bool:
    """Whether ``typed`` holds exactly the digits of ``expected`` (constant time)."""
    return hmac.compare_digest(
        normalized_digits(typed).encode("ascii"), expected.digits.encode("ascii")
    )


def number_lines(number: SafetyNumber) -> str:
    """The number as lines of four groups of five digits, the way it is read out."""
    groups = number.groups()
    return "\n".join(
        " ".join(groups[i : i + GROUPS_PER_LINE]) for i in range(0, len(groups), GROUPS_PER_LINE)
    )


class SafetyNumberView(QWidget):
    """The number (large, selectable), its QR code, and a field to compare a pasted number."""

    def __init__(self, number: SafetyNumber, contact_name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self._name = contact_name
        self.number_label = QLabel(number_lines(number), self)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if self.font().pointSizeF() > 0:
            font.setPointSizeF(self.font().pointSizeF() * NUMBER_SCALE)
        self.number_label.setFont(font)
        self.number_label.setTextFormat(Qt.TextFormat.PlainText)
        self.number_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.number_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.number_label.setAccessibleName(self.tr("Safety number"))
        self.number_label.setAccessibleDescription(" ".join(number.groups()))
        self.qr = QrCodeWidget(number.qr_payload, self)
        self.qr.setAccessibleName(self.tr("QR code of the safety number"))

        self.compare_edit = QLineEdit(self)
        self.compare_edit.setAccessibleName(self.tr("Number your contact sent"))
        self.compare_edit.setAccessibleDescription(self.tr(
            "Paste or type the safety number your contact sent you, then press Compare."
        ))
        compare_label = QLabel(self.tr("Number your contact &sent (optional):"), self)
        compare_label.setBuddy(self.compare_edit)
        self.compare_button = QPushButton(self.tr("C&ompare"), self)
        self.compare_button.setAccessibleName(self.tr("Compare the numbers"))
        self.result = QLabel(self)
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.result.hide()

        top = QHBoxLayout()
        top.addWidget(self.number_label, 1, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.qr)
        row = QHBoxLayout()
        row.addWidget(self.compare_edit, 1)
        row.addWidget(self.compare_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(compare_label)
        layout.addLayout(row)
        layout.addWidget(self.result)
        QWidget.setTabOrder(self.number_label, self.compare_edit)
        QWidget.setTabOrder(self.compare_edit, self.compare_button)
        self.compare_button.clicked.connect(self.compare)
        self.compare_edit.returnPressed.connect(self.compare)
        self.compare_edit.textEdited.connect(lambda _t: self.result.hide())

    def compare(self) -> bool | None:
        """Compare the pasted number and say the outcome; None when nothing was typed."""
        typed = self.compare_edit.text()
        count = len(normalized_digits(typed))
        if count == 0:
            self._say(self.tr("Paste or type the number your contact sent you first."))
            return None
        if numbers_match(self.number, typed):
            self._say(self.tr("The numbers match. Nobody is in between: %1 is really who "
                              "you are writing to.").replace("%1", self._name))
            return True
        if count != len(self.number.digits):
            message = self.tr(
                "The numbers do not match: a safety number has 60 digits and this one has "
                "%1. Check that you copied all of it."
            ).replace("%1", str(count))
        else:
            message = self.tr(
                "The numbers do not match. Do not mark %1 as verified. Ask %1 to check the "
                "number again, and share nothing private until they match."
            ).replace("%1", self._name)
        self._say(message)
        return False

    def result_text(self) -> str:
        """The sentence shown after the last comparison ("" when none is shown)."""
        return "" if self.result.isHidden() else self.result.text()

    def _say(self, text: str) -> None:
        self.result.setText(text)
        self.result.setAccessibleName(text)
        self.result.show()


class SafetyNumberDialog(QDialog):
    """Verify a contact: compare the safety number, then mark them verified (or not).

    ``pending=True`` shows the number for the contact's announced new key (nothing to mark
    then). After a click on the verify button, :attr:`task` is the bridge's ``setVerified``
    task.

    Raises (on construction):
        UnknownContact: no such conversation. ContactError: ``pending`` without a pending key.
    """

    def __init__(self, bridge: Bridge, conversation_id: int, pending: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._conversation_id = conversation_id
        self._pending = pending
        self.task: asyncio.Task[None] | None = None  # the last verification change asked for
        contact = bridge.contact(conversation_id)
        name = contact.display_name
        self.setWindowTitle(self.tr("Verify %1").replace("%1", name))
        self.setAccessibleName(self.windowTitle())
        intro = QLabel(self.tr(
            "Compare this number with %1, in person or on a call: if you both see the same "
            "number, nobody can read your messages in between."
        ).replace("%1", name), self)
        intro.setWordWrap(True)
        self.view = SafetyNumberView(bridge.safety_number(conversation_id, pending), name, self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.verify_button = QPushButton(self)
        self.verify_button.setAutoDefault(False)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.verify_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))
        close.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        self.view.compare_button.setDefault(True)  # Enter compares; Escape closes
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.view)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        QWidget.setTabOrder(self.view.compare_button, self.verify_button)
        QWidget.setTabOrder(self.verify_button, close)
        self.verify_button.clicked.connect(self._toggle_verified)
        bridge.contactUpdated.connect(self._contact_updated)
        self._show_contact(contact)
        self.view.number_label.setFocus(Qt.FocusReason.OtherFocusReason)

    def _contact_updated(self, contact: ContactRecord) -> None:
        if contact.contact_id == self._conversation_id:
            self._show_contact(contact)

    def _show_contact(self, contact: ContactRecord) -> None:
        name = contact.display_name
        self.verify_button.setEnabled(True)
        if self._pending:  # the new key is not the contact's key yet: nothing to mark
            self.status.setText(self.tr("This is the number for %1's new key.").replace(
                "%1", name))
            self.verify_button.hide()
        elif contact.verified:
            self.status.setText(self.tr("You have verified %1.").replace("%1", name))
            self.verify_button.setText(self.tr("Mark as &not verified"))
            self.verify_button.setAccessibleName(self.tr("Mark as not verified"))
        else:
            self.status.setText(self.tr("%1 is not verified yet.").replace("%1", name))
            self.verify_button.setText(self.tr("&Mark as verified"))
            self.verify_button.setAccessibleName(self.tr("Mark as verified"))
        self.status.setAccessibleName(self.status.text())

    def _toggle_verified(self) -> None:
        verified = self._bridge.contact(self._conversation_id).verified
        self.verify_button.setEnabled(False)  # until the contact update comes back
        self.task = self._bridge.setVerified(self._conversation_id, not verified)
        if self.task is not None:
            self.task.add_done_callback(self._task_finished)

    def _task_finished(self, _task: object) -> None:
        with contextlib.suppress(RuntimeError):  # the dialog was closed and deleted meanwhile
            self.verify_button.setEnabled(True)

    def done(self, result: int) -> None:
        with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
            self._bridge.contactUpdated.disconnect(self._contact_updated)
        super().done(result)
