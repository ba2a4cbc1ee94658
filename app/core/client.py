"""``SourdineClient``: the one entry point of the client core (CLI, tests, the Qt bridge).

Life cycle::

    client = await SourdineClient.create(paths, secret_store, display_name=..., relay_url=...)
    # or: client = await SourdineClient.open(paths, secret_store)
    events = client.subscribe()          # typed events (app.core.events), from now on
    await client.start()                 # connect to the own relay in the background
    await client.add_contact("sourdine://...")
    await client.send_text("bob", "hi")  # stored and queued when it returns
    ...
    await client.close()

Commands are coroutines of one asyncio loop; nothing here blocks it (the database runs on its
own thread, the keyring in a worker thread). Queries and commands work without
:meth:`SourdineClient.start` (offline); sending and receiving need it.

The facade wires the parts together and checks that the client is usable; the work is done by
:mod:`app.core.outgoing` (texts, retries, drafts), :mod:`app.core.activity` (read receipts,
typing, privacy and off duty), :mod:`app.core.outbox`, :mod:`app.core.receive`,
:mod:`app.core.contacts`, :mod:`app.core.conversations` and :mod:`app.core.prekeys`; events
reach subscribers through :mod:`app.core.event_stream`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, Final

from app.adapters.keystore import SecretStore
from app.adapters.relay_pool import RelayPool
from app.adapters.store import AccountRecord, ContactRecord, MessageRecord, RejectedEnvelope
from app.adapters.transport import ConnectionState, Delivery, TransportError
from app.config import ProfilePaths
from app.core.account import (
    OpenedAccount,
    clean_display_name,
    create_account,
    open_account,
)
from app.core.activity import TYPING_INTERVAL, ActivitySharing
from app.core.address import format_address, format_invitation, parse_contact_link
from app.core.contacts import AddOutcome, ContactBook, DirectoryListing
from app.core.conversations import Conversations, ConversationSummary, SearchHit
from app.core.errors import ClientClosed, ContactError
from app.core.event_stream import EventStream, Subscribers
from app.core.events import (
    ClientFailed,
    ConnectionChanged,
    ContactAdded,
    ContactKeyChanged,
    ContactUpdated,
    PrekeysPublished,
)
from app.core.journal import Journal
from app.core.options import DEFAULT_MAINTENANCE_INTERVAL, ClientOptions
from app.core.outbox import Outbox
from app.core.outgoing import MAX_DRAFT_BYTES, OutgoingMessages
from app.core.prekeys import PrekeyUpkeep
from app.core.receive import SYNC_PREFIX, ReceivePipeline
from app.core.recipient_setup import RecipientSetupWait
from app.core.sessions import SessionBook
from crypto.envelope import EnvelopeKind, seal_envelope
from crypto.safety import SafetyNumber, safety_number
from relay.protocol import MAX_SEARCH_RESULTS

_log = logging.getLogger(__name__)

MAX_DIRECTORY_RESULTS: Final = MAX_SEARCH_RESULTS  # the protocol's bound on a directory search


class SourdineClient:
    """One profile's client: account, contacts, sessions, outbox, receive pipeline, events."""

    def __init__(self, paths: ProfilePaths, opened: OpenedAccount, options: ClientOptions
                 ) -> None:
        self.paths = paths
        self.options = options
        self._identity = opened.identity
        self._store = opened.store
        self._account = opened.account
        self._subscribers = Subscribers()
        self._emit = self._subscribers.emit
        self._failure: str | None = None  # set when the journal failed: the client stopped
        self._closed = False
        self._started = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._maintenance: asyncio.Task[None] | None = None
        self._connection_state = ConnectionState.OFFLINE
        self._journal = Journal(opened.store, self._failed, self._now_ms)
        self._pool = RelayPool(
            opened.account.relay_url, opened.identity.secret, on_delivery=self._on_delivery,
            on_prekeys_low=self._on_prekeys_low, on_state=self._on_state, ssl=options.ssl,
            backoff=options.backoff, settings=options.settings, invitation=options.invitation,
        )
        # Filled in by _load (they need the database's contents).
        self._contacts: ContactBook
        self._sessions: SessionBook
        self._outbox: Outbox
        self._receive: ReceivePipeline
        self._prekeys: PrekeyUpkeep
        self._outgoing: OutgoingMessages
        self._activity: ActivitySharing
        self._conversations = Conversations(opened.store, ContactBook((), b""))

    # --- construction -------------------------------------------------------------------------

    @classmethod
    async def create(
        cls, paths: ProfilePaths, secrets: SecretStore, *, display_name: str, relay_url: str,
        options: ClientOptions | None = None,
    ) -> SourdineClient:
        """Create the profile's account (identity and database key into ``secrets``) and
        return its client, not started.

        Raises:
            AccountError, AddressError, KeystoreError, StoreError, ProfileError.
        """
        options = options or ClientOptions()
        opened = await create_account(
            paths, secrets, display_name, relay_url, random=options.random,
            now=int(options.clock.now()), one_time_prekeys=options.one_time_prekeys,
        )
        return await cls._loaded(paths, opened, options)

    @classmethod
    async def open(
        cls, paths: ProfilePaths, secrets: SecretStore, *, options: ClientOptions | None = None
    ) -> SourdineClient:
        """Open the profile's client, not started.

        Raises:
            AccountError: no account yet. KeystoreError: secrets unavailable.
            StoreError: database unavailable (wrong key, in use by another process, ...).
        """
        opened = await open_account(paths, secrets)
        return await cls._loaded(paths, opened, options or ClientOptions())

    @classmethod
    async def _loaded(
        cls, paths: ProfilePaths, opened: OpenedAccount, options: ClientOptions
    ) -> SourdineClient:
        client = cls(paths, opened, options)
        try:
            await client._load(opened)
        except BaseException:
            await opened.store.close()
            raise
        return client

    async def _load(self, opened: OpenedAccount) -> None:
        store, o = opened.store, self.options
        self._contacts = ContactBook(await store.contacts(), self._identity.public)
        self._sessions = SessionBook(self._identity, opened.prekeys, await store.sessions(),
                                     o.random)
        setup_wait = RecipientSetupWait(
            backoff=o.recipient_backoff, timeout=o.recipient_setup_timeout,
            name_of=lambda contact_id: self._contacts.get(contact_id).display_name,
            emit=self._emit, now=self._now,
        )
        self._outbox = Outbox(
            self._identity.public, self._sessions, self._journal, self._pool, self._emit,
            self._now, setup_wait=setup_wait, window=o.deposit_window,
            ttl_seconds=o.envelope_ttl,
        )
        self._outbox.load(await store.outbox())
        self._receive = ReceivePipeline(
            self._identity, self._contacts, self._sessions, self._journal, self._outbox,
            self._pool, self._emit, o.clock.now, o.random,
        )
        self._prekeys = PrekeyUpkeep(
            self._identity, self._sessions, self._journal, lambda: self._account,
            self._set_account, o.random, o.one_time_prekeys, o.signed_prekey_rotation,
        )
        self._conversations = Conversations(store, self._contacts)
        self._outgoing = OutgoingMessages(
            store=store, journal=self._journal, outbox=self._outbox,
            account=lambda: self._account, emit=self._emit, check=self._check, clock=o.clock,
            random=o.random,
        )
        self._activity = ActivitySharing(
            conversations=self._conversations, sessions=self._sessions, journal=self._journal,
            outbox=self._outbox, receive=self._receive, emit=self._emit, check=self._check,
            clock=o.clock, random=o.random,
        )
        # Order matters: receipts are encrypted before the sessions are written.
        self._journal.add_sealer(self._receive.seal)
        self._journal.add_sealer(self._sessions.seal)
        self._journal.start()

    async def start(self) -> None:
        """Connect to the own relay (in the background), start sending and receiving.

        Raises:
            ClientClosed: the client was closed or failed.
        """
        self._check()
        if self._started:
            return
        self._started = True
        self._outbox.start()
        await self._pool.start()
        self._maintenance = asyncio.get_running_loop().create_task(
            self._maintain_forever(), name="prekey maintenance"
        )

    async def close(self) -> None:
        """Disconnect, write what is pending and close the database. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._maintenance is not None:
            self._maintenance.cancel()
        for task in list(self._tasks):
            task.cancel()
        await self._outbox.close()
        if self._failure is None:  # write what is pending and ack it before disconnecting
            with contextlib.suppress(ClientClosed):
                await self._journal.commit()
            await self._receive.flush_acks(2.0)
        await self._pool.close()
        await self._receive.close()
        await self._journal.close()
        await self._store.close()
        self._subscribers.close()

    async def __aenter__(self) -> SourdineClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- state and events ---------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.options.clock.now())

    def _now_ms(self) -> int:
        return int(self.options.clock.now() * 1000)

    def _check(self) -> None:
        if self._failure is not None:
            raise ClientClosed(self._failure)
        if self._closed:
            raise ClientClosed("The client is closed.")

    def _failed(self, reason: str) -> None:
        self._failure = reason
        self._emit(ClientFailed(reason))
        task = asyncio.get_running_loop().create_task(self._pool.close(), name="stop transport")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def subscribe(self) -> EventStream:
        """A new stream of every event from now on; close it when done."""
        return self._subscribers.subscribe()

    def _set_account(self, account: AccountRecord) -> None:
        self._account = account
        self._journal.changes.account = account

    @property
    def account(self) -> AccountRecord:
        return self._account

    @property
    def identity_key(self) -> bytes:
        return self._identity.public

    @property
    def address(self) -> str:
        """Our address: ``sourdine://HOST:PORT/<identity key>``."""
        return format_address(self._account.relay_url, self._identity.public)

    @property
    def invitation_link(self) -> str:
        """Our address with our display name, to hand to a new contact."""
        return format_invitation(
            self._account.relay_url, self._identity.public, self._account.display_name
        )

    @property
    def connection_state(self) -> str:
        """The own relay connection: offline, connecting, connected or authenticated."""
        return self._connection_state.value

    @property
    def outbox_size(self) -> int:
        return len(self._outbox)

    @property
    def commits(self) -> int:
        """Transactions committed since opening (one per batch of changes)."""
        return self._journal.batches

    # --- transport callbacks ------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_state(self, state: ConnectionState) -> None:
        self._connection_state = state
        self._emit(ConnectionChanged(self._account.relay_url, state.value, own=True))
        if state is ConnectionState.AUTHENTICATED:
            self._spawn(self.maintain_prekeys(), "publish prekeys")
            self._outbox.retry_waiting()

    async def _on_delivery(self, delivery: Delivery) -> None:
        if self._failure is None and not self._closed:
            await self._receive.on_delivery(delivery)

    async def _on_prekeys_low(self, count: int) -> None:
        if self._failure is None and not self._closed:
            await self._publish_prekeys(count)

    async def _publish_prekeys(self, relay_count: int | None) -> None:
        try:
            result = await self._prekeys.publish(self._pool.own(), self._now(), relay_count)
        except (TransportError, ClientClosed) as error:
            _log.info("prekeys not published now: %s", error)
            return
        if result is not None:
            self._emit(PrekeysPublished(*result))

    async def maintain_prekeys(self) -> None:
        """Rotate the signed prekey when due and publish whatever the relay lacks (also runs
        after each authentication and every ``maintenance_interval`` seconds)."""
        self._check()
        await self._publish_prekeys(None)

    async def _maintain_forever(self) -> None:
        while True:
            await asyncio.sleep(self.options.maintenance_interval)
            if self._connection_state is ConnectionState.AUTHENTICATED:
                await self._publish_prekeys(None)

    # --- contacts -----------------------------------------------------------------------------

    def contacts(self) -> list[ContactRecord]:
        """Every contact, by name."""
        return self._contacts.all()

    def contact(self, reference: str | int) -> ContactRecord:
        """A contact by id, name (any case) or the start of its base64url key.

        Raises:
            UnknownContact.
        """
        return self._contacts.find(reference)

    async def add_contact(self, link: str, name: str | None = None) -> ContactRecord:
        """Add a contact from an address or invitation link (``name`` overrides the link's).

        The same key again updates the relay (and name, if given). A *different* key under an
        existing contact's name is kept as a pending key change: sending to them is blocked
        until :meth:`accept_key` (event :class:`ContactKeyChanged`).

        Raises:
            AddressError: the link does not parse. ContactError: own address, name taken.
        """
        self._check()
        invitation = parse_contact_link(link)
        return await self._added(self._contacts.add(invitation, name, self._now()))

    async def _added(self, outcome: AddOutcome) -> ContactRecord:
        """Write what :class:`ContactBook` did and tell the subscribers."""
        contact = outcome.contact
        if not (outcome.created or outcome.updated or outcome.key_changed):
            return contact
        self._journal.changes.contacts.append(contact)
        await self._journal.commit()
        if outcome.created:
            self._emit(ContactAdded(contact, by_user=True))
        elif outcome.key_changed and contact.pending_identity_key is not None:
            self._emit(ContactKeyChanged(contact, contact.pending_identity_key))
        else:
            self._emit(ContactUpdated(contact))
        return contact

    async def _save_contact(self, contact: ContactRecord) -> ContactRecord:
        self._journal.changes.contacts.append(contact)
        await self._journal.commit()
        self._emit(ContactUpdated(contact))
        return contact

    async def accept_key(self, reference: str | int) -> ContactRecord:
        """Accept a contact's new identity key (sending works again, unverified).

        Raises:
            UnknownContact, ContactError: no change pending.
        """
        self._check()
        contact = self._contacts.accept_key(self._contacts.find(reference))
        self._outbox.wake()
        return await self._save_contact(contact)

    async def reject_key(self, reference: str | int) -> ContactRecord:
        """Forget a contact's pending key change (keep the known key).

        Raises:
            UnknownContact, ContactError: no change pending.
        """
        self._check()
        return await self._save_contact(self._contacts.reject_key(self._contacts.find(reference)))

    async def set_verified(self, reference: str | int, verified: bool = True) -> ContactRecord:
        """Record that the user compared safety numbers with the contact (or undo it)."""
        self._check()
        contact = self._contacts.find(reference)
        return await self._save_contact(self._contacts.set_verified(contact, verified))

    async def rename_contact(self, reference: str | int, name: str) -> ContactRecord:
        """Raises: UnknownContact, ContactError: bad or taken name."""
        self._check()
        return await self._save_contact(
            self._contacts.rename(self._contacts.find(reference), name)
        )

    def safety_number(self, reference: str | int, *, pending: bool = False) -> SafetyNumber:
        """The safety number with a contact (``pending``: with their announced new key).

        Raises:
            UnknownContact, ContactError: ``pending`` without a pending key.
        """
        contact = self._contacts.find(reference)
        key = contact.pending_identity_key if pending else contact.identity_key
        if key is None:
            raise ContactError(f"No identity key change is pending for {contact.display_name}.")
        return safety_number(self._identity.public, key)

    # --- the own relay's directory (opt-in) -----------------------------------------------------

    async def directory_publish(self, display_name: str | None = None) -> str:
        """List us in our relay's directory, so its members can find us by name. Opt-in:
        nothing is ever published unless the user asks. Publishing again replaces the
        entry. Returns the name published (default: our display name).

        Raises:
            AccountError: a bad name. RelayRefused: the relay refused the name.
            TransportError: the relay cannot be reached.
        """
        self._check()
        name = clean_display_name(
            self._account.display_name if display_name is None else display_name
        )
        await self._pool.own().directory_publish(name)
        return name

    async def directory_remove(self) -> bool:
        """Take us out of our relay's directory; False when we were not listed.

        Raises:
            TransportError: the relay cannot be reached.
        """
        self._check()
        return await self._pool.own().directory_remove()

    async def directory_search(self, query: str, *, limit: int = 20) -> list[DirectoryListing]:
        """Entries of our relay's directory whose name contains ``query`` (names starting
        with it first), at most ``limit`` (1 to 100).

        Raises:
            ContactError: an empty query or a bad limit. RelayRefused: the relay refused the
            query. TransportError: the relay cannot be reached.
        """
        self._check()
        if not query.strip():
            raise ContactError("Type part of a name to search the directory.")
        if not 1 <= limit <= MAX_DIRECTORY_RESULTS:
            raise ContactError(
                f"A directory search returns 1 to {MAX_DIRECTORY_RESULTS} entries."
            )
        entries = await self._pool.own().directory_search(query.strip(), limit)
        relay = self._account.relay_url
        return [self._contacts.listing(e.identity, e.display_name, relay) for e in entries]

    async def add_contact_from_directory(
        self, listing: DirectoryListing, name: str | None = None
    ) -> ContactRecord:
        """Add a directory entry as a normal contact (address: its relay + identity key),
        under ``name`` or else its listed name, made unique: a listed name is self-asserted,
        so it never turns into a key change of an existing contact.

        Raises:
            ContactError: our own entry, or ``name`` is bad or taken.
        """
        self._check()
        return await self._added(self._contacts.add_listed(
            listing.address, listing.display_name, name, self._now()
        ))

    # --- messages -----------------------------------------------------------------------------

    async def send_text(self, reference: str | int, text: str) -> MessageRecord:
        """Store a message to a contact and queue it; returns it (state queued) once it is on
        disk. It goes out as soon as the relay can be reached (event MessageStateChanged).

        A contact who has not set up Sourdine yet is waited for: the message is announced
        once as queued with the reason (``Waiting for <name> ...``) and fails if they have
        not set up within ``ClientOptions.recipient_setup_timeout`` of sending.

        Raises:
            UnknownContact. KeyChangePending: the contact's key changed (accept it first).
            SendError: empty or too long, or no relay known for the contact.
        """
        self._check()
        contact = self._contacts.find(reference)
        self._contacts.check_can_send(contact)
        return await self._outgoing.send_text(contact, text)

    async def retry_message(self, reference: str | int, message_id: bytes) -> None:
        """Queue one of our failed messages again (same id, same text, same time), for the
        user's "retry"; event MessageStateChanged(queued) once it is on disk. The recipient
        drops a copy it already has. A wait for a contact who has not set up starts anew.

        Raises:
            UnknownContact. KeyChangePending: the contact's key changed (accept it first).
            SendError: not one of our messages in that conversation, not failed, already
                being retried, or no relay known for the contact.
        """
        self._check()
        contact = self._contacts.find(reference)
        self._contacts.check_can_send(contact)
        await self._outgoing.retry(contact, message_id)

    async def draft(self, reference: str | int) -> str:
        """The unsent text of the conversation with a contact, ``""`` when there is none.
        Drafts live in the encrypted database only. Raises: UnknownContact."""
        self._check()
        return await self._outgoing.draft(self._contacts.find(reference))

    async def save_draft(self, reference: str | int, text: str) -> None:
        """Keep ``text`` as the conversation's draft (``""`` deletes it); durable on return.

        Raises:
            UnknownContact. SendError: the text is not valid Unicode or longer than
            :data:`MAX_DRAFT_BYTES`.
        """
        self._check()
        await self._outgoing.save_draft(self._contacts.find(reference), text)

    async def sync(self, timeout: float = 30.0) -> None:
        """Wait until every envelope the relay held for us when this was called has been
        processed and stored (a marker deposited to our own mailbox comes back after them).

        Raises:
            TimeoutError: not within ``timeout`` seconds. TransportError: relay unreachable.
        """
        self._check()
        token = self.options.random(16)
        marker = seal_envelope(self._identity.public, self._identity.public, EnvelopeKind.RECEIPT,
                               SYNC_PREFIX + token)
        arrived = self._receive.expect_sync(token)
        async with asyncio.timeout(timeout):
            await self._pool.own().deposit([self._identity.public], marker, 3600)
            await arrived

    async def wait_outbox_empty(self, timeout: float) -> bool:
        """Wait until every queued item left the outbox (sent or failed); False on timeout."""
        return await self._outbox.wait_empty(timeout)

    # --- conversations ------------------------------------------------------------------------

    async def conversations(self, *, include_empty: bool = False) -> list[ConversationSummary]:
        """Conversations with their last message and unread count, most recent first."""
        self._check()
        return await self._conversations.summaries(include_empty=include_empty)

    async def history(
        self, reference: str | int, *, before: int | None = None, limit: int = 50
    ) -> list[MessageRecord]:
        """A page of the conversation with a contact: the ``limit`` newest messages older than
        ``before`` (a ``seq``), oldest first. Raises: UnknownContact."""
        self._check()
        return await self._conversations.history(
            self._contacts.find(reference), before=before, limit=limit
        )

    async def mark_read(self, reference: str | int, through: int | None = None) -> None:
        """Move the conversation's read marker to ``through`` (default: its last message).

        With read receipts on (:meth:`set_privacy`) and not off duty, the contact gets one
        read receipt for the received messages this newly reads; otherwise nothing is sent
        to anyone. Raises: UnknownContact.
        """
        self._check()
        await self._activity.mark_read(self._contacts.find(reference), through)

    async def search(
        self, text: str, *, contact: str | int | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Messages containing every word of ``text`` (word prefixes, accents ignored), newest
        first. Raises: SearchQueryError: no word in ``text``; UnknownContact."""
        self._check()
        who = None if contact is None else self._contacts.find(contact)
        return await self._conversations.search(text, contact=who, limit=limit)

    # --- activity shared with contacts (opt-in, never off duty) ---------------------------------

    def set_privacy(self, *, read_receipts: bool, typing: bool) -> None:
        """Whether to send read receipts and typing indicators (both off by default; the
        user's settings). Delivery receipts are always sent: they are not activity."""
        self._activity.set_privacy(read_receipts=read_receipts, typing=typing)

    def set_off_duty(self, off_duty: bool) -> None:
        """While off duty no read receipt and no typing indicator is sent (messages read then
        never get one later) and no :class:`ContactTyping` event is emitted. Nobody is told."""
        self._activity.set_off_duty(off_duty)

    @property
    def off_duty(self) -> bool:
        return self._activity.off_duty

    @property
    def read_receipts(self) -> bool:
        """Whether read receipts are sent (when not off duty)."""
        return self._activity.read_receipts

    @property
    def typing_indicators(self) -> bool:
        """Whether typing indicators are sent (when not off duty)."""
        return self._activity.typing_indicators

    async def send_typing(self, reference: str | int) -> None:
        """Tell the contact we are typing, if the user allows it and is not off duty; at most
        one per :data:`TYPING_INTERVAL` seconds per contact, only over an existing session
        (a typing indicator never starts one), kept by relays for seconds only.

        Raises:
            UnknownContact.
        """
        self._check()
        await self._activity.send_typing(self._contacts.find(reference))

    # --- diagnostics --------------------------------------------------------------------------

    @property
    def received_envelopes(self) -> int:
        """Envelopes delivered to us and handled since opening (tests, benchmarks)."""
        return self._receive.processed

    async def rejected_envelopes(self) -> list[RejectedEnvelope]:
        """Envelopes that belonged to no conversation, with the reason (never lost silently)."""
        return await self._store.rejected_envelopes()


__all__ = [
    "DEFAULT_MAINTENANCE_INTERVAL", "MAX_DIRECTORY_RESULTS", "MAX_DRAFT_BYTES", "TYPING_INTERVAL",
    "ClientOptions", "EventStream", "SourdineClient",
]
