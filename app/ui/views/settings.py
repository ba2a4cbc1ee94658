"""The settings dialog: account, relay, notifications, privacy, appearance, language, data.

OK hands the new :class:`Preferences` to the bridge (which saves ``settings.toml`` and applies
them); Cancel changes nothing. A new language applies after a restart (the dialog says so);
the account and relay are shown, not changed, here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.preferences import Preferences

if TYPE_CHECKING:
    import asyncio

    from app.ui.bridge import Bridge

LANGUAGE_NAMES: Final = {"system": None, "en": "English", "fr": "Français"}
"""Languages are named in their own language (someone who cannot read the current one can
still find theirs); ``system`` is translated."""


def _sentence(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _read_only(text: str, name: str, parent: QWidget) -> QLineEdit:
    edit = QLineEdit(text, parent)
    edit.setReadOnly(True)
    edit.setCursorPosition(0)
    edit.setAccessibleName(name)
    return edit


class SettingsDialog(QDialog):
    """Every user setting in one place; OK saves through the bridge, Cancel drops changes.

    After OK, :attr:`task` is the bridge's ``updatePreferences`` task (None when nothing
    changed).
    """

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._initial = bridge.preferences
        self.task: asyncio.Task[None] | None = None
        self.setWindowTitle(self.tr("Settings"))
        self.setAccessibleName(self.tr("Settings"))
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Settings sections"))
        self.tabs.tabBar().setAccessibleName(self.tr("Sections"))
        self.tabs.setUsesScrollButtons(False)  # every section visible, no arrows to tab through
        self.tabs.addTab(self._account_tab(), self.tr("&Account"))
        self.tabs.addTab(self._relay_tab(), self.tr("&Relay"))
        self.tabs.addTab(self._notifications_tab(), self.tr("&Notifications"))
        self.tabs.addTab(self._privacy_tab(), self.tr("&Privacy"))
        self.tabs.addTab(self._appearance_tab(), self.tr("App&earance"))
        self.tabs.addTab(self._language_tab(), self.tr("&Language"))
        self.tabs.addTab(self._data_tab(), self.tr("&Data"))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setAccessibleName(self.tr("Save the settings"))
        ok.setDefault(True)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel and keep the previous settings"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.show_preferences(self._initial)
        self.tabs.tabBar().setFocus(Qt.FocusReason.OtherFocusReason)

    # --- tabs ---------------------------------------------------------------------------------

    def _account_tab(self) -> QWidget:
        page = QWidget(self)
        self.name_edit = _read_only(self._bridge.display_name, self.tr("Your name"), page)
        self.address_edit = _read_only(self._bridge.invitation_link, self.tr("Your address"),
                                       page)
        self.copy_button = QPushButton(self.tr("&Copy"), page)
        self.copy_button.setAccessibleName(self.tr("Copy your address"))
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.address_edit.text()))
        address_row = QHBoxLayout()
        address_row.addWidget(self.address_edit, 1)
        address_row.addWidget(self.copy_button)
        form = QFormLayout(page)
        name_label = QLabel(self.tr("Your na&me:"), page)
        name_label.setBuddy(self.name_edit)
        address_label = QLabel(self.tr("&Your address:"), page)
        address_label.setBuddy(self.address_edit)
        form.addRow(name_label, self.name_edit)
        form.addRow(_sentence(self.tr(
            "Your contacts see this name. It is part of your address when you share it."), page))
        form.addRow(address_label, address_row)
        form.addRow(_sentence(self.tr(
            "Give this address to the people you want to talk to."), page))
        return page

    def _relay_tab(self) -> QWidget:
        page = QWidget(self)
        account = self._bridge.client.account
        self.relay_edit = _read_only(account.relay_url, self.tr("Relay address"), page)
        if self._initial.relay_mode == "local":
            mode = self.tr("A relay on this computer, started by Sourdine.")
        else:
            mode = self.tr("Your company's relay.")
        self.relay_mode_label = _sentence(mode, page)
        self.relay_mode_label.setAccessibleName(self.tr("Relay mode"))
        relay_label = QLabel(self.tr("Relay addre&ss:"), page)
        relay_label.setBuddy(self.relay_edit)
        form = QFormLayout(page)
        form.addRow(relay_label, self.relay_edit)
        form.addRow(self.tr("Kind of relay:"), self.relay_mode_label)
        form.addRow(_sentence(self.tr(
            "Your messages pass through this relay, locked: the relay cannot read them. It is "
            "part of your address, so it cannot be changed here."), page))
        return page

    def _notifications_tab(self) -> QWidget:
        page = QWidget(self)
        self.notifications_box = QCheckBox(self.tr("Show a notification for new &messages"),
                                           page)
        self.notifications_box.setAccessibleName(self.tr("Notifications for new messages"))
        self.previews_box = QCheckBox(self.tr("Show the message &text in notifications"), page)
        self.previews_box.setAccessibleName(self.tr("Message text in notifications"))
        self.previews_box.setAccessibleDescription(self.tr(
            "When off, a notification only says that a message arrived."))
        self.notifications_box.toggled.connect(self.previews_box.setEnabled)
        layout = QVBoxLayout(page)
        layout.addWidget(self.notifications_box)
        layout.addWidget(self.previews_box)
        layout.addWidget(_sentence(self.tr(
            "People near your screen can read the message text. Nothing is shown while you "
            "are off duty."), page))
        layout.addStretch(1)
        return page

    def _privacy_tab(self) -> QWidget:
        page = QWidget(self)
        self.receipts_box = QCheckBox(self.tr("Send read re&ceipts"), page)
        self.receipts_box.setAccessibleName(self.tr("Send read receipts"))
        receipts_text = self.tr("Your contacts see when you have read their messages.")
        self.receipts_box.setAccessibleDescription(receipts_text)
        self.typing_box = QCheckBox(self.tr("Send &typing indicators"), page)
        self.typing_box.setAccessibleName(self.tr("Send typing indicators"))
        typing_text = self.tr("Your contacts see when you are writing to them.")
        self.typing_box.setAccessibleDescription(typing_text)
        layout = QVBoxLayout(page)
        layout.addWidget(self.receipts_box)
        layout.addWidget(_sentence(receipts_text, page))
        layout.addWidget(self.typing_box)
        layout.addWidget(_sentence(typing_text, page))
        layout.addWidget(_sentence(self.tr(
            "Both are off unless you turn them on, and they are never sent while you are off "
            "duty."), page))
        layout.addStretch(1)
        return page

    def _appearance_tab(self) -> QWidget:
        page = QWidget(self)
        self.appearance_buttons: dict[str, QRadioButton] = {
            "system": QRadioButton(self.tr("&Follow the system"), page),
            "light": QRadioButton(self.tr("L&ight"), page),
            "dark": QRadioButton(self.tr("Dar&k"), page),
        }
        names = {"system": self.tr("Follow the system"), "light": self.tr("Light"),
                 "dark": self.tr("Dark")}
        self.appearance_group = QButtonGroup(page)
        layout = QVBoxLayout(page)
        layout.addWidget(_sentence(self.tr("Choose light or dark colours."), page))
        for key, button in self.appearance_buttons.items():
            button.setAccessibleName(names[key])
            self.appearance_group.addButton(button)
            layout.addWidget(button)
        layout.addStretch(1)
        return page

    def _language_tab(self) -> QWidget:
        page = QWidget(self)
        self.language_combo = QComboBox(page)
        for code, name in LANGUAGE_NAMES.items():
            self.language_combo.addItem(name or self.tr("Same as the system"), code)
        self.language_combo.setAccessibleName(self.tr("Language"))
        label = QLabel(self.tr("Lan&guage:"), page)
        label.setBuddy(self.language_combo)
        form = QFormLayout(page)
        form.addRow(label, self.language_combo)
        form.addRow(_sentence(self.tr(
            "A new language is used the next time you start Sourdine."), page))
        return page

    def _data_tab(self) -> QWidget:
        page = QWidget(self)
        paths = self._bridge.client.paths
        form = QFormLayout(page)
        form.addRow(_sentence(self.tr(
            "Your messages are stored encrypted on this computer, in these folders."), page))
        self.folder_buttons: dict[str, QPushButton] = {}
        rows = (
            ("data", paths.data_dir, self.tr("Messages folder"), self.tr("&Messages:"),
             self.tr("Open the messages folder")),
            ("config", paths.config_dir, self.tr("Settings folder"), self.tr("&Settings:"),
             self.tr("Open the settings folder")),
        )
        for key, folder, name, label_text, open_name in rows:
            edit = _read_only(str(folder), name, page)
            button = QPushButton(self.tr("Open folder"), page)
            button.setAccessibleName(open_name)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _c=False, f=folder: self.open_folder(f))
            self.folder_buttons[key] = button
            label = QLabel(label_text, page)
            label.setBuddy(edit)
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(button)
            form.addRow(label, row)
        return page

    # --- values -------------------------------------------------------------------------------

    def show_preferences(self, prefs: Preferences) -> None:
        """Set every control from ``prefs``."""
        self.notifications_box.setChecked(prefs.notifications)
        self.previews_box.setChecked(prefs.message_previews)
        self.previews_box.setEnabled(prefs.notifications)
        self.receipts_box.setChecked(prefs.read_receipts)
        self.typing_box.setChecked(prefs.typing_indicators)
        self.appearance_buttons[prefs.appearance].setChecked(True)
        self.language_combo.setCurrentIndex(self.language_combo.findData(prefs.language))

    def preferences(self) -> Preferences:
        """The preferences as the controls show them now (relay mode unchanged).

        Raises:
            PreferencesError: never for values the controls can hold.
        """
        appearance = next(k for k, b in self.appearance_buttons.items() if b.isChecked())
        return self._initial.replace(
            notifications=self.notifications_box.isChecked(),
            message_previews=self.previews_box.isChecked(),
            read_receipts=self.receipts_box.isChecked(),
            typing_indicators=self.typing_box.isChecked(),
            appearance=appearance,
            language=self.language_combo.currentData(),
        )

    def open_folder(self, folder: Path) -> bool:
        """Show ``folder`` in the system's file manager (created first if missing); False when
        the system could not open it."""
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def accept(self) -> None:
        """Apply the new preferences through the bridge (only when something changed)."""
        chosen = self.preferences()
        if chosen != self._initial:
            self.task = self._bridge.updatePreferences(chosen)
        super().accept()
