"""One conversation's messages, paged in from the newest as the user scrolls up.

``await load()`` reads the newest page only; ``canFetchMore``/``fetchMore`` (called by the
view when the user reaches the top) read the page before the oldest loaded message in a task
and insert it at row 0 when it arrives: at most one read at a time, none once the start of the
history is reached. Memory and opening time depend on the page size, not on the length of the
conversation (a 100,000-message history opens as fast as a short one).

Qt's item views call ``fetchMore`` whenever the *last* row is visible (always, in a chat):
a view must hide it from Qt (app/ui/views/transcript.py shows the model through a proxy that
does) and call it itself when the user reaches the top.

New messages of this conversation (``messageAdded``) are appended; ``messageStateChanged``
updates one row, found through a message id -> seq index and a binary search over the loaded
seqs (no index to rebuild when a page is inserted at the top).
"""

from __future__ import annotations

import bisect
import dataclasses
from datetime import date
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from app.adapters.store import ContactRecord, MessageRecord, MessageState
from app.core.errors import ClientError
from app.ui.bridge import Bridge
from app.ui.models.formatting import (
    format_day,
    format_time,
    local_day,
    retry_text,
    state_symbol,
    state_text,
    undecryptable_text,
)
from app.ui.models.roles import TranscriptRole, role_names
from app.ui.models.tasks import ModelTasks

AnyIndex = QModelIndex | QPersistentModelIndex

PAGE_SIZE: Final = 100
"""Messages read per page: the newest page on opening, then one per ``fetchMore``."""
REVEAL_CHUNK: Final = 1000
"""Messages read per query when :meth:`TranscriptModel.reveal` pages back to an old message."""

_STATE_ROLES: Final = [
    int(TranscriptRole.StateRole), int(TranscriptRole.StateTextRole),
    int(TranscriptRole.StateSymbolRole), int(TranscriptRole.ReasonRole),
    int(TranscriptRole.FailedRole), int(TranscriptRole.AccessibleTextRole),
    int(Qt.ItemDataRole.ToolTipRole),
]
"""What a state change alters in a row."""

_Key = tuple[bytes, bool]  # (message id, outgoing): a peer cannot alias one of our ids


def message_time(message: MessageRecord) -> int:
    """When a message happened on our clock (ms): sent for ours, received for theirs."""
    if message.outgoing or message.received_at is None:
        return message.sent_at
    return message.received_at


