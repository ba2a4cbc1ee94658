"""Onboarding to first message: two desktop clients (two profiles, two main windows on one
qasync loop) through the relay on this computer, which the second app shares with the first.

Everything goes through the real application shell (``Session``): the first-run wizard, the
local relay, the real keyring, SQLCipher profiles, the main window and its dialogs.
"""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.config import ProfilePaths
from app.ui.views.contacts import AddContactDialog, MyAddressDialog
from app.ui.views.main_window import MainWindow
from app.ui.views.safety import SafetyNumberDialog
from tests.app.ui.conftest import make_profile, qloop  # noqa: F401 (fixtures)
from tests.app.ui.support import run, wait_until
from tests.app.ui.test_application import Sessions, authenticated, sessions  # noqa: F401
from tests.app.ui.views.test_main_window import bodies, names, state_of, type_and_send


def bring_to_front(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def safety_digits(qtbot: QtBot, window: MainWindow) -> tuple[SafetyNumberDialog, str]:
    """Open the Safety number dialog of the open conversation; the number it shows."""
    bring_to_front(qtbot, window)
    QTest.mouseClick(window.header.safety_button, Qt.MouseButton.LeftButton)
    dialog = window.dialog
    assert isinstance(dialog, SafetyNumberDialog)
    return dialog, " ".join(dialog.view.number.groups())


def test_two_people_onboard_talk_both_ways_and_verify_each_other(
    qloop: qasync.QEventLoop, sessions: Sessions,  # noqa: F811
    make_profile: Callable[[str], ProfilePaths], qtbot: QtBot,  # noqa: F811
) -> None:
    alice_app, bob_app = sessions.new(make_profile("alice")), sessions.new(make_profile("bob"))
    assert sessions.onboard(alice_app, "Alice Martin")
    assert sessions.onboard(bob_app, "Bob Durand")
    alice, bob = alice_app.window, bob_app.window
    assert alice is not None and bob is not None
    assert bob_app.local_relay is not None and not bob_app.local_relay.owned  # one relay
    run(qloop, wait_until(lambda: authenticated(alice_app.bridge)
                          and authenticated(bob_app.bridge), timeout=20))
    assert names(alice) == [] and names(bob) == []

    # Alice reads her address out of "My address"; Bob adds it (a bare address: he names her).
    bring_to_front(qtbot, alice)
    alice.show_my_address()
    mine = alice.dialog
    assert isinstance(mine, MyAddressDialog)
    address = mine.panel.address()
    assert address.startswith("sourdine") and "?name=" not in address
    mine.close()
    bring_to_front(qtbot, bob)
    QTest.keyClick(bob, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    adding = bob.dialog
    assert isinstance(adding, AddContactDialog)
    QTest.keyClicks(adding.link_edit, address)
    QTest.keyClick(adding.link_edit, Qt.Key.Key_Tab)
    QTest.keyClicks(adding.name_edit, "Alice")
    QTest.keyClick(adding.name_edit, Qt.Key.Key_Return)
    run(qloop, wait_until(lambda: bob.current is not None))
    assert bob.header.name_label.text() == "Alice" and names(bob) == ["Alice"]
    assert bob.focusWidget() is bob.composer.editor  # ready to write to her

    # Bob writes first; Alice sees a new conversation and answers.
    type_and_send(bob, "Hi Alice, Bob here")
    run(qloop, wait_until(lambda: names(alice) == ["Bob Durand"], timeout=20))
    bring_to_front(qtbot, alice)
    row = alice.conversations.view.visualRect(alice.conversations.model.index(0, 0))
    QTest.mouseClick(alice.conversations.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=row.center())
    run(qloop, alice.settle())
    assert bodies(alice) == ["Hi Alice, Bob here"]
    type_and_send(alice, "Hello Bob, welcome aboard")
    run(qloop, wait_until(lambda: bodies(bob) == ["Hi Alice, Bob here",
                                                  "Hello Bob, welcome aboard"], timeout=20))
    run(qloop, wait_until(lambda: state_of(bob, "Hi Alice, Bob here") == "delivered"))
    run(qloop, wait_until(lambda: state_of(alice, "Hello Bob, welcome aboard") == "delivered"))

    # They compare safety numbers (Bob reads his out; Alice pastes it) and both verify.
    bob_dialog, bob_number = safety_digits(qtbot, bob)
    alice_dialog, alice_number = safety_digits(qtbot, alice)
    assert alice_number == bob_number  # the same number on both sides
    QTest.keyClicks(alice_dialog.view.compare_edit, bob_number)
    QTest.keyClick(alice_dialog.view.compare_edit, Qt.Key.Key_Return)
    assert "The numbers match" in alice_dialog.view.result_text()
    assert alice.header.verified_label.text() == "Not verified"
    QTest.mouseClick(alice_dialog.verify_button, Qt.MouseButton.LeftButton)
    run(qloop, wait_until(lambda: alice.header.verified_label.text() == "Verified"))
    alice_dialog.close()
    bring_to_front(qtbot, bob)
    QTest.keyClicks(bob_dialog.view.compare_edit, alice_number)
    QTest.keyClick(bob_dialog.view.compare_edit, Qt.Key.Key_Return)
    assert "The numbers match" in bob_dialog.view.result_text()
    QTest.mouseClick(bob_dialog.verify_button, Qt.MouseButton.LeftButton)
    run(qloop, wait_until(lambda: bob.header.verified_label.text() == "Verified"))
    bob_dialog.close()
    assert alice_app.bridge is not None and bob_app.bridge is not None
    assert [c.verified for c in alice_app.bridge.contacts()] == [True]
    assert [c.verified for c in bob_app.bridge.contacts()] == [True]
