"""The transcript: one conversation's messages as bubbles, paged in as the user scrolls up.

The view stays at the bottom when new messages arrive if it was there (and stays where the
user scrolled to otherwise); reaching the top reads the page of older messages and inserts it
without moving what is on screen. A failed message of ours is retried with Enter on it or a
click on its bubble (:attr:`TranscriptView.retryRequested`).

Qt's item views ask a model for more rows when its *last* row is visible, which for a chat is
always: the view therefore shows the model through :class:`_PagedAtTop`, which hides
``fetchMore`` from Qt, and asks the model for older pages itself when the *top* is reached.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import (
    QIdentityProxyModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from app.ui.delegates.bubble import BubbleDelegate
from app.ui.models.roles import TranscriptRole
from app.ui.models.transcript import TranscriptModel

AnyIndex = QModelIndex | QPersistentModelIndex

BOTTOM_SLACK: Final = 4
"""Pixels from the end that still count as "at the bottom"."""
FETCH_MARGIN: Final = 0.5
"""Older messages are read when the top is less than this many viewport heights away."""


class _PagedAtTop(QIdentityProxyModel):
    """The transcript as Qt's view sees it: the same rows, no fetchMore at the bottom."""

    def canFetchMore(self, parent: AnyIndex) -> bool:
        return False

    def fetchMore(self, parent: AnyIndex) -> None:
        return


class TranscriptView(QListView):
    """Bubbles of a :class:`TranscriptModel` (set with :meth:`set_transcript`)."""

    retryRequested = Signal(bytes)  # message id of a failed message of ours

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transcript: TranscriptModel | None = None  # the conversation shown
        self._proxy = _PagedAtTop(self)
        self.bubbles = BubbleDelegate(self)
        self.setItemDelegate(self.bubbles)
        self.setModel(self._proxy)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAccessibleName(self.tr("Messages"))
        self.setAccessibleDescription(self.tr(
            "The messages of this conversation. Up and Down move between messages; Enter on "
            "a message that was not sent tries again; Ctrl+C copies a message."
        ))
        self._stick = True  # at the bottom: new messages and resizes keep it there
        self._anchor: tuple[QPersistentModelIndex, int] | None = None  # kept during inserts
        self._follow = QTimer(self)  # one scroll to the bottom after a burst of new messages
        self._follow.setSingleShot(True)
        self._follow.setInterval(0)
        self._follow.timeout.connect(self._to_bottom)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)
        self._proxy.rowsAboutToBeInserted.connect(self._about_to_insert)
        self._proxy.rowsInserted.connect(self._inserted)
        self._proxy.modelReset.connect(self._reset)

    # --- what the main window uses ----------------------------------------------------------

    def set_transcript(self, transcript: TranscriptModel | None) -> None:
        """Show ``transcript`` (already loaded, or loading), from its newest message."""
        self.transcript = transcript
        self._anchor = None
        self._stick = True
        self._proxy.setSourceModel(transcript)  # type: ignore[arg-type]  # None: nothing
        self.scrollToBottom()

    def is_at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - BOTTOM_SLACK

    async def show_message(self, seq: int) -> bool:
        """Page back to message ``seq`` if needed, scroll it to the middle and make it the
        current row; False when it is not in this conversation."""
        transcript = self.transcript
        if transcript is None:
            return False
        row = await transcript.reveal(seq)
        if row is None or transcript is not self.transcript:
            return False
        self._stick = False
        self.executeDelayedItemsLayout()
        index = self._proxy.index(row, 0)
        self.setCurrentIndex(index)
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._stick = self.is_at_bottom()
        return True

    # --- keeping the position ---------------------------------------------------------------

    def _reset(self) -> None:
        self._anchor = None
        self._stick = True
        self.scrollToBottom()

    def _about_to_insert(self, parent: QModelIndex, first: int, _last: int) -> None:
        if parent.isValid() or first != 0 or self._proxy.rowCount() == 0 or self._stick:
            return
        top = self.indexAt(QPoint(1, 1))
        if not top.isValid():
            top = self._proxy.index(0, 0)
        self._anchor = (QPersistentModelIndex(top), self.visualRect(top).top())

    def _inserted(self, parent: QModelIndex, _first: int, _last: int) -> None:
        if parent.isValid():
            return
        anchor, self._anchor = self._anchor, None
        if anchor is not None and anchor[0].isValid():
            self.executeDelayedItemsLayout()
            moved = self.visualRect(self._proxy.index(anchor[0].row(), 0)).top() - anchor[1]
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved)
        elif self._stick:
            # No synchronous layout per message (each one measured every row): the delayed
            # layout runs once for a burst, and its range change keeps us at the bottom.
            self._follow.start()

    def _to_bottom(self) -> None:
        if self._stick:
            self.scrollToBottom()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self._stick:
            self.verticalScrollBar().setValue(maximum)
        if maximum == 0:
            self._maybe_fetch_older()  # everything fits: read older messages, if any

    def _scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._stick = value >= bar.maximum() - BOTTOM_SLACK
        if value <= self.viewport().height() * FETCH_MARGIN:
            self._maybe_fetch_older()

    def _maybe_fetch_older(self) -> None:
        transcript = self.transcript
        if transcript is not None and transcript.canFetchMore(QModelIndex()):
            transcript.fetchMore(QModelIndex())

    # --- retry and copy ---------------------------------------------------------------------

    def _failed_id(self, index: QModelIndex) -> bytes | None:
        if index.isValid() and index.data(TranscriptRole.FailedRole):
            return bytes(index.data(TranscriptRole.MessageIdRole))
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            message_id = self._failed_id(index)
            if message_id is not None:
                event.accept()
                self.retryRequested.emit(message_id)
                return
        if event.matches(QKeySequence.StandardKey.Copy) and index.isValid():
            QGuiApplication.clipboard().setText(str(index.data(TranscriptRole.BodyRole) or ""))
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        position = event.position().toPoint()
        index = self.indexAt(position)
        message_id = self._failed_id(index)
        if message_id is not None and self.bubbles.retry_hit(
            index, self.visualRect(index), position, self
        ):
            self.retryRequested.emit(message_id)
