"""Search results across conversations: one row per matching message, newest first."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from app.core.conversations import SearchHit
from app.ui.bridge import Bridge
from app.ui.models.formatting import format_list_time, snippet
from app.ui.models.roles import SearchRole, role_names
from app.ui.models.transcript import message_time

AnyIndex = QModelIndex | QPersistentModelIndex

RESULT_LIMIT = 100
"""Results read per search (the newest matches)."""


class SearchResultsModel(QAbstractListModel):
    """The results of ``await search(text)``; empty until then and after ``clear()``.

    A search replaces the rows at once (a model reset). Searches overlap when the user types:
    only the latest one's results are shown, whatever order they complete in.
    """

    def __init__(self, bridge: Bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._hits: list[SearchHit] = []  # shown rows, newest message first
        self._query = ""  # the text the shown rows answer
        self._generation = 0  # incremented by every search; stale answers are dropped

    @property
    def query(self) -> str:
        return self._query

    async def search(self, text: str, conversation_id: int | None = None,
                     limit: int = RESULT_LIMIT) -> None:
        """Show the messages with every word of ``text`` (blank text clears the results).

        Raises:
            SearchQueryError: ``text`` has no word to look for (the rows are cleared);
            other core errors from ``bridge.search()`` (the rows are unchanged).
        """
        self._generation += 1
        generation = self._generation
        if not text.strip():
            self._show("", [])
            return
        try:
            hits = await self._bridge.search(text, conversation_id, limit)
        except Exception:
            if generation == self._generation:
                self._show(text, [])
            raise
        if generation == self._generation:
            self._show(text, hits)

    def clear(self) -> None:
        self._generation += 1
        self._show("", [])

    def _show(self, text: str, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._query = text
        self._hits = list(hits)
        self.endResetModel()

    def hit_at(self, row: int) -> SearchHit:
        return self._hits[row]

    # --- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._hits)

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(SearchRole)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        message = hit.message
        match role:
            case Qt.ItemDataRole.DisplayRole | SearchRole.ContactNameRole:
                return hit.contact.display_name
            case SearchRole.SnippetRole:
                return snippet(message.body, self._query)
            case SearchRole.TimeRole:
                return format_list_time(message_time(message))
            case SearchRole.TimestampRole:
                return message_time(message)
            case SearchRole.ConversationIdRole:
                return message.conversation_id
            case SearchRole.SeqRole:
                return message.seq
            case SearchRole.OutgoingRole:
                return message.outgoing
            case SearchRole.MessageIdRole:
                return message.message_id
            case SearchRole.AccessibleTextRole:
                if message.outgoing:
                    template = self.tr("You to %1, %2: %3")
                else:
                    template = self.tr("%1, %2: %3")
                return (template.replace("%1", hit.contact.display_name)
                        .replace("%2", format_list_time(message_time(message)))
                        .replace("%3", snippet(message.body, self._query)))
        return None
