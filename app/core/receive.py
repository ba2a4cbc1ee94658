"""The receive pipeline: open, decrypt, store (with the ratchet state) in one transaction,
then acknowledge.

Each delivered envelope is processed synchronously against the in-memory sessions and its
effects are added to the journal's open batch; the relay ack for it is sent only after that
batch is committed. A redelivered envelope (same id on a new connection, or a replay) is
decrypted again and rejected by the ratchet as a duplicate, or dropped by message id, and
acknowledged. An envelope that cannot be read is never dropped silently: from a known contact
it is stored in the conversation as *undecryptable* with the reason; otherwise it is recorded
as a rejected envelope. Delivery receipts for the texts of a batch are encrypted when the
batch closes (one receipt per contact and batch) and leave through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from app.adapters.relay_pool import RelayPool
from app.adapters.store import (
    Applied,
    Changes,
    ContactRecord,
    MessageRecord,
    MessageState,
    NewMessage,
    PayloadKind,
    RejectedEnvelope,
    StateChange,
)
from app.adapters.transport import Delivery, TransportError
from app.core import messages
from app.core.address import normalize_relay_url
from app.core.contacts import ContactBook
from app.core.errors import AddressError, MessageFormatError
from app.core.events import (
    ContactAdded,
    ContactTyping,
    ContactUpdated,
    ConversationUpdated,
    EnvelopeRejected,
    Event,
    MessageReceived,
    MessageStateChanged,
    MessageUndecryptable,
)
from app.core.journal import Journal
from app.core.outbox import Outbox
from app.core.sessions import SessionBook
from crypto.envelope import EnvelopeKind, open_envelope
from crypto.errors import CryptoError, DuplicateMessage
from crypto.primitives import Random
from crypto.x3dh import Identity

_log = logging.getLogger(__name__)

SYNC_PREFIX: Final = b"sourdine sync v1 "
"""Payload prefix of the marker envelope a client deposits to itself (see ``sync``)."""
MAX_UNCOMMITTED: Final = 1000
"""Deliveries processed but not yet committed before on_delivery waits for the commit."""
_PAIRWISE: Final = {
    EnvelopeKind.PREKEY_MESSAGE: EnvelopeKind.PREKEY_MESSAGE,
    EnvelopeKind.RATCHET_MESSAGE: EnvelopeKind.RATCHET_MESSAGE,
    EnvelopeKind.RECEIPT: EnvelopeKind.RATCHET_MESSAGE,
}


class ReceivePipeline:
    """Handles the own relay's deliveries (``on_delivery``) for one identity."""

    def __init__(
        self, identity: Identity, contacts: ContactBook, sessions: SessionBook,
        journal: Journal, outbox: Outbox, pool: RelayPool, emit: Callable[[Event], None],
        now: Callable[[], float], random: Random,
    ) -> None:
        self._identity = identity
        self._contacts = contacts
        self._sessions = sessions
        self._journal = journal
        self._outbox = outbox
        self._pool = pool
        self._emit = emit
        self._now = now  # wall-clock seconds
        self._random = random
        self._batch_acks: list[int] | None = None  # envelope ids of the open batch
        self._unacked: set[int] = set()  # processed, not yet acknowledged: skip redeliveries
        self._receipts: dict[bytes, tuple[int, str, list[bytes]]] = {}  # sender -> receipt due
        self._syncs: dict[bytes, asyncio.Future[None]] = {}  # marker token -> waiter
        self._acks: set[asyncio.Task[None]] = set()  # acknowledgements in flight
        self._sync_tasks: set[asyncio.Task[None]] = set()  # sync markers waiting for their ack
        self.processed = 0  # envelopes handled (tests, benchmarks)
        self.off_duty = False  # set by the client: no typing indicator is shown while True

    # --- entry point --------------------------------------------------------------------------

    async def on_delivery(self, delivery: Delivery) -> None:
        """Process one delivered envelope; its ack follows the commit of its batch."""
        if delivery.envelope_id in self._unacked:
            return
        self._unacked.add(delivery.envelope_id)
        if self._batch_acks is None:
            ids: list[int] = []
            self._batch_acks = ids
            self._journal.after_commit(lambda _applied: self._ack(ids))
        self._batch_acks.append(delivery.envelope_id)
        self._process(delivery.envelope)
        self.processed += 1
        done = self._journal.request()
        if len(self._unacked) >= MAX_UNCOMMITTED:
            await asyncio.shield(done)

    def expect_sync(self, token: bytes) -> asyncio.Future[None]:
        """A future resolved once the marker with ``token`` arrived and everything delivered
        before it is committed (and its acknowledgement was sent)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._syncs[token] = future
        return future

    # --- processing (synchronous: no await between decrypting and recording) ------------------

    def _process(self, envelope: bytes) -> None:
        now = self._now()
        now_ms = int(now * 1000)
        try:
            opened = open_envelope(self._identity.secret, envelope)
        except CryptoError as error:
            self._reject(f"An envelope could not be opened: {error}.", None, now_ms)
            return
        sender = opened.sender
        if sender == self._identity.public:
            self._own_envelope(opened.kind, opened.payload, now_ms)
            return
        contact = self._contacts.by_key(sender)
        kind = _PAIRWISE.get(opened.kind)
        if kind is None:
            reason = f"This version cannot read {opened.kind.name.lower().replace('_', ' ')}s."
            self._undecryptable(contact, sender, reason, now_ms)
            return
        try:
            plaintext = self._sessions.decrypt(sender, kind, opened.payload, int(now))
        except DuplicateMessage:
            return  # stored when it was first decrypted: only the ack is due
        except CryptoError as error:
            self._undecryptable(contact, sender, f"The message could not be decrypted: {error}.",
                                now_ms)
            return
        try:
            message = messages.decode(plaintext)
        except MessageFormatError as error:
            self._undecryptable(contact, sender, f"The message is malformed: {error}", now_ms)
            return
        if contact is None:
            if not isinstance(message, messages.TextMessage):
                self._reject("A receipt or typing indicator came from someone who is not a "
                             "contact.", sender, now_ms)
                return
            contact = self._new_stranger(sender, message.sender, int(now))
        if isinstance(message, messages.TextMessage):
            self._text(contact, sender, message, now_ms)
        elif isinstance(message, messages.DeliveryReceipt):
            self._receipt(contact, message.received, MessageState.DELIVERED, now_ms)
        elif isinstance(message, messages.ReadReceipt):
            self._receipt(contact, message.read, MessageState.READ, now_ms)
        else:
            self._typing(contact)

    def _own_envelope(self, kind: EnvelopeKind, payload: bytes, now_ms: int) -> None:
        if kind is EnvelopeKind.RECEIPT and payload.startswith(SYNC_PREFIX):
            future = self._syncs.pop(payload[len(SYNC_PREFIX):], None)
            if future is not None:

                async def acked() -> None:
                    await self.flush_acks(5.0)  # this batch's ack started just before
                    if not future.done():
                        future.set_result(None)

                def committed(_applied: Applied) -> None:
                    task = asyncio.get_running_loop().create_task(acked(), name="sync")
                    self._sync_tasks.add(task)
                    task.add_done_callback(self._sync_tasks.discard)

                self._journal.after_commit(committed)
            return  # a marker of an earlier run: nothing to keep
        self._reject("An envelope claims to come from this account.", None, now_ms)

    def _relay_of(self, profile: messages.SenderProfile | None) -> str | None:
        if profile is None:
            return None
        try:
            return normalize_relay_url(profile.relay_url)
        except AddressError:
            return None

    def _new_stranger(
        self, sender: bytes, profile: messages.SenderProfile | None, now: int
    ) -> ContactRecord:
        contact = self._contacts.add_stranger(
            sender, self._relay_of(profile), None if profile is None else profile.display_name,
            now,
        )
        self._journal.changes.contacts.append(contact)
        self._journal.after_commit(lambda _a: self._emit(ContactAdded(contact, by_user=False)))
        return contact

    def _text(
        self, contact: ContactRecord, sender: bytes, text: messages.TextMessage, now_ms: int
    ) -> None:
        changes = self._journal.changes
        current_key = contact.identity_key == sender
        relay = self._relay_of(text.sender)
        if current_key and relay is not None and relay != contact.relay_url:
            contact = self._contacts.set_relay(contact, relay)
            changes.contacts.append(contact)
            updated = contact
            self._journal.after_commit(lambda _a: self._emit(ContactUpdated(updated)))
        index = len(changes.messages)
        new = NewMessage(
            contact.contact_id, text.message_id, False, text.text, text.timestamp, now_ms,
            MessageState.RECEIVED, dedup_peer=sender,
        )
        changes.messages.append(new)
        contact_id = contact.contact_id

        def committed(applied: Applied) -> None:
            seq = applied.message_seqs[index]
            if seq is None:
                return  # a copy of a message we already have
            self._emit(MessageReceived(contact_id, _record(seq, new, now_ms)))
            self._emit(ConversationUpdated(contact_id))

        self._journal.after_commit(committed)
        if current_key and contact.relay_url is not None:
            due = self._receipts.setdefault(sender, (contact_id, contact.relay_url, []))
            due[2].append(text.message_id)

    def _receipt(
        self, contact: ContactRecord, ids: tuple[bytes, ...], state: MessageState, now_ms: int
    ) -> None:
        """A delivery or read receipt: move our messages forward (never back)."""
        changes = self._journal.changes
        start = len(changes.states)
        changes.states.extend(StateChange(contact.contact_id, i, state, now_ms) for i in ids)
        contact_id = contact.contact_id

        def committed(applied: Applied) -> None:
            moved = [i for n, i in enumerate(ids) if applied.states_changed[start + n]]
            for message_id in moved:
                self._emit(MessageStateChanged(contact_id, message_id, state))
            if moved:
                self._emit(ConversationUpdated(contact_id))

        self._journal.after_commit(committed)

    def _typing(self, contact: ContactRecord) -> None:
        """Tell the UI, once the ratchet step that opened it is on disk (not while off duty)."""
        contact_id = contact.contact_id

        def committed(_applied: Applied) -> None:
            if not self.off_duty:
                self._emit(ContactTyping(contact_id))

        self._journal.after_commit(committed)

    def _undecryptable(
        self, contact: ContactRecord | None, sender: bytes, reason: str, now_ms: int
    ) -> None:
        if contact is None:
            self._reject(reason, sender, now_ms)
            return
        changes = self._journal.changes
        index = len(changes.messages)
        new = NewMessage(contact.contact_id, self._random(16), False, "", now_ms, now_ms,
                         MessageState.UNDECRYPTABLE, reason)
        changes.messages.append(new)
        contact_id = contact.contact_id

        def committed(applied: Applied) -> None:
            seq = applied.message_seqs[index]
            if seq is not None:
                self._emit(MessageUndecryptable(contact_id, _record(seq, new, now_ms)))
                self._emit(ConversationUpdated(contact_id))

        self._journal.after_commit(committed)

    def _reject(self, reason: str, sender: bytes | None, now_ms: int) -> None:
        self._journal.changes.rejected.append(RejectedEnvelope(now_ms, reason, sender))
        self._journal.after_commit(lambda _a: self._emit(EnvelopeRejected(reason, sender)))

    # --- when the batch closes, and after it is committed --------------------------------------

    def seal(self, changes: Changes) -> None:
        """Journal sealer: encrypt one delivery receipt per contact for this batch's texts."""
        del changes  # the outbox adds to the same open batch
        self._batch_acks = None
        due, self._receipts = self._receipts, {}
        now_ms = int(self._now() * 1000)
        for sender, (contact_id, relay_url, ids) in due.items():
            if not self._sessions.can_encrypt(sender):
                continue
            for start in range(0, len(ids), messages.MAX_RECEIPT_IDS):
                chunk = tuple(ids[start : start + messages.MAX_RECEIPT_IDS])
                receipt = messages.DeliveryReceipt(self._random(16), now_ms, chunk)
                self._outbox.enqueue(sender, relay_url, PayloadKind.RECEIPT,
                                     messages.encode(receipt), None, contact_id)

    def _ack(self, ids: list[int]) -> None:
        task = asyncio.get_running_loop().create_task(self._send_ack(ids), name="ack")
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    async def _send_ack(self, ids: list[int]) -> None:
        try:
            await self._pool.own().ack(ids)
        except TransportError as error:  # redelivered later, then dropped as a duplicate
            _log.info("ack failed (the envelopes will come again): %s", error)
        finally:
            self._unacked.difference_update(ids)

    async def flush_acks(self, timeout: float) -> None:
        """Wait (a little) for the acks in flight, e.g. before disconnecting."""
        if self._acks:
            await asyncio.wait(list(self._acks), timeout=timeout)

    async def close(self) -> None:
        for task in [*self._acks, *self._sync_tasks]:
            task.cancel()
        for future in self._syncs.values():
            future.cancel()


def _record(seq: int, new: NewMessage, now_ms: int) -> MessageRecord:
    return MessageRecord(seq, new.conversation_id, new.message_id, new.outgoing, new.body,
                         new.sent_at, new.received_at, new.state, new.reason, now_ms)
