"""Activity shared with contacts: read receipts and typing indicators.

Both are opt-in (:meth:`ActivitySharing.set_privacy`, off by default) and never sent while the
user is off duty (DESIGN, product rule 2), nor to a contact whose key change is pending.
Delivery receipts are not activity: the receive pipeline always sends them. While off duty
no :class:`~app.core.events.ContactTyping` event is emitted either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from app.adapters.store import ContactRecord, PayloadKind
from app.core import messages
from app.core.clock import Clock
from app.core.conversations import Conversations
from app.core.events import ConversationUpdated, Event
from app.core.journal import Journal
from app.core.outbox import Outbox
from app.core.receive import ReceivePipeline
from app.core.sessions import SessionBook
from crypto.primitives import Random

TYPING_INTERVAL: Final = 3.0
"""Seconds between two typing indicators to the same contact, at least."""


class ActivitySharing:
    """The user's privacy choices and off-duty flag, and what they let through."""

    def __init__(
        self, *, conversations: Conversations, sessions: SessionBook, journal: Journal,
        outbox: Outbox, receive: ReceivePipeline, emit: Callable[[Event], None],
        check: Callable[[], None], clock: Clock, random: Random,
    ) -> None:
        self._conversations = conversations  # read markers and the messages they read
        self._sessions = sessions  # a typing indicator only goes over an existing session
        self._journal = journal
        self._outbox = outbox
        self._receive = receive  # told about off duty (it emits ContactTyping)
        self._emit = emit
        self._check = check  # raises ClientClosed once the client is closed or failed
        self._clock = clock
        self._random = random  # receipt and typing message ids
        self._reading = asyncio.Lock()  # held while a read marker moves (see mark_read)
        self._read_receipts = False  # the user allows read receipts (opt-in)
        self._typing = False  # the user allows typing indicators (opt-in)
        self._off_duty = False  # nothing of the above is sent while True
        self._typing_sent: dict[int, float] = {}  # contact id -> clock time of the last one

    # --- the user's choices -------------------------------------------------------------------

    def set_privacy(self, *, read_receipts: bool, typing: bool) -> None:
        self._read_receipts = read_receipts
        self._typing = typing

    def set_off_duty(self, off_duty: bool) -> None:
        self._off_duty = off_duty
        self._receive.off_duty = off_duty

    @property
    def off_duty(self) -> bool:
        return self._off_duty

    @property
    def read_receipts(self) -> bool:
        return self._read_receipts

    @property
    def typing_indicators(self) -> bool:
        return self._typing

    def _may_tell(self, contact: ContactRecord, allowed: bool) -> bool:
        """Whether activity the user allowed may go to ``contact`` now."""
        return (allowed and not self._off_duty and contact.relay_url is not None
                and contact.pending_identity_key is None)

    # --- reading ------------------------------------------------------------------------------

    async def mark_read(self, contact: ContactRecord, through: int | None) -> None:
        """Move the conversation's read marker to ``through`` (default: its last message)
        and, when allowed, send one read receipt for the received messages it newly reads.

        Raises:
            ClientClosed: the client was closed meanwhile.
        """
        async with self._reading:  # one marker move at a time: each message is read once
            seq = (through if through is not None
                   else await self._conversations.latest_seq(contact))
            read: list[bytes] = []
            if self._may_tell(contact, self._read_receipts):
                read = await self._conversations.newly_read(contact, seq)
            self._check()
            self._journal.changes.read_through.append((contact.contact_id, seq))
            if read and self._may_tell(contact, self._read_receipts):
                self._send_read_receipts(contact, read)
            await self._journal.commit()
        self._emit(ConversationUpdated(contact.contact_id))

    def _send_read_receipts(self, contact: ContactRecord, read: list[bytes]) -> None:
        relay_url = contact.relay_url
        if relay_url is None:
            return
        now_ms = int(self._clock.now() * 1000)
        for start in range(0, len(read), messages.MAX_RECEIPT_IDS):
            chunk = tuple(read[start : start + messages.MAX_RECEIPT_IDS])
            receipt = messages.ReadReceipt(self._random(16), now_ms, chunk)
            self._outbox.enqueue(contact.identity_key, relay_url, PayloadKind.RECEIPT,
                                 messages.encode(receipt), None, contact.contact_id)

    # --- typing -------------------------------------------------------------------------------

    async def send_typing(self, contact: ContactRecord) -> None:
        """Tell ``contact`` we are typing, if allowed: at most one per
        :data:`TYPING_INTERVAL` seconds per contact, only over an existing session.

        Raises:
            JournalFailed: the database can no longer be written.
        """
        relay_url = contact.relay_url
        if relay_url is None or not self._may_tell(contact, self._typing):
            return
        if not self._sessions.can_encrypt(contact.identity_key):
            return
        now = self._clock.now()
        last = self._typing_sent.get(contact.contact_id)
        if last is not None and 0 <= now - last < TYPING_INTERVAL:
            return
        self._typing_sent[contact.contact_id] = now
        typing = messages.Typing(self._random(16), int(now * 1000))
        self._outbox.enqueue(contact.identity_key, relay_url, PayloadKind.TYPING,
                             messages.encode(typing), None, contact.contact_id)
        await self._journal.commit()
