"""Adding a contact from an address, and showing my own address, with real profiles."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import qasync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.core.address import parse_contact_link
from app.core.errors import AddressError
from app.ui.bridge import Bridge
from app.ui.views.contacts import AddContactDialog, MyAddressDialog
from tests.app.ui.support import run
from tests.app.ui.views.dialog_checks import duplicate_mnemonics, unnamed_controls
from tests.integration.conftest import RelayProcess

KEY = "A" * 42 + "Q"


def _shown(qtbot: QtBot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def _focused() -> object:
    return QApplication.focusWidget()


@pytest.mark.parametrize("garbage", [
    "hello", "https://example.com/x", "sourdine://relay.example.com/short",
    f"sourdine://relay.example.com/{KEY}#frag", f"sourdine://relay.example.com/{KEY}?who=me",
    f"mailto:{KEY}",
])
def test_garbage_is_refused_inline_and_the_dialog_stays_open(
    qtbot: QtBot, garbage: str
) -> None:
    dialog = _shown(qtbot, AddContactDialog())
    assert _focused() is dialog.link_edit
    QTest.keyClicks(dialog.link_edit, garbage)
    QTest.keyClick(dialog.link_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.error.isVisible() and "sourdine://" in dialog.error.text()
    assert _focused() is dialog.link_edit
    assert dialog.invitation() is None


def test_an_empty_address_is_refused_and_escape_cancels(qtbot: QtBot) -> None:
    dialog = _shown(qtbot, AddContactDialog())
    QTest.keyClick(dialog.link_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and "paste" in dialog.error.text().lower()
    QTest.keyClick(dialog.link_edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected


def test_an_invitation_link_prefills_the_name_unless_one_was_typed(qtbot: QtBot) -> None:
    dialog = _shown(qtbot, AddContactDialog())
    QTest.keyClicks(dialog.link_edit, f"sourdine://relay.example.com/{KEY}?name=Marie%20Dupont")
    assert dialog.name_edit.text() == "Marie Dupont"
    QTest.keyClick(dialog.link_edit, Qt.Key.Key_Tab)
    assert _focused() is dialog.name_edit
    dialog.name_edit.selectAll()
    QTest.keyClicks(dialog.name_edit, "Marie (accounts)")
    dialog.link_edit.setText(f"sourdine://relay.example.com/{KEY}?name=Someone%20Else")
    assert dialog.name_edit.text() == "Marie (accounts)"
    QTest.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.name() == "Marie (accounts)"


def test_a_name_with_control_characters_is_refused(qtbot: QtBot) -> None:
    dialog = _shown(qtbot, AddContactDialog())
    dialog.link_edit.setText(f"sourdine://relay.example.com/{KEY}")
    dialog.name_edit.setText("Bob\x07")
    QTest.keyClick(dialog.link_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and _focused() is dialog.name_edit
    assert "name" in dialog.error.text().lower()


def test_a_real_address_of_a_second_profile_is_accepted_and_adds_the_contact(
    qloop: qasync.QEventLoop, qtbot: QtBot, relay: RelayProcess,
    bridge_for: Callable[..., Bridge],
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    dialog = _shown(qtbot, AddContactDialog(own_address=alice.address))
    QTest.keyClicks(dialog.link_edit, alice.address)
    QTest.keyClick(dialog.link_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and "your own address" in dialog.error.text()

    dialog.link_edit.selectAll()
    QTest.keyClicks(dialog.link_edit, bob.address)
    assert dialog.name_edit.text() == ""  # a bare address carries no name
    QTest.keyClick(dialog.link_edit, Qt.Key.Key_Tab)
    QTest.keyClicks(dialog.name_edit, "  Bob   from accounts ")
    QTest.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.link() == bob.address and dialog.name() == "Bob from accounts"
    invitation = dialog.invitation()
    assert invitation is not None and invitation.address.identity_key == bob.client.identity_key

    contact = run(qloop, alice.addContact(dialog.link(), dialog.name()))
    assert contact is not None and contact.display_name == "Bob from accounts"
    assert [c.identity_key for c in alice.contacts()] == [bob.client.identity_key]


def test_my_address_dialog_shows_copies_and_encodes_the_invitation_link(
    qtbot: QtBot, relay: RelayProcess, bridge_for: Callable[..., Bridge],
) -> None:
    alice = bridge_for("Alice", relay)
    dialog = _shown(qtbot, MyAddressDialog(alice))
    panel = dialog.panel
    assert panel.address_edit.text() == alice.invitation_link
    assert panel.address_edit.text().startswith(alice.address)
    assert panel.address() == alice.address
    assert panel.qr.data() == alice.invitation_link and panel.qr.modules() >= 21
    assert _focused() is panel.address_edit
    QApplication.clipboard().clear()
    QTest.keyClick(panel.address_edit, Qt.Key.Key_Tab)
    assert _focused() is panel.copy_button
    QTest.keyClick(panel.copy_button, Qt.Key.Key_Space)
    assert QApplication.clipboard().text() == alice.invitation_link
    assert panel.copied.text()
    assert unnamed_controls(dialog) == [] and duplicate_mnemonics(dialog) == []
    QTest.keyClick(panel.copy_button, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_the_add_contact_dialog_names_every_control(qtbot: QtBot) -> None:
    dialog = AddContactDialog()
    qtbot.addWidget(dialog)
    assert unnamed_controls(dialog) == [] and duplicate_mnemonics(dialog) == []


LINKISH = st.one_of(
    st.text(max_size=200),
    st.builds(lambda host, key, name: f"sourdine://{host}/{key}{name}",
              st.text(max_size=30), st.text(max_size=50),
              st.one_of(st.just(""), st.text(max_size=40).map(lambda t: "?name=" + t))),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=LINKISH, name=st.text(max_size=80))
def test_any_pasted_text_is_either_accepted_as_parsed_or_refused_inline(
    qtbot: QtBot, text: str, name: str
) -> None:
    dialog = AddContactDialog()
    qtbot.addWidget(dialog)
    dialog.link_edit.setText(text)  # the prefill runs on every change: it must not raise
    dialog.name_edit.setText(name)
    dialog.accept()
    try:
        expected = parse_contact_link(text.strip())
    except AddressError:
        expected = None
    if dialog.result() == QDialog.DialogCode.Accepted:
        assert dialog.invitation() == expected and expected is not None
        assert dialog.link() == text.strip()
    else:
        assert dialog.error.text()
    dialog.deleteLater()
