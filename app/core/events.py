"""What the core tells its users (the CLI, tests, the Qt bridge): typed, frozen events.

Every event the UI must reflect is one of these; subscribe with
:meth:`app.core.client.SourdineClient.subscribe`. ``contact_id`` also names the 1:1
conversation with that contact.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.adapters.store import ContactRecord, MessageRecord, MessageState


@dataclass(frozen=True, slots=True)
class MessageQueued:
    """We wrote a message; it is stored and in the outbox (state queued)."""

    contact_id: int
    message: MessageRecord


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A message from a contact was decrypted and stored (before it was acknowledged)."""

    contact_id: int
    message: MessageRecord


@dataclass(frozen=True, slots=True)
class MessageUndecryptable:
    """An envelope from a contact could not be read; it is stored with ``message.reason``."""

    contact_id: int
    message: MessageRecord


@dataclass(frozen=True, slots=True)
class MessageStateChanged:
    """One of our messages moved on: sent (relay stored it), delivered (receipt), read (read
    receipt), failed, or queued again (the user retried it)."""

    contact_id: int
    message_id: bytes
    state: MessageState
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EnvelopeRejected:
    """An envelope that belongs to no conversation (not for us, tampered, unknown sender)
    was recorded as rejected and acknowledged."""

    reason: str
    claimed_sender: bytes | None = None


@dataclass(frozen=True, slots=True)
class ContactAdded:
    """A new contact: added by the user, or someone who wrote to us first."""

    contact: ContactRecord
    by_user: bool


@dataclass(frozen=True, slots=True)
class ContactUpdated:
    """A contact's name, relay, verified flag or key changed (a key change was accepted)."""

    contact: ContactRecord


@dataclass(frozen=True, slots=True)
class ContactKeyChanged:
    """A different identity key was announced for a contact: sending to them is blocked until
    the user compares safety numbers and accepts it (or rejects it)."""

    contact: ContactRecord
    new_identity_key: bytes


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """The connection to a relay changed state (``offline``, ``connecting``, ``connected``,
    ``authenticated``)."""

    relay_url: str
    state: str
    own: bool


@dataclass(frozen=True, slots=True)
class ConversationUpdated:
    """Something in a conversation changed (message, state, read marker): refresh its row."""

    contact_id: int


@dataclass(frozen=True, slots=True)
class ContactTyping:
    """The contact is typing in their conversation with us (they chose to share it): show it
    for a few seconds. Never emitted while we are off duty."""

    contact_id: int


@dataclass(frozen=True, slots=True)
class PrekeysPublished:
    """The relay confirmed our signed prekey and now holds ``one_time_count`` one-time keys."""

    signed_prekey_id: int
    one_time_count: int


@dataclass(frozen=True, slots=True)
class ClientFailed:
    """The client stopped: its database could not be written. Nothing unsaved was
    acknowledged or sent; close and reopen the profile."""

    reason: str


Event = (
    MessageQueued | MessageReceived | MessageUndecryptable | MessageStateChanged
    | EnvelopeRejected | ContactAdded | ContactUpdated | ContactKeyChanged | ConnectionChanged
    | ConversationUpdated | ContactTyping | PrekeysPublished | ClientFailed
)
