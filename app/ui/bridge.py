"""The one seam between the Qt user interface and the client core.

Core events come out as Qt signals; user intents go in as async slots (qasync runs asyncio on
Qt's own loop, so signals and coroutines share the GUI thread and nothing needs locking). Views
and models never touch :class:`SourdineClient`: they call the queries and slots here, and they
learn about attention (unread counts, bold rows, notifications) only from the
:class:`AttentionService` state this object republishes.

Every slot returns its :class:`asyncio.Task` (qasync's ``asyncSlot``), so a test can await the
intent it triggered. A slot never raises into Qt: a core error becomes ``errorOccurred`` with a
readable, translated title and the core's own readable message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar, cast

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from app.adapters.keystore import KeystoreError
from app.adapters.preferences_file import save_preferences
from app.adapters.store import ContactRecord, MessageRecord
from app.adapters.store.errors import StoreError
from app.adapters.transport import TransportError
from app.core import events
from app.core.attention import AttentionService, AttentionState, Notice
from app.core.client import EventStream, SourdineClient
from app.core.conversations import ConversationSummary, SearchHit
from app.core.errors import ClientClosed, ClientError
from app.core.preferences import Preferences, PreferencesError
from crypto.safety import SafetyNumber

_log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

UNREAD_REFRESH_DELAY: Final = 0.1
"""Seconds to gather conversation changes before unread counts are re-read in one query
(a burst of 1,000 messages/s then costs ten queries a second, not a thousand)."""

_EXPECTED_ERRORS: Final = (
    ClientError, KeystoreError, StoreError, TransportError, PreferencesError,
)
"""Errors with a readable message for the user (the core's own types derive from these);
anything else is a bug and goes to the exception hook."""


def async_slot(
    *types: type,
) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, asyncio.Task[T]]]:
    """qasync's ``asyncSlot``, typed: the Qt slot starts the coroutine as a task on the
    running loop and returns that task (so callers and tests can await the intent)."""
    return cast(
        Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, asyncio.Task[T]]],
        asyncSlot(*types),
    )


class Bridge(QObject):
    """Core events out as signals, user intents in as async slots, for one open profile."""

    messageAdded = Signal(object)  # MessageRecord: ours (queued) or incoming
    messageStateChanged = Signal(int, bytes, str, object)  # conversation, message id, state, reason
    conversationChanged = Signal(int)  # re-read that conversation's summary
    contactAdded = Signal(object)  # ContactRecord
    contactUpdated = Signal(object)  # ContactRecord
    contactKeyChanged = Signal(object)  # ContactRecord with pending_identity_key set
    contactTyping = Signal(int)  # conversation id
    connectionChanged = Signal(str)  # offline | connecting | connected | authenticated
    attentionChanged = Signal(object)  # AttentionState
    noticeRaised = Signal(object)  # Notice
    errorOccurred = Signal(str, str)  # title, message (readable, translated)
    clientFailed = Signal(str)  # the core stopped (database unwritable): reason
    preferencesChanged = Signal(object)  # Preferences

    def __init__(
        self, client: SourdineClient, preferences: Preferences,
        preferences_path: Path | None = None, parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.preferences = preferences  # what the user chose; saved to preferences_path
        self._preferences_path = preferences_path  # None: not saved (tests, benchmarks)
        self.attention = AttentionService(
            notifications=preferences.notifications, previews=preferences.message_previews
        )
        self._unsubscribe = [
            self.attention.subscribe(self.attentionChanged.emit),
            self.attention.on_notice(self.noticeRaised.emit),
        ]
        self._events: EventStream | None = None  # set by start()
        self._pump: asyncio.Task[None] | None = None  # turns core events into signals
        self._refresh: asyncio.Task[None] | None = None  # pending unread re-read
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._apply_privacy()

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Follow the core's events, load the unread counts, connect to the relay.

        Raises:
            ClientClosed: the client was closed or failed.
        """
        if self._events is not None:
            return
        self._events = self.client.subscribe()
        self._pump = asyncio.get_running_loop().create_task(self._forward(), name="bridge")
        await self._reload_unread()
        await self.client.start()

    async def close(self) -> None:
        """Stop following the core and close the client (it writes what is pending). Idempotent."""
        if self._closed:
            return
        self._closed = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for task in (self._pump, self._refresh, *self._tasks):
            if task is not None:
                task.cancel()
        for task in (self._pump, self._refresh, *self._tasks):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._events is not None:
            self._events.close()
        await self.client.close()

    # --- state --------------------------------------------------------------------------------

    @property
    def attention_state(self) -> AttentionState:
        return self.attention.state

    @property
    def address(self) -> str:
        return self.client.address

    @property
    def invitation_link(self) -> str:
        return self.client.invitation_link

    @property
    def display_name(self) -> str:
        return self.client.account.display_name

    @property
    def connection_state(self) -> str:
        return self.client.connection_state

    # --- queries (awaited by models and views; they raise the core's errors) ------------------

    async def conversations(self, include_empty: bool = True) -> list[ConversationSummary]:
        return await self.client.conversations(include_empty=include_empty)

    async def history(
        self, conversation_id: int, before: int | None = None, limit: int = 100
    ) -> list[MessageRecord]:
        return await self.client.history(conversation_id, before=before, limit=limit)

    async def search(
        self, text: str, conversation_id: int | None = None, limit: int = 100
    ) -> list[SearchHit]:
        return await self.client.search(text, contact=conversation_id, limit=limit)

    def contacts(self) -> list[ContactRecord]:
        return self.client.contacts()

    def contact(self, conversation_id: int) -> ContactRecord:
        return self.client.contact(conversation_id)

    def safety_number(self, conversation_id: int, pending: bool = False) -> SafetyNumber:
        return self.client.safety_number(conversation_id, pending=pending)

    async def draft(self, conversation_id: int) -> str:
        return await self.client.draft(conversation_id)

    # --- intents (async slots: each returns its task; errors become errorOccurred) -------------

    async def _attempt(self, title: str, action: Callable[[], Awaitable[T]]) -> T | None:
        try:
            return await action()
        except asyncio.CancelledError:
            return None
        except _EXPECTED_ERRORS as error:
            _log.info("%s: %s", title, type(error).__name__)
            self.errorOccurred.emit(title, str(error))
            return None

    @async_slot(int, str)
    async def sendText(self, conversation_id: int, text: str) -> MessageRecord | None:
        return await self._attempt(
            self.tr("Message not sent"), lambda: self.client.send_text(conversation_id, text)
        )

    @async_slot(int, object)
    async def retryMessage(self, conversation_id: int, message_id: bytes) -> None:
        await self._attempt(
            self.tr("Message not sent"),
            lambda: self.client.retry_message(conversation_id, message_id),
        )

    @async_slot(str, str)
    async def addContact(self, link: str, name: str = "") -> ContactRecord | None:
        return await self._attempt(
            self.tr("Contact not added"), lambda: self.client.add_contact(link, name or None)
        )

    @async_slot(int, str)
    async def renameContact(self, conversation_id: int, name: str) -> None:
        await self._attempt(
            self.tr("Contact not renamed"),
            lambda: self.client.rename_contact(conversation_id, name),
        )

    @async_slot(int, bool)
    async def setVerified(self, conversation_id: int, verified: bool) -> None:
        await self._attempt(
            self.tr("Verification not saved"),
            lambda: self.client.set_verified(conversation_id, verified),
        )

    @async_slot(int)
    async def acceptKey(self, conversation_id: int) -> None:
        await self._attempt(
            self.tr("New key not accepted"), lambda: self.client.accept_key(conversation_id)
        )

    @async_slot(int)
    async def rejectKey(self, conversation_id: int) -> None:
        await self._attempt(
            self.tr("New key not rejected"), lambda: self.client.reject_key(conversation_id)
        )

    @async_slot(int)
    async def markRead(self, conversation_id: int) -> None:
        await self._attempt(
            self.tr("Conversation not marked as read"),
            lambda: self.client.mark_read(conversation_id),
        )

    @async_slot(int, str)
    async def saveDraft(self, conversation_id: int, text: str) -> None:
        await self._attempt(
            self.tr("Draft not saved"), lambda: self.client.save_draft(conversation_id, text)
        )

    @async_slot(int)
    async def userTyping(self, conversation_id: int) -> None:
        # Best effort and opt-in (the core sends nothing unless allowed): never an error dialog.
        with contextlib.suppress(*_EXPECTED_ERRORS):
            await self.client.send_typing(conversation_id)

    @async_slot(bool)
    async def setOffDuty(self, off_duty: bool) -> None:
        self.attention.set_off_duty(off_duty)
        self.client.set_off_duty(off_duty)

    @async_slot(object)
    async def updatePreferences(self, preferences: Preferences) -> None:
        path = self._preferences_path
        if path is not None:

            async def save() -> bool:
                await asyncio.to_thread(save_preferences, path, preferences)
                return True

            if not await self._attempt(self.tr("Settings not saved"), save):
                return
        self.preferences = preferences
        self.attention.set_notifications(preferences.notifications, preferences.message_previews)
        self._apply_privacy()
        self.preferencesChanged.emit(preferences)

    @async_slot(int, bool)
    async def setFocus(self, conversation_id: int, window_active: bool) -> None:
        self.attention.set_focus(conversation_id if conversation_id >= 0 else None, window_active)

    # --- core events -> signals ---------------------------------------------------------------

    def _apply_privacy(self) -> None:
        self.client.set_privacy(
            read_receipts=self.preferences.read_receipts,
            typing=self.preferences.typing_indicators,
        )

    async def _forward(self) -> None:
        stream = self._events
        if stream is None:
            return
        async for event in stream:
            try:
                self._dispatch(event)
            except Exception:  # a slot connected to a signal failed: log it, keep forwarding
                _log.exception("an event handler failed")

    def _dispatch(self, event: events.Event) -> None:
        match event:
            case events.MessageQueued(message=message):
                self.messageAdded.emit(message)
            case events.MessageReceived(contact_id=cid, message=message):
                self.messageAdded.emit(message)
                self._incoming(cid, message)
            case events.MessageUndecryptable(message=message):
                self.messageAdded.emit(message)
            case events.MessageStateChanged(contact_id=cid, message_id=mid, state=state):
                self.messageStateChanged.emit(cid, mid, str(state), event.reason)
            case events.ConversationUpdated(contact_id=cid):
                self.conversationChanged.emit(cid)
                self._schedule_unread_refresh()
            case events.ContactAdded(contact=contact):
                self.contactAdded.emit(contact)
            case events.ContactUpdated(contact=contact):
                self.contactUpdated.emit(contact)
            case events.ContactKeyChanged(contact=contact):
                self.contactKeyChanged.emit(contact)
            case events.ConnectionChanged(state=state, own=True):
                self.connectionChanged.emit(state)
            case events.ClientFailed(reason=reason):
                self.clientFailed.emit(reason)
            case events.ContactTyping(contact_id=cid):
                self.contactTyping.emit(cid)
            case _:
                pass

    def _incoming(self, conversation_id: int, message: MessageRecord) -> None:
        try:
            title = self.client.contact(conversation_id).display_name
        except ClientError:
            return
        self.attention.message_arrived(conversation_id, title, message.body, message.seq)

    def _schedule_unread_refresh(self) -> None:
        if self._closed or (self._refresh is not None and not self._refresh.done()):
            return
        self._refresh = asyncio.get_running_loop().create_task(
            self._refresh_later(), name="unread refresh"
        )

    async def _refresh_later(self) -> None:
        await asyncio.sleep(UNREAD_REFRESH_DELAY)
        await self._reload_unread()

    async def _reload_unread(self) -> None:
        try:
            summaries = await self.client.conversations(include_empty=True)
        except ClientClosed:
            return
        self.attention.set_unread({s.contact.contact_id: s.unread for s in summaries})


__all__ = ["Bridge", "Notice"]
