"""Search across every conversation: a field and the list of matching messages.

Typing searches after a short pause (newest matches first); Down moves from the field into
the results; Enter (or a click) on a result emits :attr:`SearchPanel.resultActivated` with the
conversation and the message's ``seq``, so the main window opens the conversation scrolled to
it. Escape clears the search.
"""

from __future__ import annotations

import asyncio
from typing import Final

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.adapters.store.errors import SearchQueryError
from app.ui.bridge import Bridge
from app.ui.models.roles import SearchRole
from app.ui.models.search import SearchResultsModel
from app.ui.models.tasks import ModelTasks

SEARCH_DELAY_MS: Final = 250
"""Pause in typing after which the search runs (not one query per key press)."""


class SearchPanel(QWidget):
    """The search field and, while it holds text, the results instead of the conversations."""

    resultActivated = Signal(int, int)  # conversation id, message seq
    activeChanged = Signal(bool)  # the field holds text: results are shown
    escapePressed = Signal()  # Escape in an empty field: back to the composer

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SearchResultsModel(bridge, self)
        self._tasks = ModelTasks(bridge.errorOccurred.emit, "SearchPanel")
        self.field = QLineEdit(self)
        self.field.setPlaceholderText(self.tr("Search messages (Ctrl+F)"))
        self.field.setClearButtonEnabled(True)
        for button in self.field.findChildren(QToolButton):  # the clear button
            button.setAccessibleName(self.tr("Clear the search"))
        self.field.setAccessibleName(self.tr("Search messages"))
        self.field.setAccessibleDescription(self.tr(
            "Type words to find in every conversation. Press Down to go to the results."
        ))
        self.results = QListView(self)
        self.results.setModel(self.model)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results.setWordWrap(True)
        self.results.setAccessibleName(self.tr("Search results"))
        self.results.setAccessibleDescription(self.tr(
            "Messages that contain the words you typed, newest first. Press Enter to open one."
        ))
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.results.hide()
        self.summary.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.summary)
        layout.addWidget(self.results, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._run_search)
        self.field.textChanged.connect(self._text_changed)
        self.field.returnPressed.connect(self._enter_in_field)
        self.field.installEventFilter(self)
        self.results.activated.connect(self._activated)
        self.results.clicked.connect(self._activated)

    @property
    def active(self) -> bool:
        """Whether the field holds text (the results replace the conversation list)."""
        return bool(self.field.text().strip())

    def focus_field(self) -> None:
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def clear(self) -> None:
        self.field.clear()

    async def settle(self) -> None:
        """Wait for the search in flight, if any (tests)."""
        if self._timer.isActive():
            self._timer.stop()
            self._run_search()
        await self._tasks.settle()

    def _text_changed(self, text: str) -> None:
        active = bool(text.strip())
        self.results.setVisible(active)
        self.summary.setVisible(active and self.summary.text() != "")
        self.activeChanged.emit(active)
        if active:
            self._timer.start()
        else:
            self._timer.stop()
            self.model.clear()
            self._say("")

    def _run_search(self) -> None:
        self._tasks.start(self._search(self.field.text()), self.tr("Search failed"))

    async def _search(self, text: str) -> None:
        try:
            await self.model.search(text)
        except SearchQueryError:
            self._say(self.tr("Type a word to search for."))
            return
        except asyncio.CancelledError:
            raise
        if text != self.field.text():
            return  # a newer search is on its way
        count = self.model.rowCount()
        if count == 0:
            self._say(self.tr("No message contains these words."))
        else:
            self._say(self.tr("Messages found: %n", "", count))
            if not self.results.currentIndex().isValid():
                self.results.setCurrentIndex(self.model.index(0, 0))

    def _say(self, text: str) -> None:
        self.summary.setText(text)
        self.summary.setAccessibleName(text)
        self.summary.setVisible(bool(text) and self.active)

    def _enter_in_field(self) -> None:
        if self._timer.isActive():  # Enter before the pause: search now, open nothing yet
            self._timer.stop()
            self._run_search()
            return
        index = self.results.currentIndex()
        if index.isValid():
            self._activated(index)

    def _activated(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        self.resultActivated.emit(
            int(index.data(SearchRole.ConversationIdRole)), int(index.data(SearchRole.SeqRole))
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Down and self.model.rowCount():
                self.results.setFocus(Qt.FocusReason.TabFocusReason)
                if not self.results.currentIndex().isValid():
                    self.results.setCurrentIndex(self.model.index(0, 0))
                return True
            if event.key() == Qt.Key.Key_Escape:
                if self.field.text():
                    self.field.clear()
                self.escapePressed.emit()
                return True
        return super().eventFilter(watched, event)
