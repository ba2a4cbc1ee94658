"""Shared by the dialog tests: each control a person can reach has a name for screen readers,
and no two visible controls share an Alt+letter shortcut."""

from __future__ import annotations

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

_INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractSlider,
                QTextEdit, QPlainTextEdit, QTabBar, QAbstractItemView)


def _qt_internal(widget: QWidget) -> bool:
    """Parts Qt builds inside its own complex widgets (a tab bar's scroll arrows, a combo
    box's popup list, a line edit inside a combo): they are named by their owner."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QTabBar | QComboBox | QAbstractSpinBox):
            return True
        parent = parent.parentWidget()
    return False


def unnamed_controls(root: QWidget) -> list[str]:
    """Every interactive widget under ``root`` (hidden ones included: they may appear) that
    has no accessible name, described by class, object name and text."""
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        focusable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus
        if not (isinstance(widget, _INTERACTIVE) or focusable) or _qt_internal(widget):
            continue
        if not widget.accessibleName().strip():
            text = widget.text() if isinstance(widget, QAbstractButton | QLineEdit) else ""
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} {text!r}")
    return missing


def _mnemonic(text: str) -> str | None:
    stripped = text.replace("&&", "")
    index = stripped.find("&")
    return stripped[index + 1].lower() if 0 <= index < len(stripped) - 1 else None


def duplicate_mnemonics(root: QWidget) -> list[str]:
    """Alt+letter shortcuts used twice among what is visible in ``root`` now (tab titles,
    buttons, labels with a buddy): with a duplicate, Alt+letter only cycles between them."""
    seen: dict[str, str] = {}
    duplicates = []
    texts = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root):
            continue
        labelled = isinstance(widget, QLabel) and widget.buddy() is not None
        if isinstance(widget, QAbstractButton) or labelled:
            texts.append(widget.text())
        elif isinstance(widget, QTabBar):
            texts.extend(widget.tabText(i) for i in range(widget.count()))
    for text in texts:
        letter = _mnemonic(text)
        if letter is None:
            continue
        if letter in seen:
            duplicates.append(f"{letter}: {seen[letter]!r} and {text!r}")
        seen[letter] = text
    return duplicates


_closed_loops: list[qasync.QEventLoop] = []


@pytest.fixture(autouse=True)
def keep_closed_loops_alive(qloop: qasync.QEventLoop) -> None:
    """Keep every test's qasync loop referenced after its teardown closed it.

    Without a reference, the closed loop, its timer object and its pending callback handles
    form a garbage cycle; an automatic collection that ran inside the timer object's own
    ``timerEvent`` (or in a worker thread) deleted it there and Qt crashed (SIGSEGV in
    ``QCoreApplication::notifyInternal2``). The shared ``qloop`` fixture now collects garbage
    on the GUI thread only (app.ui.collector), which also prevents it; this stays because other
    test modules import it (harmless: a closed loop is a few objects).
    """
    _closed_loops.append(qloop)
