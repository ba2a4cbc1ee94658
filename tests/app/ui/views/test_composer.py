"""The composer: Enter sends, Shift+Enter breaks the line, blocked means blocked and says why."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.ui.views.composer import MAX_LINES, Composer


class Sent:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.typed = 0

    def send(self, text: str) -> None:
        self.texts.append(text)

    def type(self) -> None:
        self.typed += 1


def composer(qtbot: QtBot) -> tuple[Composer, Sent]:
    widget = Composer()
    qtbot.addWidget(widget)
    widget.show()
    sent = Sent()
    widget.sendRequested.connect(sent.send)
    widget.typed.connect(sent.type)
    return widget, sent


def test_enter_sends_and_shift_enter_breaks_the_line(qtbot: QtBot) -> None:
    widget, sent = composer(qtbot)
    QTest.keyClicks(widget.editor, "first line")
    QTest.keyClick(widget.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(widget.editor, "second line")
    assert sent.texts == [] and widget.text() == "first line\nsecond line"
    QTest.keyClick(widget.editor, Qt.Key.Key_Return)
    assert sent.texts == ["first line\nsecond line"]
    assert sent.typed == len("first line") + 1 + len("second line")


def test_blank_text_is_not_sent_and_the_send_button_follows_the_text(qtbot: QtBot) -> None:
    widget, sent = composer(qtbot)
    assert not widget.send_button.isEnabled()
    QTest.keyClicks(widget.editor, "  ")
    QTest.keyClick(widget.editor, Qt.Key.Key_Return)
    assert sent.texts == [] and not widget.send_button.isEnabled()
    QTest.keyClicks(widget.editor, "ok")
    assert widget.send_button.isEnabled()
    QTest.mouseClick(widget.send_button, Qt.MouseButton.LeftButton)
    assert sent.texts == ["  ok"]


def test_a_blocked_composer_says_why_and_sends_nothing(qtbot: QtBot) -> None:
    widget, sent = composer(qtbot)
    widget.set_text("draft kept")
    widget.set_blocked("You cannot write to Bob until you review their new security key.")
    assert widget.is_blocked() and not widget.editor.isEnabled()
    assert widget.blocked_label.isVisible()
    assert "review their new security key" in widget.blocked_label.text()
    assert not widget.send_button.isEnabled()
    widget.submit()
    QTest.keyClick(widget.editor, Qt.Key.Key_Return)
    assert sent.texts == [] and widget.text() == "draft kept"
    widget.set_blocked(None)
    assert not widget.is_blocked() and widget.blocked_label.isHidden()
    assert widget.send_button.isEnabled()
    QTest.keyClick(widget.editor, Qt.Key.Key_Return)
    assert sent.texts == ["draft kept"]


def test_a_loaded_draft_is_not_typing_and_the_editor_grows_with_its_text(qtbot: QtBot) -> None:
    widget, sent = composer(qtbot)
    empty_height = widget.editor.height()
    widget.set_text("a\nb\nc\nd")
    assert sent.typed == 0
    four_lines = widget.editor.height()
    assert four_lines > empty_height
    widget.set_text("\n".join(str(n) for n in range(40)))
    tall = widget.editor.height()
    line = widget.editor.fontMetrics().lineSpacing()
    assert tall > four_lines and tall < (MAX_LINES + 2) * line + 20  # then it scrolls
    assert widget.editor.textCursor().atEnd()  # the cursor waits at the end of the draft
