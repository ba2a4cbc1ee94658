"""What the user writes: texts queued to a contact, failed ones queued again, drafts.

A text is stored (state queued) and put in the outbox in one transaction; the outbox takes it
from there (:mod:`app.core.outbox`). Drafts live in the encrypted database only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from app.adapters.store import (
    AccountRecord,
    ClientStore,
    ContactRecord,
    MessageRecord,
    MessageState,
    NewMessage,
    PayloadKind,
    StateChange,
)
from app.core import messages
from app.core.clock import Clock
from app.core.errors import SendError
from app.core.events import ConversationUpdated, Event, MessageQueued, MessageStateChanged
from app.core.journal import Journal
from app.core.outbox import Outbox
from crypto.primitives import Random

MAX_DRAFT_BYTES: Final = 4 * messages.MAX_TEXT_BYTES
"""Longest draft kept (UTF-8 bytes): room to trim a text that is too long to send."""


class OutgoingMessages:
    """Writes the user's texts and drafts; the contact is already found and allowed to be
    sent to (:meth:`app.core.contacts.ContactBook.check_can_send`)."""

    def __init__(
        self, *, store: ClientStore, journal: Journal, outbox: Outbox,
        account: Callable[[], AccountRecord], emit: Callable[[Event], None],
        check: Callable[[], None], clock: Clock, random: Random,
    ) -> None:
        self._store = store  # failed messages (retry) and drafts are read from it
        self._journal = journal
        self._outbox = outbox
        self._account = account  # the current account: our relay and name go with each text
        self._emit = emit
        self._check = check  # raises ClientClosed once the client is closed or failed
        self._clock = clock
        self._random = random  # message ids
        self._retrying: set[tuple[int, bytes]] = set()  # (contact, message id) being retried

    def _sender(self) -> messages.SenderProfile:
        account = self._account()
        return messages.SenderProfile(account.relay_url, account.display_name)

    @staticmethod
    def _relay_of(contact: ContactRecord) -> str:
        if contact.relay_url is None:
            raise SendError(f"No relay is known for {contact.display_name}: add their address.")
        return contact.relay_url

    async def send_text(self, contact: ContactRecord, text: str) -> MessageRecord:
        """Store a text to ``contact`` and queue it; returns it once it is on disk.

        Raises:
            SendError: empty or too long, or no relay known for the contact.
        """
        relay_url = self._relay_of(contact)
        if not text.strip():
            raise SendError("The message is empty.")
        if len(text.encode("utf-8", errors="surrogatepass")) > messages.MAX_TEXT_BYTES:
            raise SendError(f"The message is longer than {messages.MAX_TEXT_BYTES} bytes.")
        message_id = self._random(16)
        now_ms = int(self._clock.now() * 1000)
        try:
            plaintext = messages.encode(
                messages.TextMessage(message_id, now_ms, text, self._sender())
            )
        except Exception as error:  # MessageFormatError: e.g. lone surrogates
            raise SendError(str(error)) from None
        changes = self._journal.changes
        index = len(changes.messages)
        changes.messages.append(NewMessage(contact.contact_id, message_id, True, text, now_ms,
                                           None, MessageState.QUEUED))
        self._outbox.enqueue(contact.identity_key, relay_url, PayloadKind.TEXT,
                             plaintext, message_id, contact.contact_id)
        applied = await self._journal.commit()
        seq = applied.message_seqs[index]
        record = MessageRecord(seq or 0, contact.contact_id, message_id, True, text, now_ms, None,
                               MessageState.QUEUED, None, now_ms)
        self._emit(MessageQueued(contact.contact_id, record))
        self._emit(ConversationUpdated(contact.contact_id))
        return record

    async def retry(self, contact: ContactRecord, message_id: bytes) -> None:
        """Queue one of our failed messages to ``contact`` again (same id, text and time).

        Raises:
            SendError: not one of our failed messages in that conversation, already being
                retried, or no relay known for the contact.
            ClientClosed: the client was closed meanwhile.
        """
        relay_url = self._relay_of(contact)
        key = (contact.contact_id, message_id)
        if key in self._retrying:
            raise SendError("This message cannot be retried.")
        self._retrying.add(key)
        try:
            record = await self._store.message(contact.contact_id, message_id, outgoing=True)
            if record is None or record.state is not MessageState.FAILED:
                raise SendError("This message cannot be retried.")
            self._check()
            plaintext = messages.encode(
                messages.TextMessage(message_id, record.sent_at, record.body, self._sender())
            )
            changes = self._journal.changes
            index = len(changes.states)
            changes.states.append(StateChange(contact.contact_id, message_id, MessageState.QUEUED,
                                              int(self._clock.now() * 1000), None))
            self._outbox.enqueue(contact.identity_key, relay_url, PayloadKind.TEXT,
                                 plaintext, message_id, contact.contact_id)
            applied = await self._journal.commit()
        finally:
            self._retrying.discard(key)
        if applied.states_changed[index]:
            self._emit(MessageStateChanged(contact.contact_id, message_id, MessageState.QUEUED))
            self._emit(ConversationUpdated(contact.contact_id))

    async def draft(self, contact: ContactRecord) -> str:
        """The conversation's unsent text, ``""`` when there is none."""
        return await self._store.draft(contact.contact_id)

    async def save_draft(self, contact: ContactRecord, text: str) -> None:
        """Keep ``text`` as the conversation's draft (``""`` deletes it); durable on return.

        Raises:
            SendError: the text is not valid Unicode or longer than :data:`MAX_DRAFT_BYTES`.
        """
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise SendError("The draft is not valid text.") from None
        if size > MAX_DRAFT_BYTES:
            raise SendError(f"The draft is longer than {MAX_DRAFT_BYTES} bytes.")
        self._journal.changes.drafts.append((contact.contact_id, text))
        await self._journal.commit()
