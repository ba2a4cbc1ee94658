"""The main window with real profiles (real keyring, real SQLCipher) on a real relay process.

Each test drives the window as a person would (key presses, clicks) and checks what they would
see: rows in the conversation list, bubbles in the transcript, the header, the status bar.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config import ProfilePaths
from app.core.preferences import Preferences
from app.ui.bridge import Bridge
from app.ui.models.roles import ConversationRole, TranscriptRole
from app.ui.views.contacts import MyAddressDialog
from app.ui.views.key_change import KeyChangeDialog
from app.ui.views.main_window import MainWindow
from app.ui.views.settings import SettingsDialog
from tests.app.ui.support import introduce, run, wait_until
from tests.app.ui.views.dialog_checks import unnamed_controls
from tests.integration.conftest import RelayProcess, start_relay


def open_window(qtbot: QtBot, qloop: qasync.QEventLoop, bridge: Bridge) -> MainWindow:
    """A shown, active main window on ``bridge``, with its conversations loaded."""
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    run(qloop, window.settle())
    return window


def bodies(window: MainWindow) -> list[str]:
    """The texts of the bubbles in the open conversation, oldest first."""
    model = window.transcript
    if model is None:
        return []
    return [str(model.index(r, 0).data(TranscriptRole.BodyRole)) for r in range(model.rowCount())]


def state_of(window: MainWindow, body: str) -> str | None:
    model = window.transcript
    assert model is not None
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        if index.data(TranscriptRole.BodyRole) == body:
            return str(index.data(TranscriptRole.StateRole))
    return None


def names(window: MainWindow) -> list[str]:
    model = window.conversations.model
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def named_everywhere(window: MainWindow) -> bool:
    """Every control a person reaches has an accessible name (scroll bars and the menu bar's
    overflow arrow are Qt's own parts of their owners)."""
    missing = [m for m in unnamed_controls(window)
               if not m.startswith("QScrollBar") and "qt_menubar_ext_button" not in m]
    assert missing == []
    return True


def type_and_send(window: MainWindow, text: str, *, paste: bool = False) -> None:
    """Type (or paste) ``text`` into the composer and press Enter, as a person would."""
    editor = window.composer.editor
    editor.setFocus()
    if paste:
        editor.insertPlainText(text)
    else:
        for number, line in enumerate(text.split("\n")):
            if number:  # QTest cannot type "\n": a person presses Shift+Enter
                QTest.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
            QTest.keyClicks(editor, line)
    QTest.keyClick(editor, Qt.Key.Key_Return)


def key(widget: object, which: Qt.Key, modifiers: Qt.KeyboardModifier =
        Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(widget, which, modifiers)  # type: ignore[call-overload]


def ready(qloop: qasync.QEventLoop, *bridges: Bridge) -> None:
    """Connected, with their prekeys on the relay: a first message to them then never waits
    (a contact not set up yet is asked again only after seconds)."""
    for bridge in bridges:
        run(qloop, wait_until(lambda b=bridge: b.connection_state == "authenticated",  # type: ignore[misc]
                              timeout=20))
        run(qloop, bridge.client.maintain_prekeys())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def own_relay(tmp_path: Path) -> Iterator[Callable[..., RelayProcess]]:
    """``own_relay(*args)``: a relay for this test on a fixed port, so that it can be stopped
    and started again on the same database where clients expect it."""
    port = free_port()
    started: list[RelayProcess] = []

    def start(*args: str) -> RelayProcess:
        process = start_relay(tmp_path / "own-relay", "--port", str(port),
                              "--max-connections-per-address", "0", *args,
                              database=tmp_path / "own-relay" / "relay.db")
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def test_the_list_shows_conversations_and_enter_sends(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    alice, bob, carol = (bridge_for(n, relay) for n in ("Alice", "Bob", "Carol"))
    with_bob = run(qloop, introduce(alice, bob))
    with_carol = run(qloop, introduce(alice, carol))
    run(qloop, carol.sendText(with_carol.bob_alice, "Coffee later?"))
    run(qloop, wait_until(lambda: alice.attention_state.total == 1))
    run(qloop, bob.sendText(with_bob.bob_alice, "Hello Alice"))
    run(qloop, wait_until(lambda: alice.attention_state.total == 2))

    window = open_window(qtbot, qloop, alice)
    assert names(window) == ["Bob", "Carol"]  # most recent first
    assert window.current == with_bob.alice_bob  # the most recent conversation is open
    assert window.header.name_label.text() == "Bob"
    assert window.header.verified_label.text() == "Not verified"
    assert bodies(window) == ["Hello Alice"]
    # Shown in an active window: read (Carol's stays unread, in bold).
    run(qloop, wait_until(lambda: dict(alice.attention_state.unread) == {with_carol.alice_bob: 1}))
    carol_row = window.conversations.model.index(1, 0)
    assert carol_row.data(ConversationRole.BoldRole) is True

    type_and_send(window, "Lunch at noon?")
    assert window.composer.text() == ""
    run(qloop, wait_until(lambda: state_of(window, "Lunch at noon?") == "delivered"))
    assert bodies(window) == ["Hello Alice", "Lunch at noon?"]
    peer = run(qloop, bob.history(with_bob.bob_alice))
    assert [m.body for m in peer] == ["Hello Alice", "Lunch at noon?"]
    first_row = window.conversations.model.index(0, 0)
    run(qloop, wait_until(
        lambda: first_row.data(ConversationRole.LastMessageRole) == "You: Lunch at noon?"))

    # A message from Carol, then opening her conversation with the keyboard.
    key(window.conversations.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    run(qloop, window.settle())
    assert window.current == with_carol.alice_bob and bodies(window) == ["Coffee later?"]
    run(qloop, wait_until(lambda: alice.attention_state.total == 0))
    assert named_everywhere(window)


def test_enter_on_a_blank_composer_sends_nothing_and_shift_enter_breaks_the_line(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    window = open_window(qtbot, qloop, alice)
    assert window.current == pair.alice_bob  # conversations without messages are listed

    editor = window.composer.editor
    editor.setFocus()
    QTest.keyClicks(editor, "   ")
    key(editor, Qt.Key.Key_Return)
    run(qloop, window.settle())
    assert bodies(window) == [] and editor.toPlainText() == "   "  # nothing sent, nothing lost

    editor.clear()
    QTest.keyClicks(editor, "Agenda:")
    key(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(editor, "1. budget")
    assert editor.toPlainText() == "Agenda:\n1. budget"
    key(editor, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)  # keypad Enter sends too
    run(qloop, wait_until(lambda: bodies(window) == ["Agenda:\n1. budget"]))
    run(qloop, wait_until(lambda: state_of(window, "Agenda:\n1. budget") == "delivered"))
    assert [m.body for m in run(qloop, bob.history(pair.bob_alice))] == ["Agenda:\n1. budget"]


def test_drafts_survive_switching_conversations_and_closing_the_window(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    alice, bob, carol = (bridge_for(n, relay) for n in ("Alice", "Bob", "Carol"))
    with_bob = run(qloop, introduce(alice, bob))
    with_carol = run(qloop, introduce(alice, carol))
    window = open_window(qtbot, qloop, alice)
    window.conversations.select(with_bob.alice_bob)
    run(qloop, window.settle())

    QTest.keyClicks(window.composer.editor, "half-written for Bob")
    window.conversations.select(with_carol.alice_bob)
    run(qloop, window.settle())
    assert window.current == with_carol.alice_bob and window.composer.text() == ""
    QTest.keyClicks(window.composer.editor, "note for Carol")
    window.conversations.select(with_bob.alice_bob)
    run(qloop, window.settle())
    assert window.composer.text() == "half-written for Bob"
    window.conversations.select(with_carol.alice_bob)
    run(qloop, window.settle())
    assert window.composer.text() == "note for Carol"

    run(qloop, window.save_state())  # what the application does before closing the profile
    window.close()
    assert run(qloop, alice.draft(with_carol.alice_bob)) == "note for Carol"
    assert run(qloop, alice.draft(with_bob.alice_bob)) == "half-written for Bob"

    again = open_window(qtbot, qloop, alice)
    again.conversations.select(with_bob.alice_bob)
    run(qloop, again.settle())
    assert again.composer.text() == "half-written for Bob"
    key(again.composer.editor, Qt.Key.Key_Return)  # sending it clears the draft
    run(qloop, wait_until(lambda: bodies(again) == ["half-written for Bob"]))
    run(qloop, again.settle())
    assert run(qloop, alice.draft(with_bob.alice_bob)) == ""


def test_keyboard_moves_between_panes_and_conversations(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    alice, bob, carol = (bridge_for(n, relay) for n in ("Alice", "Bob", "Carol"))
    with_bob = run(qloop, introduce(alice, bob))
    with_carol = run(qloop, introduce(alice, carol))
    window = open_window(qtbot, qloop, alice)
    window.conversations.select(with_bob.alice_bob)
    run(qloop, window.settle())
    window.composer.editor.setFocus()

    def focused() -> object:
        return QApplication.focusWidget()

    key(window.composer.editor, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert focused() is window.conversations.view
    key(window.conversations.view, Qt.Key.Key_Escape)
    assert focused() is window.composer.editor
    key(window.composer.editor, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focused() is window.search.field
    key(window.search.field, Qt.Key.Key_Escape)
    assert focused() is window.composer.editor

    key(window.composer.editor, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    run(qloop, window.settle())
    assert window.current == with_carol.alice_bob
    key(window.composer.editor, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    run(qloop, window.settle())
    assert window.current == with_bob.alice_bob

    # Racing through the list: every switch replaces the transcript while it may be loading.
    problems: list[str] = []
    qloop.set_exception_handler(lambda _loop, context: problems.append(str(context)))
    run(qloop, alice.client.send_text(with_carol.alice_bob, "for Carol"))
    for _ in range(7):
        key(window.composer.editor, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    run(qloop, window.settle())
    assert window.current == with_carol.alice_bob and bodies(window) == ["for Carol"]
    key(window.composer.editor, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    run(qloop, window.settle())
    assert window.current == with_bob.alice_bob and bodies(window) == []
    assert problems == []

    visited = []
    for _ in range(4):
        key(focused(), Qt.Key.Key_F6)
        visited.append(focused())
    assert visited == [window.search.field, window.conversations.view,
                       window.transcript_view, window.composer.editor]
    key(focused(), Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    assert focused() is window.transcript_view


def test_a_key_change_shows_a_banner_blocks_the_composer_until_reviewed(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    make_profile: Callable[[str], ProfilePaths], qtbot: QtBot,
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    window = open_window(qtbot, qloop, alice)
    assert window.header.banner.isHidden() and not window.composer.is_blocked()

    # Bob "reinstalls": a new account under the same name; Alice adds his new address.
    new_bob = bridge_for("Bob", relay)
    window.add_contact()
    dialog = window.dialog
    assert dialog is not None
    QTest.keyClicks(dialog.link_edit, new_bob.invitation_link)  # type: ignore[attr-defined]
    key(dialog.link_edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    run(qloop, wait_until(lambda: window.header.banner.isVisible()))
    assert window.current == pair.alice_bob
    assert "security key of Bob changed" in window.header.banner_label.text()
    assert window.composer.is_blocked() and not window.composer.editor.isEnabled()
    assert "review their new security key" in window.composer.blocked_label.text()

    QTest.mouseClick(window.header.review_button, Qt.MouseButton.LeftButton)
    review = window.dialog
    assert isinstance(review, KeyChangeDialog)
    QTest.mouseClick(review.accept_button, Qt.MouseButton.LeftButton)
    run(qloop, wait_until(lambda: window.header.banner.isHidden()))
    assert not window.composer.is_blocked() and review.outcome() == "accepted"
    type_and_send(window, "Welcome back")
    run(qloop, wait_until(lambda: state_of(window, "Welcome back") == "delivered"))
    got = run(qloop, new_bob.conversations())
    assert [s.last_message.body for s in got if s.last_message] == ["Welcome back"]


def test_typing_shows_in_the_peers_header_when_both_allow_it(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    chatty = Preferences(typing_indicators=True)
    alice = bridge_for("Alice", relay, preferences=chatty)
    bob = bridge_for("Bob", relay, preferences=chatty)
    pair = run(qloop, introduce(alice, bob))
    ready(qloop, bob)
    run(qloop, alice.sendText(pair.alice_bob, "hi"))  # typing only travels in a session
    run(qloop, wait_until(lambda: bob.attention_state.total == 1))
    bob_window = open_window(qtbot, qloop, bob)
    alice_window = open_window(qtbot, qloop, alice)
    assert bob_window.header.typing_label.isHidden()
    QTest.keyClicks(alice_window.composer.editor, "I am wri")
    run(qloop, wait_until(lambda: bob_window.header.typing_label.isVisible()))
    assert bob_window.header.typing_label.text() == "typing…"


def test_the_status_bar_follows_the_relay_calmly(
    qloop: qasync.QEventLoop, own_relay: Callable[..., RelayProcess],
    bridge_for: Callable[..., Bridge], qtbot: QtBot,
) -> None:
    relay = own_relay()
    window = open_window(qtbot, qloop, bridge_for("Alice", relay))
    run(qloop, wait_until(lambda: window.connection.shown == "connected"))
    assert window.connection.text() == "Connected"
    relay.stop()
    run(qloop, wait_until(lambda: window.connection.shown == "offline", timeout=15))
    assert window.connection.text() == (
        "Offline — messages will be sent when the connection is back")
    assert [w for w in QApplication.topLevelWidgets()
            if w.isVisible() and w is not window] == []  # no pop-up for a network state
    own_relay()
    run(qloop, wait_until(lambda: window.connection.shown == "connected", timeout=15))
    assert window.connection.text() == "Connected"


def test_a_failed_message_is_retried_with_enter_once_the_relay_takes_it(
    qloop: qasync.QEventLoop, own_relay: Callable[..., RelayProcess],
    bridge_for: Callable[..., Bridge], qtbot: QtBot,
) -> None:
    relay = own_relay("--max-envelope-bytes", "2048")  # refuses long messages for good
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    ready(qloop, bob)
    window = open_window(qtbot, qloop, alice)
    type_and_send(window, "short one")
    run(qloop, wait_until(lambda: state_of(window, "short one") == "delivered"))
    long_text = "A long report. " * 300
    type_and_send(window, long_text, paste=True)
    run(qloop, wait_until(lambda: state_of(window, long_text) == "failed"))
    model = window.transcript
    assert model is not None
    failed = model.index(model.rowCount() - 1, 0)
    assert failed.data(TranscriptRole.FailedRole) is True
    assert "too_large" in str(failed.data(TranscriptRole.ReasonRole))

    relay.stop()  # the operator raises the limit: same database, same port
    own_relay()
    view = window.transcript_view
    view.setFocus()
    view.setCurrentIndex(view.model().index(model.rowCount() - 1, 0))
    key(view, Qt.Key.Key_Return)
    run(qloop, wait_until(lambda: state_of(window, long_text) == "delivered", timeout=20))
    got = run(qloop, bob.history(pair.bob_alice))
    assert [m.body for m in got] == ["short one", long_text]


def test_the_menu_switches_off_duty_and_opens_the_dialogs_by_shortcut(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    ready(qloop, alice)
    window = open_window(qtbot, qloop, alice)
    window.conversations.keyboard_focus()
    assert window.off_duty_label.isHidden()

    window.off_duty_action.trigger()  # Sourdine > Off duty
    run(qloop, wait_until(lambda: alice.attention_state.off_duty))
    assert window.off_duty_action.isChecked() and window.off_duty_label.isVisible()
    other = bridge_for("Carol", relay)
    with_carol = run(qloop, introduce(alice, other))
    run(qloop, other.sendText(with_carol.bob_alice, "after hours"))
    run(qloop, wait_until(lambda: names(window)[:1] == ["Carol"], timeout=20))
    assert dict(alice.attention_state.unread) == {}  # off duty: no counters at all
    window.off_duty_action.trigger()
    run(qloop, wait_until(lambda: not alice.attention_state.off_duty))
    run(qloop, wait_until(lambda: alice.attention_state.unread.get(with_carol.alice_bob) == 1))
    assert window.off_duty_label.isHidden() and window.current == pair.alice_bob

    key(window.conversations.view, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(window.dialog, SettingsDialog)
    window.dialog.reject()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.my_address_action.trigger()
    assert isinstance(window.dialog, MyAddressDialog)
    assert window.dialog.panel.address_edit.text() == alice.invitation_link
