"""Native notifications for the attention service's notices.

Each :class:`Notice` becomes one desktop notification: the contact's name as the title, the
message text as the body, or "New message" when previews are off. Clicking it emits
:attr:`NotificationSurface.openConversation`. A conversation's notifications are withdrawn
when its unread count goes back to zero (the user read it here), and all of them when the
user goes off duty; off duty, nothing is sent.

Notifications go out one at a time. During a burst, a conversation's notices waiting for
their turn are merged: only its newest is shown (a thousand messages a second must not
become a thousand notifications, nor a queue that keeps the desktop busy for minutes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Final

from PySide6.QtCore import QObject, QTimer, Signal

from app.adapters.notifications import DesktopNotifications
from app.core.attention import AttentionState, Notice
from app.ui.bridge import Bridge

_log = logging.getLogger(__name__)

PREPARE_DELAY_MS: Final = 500


class NotificationSurface(QObject):
    """Sends the bridge's notices as native notifications (see the module docstring)."""

    openConversation = Signal(int)  # the user clicked a notification of this conversation

    def __init__(
        self, bridge: Bridge, notifications: DesktopNotifications, parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._notifications = notifications
        self._shown: dict[int, list[str]] = {}  # conversation id -> identifiers still shown
        self._unread = dict(bridge.attention_state.unread)  # counts of the last state seen
        self._waiting: dict[int, Notice] = {}  # conversation id -> newest notice not yet sent
        self._sender: asyncio.Task[None] | None = None  # sends the waiting notices in order
        self._tasks: set[asyncio.Task[Any]] = set()  # the sender and withdrawals in flight
        self.sent = 0  # notifications the desktop accepted
        bridge.noticeRaised.connect(self._on_notice)
        bridge.attentionChanged.connect(self._on_attention)
        # Load the notification library soon after the window is up, not at the first message.
        QTimer.singleShot(PREPARE_DELAY_MS, self, notifications.prepare)

    def body_for(self, notice: Notice) -> str:
        """The text shown under the contact's name."""
        return notice.body if notice.body is not None else self.tr("New message")

    async def settle(self) -> None:
        """Wait until every send and withdrawal started so far is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Withdraw what is still shown and disconnect from the notification server."""
        self._bridge.noticeRaised.disconnect(self._on_notice)
        self._bridge.attentionChanged.disconnect(self._on_attention)
        await self.settle()
        for conversation_id in list(self._shown):
            await self._withdraw(conversation_id)
        await self._notifications.close()

    # --- reactions ----------------------------------------------------------------------------

    def _on_notice(self, notice: Notice) -> None:
        if self._bridge.attention_state.off_duty:  # the service sends none; a last guard
            return
        self._waiting.pop(notice.conversation_id, None)  # an older one still waiting: merged
        self._waiting[notice.conversation_id] = notice
        if self._sender is None or self._sender.done():
            self._sender = self._start(self._send_waiting())

    def _on_attention(self, state: AttentionState) -> None:
        previous, self._unread = self._unread, dict(state.unread)
        if state.off_duty:
            self._waiting.clear()
        for conversation_id in list(self._shown):
            # Only a count that went from shown to none means "read" (or off duty): a notice
            # may arrive before its conversation's count is refreshed.
            if state.off_duty or (conversation_id in previous
                                  and conversation_id not in state.unread):
                self._start(self._withdraw(conversation_id))

    def _start(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _send_waiting(self) -> None:
        while self._waiting:
            conversation_id = next(iter(self._waiting))
            await self._show(self._waiting.pop(conversation_id))

    async def _show(self, notice: Notice) -> None:
        conversation_id = notice.conversation_id
        identifier = await self._notifications.show(
            notice.title, self.body_for(notice),
            on_clicked=lambda: self.openConversation.emit(conversation_id),
            thread=f"conversation-{conversation_id}",
        )
        if identifier is None:
            return
        self.sent += 1
        self._shown.setdefault(conversation_id, []).append(identifier)
        if self._bridge.attention_state.off_duty:  # went off duty while it was being sent
            await self._withdraw(conversation_id)

    async def _withdraw(self, conversation_id: int) -> None:
        for identifier in self._shown.pop(conversation_id, []):
            await self._notifications.withdraw(identifier)
