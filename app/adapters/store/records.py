"""What the client store holds, as plain frozen values (no SQL outside this package).

Times are integers: milliseconds since the Unix epoch for messages, seconds for the rest.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class MessageState(enum.StrEnum):
    """Where a message is in its life. Outgoing: queued -> sent -> delivered -> read, or
    failed (and queued again when the user retries it).

    Incoming: received, or undecryptable (recorded with a reason, never dropped).
    """

    QUEUED = "queued"
    """Written by us, in the outbox, not yet confirmed stored by the recipient's relay."""
    SENT = "sent"
    """The recipient's relay confirmed it stored the envelope durably."""
    DELIVERED = "delivered"
    """The recipient's client confirmed (delivery receipt) it stored the message."""
    READ = "read"
    """The recipient's client said (read receipt, opt-in on their side) the user read it."""
    FAILED = "failed"
    """Cannot be sent (the relay refused it for good); ``reason`` says why."""
    RECEIVED = "received"
    """An incoming message, decrypted and stored."""
    UNDECRYPTABLE = "undecryptable"
    """An incoming envelope from this contact that could not be read; ``reason`` says why."""


OUTGOING_ORDER: dict[MessageState, int] = {
    MessageState.QUEUED: 0, MessageState.SENT: 1, MessageState.DELIVERED: 2,
    MessageState.READ: 3,
}
"""Outgoing states only move forward in this order (a late "sent" never undoes "delivered",
a late "delivered" never undoes "read"). The one way back is a retry: failed -> queued."""


class PayloadKind(enum.StrEnum):
    """What an outbox item carries."""

    TEXT = "text"
    RECEIPT = "receipt"  # delivery and read receipts
    TYPING = "typing"  # a typing indicator: short time-to-live, dropped after a restart


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """The profile's own account: public identity and where its mailbox is."""

    identity_key: bytes  # Ed25519 public key (the secret half lives in the keystore only)
    relay_url: str  # ws:// or wss:// URL of the home relay
    display_name: str
    created_at: int  # seconds
    published_signed_prekey_id: int | None = None  # last signed prekey the relay accepted
    published_one_time_through: int = 0  # highest one-time prekey id the relay accepted


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """Someone we talk to; ``contact_id`` also names the 1:1 conversation with them."""

    contact_id: int
    identity_key: bytes  # Ed25519 public key: their mailbox name and safety-number input
    relay_url: str | None  # their home relay; None until they tell us (a stranger's first message)
    display_name: str  # the name we show; unique in the profile (case-insensitive)
    added_at: int  # seconds
    verified: bool = False  # the user compared safety numbers
    pending_identity_key: bytes | None = None  # a new key announced for them: sending blocked
    pending_relay_url: str | None = None  # the relay that goes with the pending key


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One pairwise Double Ratchet session with a peer identity (a peer may have several)."""

    peer_identity: bytes
    ephemeral_key: bytes  # X3DH EK_A of the session (ours as initiator, theirs as responder)
    initiator: bool  # we ran X3DH against their bundle
    signed_prekey_id: int | None  # initiator: what the initial messages name
    one_time_prekey_id: int | None
    state: bytes = field(repr=False)  # RatchetState.to_bytes(): secret
    active: bool  # the session we encrypt with
    created_at: int  # seconds


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to insert. ``dedup_peer`` set: insert only if (peer, message_id) is new."""

    conversation_id: int
    message_id: bytes  # 16 bytes: random for ours, the sender's for theirs
    outgoing: bool
    body: str
    sent_at: int  # ms, the author's clock
    received_at: int | None  # ms, our clock, incoming only
    state: MessageState
    reason: str | None = None
    dedup_peer: bytes | None = None  # the sender's identity key for inbound de-duplication


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A stored message. ``seq`` is the local order (and the paging cursor)."""

    seq: int
    conversation_id: int
    message_id: bytes
    outgoing: bool
    body: str
    sent_at: int
    received_at: int | None
    state: MessageState
    reason: str | None
    state_at: int  # ms, when the state last changed


@dataclass(frozen=True, slots=True)
class StateChange:
    """Move one of our messages in a conversation to ``state`` (only forward)."""

    conversation_id: int
    message_id: bytes
    state: MessageState
    at: int  # ms
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class NewOutboxItem:
    """Something to deposit into ``recipient``'s mailbox on ``relay_url``."""

    recipient: bytes
    relay_url: str
    kind: PayloadKind
    message_id: bytes | None  # the message it carries (None for receipts)
    conversation_id: int
    plaintext: bytes | None = field(default=None, repr=False)  # until encrypted
    envelope: bytes | None = None  # the sealed envelope, once encrypted
    created_at: int = 0  # seconds


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A stored outbox item; ``seq`` is its id and the deposit order."""

    seq: int
    recipient: bytes
    relay_url: str
    kind: PayloadKind
    message_id: bytes | None
    conversation_id: int
    plaintext: bytes | None = field(repr=False)
    envelope: bytes | None
    created_at: int


@dataclass(frozen=True, slots=True)
class RejectedEnvelope:
    """An envelope that could not be attributed to any conversation, kept as evidence."""

    received_at: int  # ms
    reason: str
    claimed_sender: bytes | None = None


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One conversation for a list: its contact, last message and unread count."""

    conversation_id: int
    contact_id: int
    last_message: MessageRecord | None
    unread: int
    read_through: int  # seq of the last message the user has seen


@dataclass
class Changes:
    """Everything one transaction writes. The core fills it; :meth:`ClientStore.apply`
    commits it atomically (all or nothing), in the order of the lists.
    """

    account: AccountRecord | None = None
    prekeys: bytes | None = field(default=None, repr=False)  # PrekeyStore.to_bytes(): secret
    contacts: list[ContactRecord] = field(default_factory=list)  # upserted by contact_id
    sessions: list[SessionRecord] = field(default_factory=list)  # upserted
    sessions_removed: list[tuple[bytes, bytes]] = field(default_factory=list)  # (peer, EK)
    messages: list[NewMessage] = field(default_factory=list)
    states: list[StateChange] = field(default_factory=list)
    outbox: list[NewOutboxItem] = field(default_factory=list)
    outbox_encrypted: list[tuple[int, bytes]] = field(default_factory=list)  # (seq, envelope)
    outbox_done: list[int] = field(default_factory=list)  # seqs to delete
    read_through: list[tuple[int, int]] = field(default_factory=list)  # (conversation, seq)
    rejected: list[RejectedEnvelope] = field(default_factory=list)
    drafts: list[tuple[int, str]] = field(default_factory=list)  # (conversation, text; "" deletes)

    def is_empty(self) -> bool:
        return not (
            self.account or self.prekeys or self.contacts or self.sessions or self.sessions_removed
            or self.messages
            or self.states or self.outbox or self.outbox_encrypted or self.outbox_done
            or self.read_through or self.rejected or self.drafts
        )


@dataclass(frozen=True, slots=True)
class Applied:
    """What :meth:`ClientStore.apply` did, in the order of the :class:`Changes` lists."""

    message_seqs: tuple[int | None, ...]  # None: an inbound duplicate, not inserted
    states_changed: tuple[bool, ...]  # whether each state change moved a message
    outbox_seqs: tuple[int, ...]
