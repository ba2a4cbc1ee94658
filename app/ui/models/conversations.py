"""The conversation list: one row per contact, most recent conversation first.

Rows come from ``bridge.conversations()``; unread counters and bold rows come only from
``bridge.attention_state`` (the attention service decides what to show: nothing while off
duty), never from the store's count in the summary. Like Electrum's list models, the model
keeps a contact id -> row index and emits ``dataChanged`` for one row and the roles that
changed; a conversation that becomes the most recent moves with ``beginMoveRows``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QFont

from app.adapters.store import ContactRecord
from app.core.attention import AttentionState
from app.core.conversations import ConversationSummary
from app.ui.bridge import Bridge
from app.ui.models.formatting import (
    format_list_time,
    one_line,
    undecryptable_text,
)
from app.ui.models.roles import ConversationRole, role_names
from app.ui.models.tasks import ModelTasks

AnyIndex = QModelIndex | QPersistentModelIndex

_ATTENTION_ROLES = [
    int(ConversationRole.UnreadRole), int(ConversationRole.BoldRole),
    int(Qt.ItemDataRole.FontRole), int(ConversationRole.AccessibleTextRole),
]
"""What an attention change can alter in a row."""


def _preview(summary: ConversationSummary) -> str:
    message = summary.last_message
    if message is None:
        return ""
    if message.state == "undecryptable":
        return one_line(undecryptable_text(None))
    if message.outgoing:
        template = QCoreApplication.translate("ConversationListModel", "You: %1")
        return template.replace("%1", one_line(message.body))
    return one_line(message.body)


def _timestamp(summary: ConversationSummary) -> int | None:
    message = summary.last_message
    if message is None:
        return None
    return message.sent_at if message.outgoing else (message.received_at or message.sent_at)


class ConversationListModel(QAbstractListModel):
    """Conversations for a ``QListView``; fill it with ``await load()``.

    Follows the bridge on its own afterwards: ``conversationChanged`` re-reads the summaries
    (changes arriving while a read is in flight are gathered into the next one) and moves the
    changed row to its place; ``contactAdded`` adds a row; ``contactUpdated`` and
    ``contactKeyChanged`` update one; ``attentionChanged`` re-emits the unread and bold roles
    of the rows whose shown count changed.
    """

    def __init__(self, bridge: Bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._rows: list[ConversationSummary] = []  # the store's order: most recent first
        self._row_of: dict[int, int] = {}  # contact id -> index in _rows, always in sync
        self._attention: AttentionState = bridge.attention_state  # what the rows show
        self._dirty = False  # a change arrived that the next refresh must read
        self._refreshing = False  # a refresh task is running (at most one)
        self._tasks = ModelTasks(bridge.errorOccurred.emit, "ConversationListModel")
        bridge.conversationChanged.connect(self._on_conversation_changed)
        bridge.contactAdded.connect(self._on_contact_added)
        bridge.contactUpdated.connect(self._on_contact_updated)
        bridge.contactKeyChanged.connect(self._on_contact_updated)
        bridge.attentionChanged.connect(self._on_attention_changed)

    # --- loading ------------------------------------------------------------------------------

    async def load(self) -> None:
        """Replace every row with the bridge's conversations (a model reset).

        Raises:
            whatever ``bridge.conversations()`` raises (the model is unchanged then).
        """
        summaries = await self._bridge.conversations(include_empty=True)
        self.beginResetModel()
        self._rows = list(summaries)
        self._reindex()
        self._attention = self._bridge.attention_state
        self.endResetModel()

    async def settle(self) -> None:
        """Wait until the refreshes scheduled so far have been applied (tests, views)."""
        await self._tasks.settle()

    def refresh_times(self) -> None:
        """Tell the views every row's time text may read differently (call it when the day
        changes: "14:02" becomes "Mon")."""
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0),
                                  [int(ConversationRole.TimeRole),
                                   int(ConversationRole.AccessibleTextRole)])

    def row_of(self, contact_id: int) -> int | None:
        """The row of a conversation, None when it is not in the list."""
        return self._row_of.get(contact_id)

    def contact_id_at(self, row: int) -> int:
        return self._rows[row].contact.contact_id

    def _reindex(self) -> None:
        self._row_of = {s.contact.contact_id: n for n, s in enumerate(self._rows)}

    # --- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(ConversationRole)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        contact = summary.contact
        unread = self._attention.unread.get(contact.contact_id, 0)
        if role == Qt.ItemDataRole.DisplayRole:
            return contact.display_name
        if role == Qt.ItemDataRole.FontRole:
            if not unread:
                return None
            font = QFont()
            font.setBold(True)
            return font
        match role:
            case ConversationRole.ContactIdRole:
                return contact.contact_id
            case ConversationRole.LastMessageRole:
                return _preview(summary)
            case ConversationRole.TimeRole:
                stamp = _timestamp(summary)
                return "" if stamp is None else format_list_time(stamp)
            case ConversationRole.TimestampRole:
                return _timestamp(summary)
            case ConversationRole.UnreadRole:
                return unread
            case ConversationRole.BoldRole:
                return unread > 0
            case ConversationRole.VerifiedRole:
                return contact.verified
            case ConversationRole.KeyChangePendingRole:
                return contact.pending_identity_key is not None
            case ConversationRole.LastOutgoingRole:
                return summary.last_message is not None and summary.last_message.outgoing
            case ConversationRole.AccessibleTextRole:
                return self._sentence(summary, unread)
        return None

    def _sentence(self, summary: ConversationSummary, unread: int) -> str:
        """What a screen reader says for a row: name, unread, last message, time."""
        name = summary.contact.display_name
        stamp = _timestamp(summary)
        if stamp is None:
            text = self.tr("%1, no messages yet").replace("%1", name)
        elif unread:
            text = (self.tr("%1, %n unread, last message: %2, %3", "", unread)
                    .replace("%1", name).replace("%2", _preview(summary))
                    .replace("%3", format_list_time(stamp)))
        else:
            text = (self.tr("%1, last message: %2, %3")
                    .replace("%1", name).replace("%2", _preview(summary))
                    .replace("%3", format_list_time(stamp)))
        if summary.contact.pending_identity_key is not None:
            text += " " + self.tr("Safety number changed: check it before sending.")
        return text

    # --- bridge signals -----------------------------------------------------------------------

    def _on_conversation_changed(self, contact_id: int) -> None:
        self._schedule_refresh()

    def _on_contact_added(self, contact: ContactRecord) -> None:
        if contact.contact_id not in self._row_of:
            self._schedule_refresh()

    def _on_contact_updated(self, contact: ContactRecord) -> None:
        row = self._row_of.get(contact.contact_id)
        if row is None:
            self._schedule_refresh()
            return
        self._rows[row] = dataclasses.replace(self._rows[row], contact=contact)
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def _on_attention_changed(self, state: AttentionState) -> None:
        old, self._attention = self._attention, state
        for cid in set(old.unread) | set(state.unread):
            if old.unread.get(cid, 0) != state.unread.get(cid, 0):
                row = self._row_of.get(cid)
                if row is not None:
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index, _ATTENTION_ROLES)

    def _schedule_refresh(self) -> None:
        self._dirty = True
        if not self._refreshing:
            self._refreshing = True
            title = self.tr("Conversations not updated")
            self._tasks.start(self._refresh(), title)

    async def _refresh(self) -> None:
        try:
            while self._dirty:
                self._dirty = False
                self._apply(await self._bridge.conversations(include_empty=True))
        finally:
            self._refreshing = False

    # --- reconciliation -----------------------------------------------------------------------

    def _apply(self, summaries: list[ConversationSummary]) -> None:
        """Bring the rows to ``summaries`` (the store's order) with moves, inserts, removals
        and one-row ``dataChanged``: after one conversation changed this is one move at most."""
        wanted = {s.contact.contact_id for s in summaries}
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].contact.contact_id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        self._reindex()
        for target, summary in enumerate(summaries):
            cid = summary.contact.contact_id
            current = self._row_of.get(cid)
            if current is None:
                self.beginInsertRows(QModelIndex(), target, target)
                self._rows.insert(target, summary)
                self._reindex()
                self.endInsertRows()
                continue
            if current != target:  # current > target: rows before target are already in place
                self.beginMoveRows(QModelIndex(), current, current, QModelIndex(), target)
                self._rows.insert(target, self._rows.pop(current))
                self._reindex()
                self.endMoveRows()
            if self._rows[target] != summary:
                self._rows[target] = summary
                index = self.index(target, 0)
                self.dataChanged.emit(index, index)
