"""The settings dialog: OK saves settings.toml through the bridge, Cancel changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import qasync
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.adapters.preferences_file import load_preferences
from app.core.preferences import Preferences
from app.ui.bridge import Bridge
from app.ui.views.settings import SettingsDialog
from tests.app.ui.support import run
from tests.app.ui.views.dialog_checks import duplicate_mnemonics, unnamed_controls
from tests.integration.conftest import RelayProcess


def _shown(qtbot: QtBot, dialog: QDialog) -> SettingsDialog:
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    assert isinstance(dialog, SettingsDialog)
    return dialog


class OpenedUrls(QObject):
    """Receives what QDesktopServices.openUrl would hand to the file manager."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened_urls() -> Iterator[OpenedUrls]:
    receiver = OpenedUrls()
    QDesktopServices.setUrlHandler("file", receiver, "open")  # type: ignore[arg-type]
    yield receiver
    QDesktopServices.unsetUrlHandler("file")


def test_the_dialog_shows_the_current_preferences_and_account(
    qtbot: QtBot, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    prefs = Preferences(language="fr", appearance="dark", notifications=False,
                        read_receipts=True, relay_mode="remote")
    alice = bridge_for("Alice", relay, preferences=prefs)
    dialog = _shown(qtbot, SettingsDialog(alice))
    assert dialog.preferences() == prefs
    assert not dialog.previews_box.isEnabled()  # no notifications: previews do not apply
    assert dialog.name_edit.text() == "Alice" and dialog.name_edit.isReadOnly()
    assert dialog.address_edit.text() == alice.invitation_link
    assert dialog.relay_edit.text() == alice.client.account.relay_url
    assert dialog.relay_edit.text().rstrip("/") == relay.url.rstrip("/")
    assert dialog.relay_edit.isReadOnly()
    assert "company" in dialog.relay_mode_label.text()
    assert unnamed_controls(dialog) == []
    for index in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(index)
        assert duplicate_mnemonics(dialog) == [], dialog.tabs.tabText(index)


def test_receipts_and_typing_are_off_by_default(
    qtbot: QtBot, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    dialog = _shown(qtbot, SettingsDialog(bridge_for("Alice", relay)))
    assert not dialog.receipts_box.isChecked() and not dialog.typing_box.isChecked()
    assert "read their messages" in dialog.receipts_box.accessibleDescription()
    assert "writing to them" in dialog.typing_box.accessibleDescription()
    assert dialog.appearance_buttons["system"].isChecked()
    assert dialog.language_combo.currentData() == "system"


def test_ok_persists_to_the_profiles_settings_file(
    qloop: qasync.QEventLoop, qtbot: QtBot, relay: RelayProcess,
    bridge_for: Callable[..., Bridge],
) -> None:
    alice = bridge_for("Alice", relay)
    settings_file = alice.client.paths.settings
    assert not settings_file.exists()
    seen: list[Preferences] = []
    alice.preferencesChanged.connect(seen.append)
    dialog = _shown(qtbot, SettingsDialog(alice))
    # Keyboard: Ctrl+Tab to the Privacy tab, Tab into it, Space ticks read receipts.
    focus = QApplication.focusWidget()
    for _ in range(3):
        QTest.keyClick(focus, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert dialog.tabs.currentIndex() == 3
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.receipts_box
    QTest.keyClick(dialog.receipts_box, Qt.Key.Key_Space)
    dialog.appearance_buttons["dark"].setChecked(True)
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("fr"))
    dialog.notifications_box.setChecked(False)
    QTest.keyClick(dialog.receipts_box, Qt.Key.Key_Return)  # Enter is OK
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.task is not None
    run(qloop, dialog.task)
    expected = Preferences(read_receipts=True, appearance="dark", language="fr",
                           notifications=False)
    assert load_preferences(settings_file) == expected
    assert alice.preferences == expected and seen == [expected]


def test_cancel_changes_nothing(
    qloop: qasync.QEventLoop, qtbot: QtBot, relay: RelayProcess,
    bridge_for: Callable[..., Bridge],
) -> None:
    alice = bridge_for("Alice", relay)
    before = alice.preferences
    dialog = _shown(qtbot, SettingsDialog(alice))
    dialog.typing_box.setChecked(True)
    dialog.appearance_buttons["light"].setChecked(True)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and dialog.task is None
    assert not alice.client.paths.settings.exists()
    assert alice.preferences == before


def test_ok_without_changes_writes_nothing(
    qtbot: QtBot, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice = bridge_for("Alice", relay)
    dialog = _shown(qtbot, SettingsDialog(alice))
    dialog.accept()
    assert dialog.task is None and not alice.client.paths.settings.exists()


def test_open_folder_asks_the_system_for_the_profiles_folders(
    qtbot: QtBot, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    opened_urls: OpenedUrls,
) -> None:
    alice = bridge_for("Alice", relay)
    dialog = _shown(qtbot, SettingsDialog(alice))
    dialog.folder_buttons["data"].click()
    dialog.folder_buttons["config"].click()
    paths = alice.client.paths
    assert [u.toLocalFile() for u in opened_urls.urls] == [str(paths.data_dir),
                                                           str(paths.config_dir)]
