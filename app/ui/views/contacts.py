"""Adding a contact from an address or invitation link, and showing my own address.

My address is shown as an *invitation link* (the address with my name), because that is what
a new contact should receive: their Sourdine then fills in my name for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.address import MAX_LINK, Invitation, parse_contact_link
from app.core.contacts import MAX_NAME, clean_name
from app.core.errors import AddressError, ContactError
from app.ui.qr import QrCodeWidget
from app.ui.views.errors import inline_error_label, show_inline_error

if TYPE_CHECKING:
    from app.ui.bridge import Bridge


class AddressPanel(QWidget):
    """My address as selectable text, a Copy button, a QR code and how to share them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._address = ""
        self.address_edit = QLineEdit(self)
        self.address_edit.setReadOnly(True)
        self.address_edit.setAccessibleName(self.tr("Your address"))
        self.address_edit.setAccessibleDescription(self.tr(
            "Your address with your name. Select it or press Copy to share it."
        ))
        label = QLabel(self.tr("Your &address:"), self)
        label.setBuddy(self.address_edit)
        self.copy_button = QPushButton(self.tr("&Copy"), self)
        self.copy_button.setAutoDefault(False)
        self.copy_button.setAccessibleName(self.tr("Copy your address"))
        self.copy_button.setAccessibleDescription(self.tr(
            "Puts your address on the clipboard, so you can paste it in an e-mail or a chat."
        ))
        self.copied = QLabel(self)
        self.copied.setAccessibleName(self.tr("Copy status"))
        self.qr = QrCodeWidget(parent=self)
        self.qr.setAccessibleName(self.tr("QR code of your address"))
        self.qr.setAccessibleDescription(self.tr(
            "Your contacts can scan this code instead of typing your address."
        ))
        how = QLabel(self.tr(
            "Send your address to your contacts by e-mail or chat, or let them scan the code. "
            "It is not secret: it only lets people write to you."
        ), self)
        how.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(self.address_edit, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addLayout(row)
        layout.addWidget(self.copied)
        layout.addWidget(how)
        layout.addWidget(self.qr, 1, Qt.AlignmentFlag.AlignHCenter)
        self.copy_button.clicked.connect(self.copy)

    def set_address(self, address: str, invitation_link: str) -> None:
        """Show ``invitation_link`` (falls back to ``address``) as text and QR code."""
        self._address = address
        shown = invitation_link or address
        self.address_edit.setText(shown)
        self.address_edit.setCursorPosition(0)
        self.qr.set_data(shown)
        self.copied.clear()

    def address(self) -> str:
        return self._address

    def copy(self) -> None:
        """Put the shown address on the clipboard and say so."""
        QGuiApplication.clipboard().setText(self.address_edit.text())
        self.copied.setText(self.tr("Copied. You can now paste it where you want."))


class MyAddressDialog(QDialog):
    """My address (invitation link) as text with Copy, and as a QR code."""

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("My address"))
        self.setAccessibleName(self.tr("My address"))
        self.panel = AddressPanel(self)
        self.panel.set_address(bridge.address, bridge.invitation_link)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(buttons)
        QWidget.setTabOrder(self.panel.address_edit, self.panel.copy_button)
        QWidget.setTabOrder(self.panel.copy_button, close)
        self.panel.address_edit.setFocus(Qt.FocusReason.OtherFocusReason)


class AddContactDialog(QDialog):
    """Paste an address or invitation link, optionally give a name; Add checks both."""

    def __init__(self, parent: QWidget | None = None, *, own_address: str | None = None) -> None:
        super().__init__(parent)
        self._own_key = (
            parse_contact_link(own_address).address.identity_key if own_address else None
        )
        self._name_typed = False  # the user typed a name: the link's name no longer replaces it
        self._invitation: Invitation | None = None  # the link parsed on accept
        self.setWindowTitle(self.tr("Add a contact"))
        self.setAccessibleName(self.tr("Add a contact"))
        intro = QLabel(self.tr(
            "Paste the address your contact sent you. It starts with sourdine://"
        ), self)
        intro.setWordWrap(True)
        self.link_edit = QLineEdit(self)
        self.link_edit.setMaxLength(MAX_LINK)
        self.link_edit.setPlaceholderText("sourdine://...")
        self.link_edit.setAccessibleName(self.tr("Address or invitation link"))
        self.link_edit.setAccessibleDescription(self.tr(
            "Paste your contact's address here. It starts with sourdine://"
        ))
        self.name_edit = QLineEdit(self)
        self.name_edit.setMaxLength(MAX_NAME * 2)
        self.name_edit.setAccessibleName(self.tr("Name (optional)"))
        self.name_edit.setAccessibleDescription(self.tr(
            "The name you want to see for this contact. Filled in from the link when it has one."
        ))
        link_label = QLabel(self.tr("&Address or invitation link:"), self)
        link_label.setBuddy(self.link_edit)
        name_label = QLabel(self.tr("&Name (optional):"), self)
        name_label.setBuddy(self.name_edit)
        self.error = inline_error_label(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.add_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.add_button.setText(self.tr("A&dd contact"))
        self.add_button.setAccessibleName(self.tr("Add contact"))
        self.add_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(link_label, self.link_edit)
        form.addRow(name_label, self.name_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        QWidget.setTabOrder(self.link_edit, self.name_edit)
        QWidget.setTabOrder(self.name_edit, self.add_button)
        QWidget.setTabOrder(self.add_button, cancel)
        self.link_edit.textChanged.connect(self._link_changed)
        self.name_edit.textEdited.connect(self._name_edited)
        self.link_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _name_edited(self, text: str) -> None:
        self._name_typed = bool(text.strip())
        show_inline_error(self.error, None, "")

    def _link_changed(self, text: str) -> None:
        show_inline_error(self.error, None, "")
        if self._name_typed:
            return
        try:
            name = parse_contact_link(text).display_name
        except AddressError:
            return
        if name:
            self.name_edit.setText(name)

    def _check(self) -> bool:
        text = self.link_edit.text().strip()
        if not text:
            show_inline_error(self.error, self.link_edit, self.tr(
                "Please paste your contact's address first."))
            return False
        try:
            invitation = parse_contact_link(text)
        except AddressError:
            show_inline_error(self.error, self.link_edit, self.tr(
                "This is not a Sourdine address. An address starts with sourdine:// and is "
                "quite long. Please copy it again, completely."))
            return False
        if self._own_key is not None and invitation.address.identity_key == self._own_key:
            show_inline_error(self.error, self.link_edit, self.tr(
                "This is your own address. Paste the address of the person you want to add."))
            return False
        if self.name_edit.text().strip():
            try:
                clean_name(self.name_edit.text())
            except ContactError:
                show_inline_error(self.error, self.name_edit, self.tr(
                    "A name has 1 to %1 characters that can be shown. Please change it."
                ).replace("%1", str(MAX_NAME)))
                return False
        self._invitation = invitation
        return True

    def accept(self) -> None:
        """Close with Accepted only when the address (and name, if any) can be used."""
        if self._check():
            super().accept()

    def link(self) -> str:
        """The address or invitation link as pasted (trimmed)."""
        return self.link_edit.text().strip()

    def name(self) -> str:
        """The name to give the contact (cleaned), or "" to keep the link's / a default."""
        text = self.name_edit.text()
        if not text.strip():
            return ""
        try:
            return clean_name(text)
        except ContactError:
            return ""

    def invitation(self) -> Invitation | None:
        """The parsed link once the dialog was accepted."""
        return self._invitation