class TranscriptModel(QAbstractListModel):
    """The messages of conversation ``conversation_id``, oldest loaded first.

    Call ``await load()`` once; the view drives paging through ``fetchMore``. ``settle()``
    waits for pages in flight (tests).
    """

    def __init__(self, bridge: Bridge, conversation_id: int, page_size: int = PAGE_SIZE,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if page_size < 1:
            raise ValueError("A transcript page holds at least one message.")
        self._bridge = bridge
        self._cid = conversation_id
        self._page_size = page_size
        self._messages: list[MessageRecord] = []  # loaded rows, ascending seq
        self._seqs: list[int] = []  # _messages' seqs (binary search)
        self._days: list[date] = []  # _messages' local days (date separators)
        self._seq_of: dict[_Key, int] = {}  # every loaded message's key -> its seq
        self._loaded = False  # load() completed: rows show the newest page
        self._at_start = False  # the oldest message of the conversation is loaded
        self._fetching = False  # a page of older messages is being read (at most one)
        self._early: list[MessageRecord] = []  # messageAdded before load() completed
        # State changes of messages not loaded yet, applied when their page arrives.
        self._late_states: dict[_Key, tuple[MessageState, str | None]] = {}
        self._contact_name = self._name_of(conversation_id)
        self._tasks = ModelTasks(bridge.errorOccurred.emit, "TranscriptModel")
        bridge.messageAdded.connect(self._on_message_added)
        bridge.messageStateChanged.connect(self._on_state_changed)
        bridge.contactUpdated.connect(self._on_contact_updated)

    def _name_of(self, conversation_id: int) -> str:
        try:
            return self._bridge.contact(conversation_id).display_name
        except ClientError:
            return ""

    # --- loading and paging -------------------------------------------------------------------

    @property
    def conversation_id(self) -> int:
        return self._cid

    @property
    def page_size(self) -> int:
        return self._page_size

    @property
    def at_start(self) -> bool:
        """Whether the oldest message of the conversation is loaded (nothing more to fetch)."""
        return self._at_start

    @property
    def fetching(self) -> bool:
        """Whether a page of older messages is being read."""
        return self._fetching

    async def load(self) -> None:
        """Show the newest page (a model reset). Messages added meanwhile are kept.

        Raises:
            whatever ``bridge.history()`` raises (the model is unchanged then).
        """
        page = await self._bridge.history(self._cid, None, self._page_size)
        self.beginResetModel()
        self._messages, self._seqs, self._days, self._seq_of = [], [], [], {}
        self._put(0, page)
        self._at_start = len(page) < self._page_size
        self._loaded = True
        self.endResetModel()
        early, self._early = self._early, []
        for message in early:
            self._on_message_added(message)

    async def settle(self) -> None:
        """Wait until the pages requested so far are inserted."""
        await self._tasks.settle()

    def canFetchMore(self, parent: AnyIndex) -> bool:
        return (not parent.isValid() and self._loaded and not self._at_start
                and not self._fetching)

    def fetchMore(self, parent: AnyIndex) -> None:
        """Start reading the page before the oldest loaded message (inserted when read)."""
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        self._tasks.start(self._fetch_older(self._page_size), self.tr("Older messages not loaded"))

    async def _fetch_older(self, limit: int) -> None:
        try:
            before = self._seqs[0] if self._seqs else None
            page = await self._bridge.history(self._cid, before, limit)
            if self._seqs and before != self._seqs[0]:  # reset meanwhile: drop the stale page
                return
            self._insert_older(page)
            self._at_start = self._at_start or len(page) < limit
        finally:
            self._fetching = False

    def _insert_older(self, page: list[MessageRecord]) -> None:
        page = [m for m in page if (m.message_id, m.outgoing) not in self._seq_of]
        if not page:
            return
        self.beginInsertRows(QModelIndex(), 0, len(page) - 1)
        self._put(0, page)
        self.endInsertRows()
        if len(page) < len(self._messages):  # the former first row may lose its separator
            index = self.index(len(page), 0)
            self.dataChanged.emit(index, index, [int(TranscriptRole.DateSeparatorRole),
                                                 int(TranscriptRole.AccessibleTextRole)])

    async def reveal(self, seq: int) -> int | None:
        """Page in older messages until message ``seq`` is loaded (for a search result) and
        return its row, or None when it is not in this conversation (then nothing is read
        beyond one probe). Reads :data:`REVEAL_CHUNK` messages per query; what lies between
        the newest page and ``seq`` stays loaded.

        Raises:
            whatever ``bridge.history()`` raises.
        """
        await self.settle()
        if not self._loaded:
            await self.load()
        if self._seqs and seq < self._seqs[0]:
            probe = await self._bridge.history(self._cid, seq + 1, 1)
            if not probe or probe[-1].seq != seq:  # not in this conversation: read nothing
                return None
        while self._seqs and seq < self._seqs[0] and not self._at_start:
            self._fetching = True
            await self._fetch_older(REVEAL_CHUNK)
        return self.row_of_seq(seq)

    def _put(self, row: int, messages: list[MessageRecord]) -> None:
        """Insert ``messages`` (ascending seq) at ``row`` in every parallel list."""
        fixed = []
        for message in messages:
            key = (message.message_id, message.outgoing)
            late = self._late_states.pop(key, None)
            if late is not None:
                message = dataclasses.replace(message, state=late[0], reason=late[1])
            fixed.append(message)
            self._seq_of[key] = message.seq
        self._messages[row:row] = fixed
        self._seqs[row:row] = [m.seq for m in fixed]
        self._days[row:row] = [local_day(message_time(m)) for m in fixed]

    def refresh_times(self) -> None:
        """Tell the views the date separators may read differently (call it when the day
        changes: "Today" becomes "Yesterday")."""
        if self._messages:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._messages) - 1, 0),
                                  [int(TranscriptRole.DateRole)])

    # --- lookups ------------------------------------------------------------------------------

    def row_of_seq(self, seq: int) -> int | None:
        row = bisect.bisect_left(self._seqs, seq)
        return row if row < len(self._seqs) and self._seqs[row] == seq else None

    def row_of(self, message_id: bytes, outgoing: bool = True) -> int | None:
        """The row of a loaded message (ours by default), None when it is not loaded."""
        seq = self._seq_of.get((message_id, outgoing))
        return None if seq is None else self.row_of_seq(seq)

    def message_at(self, row: int) -> MessageRecord:
        return self._messages[row]

    # --- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._messages)

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(TranscriptRole)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._messages):
            return None
        row = index.row()
        message = self._messages[row]
        state = str(message.state)
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return self._shown_text(message)
            case Qt.ItemDataRole.ToolTipRole:
                return self._tooltip(message)
            case TranscriptRole.BodyRole:
                return message.body
            case TranscriptRole.OutgoingRole:
                return message.outgoing
            case TranscriptRole.TimeRole:
                return format_time(message_time(message))
            case TranscriptRole.TimestampRole:
                return message_time(message)
            case TranscriptRole.DateRole:
                return format_day(message_time(message))
            case TranscriptRole.DateSeparatorRole:
                return row == 0 or self._days[row] != self._days[row - 1]
            case TranscriptRole.StateRole:
                return state
            case TranscriptRole.StateTextRole:
                return state_text(state)
            case TranscriptRole.StateSymbolRole:
                return state_symbol(state) if message.outgoing else ""
            case TranscriptRole.ReasonRole:
                return message.reason
            case TranscriptRole.MessageIdRole:
                return message.message_id
            case TranscriptRole.SeqRole:
                return message.seq
            case TranscriptRole.FailedRole:
                return message.outgoing and state == "failed"
            case TranscriptRole.AccessibleTextRole:
                return self._sentence(message)
        return None

    @staticmethod
    def _shown_text(message: MessageRecord) -> str:
        if message.state == "undecryptable":
            return undecryptable_text(message.reason)
        return message.body

    def _tooltip(self, message: MessageRecord) -> str | None:
        if not message.outgoing:
            return None
        if message.state == "failed" and message.reason:
            return self.tr("Not sent: %1").replace("%1", message.reason)
        return state_text(str(message.state))

    def _sentence(self, message: MessageRecord) -> str:
        """What a screen reader says for a message: who, when, what, and its state."""
        time_text = format_time(message_time(message))
        author = self.tr("You") if message.outgoing else self._contact_name
        text = (self.tr("%1, %2: %3").replace("%1", author).replace("%2", time_text)
                .replace("%3", self._shown_text(message)))
        if message.outgoing and message.state == "failed":
            return text + " " + retry_text()
        if message.outgoing:
            return text + " " + state_text(str(message.state))
        return text

    # --- bridge signals -----------------------------------------------------------------------

    def _on_message_added(self, message: MessageRecord) -> None:
        if message.conversation_id != self._cid:
            return
        if not self._loaded:
            self._early.append(message)
            return
        if (message.message_id, message.outgoing) in self._seq_of:
            return
        if self._seqs and message.seq < self._seqs[0] and not self._at_start:
            return  # older than the loaded range: its page brings it
        row = bisect.bisect_left(self._seqs, message.seq)
        self.beginInsertRows(QModelIndex(), row, row)
        self._put(row, [message])
        self.endInsertRows()
        if row + 1 < len(self._messages):  # the next row may lose its date separator
            index = self.index(row + 1, 0)
            self.dataChanged.emit(index, index, [int(TranscriptRole.DateSeparatorRole)])

    def _on_state_changed(self, conversation_id: int, message_id: bytes, state: str,
                          reason: object) -> None:
        if conversation_id != self._cid:
            return
        try:
            new_state = MessageState(state)
        except ValueError:  # a state this version does not know: keep showing the old one
            return
        why = reason if isinstance(reason, str) else None
        row = self.row_of(message_id)
        if row is None:
            if self._fetching or not self._loaded:
                self._late_states[(message_id, True)] = (new_state, why)
            return
        self._messages[row] = dataclasses.replace(self._messages[row], state=new_state,
                                                  reason=why)
        index = self.index(row, 0)
        self.dataChanged.emit(index, index, _STATE_ROLES)

    def _on_contact_updated(self, contact: ContactRecord) -> None:
        if contact.contact_id != self._cid or contact.display_name == self._contact_name:
            return
        self._contact_name = contact.display_name
        if self._messages:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._messages) - 1, 0),
                                  [int(TranscriptRole.AccessibleTextRole)])


__all__ = ["PAGE_SIZE", "TranscriptModel", "message_time"]
