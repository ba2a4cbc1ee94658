"""Keyboard only: onboarding, adding a contact, opening a conversation, sending and searching
with key presses sent to whatever has the focus (no mouse event at all). The only thing not
typed is switching between the two people's windows, which a person does with Alt+Tab."""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.config import ProfilePaths
from app.ui.application import Session
from app.ui.models.roles import TranscriptRole
from app.ui.views.contacts import AddContactDialog
from app.ui.views.main_window import MainWindow
from app.ui.views.onboarding import OnboardingWizard
from tests.app.ui.conftest import make_profile, qloop  # noqa: F401 (fixtures)
from tests.app.ui.support import run, wait_until
from tests.app.ui.test_application import Sessions, authenticated, sessions  # noqa: F401
from tests.app.ui.views.test_main_window import bodies, names, state_of


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focused(), key, modifiers)


def write(text: str) -> None:
    QTest.keyClicks(focused(), text)


def alt_tab(qtbot: QtBot, window: QWidget) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def onboard_copying_the_address(loop: qasync.QEventLoop, session: Session, name: str) -> str:
    """The wizard with keys only; the address is copied with its Copy button (Tab, Space)."""
    starting = loop.create_task(session.start())
    run(loop, wait_until(lambda: session.wizard is not None and session.wizard.isActiveWindow()))
    wizard = session.wizard
    assert wizard is not None
    write(name)
    press(Qt.Key.Key_Return)  # Next
    press(Qt.Key.Key_Return)  # Create my account (a relay on this computer: the default)
    run(loop, wait_until(lambda: wizard.currentId() == OnboardingWizard.ADDRESS_PAGE,
                         timeout=30))
    press(Qt.Key.Key_Tab)
    press(Qt.Key.Key_Space)  # Copy
    copied = QApplication.clipboard().text()
    press(Qt.Key.Key_Return)  # Start using Sourdine
    assert run(loop, starting) is True
    return copied


def test_onboarding_a_contact_a_conversation_and_a_search_with_the_keyboard_only(
    qloop: qasync.QEventLoop, sessions: Sessions,  # noqa: F811
    make_profile: Callable[[str], ProfilePaths], qtbot: QtBot,  # noqa: F811
) -> None:
    alice_app, bob_app = sessions.new(make_profile("alice")), sessions.new(make_profile("bob"))
    alice_link = onboard_copying_the_address(qloop, alice_app, "Alice")
    onboard_copying_the_address(qloop, bob_app, "Bob")
    alice, bob = alice_app.window, bob_app.window
    assert isinstance(alice, MainWindow) and isinstance(bob, MainWindow)
    assert alice_link.startswith("sourdine") and "name=Alice" in alice_link
    run(qloop, wait_until(lambda: authenticated(alice_app.bridge)
                          and authenticated(bob_app.bridge), timeout=20))

    # Bob: Ctrl+N, paste Alice's link (her name comes with it), Enter; then write to her.
    alt_tab(qtbot, bob)
    QApplication.clipboard().setText(alice_link)  # what Alice sent him by e-mail
    press(Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, AddContactDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.link_edit)  # it is in front
    press(Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dialog.name_edit.text() == "Alice"
    press(Qt.Key.Key_Return)
    run(qloop, wait_until(lambda: bob.current is not None))
    qtbot.waitUntil(lambda: QApplication.focusWidget() is bob.composer.editor)
    write("Hi Alice, Bob here. Budget?")
    press(Qt.Key.Key_Return)
    run(qloop, wait_until(lambda: state_of(bob, "Hi Alice, Bob here. Budget?") == "delivered",
                          timeout=20))

    # Alice: Ctrl+L to the list (Bob's conversation opens), Enter to write, Enter to send.
    alt_tab(qtbot, alice)
    run(qloop, wait_until(lambda: names(alice) == ["Bob"], timeout=20))
    press(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert focused() is alice.conversations.view
    run(qloop, alice.settle())
    assert bodies(alice) == ["Hi Alice, Bob here. Budget?"]
    press(Qt.Key.Key_Return)
    assert focused() is alice.composer.editor
    write("Budget is fine.")
    press(Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    write("See you at 3.")
    press(Qt.Key.Key_Return)
    run(qloop, wait_until(lambda: bodies(bob)[-1:] == ["Budget is fine.\nSee you at 3."],
                          timeout=20))

    # Alice searches: Ctrl+F, words, Down into the results, Enter opens the message.
    press(Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focused() is alice.search.field
    write("budget")
    run(qloop, alice.settle())
    assert alice.search.model.rowCount() == 2
    press(Qt.Key.Key_Down)
    assert focused() is alice.search.results
    press(Qt.Key.Key_Down)  # the older match: Bob's question
    press(Qt.Key.Key_Return)
    run(qloop, alice.settle())
    assert focused() is alice.transcript_view
    current = alice.transcript_view.currentIndex()
    assert current.data(TranscriptRole.BodyRole) == "Hi Alice, Bob here. Budget?"
    press(Qt.Key.Key_Escape)
    assert focused() is alice.composer.editor and alice.search.field.text() == ""
