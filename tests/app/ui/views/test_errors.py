"""Error dialogs: readable text, technical text only under Details, a calm exception hook."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QMessageBox,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.ui.views.errors import (
    inline_error_label,
    install_exception_hook,
    show_error,
    show_inline_error,
)
from tests.app.ui.views.dialog_checks import unnamed_controls


def _boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()]


@pytest.fixture
def restore_excepthook() -> Iterator[None]:
    saved = sys.excepthook
    yield
    sys.excepthook = saved
    for box in _boxes():
        box.close()


def test_show_error_shows_the_sentence_and_no_details_by_default(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    box = show_error(parent, "Contact not added", "This is your own address.")
    assert box.isVisible()
    assert box.windowTitle() == "Contact not added"
    assert box.text() == "This is your own address."
    assert box.icon() is QMessageBox.Icon.Warning
    assert box.detailedText() == ""
    assert box.findChildren(QTextEdit) == []  # no "Show Details..." area at all
    assert unnamed_controls(box) == []
    QTest.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible())


def test_show_error_keeps_technical_text_under_details_and_renders_no_markup(
    qtbot: QtBot,
) -> None:
    box = show_error(None, "Oops", "<b>Plain</b> words", details="Traceback: line 3")
    qtbot.addWidget(box)
    assert box.textFormat() is Qt.TextFormat.PlainText
    assert box.text() == "<b>Plain</b> words"
    assert box.detailedText() == "Traceback: line 3"
    assert "Traceback" not in box.text()
    QTest.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not box.isVisible())


def _raise_and_hook(message: str) -> None:
    try:
        raise RuntimeError(message)
    except RuntimeError:
        sys.excepthook(*sys.exc_info())


def test_the_exception_hook_logs_the_stack_not_the_message_and_shows_a_calm_dialog(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture, restore_excepthook: None
) -> None:
    install_exception_hook("Sourdine")
    with caplog.at_level(logging.ERROR):
        _raise_and_hook("secret plaintext: meet at 9")
    logged = caplog.text
    assert "builtins.RuntimeError" in logged and "_raise_and_hook" in logged
    assert "meet at 9" not in logged
    (box,) = _boxes()
    assert "Something went wrong inside Sourdine" in box.text()
    assert "Traceback" not in box.text() and "RuntimeError" not in box.text()
    assert "RuntimeError: secret plaintext: meet at 9" in box.detailedText()
    assert "_raise_and_hook" in box.detailedText()


def test_the_hook_only_logs_when_a_failure_happens_while_its_dialog_is_shown(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture, restore_excepthook: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_exception_hook("Sourdine")
    shown: list[str] = []

    def failing_show_error(*args: object, **kwargs: object) -> None:
        shown.append("shown")
        _raise_and_hook("second failure")  # e.g. a paint handler failing inside the dialog
        raise OSError("the dialog itself failed")

    monkeypatch.setattr("app.ui.views.errors.show_error", failing_show_error)
    with caplog.at_level(logging.ERROR):
        _raise_and_hook("first failure")  # must not raise nor recurse
    assert shown == ["shown"]
    assert caplog.text.count("Unhandled builtins.RuntimeError") == 2
    assert "Could not show the error dialog" in caplog.text


def test_the_hook_only_logs_without_a_qapplication(
    caplog: pytest.LogCaptureFixture, restore_excepthook: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_exception_hook("Sourdine")
    monkeypatch.setattr(QApplication, "instance", staticmethod(lambda: None))
    with caplog.at_level(logging.ERROR):
        _raise_and_hook("no gui yet")
    assert "Unhandled builtins.RuntimeError" in caplog.text
    monkeypatch.undo()
    assert _boxes() == []


def test_keyboard_interrupt_goes_to_the_default_hook(
    restore_excepthook: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_exception_hook("Sourdine")
    seen: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "__excepthook__", lambda kind, _e, _t: seen.append(kind))
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
    assert seen == [KeyboardInterrupt]
    assert _boxes() == []


def test_an_inline_error_shows_under_its_field_and_takes_the_focus(qtbot: QtBot) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    field, other = QLineEdit(page), QLineEdit(page)
    label = inline_error_label(page)
    layout = QVBoxLayout(page)
    for widget in (field, other, label):
        layout.addWidget(widget)
    with qtbot.waitActive(page):
        page.show()
        page.activateWindow()
    other.setFocus()
    assert label.isHidden()
    show_inline_error(label, field, "Please type your name.")
    assert label.isVisible() and label.text() == "Please type your name."
    assert label.accessibleName() == "Please type your name."
    assert field.hasFocus()
    show_inline_error(label, None, "")
    assert label.isHidden()
