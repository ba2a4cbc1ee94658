"""Checks every dialog test applies: each control a person can reach has a name for screen
readers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
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
