"""Where the user writes a message: Enter sends, Shift+Enter starts a new line.

The composer knows nothing about conversations or the core: it emits
:attr:`Composer.sendRequested` with the text and :attr:`Composer.typed` when the user types;
the main window sends, keeps drafts and tells the bridge. When sending is blocked (the
contact's key changed and the user has not reviewed it), the composer is disabled and says why.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

MIN_LINES = 2
MAX_LINES = 8  # the editor grows with its text up to this many lines, then scrolls


class MessageEdit(QPlainTextEdit):
    """A multi-line editor where Enter (without Shift) submits instead of breaking the line."""

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)  # Tab moves on (keyboard users), it never types a tab
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().contentsChanged.connect(self._fit_height)
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if enter and modifiers == Qt.KeyboardModifier.NoModifier:
            event.accept()
            self.submitted.emit()
            return
        if enter and modifiers & Qt.KeyboardModifier.ShiftModifier:
            self.textCursor().insertText("\n")
            event.accept()
            return
        super().keyPressEvent(event)

    def _fit_height(self) -> None:
        line = self.fontMetrics().lineSpacing()
        lines = max(MIN_LINES, min(MAX_LINES, self.document().lineCount()))
        margins = self.contentsMargins()
        frame = int(self.document().documentMargin() * 2) + margins.top() + margins.bottom()
        self.setFixedHeight(lines * line + frame + 2)


class Composer(QWidget):
    """The message editor with its Send button and, when sending is blocked, the reason."""

    sendRequested = Signal(str)
    typed = Signal()  # the user changed the text (for the optional typing indicator)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = MessageEdit(self)
        self.editor.setAccessibleName(self.tr("Message"))
        self.editor.setAccessibleDescription(self.tr(
            "Type your message. Enter sends it; Shift+Enter starts a new line."
        ))
        self.editor.setPlaceholderText(self.tr("Write a message…"))
        self.send_button = QPushButton(self.tr("&Send"), self)
        self.send_button.setAccessibleName(self.tr("Send"))
        self.send_button.setAccessibleDescription(self.tr("Send the message you typed."))
        self.send_button.setEnabled(False)
        self.blocked_label = QLabel(self)
        self.blocked_label.setWordWrap(True)
        self.blocked_label.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.editor, 1)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.blocked_label)
        layout.addLayout(row)
        self.setFocusProxy(self.editor)

        self.editor.submitted.connect(self.submit)
        self.send_button.clicked.connect(self.submit)
        self.editor.textChanged.connect(self._text_changed)
        self._loading = False  # set_text is filling the editor: not the user typing

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the text (a draft), cursor at the end; not reported as typing."""
        self._loading = True
        try:
            self.editor.setPlainText(text)
            self.editor.moveCursor(self.editor.textCursor().MoveOperation.End)
        finally:
            self._loading = False

    def set_blocked(self, reason: str | None) -> None:
        """Disable writing and say why (``reason``), or enable it again (None)."""
        blocked = reason is not None
        self.blocked_label.setText(reason or "")
        self.blocked_label.setAccessibleName(reason or "")
        self.blocked_label.setVisible(blocked)
        self.editor.setReadOnly(blocked)
        self.editor.setEnabled(not blocked)
        self.send_button.setEnabled(not blocked and bool(self.text().strip()))
        if blocked:
            self.editor.setAccessibleDescription(reason or "")
        else:
            self.editor.setAccessibleDescription(self.tr(
                "Type your message. Enter sends it; Shift+Enter starts a new line."
            ))

    def is_blocked(self) -> bool:
        return self.blocked_label.isVisible() or self.editor.isReadOnly()

    def submit(self) -> None:
        """Send what is typed (nothing when it is blank or sending is blocked)."""
        text = self.text()
        if self.editor.isReadOnly() or not text.strip():
            return
        self.sendRequested.emit(text)

    def _text_changed(self) -> None:
        self.send_button.setEnabled(not self.editor.isReadOnly() and bool(self.text().strip()))
        if not self._loading and self.text():
            self.typed.emit()
