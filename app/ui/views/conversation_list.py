"""The left pane's list of conversations, with the button that starts a new one.

Moving the current row (mouse or arrow keys) opens that conversation: the pane emits
:attr:`ConversationList.conversationOpened` with its contact id. Rows, unread counters and bold
rows come from :class:`ConversationListModel` (which follows the bridge by itself).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.bridge import Bridge
from app.ui.delegates.conversation_row import ConversationRowDelegate
from app.ui.models.conversations import ConversationListModel
from app.ui.models.roles import ConversationRole


class ConversationList(QWidget):
    """The conversation list and its "New conversation" button."""

    conversationOpened = Signal(int)  # the current row changed: show this one
    conversationActivated = Signal(int)  # Enter or double click: write to them
    addContactRequested = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConversationListModel(bridge, self)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.delegate = ConversationRowDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setUniformItemSizes(False)
        self.view.setAccessibleName(self.tr("Conversations"))
        self.view.setAccessibleDescription(self.tr(
            "Your conversations, most recent first. Use the arrow keys to open one."
        ))
        self.add_button = QPushButton(self.tr("&New conversation"), self)
        self.add_button.setAccessibleName(self.tr("New conversation"))
        self.add_button.setAccessibleDescription(self.tr(
            "Add a contact from their address or invitation link to start a conversation."
        ))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.add_button)
        self.setFocusProxy(self.view)
        self.add_button.clicked.connect(self.addContactRequested)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.activated.connect(self._activated)

    async def load(self) -> None:
        """Fill the list from the bridge (the model follows it afterwards)."""
        await self.model.load()

    def current(self) -> int | None:
        """The contact id of the current row (None when there is none)."""
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        return int(index.data(ConversationRole.ContactIdRole))

    def select(self, contact_id: int) -> bool:
        """Make a conversation the current row (which opens it); False when it is not listed."""
        row = self.model.row_of(contact_id)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.view.scrollTo(index)
        return True

    def step(self, delta: int) -> None:
        """Open the next (+1) or previous (-1) conversation, wrapping around."""
        count = self.model.rowCount()
        if count == 0:
            return
        index = self.view.currentIndex()
        row = (index.row() + delta) % count if index.isValid() else (0 if delta > 0 else count - 1)
        self.select(self.model.contact_id_at(row))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.conversationOpened.emit(int(current.data(ConversationRole.ContactIdRole)))

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.conversationActivated.emit(int(index.data(ConversationRole.ContactIdRole)))

    def keyboard_focus(self) -> None:
        """Put the focus on the list, on the current row (or the first one)."""
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if not self.view.currentIndex().isValid() and self.model.rowCount():
            self.select(self.model.contact_id_at(0))
