"""Safety numbers and key changes, with two real profiles on a real relay."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import qasync
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.ui.bridge import Bridge
from app.ui.qr import qr_code
from app.ui.views.key_change import KeyChangeDialog
from app.ui.views.safety import (
    SafetyNumberDialog,
    normalized_digits,
    number_lines,
    numbers_match,
)
from crypto.safety import safety_number
from tests.app.ui.support import Pair, introduce, run, wait_until
from tests.app.ui.views.dialog_checks import duplicate_mnemonics, unnamed_controls
from tests.integration.conftest import RelayProcess

FIXED_NUMBER = safety_number(bytes(32), bytes([1]) * 32)
"""A safety number computed once (each costs 2 x 5200 SHA-512)."""


def _shown(qtbot: QtBot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


@pytest.fixture
def pair(qloop: qasync.QEventLoop, relay: RelayProcess,
         bridge_for: Callable[..., Bridge]) -> Pair:
    return run(qloop, introduce(bridge_for("Alice", relay), bridge_for("Bob", relay)))


def test_both_sides_show_the_same_number_and_qr_code(qtbot: QtBot, pair: Pair) -> None:
    at_alice = _shown(qtbot, SafetyNumberDialog(pair.alice, pair.alice_bob))
    at_bob = _shown(qtbot, SafetyNumberDialog(pair.bob, pair.bob_alice))
    shown_alice = at_alice.view.number_label.text()
    assert shown_alice == at_bob.view.number_label.text()
    lines = shown_alice.split("\n")
    assert len(lines) == 3 and all(len(line.split(" ")) == 4 for line in lines)
    assert all(len(group) == 5 for line in lines for group in line.split(" "))
    number = pair.alice.safety_number(pair.alice_bob)
    assert normalized_digits(shown_alice) == number.digits and len(number.digits) == 60
    assert at_alice.view.qr.data() == at_bob.view.qr.data() == number.qr_payload
    assert at_alice.view.qr.modules() == len(qr_code(number.qr_payload).matrix)
    assert "Bob" in at_alice.windowTitle() and "Alice" in at_bob.windowTitle()
    assert unnamed_controls(at_alice) == [] and duplicate_mnemonics(at_alice) == []


def test_a_pasted_number_is_compared_digits_only(qtbot: QtBot, pair: Pair) -> None:
    dialog = _shown(qtbot, SafetyNumberDialog(pair.alice, pair.alice_bob))
    view = dialog.view
    digits = pair.bob.safety_number(pair.bob_alice).digits  # what Bob read out
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is view.compare_edit
    QTest.keyClicks(view.compare_edit, "-".join(digits[i:i + 5] for i in range(0, 60, 5)))
    QTest.keyClick(view.compare_edit, Qt.Key.Key_Return)  # Enter compares, it does not close
    assert dialog.isVisible()
    assert view.result_text().startswith("The numbers match")

    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    view.compare_edit.setText(wrong)
    assert view.compare() is False
    assert view.result_text().startswith("The numbers do not match. Do not mark Bob")
    view.compare_edit.setText(digits[:30])
    assert view.compare() is False and "has 30" in view.result_text()
    view.compare_edit.setText("no digits here")
    assert view.compare() is None
    # Digits typed with another keyboard (Arabic-Indic) still compare.
    view.compare_edit.setText("".join(chr(0x0660 + int(d)) for d in digits))
    assert view.compare() is True


def test_mark_as_verified_and_back(qloop: qasync.QEventLoop, qtbot: QtBot, pair: Pair) -> None:
    dialog = _shown(qtbot, SafetyNumberDialog(pair.alice, pair.alice_bob))
    assert not pair.alice.contact(pair.alice_bob).verified
    assert dialog.verify_button.accessibleName() == "Mark as verified"
    QTest.keyClick(dialog.verify_button, Qt.Key.Key_Space)
    assert dialog.task is not None
    run(qloop, dialog.task)
    assert pair.alice.contact(pair.alice_bob).verified
    run(qloop, wait_until(lambda: dialog.verify_button.accessibleName() == "Mark as not verified"))
    assert "You have verified Bob" in dialog.status.text()
    assert dialog.verify_button.isEnabled()

    dialog.verify_button.click()
    assert dialog.task is not None
    run(qloop, dialog.task)
    assert not pair.alice.contact(pair.alice_bob).verified
    run(qloop, wait_until(lambda: dialog.verify_button.accessibleName() == "Mark as verified"))
    assert not pair.bob.contact(pair.bob_alice).verified  # each side verifies for itself


def _key_change(qloop: qasync.QEventLoop, relay: RelayProcess,
                bridge_for: Callable[..., Bridge], pair: Pair) -> Bridge:
    """Bob "reinstalls": a new identity under the same name; Alice adds its link."""
    new_bob = bridge_for("Bob", relay)
    run(qloop, pair.alice.client.add_contact(new_bob.invitation_link))
    assert pair.alice.contact(pair.alice_bob).pending_identity_key == new_bob.client.identity_key
    return new_bob


def test_key_change_dialog_shows_the_new_number_and_accept_unblocks(
    qloop: qasync.QEventLoop, qtbot: QtBot, relay: RelayProcess,
    bridge_for: Callable[..., Bridge], pair: Pair,
) -> None:
    old = pair.alice.safety_number(pair.alice_bob)
    new_bob = _key_change(qloop, relay, bridge_for, pair)
    dialog = _shown(qtbot, KeyChangeDialog(pair.alice, pair.alice_bob))
    assert dialog.view is not None
    new = pair.alice.safety_number(pair.alice_bob, pending=True)
    assert normalized_digits(dialog.view.number_label.text()) == new.digits != old.digits
    assert QApplication.focusWidget() is dialog.keep_button  # the safe choice has the focus
    assert unnamed_controls(dialog) == [] and duplicate_mnemonics(dialog) == []

    dialog.accept_button.click()
    assert dialog.task is not None
    run(qloop, dialog.task)
    contact = pair.alice.contact(pair.alice_bob)
    assert contact.identity_key == new_bob.client.identity_key
    assert contact.pending_identity_key is None and not contact.verified
    run(qloop, wait_until(lambda: not dialog.isVisible()))
    assert dialog.outcome() == "accepted"
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_reject_keeps_the_old_key(
    qloop: qasync.QEventLoop, qtbot: QtBot, relay: RelayProcess,
    bridge_for: Callable[..., Bridge], pair: Pair,
) -> None:
    _key_change(qloop, relay, bridge_for, pair)
    dialog = _shown(qtbot, KeyChangeDialog(pair.alice, pair.alice_bob))
    dialog.reject_button.click()
    assert dialog.task is not None
    run(qloop, dialog.task)
    contact = pair.alice.contact(pair.alice_bob)
    assert contact.identity_key == pair.bob.client.identity_key
    assert contact.pending_identity_key is None
    run(qloop, wait_until(lambda: not dialog.isVisible()))
    assert dialog.outcome() == "rejected"


def test_keep_blocked_and_escape_change_nothing(
    qloop: qasync.QEventLoop, qtbot: QtBot, relay: RelayProcess,
    bridge_for: Callable[..., Bridge], pair: Pair,
) -> None:
    new_bob = _key_change(qloop, relay, bridge_for, pair)
    dialog = _shown(qtbot, KeyChangeDialog(pair.alice, pair.alice_bob))
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # Keep blocked
    assert not dialog.isVisible() and dialog.outcome() == "kept"
    again = _shown(qtbot, KeyChangeDialog(pair.alice, pair.alice_bob))
    QTest.keyClick(again, Qt.Key.Key_Escape)
    assert not again.isVisible() and again.outcome() == "kept"
    assert pair.alice.contact(pair.alice_bob).pending_identity_key == new_bob.client.identity_key
    # Sending stays blocked: the bridge reports it instead of queueing the message.
    errors: list[tuple[str, str]] = []
    pair.alice.errorOccurred.connect(lambda title, message: errors.append((title, message)))
    assert run(qloop, pair.alice.sendText(pair.alice_bob, "hello?")) is None
    assert errors and errors[0][0] == "Message not sent"


def test_a_change_already_settled_elsewhere_offers_only_close(
    qloop: qasync.QEventLoop, qtbot: QtBot, pair: Pair
) -> None:
    dialog = _shown(qtbot, KeyChangeDialog(pair.alice, pair.alice_bob))
    assert dialog.view is None
    assert not dialog.accept_button.isEnabled() and not dialog.reject_button.isEnabled()
    assert "No key change is waiting" in dialog.status.text()


def test_number_lines_groups_sixty_digits_in_three_lines() -> None:
    number = FIXED_NUMBER
    text = number_lines(number)
    assert text.replace("\n", " ") == str(number)
    assert text.count("\n") == 2


@settings(max_examples=200, deadline=None)
@given(typed=st.text(max_size=120))
def test_any_typed_text_matches_only_when_its_digits_are_the_number(typed: str) -> None:
    number = FIXED_NUMBER
    digits = normalized_digits(typed)
    assert digits.isascii() and (digits == "" or digits.isdigit())
    assert numbers_match(number, typed) is (digits == number.digits)
    decorated = " ".join(number.groups()) + typed.translate({ord(c): None for c in typed
                                                            if c.isdecimal()})
    assert numbers_match(number, decorated)
