"""Readable error dialogs, inline field errors, and the hook for exceptions nobody caught.

People see a calm sentence; the technical text (a traceback, an error code) only sits behind
the message box's "Show Details..." button, and only when there is some. The exception hook
logs the stack for whoever debugs, but not the exception's message: it may quote what the
user wrote (a message, a contact's name), and logs never hold plaintext.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAccessible, QAccessibleEvent
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

_log = logging.getLogger(__name__)

_handling = False  # True while the hook shows its dialog: a second failure is only logged
_unowned: set[QMessageBox] = set()  # boxes without a parent, kept alive until closed


def show_error(
    parent: QWidget | None, title: str, message: str, *, details: str | None = None
) -> QMessageBox:
    """Show ``message`` in a warning box over ``parent``, without blocking the event loop.

    ``title`` and ``message`` are already translated, readable sentences; ``details`` is
    technical text for whoever asks (hidden behind "Show Details..."). Returns the box (it
    deletes itself when closed) so callers and tests can follow it.
    """
    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(message)
    box.setTextFormat(Qt.TextFormat.PlainText)  # a message is never interpreted as markup
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setDefaultButton(QMessageBox.StandardButton.Ok)
    box.setEscapeButton(QMessageBox.StandardButton.Ok)
    ok = box.button(QMessageBox.StandardButton.Ok)
    ok.setAccessibleName(QCoreApplication.translate("ErrorDialog", "Close this message"))
    box.setAccessibleName(title)
    box.setAccessibleDescription(message)
    if parent is not None:
        box.setWindowModality(Qt.WindowModality.WindowModal)
    else:  # nothing else holds it: without this reference Python would delete it at once
        _unowned.add(box)
        box.finished.connect(lambda _result: _unowned.discard(box))
    box.open()
    return box


def inline_error_label(parent: QWidget) -> QLabel:
    """A hidden label for an error shown under the field it is about."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.hide()
    return label


def show_inline_error(label: QLabel, field: QWidget | None, text: str) -> None:
    """Show ``text`` in ``label`` (empty text hides it), announce it to screen readers, and
    move the focus to ``field`` so the user can correct it."""
    label.setText(text)
    label.setAccessibleName(text)
    label.setVisible(bool(text))
    if not text:
        return
    QAccessible.updateAccessibility(QAccessibleEvent(label, QAccessible.Event.Alert))
    if field is not None:
        field.setFocus(Qt.FocusReason.OtherFocusReason)


def _log_unhandled(kind: type[BaseException], tb: TracebackType | None) -> None:
    stack = "".join(traceback.format_tb(tb))
    _log.error("Unhandled %s.%s\n%s", kind.__module__, kind.__qualname__, stack)


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def _excepthook(app_name: str) -> ExceptHook:
    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        global _handling
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        _log_unhandled(kind, tb)
        if _handling or QApplication.instance() is None:
            return
        _handling = True
        try:
            title = QCoreApplication.translate(
                "ErrorDialog", "%1 - unexpected problem").replace("%1", app_name)
            message = QCoreApplication.translate(
                "ErrorDialog",
                "Something went wrong inside %1. If it happens again, please restart %1.",
            ).replace("%1", app_name)
            details = "".join(traceback.format_exception(kind, error, tb))
            show_error(QApplication.activeWindow(), title, message, details=details)
        except Exception:  # the hook must never raise: that would end the application
            _log.exception("Could not show the error dialog")
        finally:
            _handling = False

    return hook


def install_exception_hook(app_name: str) -> None:
    """Make every uncaught exception a log entry (the stack, not the message) and a calm
    dialog naming ``app_name``, with the traceback only under "Show Details...".

    Safe without a ``QApplication`` (then it only logs) and against an exception raised
    while the dialog is being shown (logged, not shown again).
    """
    sys.excepthook = _excepthook(app_name)
