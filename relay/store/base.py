"""The relay's storage interface: what the server needs, nothing about how it is kept.

The server talks only to :class:`RelayStore`. SQLite (``relay.store.sqlite``) is the embedded
default; a shared engine (PostgreSQL, Redis) can implement the same interface for deployments
with several relay nodes.

What is stored is deliberately minimal (see docs/THREAT_MODEL.md): registered identity keys,
opaque sealed envelopes with an expiry time, prekeys, blobs with an expiry time, and opt-in
directory entries. Never: IP addresses, connection or login times, sender identities, read
state. Times are integer seconds since the epoch, passed in by the caller.

Every mutating method returns only after its change is durably committed (fsync'd); an
implementation may batch several callers' changes into one commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MailboxId = bytes
"""A mailbox is named by its owner's 32-byte Ed25519 identity public key."""


class StoreError(Exception):
    """Base class of storage errors; ``str(error)`` is a readable sentence for the client."""


class UnknownMailbox(StoreError):
    """The identity is not registered on this relay."""


class QuotaExceeded(StoreError):
    """The mailbox, the blob space or the prekey list is full."""


class UnknownBlob(StoreError):
    """No such blob, or it expired, or it is not complete yet."""


@dataclass(frozen=True, slots=True)
class StoredEnvelope:
    """A sealed envelope waiting in a mailbox."""

    envelope_id: int  # unique within the mailbox, increasing in deposit order
    envelope: bytes  # opaque sealed bytes, exactly as deposited
    expires_at: int  # seconds since the epoch; purged after this


@dataclass(frozen=True, slots=True)
class DepositOutcome:
    """The result of depositing one envelope into one mailbox."""

    mailbox: MailboxId
    envelope_id: int | None  # set when stored durably
    error: StoreError | None  # set when refused (UnknownMailbox, QuotaExceeded)


@dataclass(frozen=True, slots=True)
class SignedPrekey:
    prekey_id: int  # u32 chosen by the owner
    public_key: bytes  # X25519, 32 bytes
    signature: bytes  # Ed25519 by the identity key over public_key (64 bytes)


@dataclass(frozen=True, slots=True)
class OneTimePrekey:
    prekey_id: int  # u32 chosen by the owner, unique per identity
    public_key: bytes  # X25519, 32 bytes


@dataclass(frozen=True, slots=True)
class PrekeyBundleRecord:
    """What a fetch hands out: the signed prekey and at most one one-time prekey."""

    identity: MailboxId
    signed_prekey: SignedPrekey
    one_time_prekey: OneTimePrekey | None  # removed from the store before this is returned
    one_time_remaining: int  # one-time prekeys left after this fetch


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    identity: MailboxId
    display_name: str


@dataclass(frozen=True, slots=True)
class AccountDeletion:
    """How much was deleted with an account; the server signs this as a receipt."""

    identity: MailboxId
    envelopes: int
    one_time_prekeys: int
    blobs: int
    directory_entry: bool


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    envelopes: int
    blobs: int


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """Quotas enforced by the store itself (the server enforces rates and frame sizes)."""

    mailbox_max_envelopes: int = 10_000
    mailbox_max_bytes: int = 256 * 1024 * 1024
    max_one_time_prekeys: int = 500
    blob_max_bytes: int = 100 * 1024 * 1024
    blob_quota_bytes_per_owner: int = 1024 * 1024 * 1024


class RelayStore(Protocol):
    """Everything the relay keeps. Async so a slow disk never blocks the event loop."""

    async def open(self) -> None:
        """Create or migrate the schema and start any background committer."""

    async def close(self) -> None:
        """Commit what is pending and release the storage."""

    # -- accounts and admission ------------------------------------------------------------
    async def register(self, identity: MailboxId) -> bool:
        """Create the identity's mailbox if missing; True when it was created now."""

    async def is_registered(self, identity: MailboxId) -> bool: ...

    async def add_invitation(self, code_hash: bytes, uses: int) -> None:
        """Store an invitation code (its SHA-256, never the code) usable ``uses`` times."""

    async def redeem_invitation(self, code_hash: bytes) -> bool:
        """Use up one use of an invitation atomically; False when unknown or used up."""

    async def delete_account(self, identity: MailboxId) -> AccountDeletion:
        """Delete the mailbox, its envelopes, prekeys, blobs and directory entry.

        Raises:
            UnknownMailbox: the identity is not registered.
        """

    # -- mailboxes --------------------------------------------------------------------------
    async def deposit(
        self, mailboxes: Sequence[MailboxId], envelope: bytes, expires_at: int
    ) -> list[DepositOutcome]:
        """Store ``envelope`` in each mailbox; one outcome per mailbox, in order."""

    async def fetch(
        self, mailbox: MailboxId, after_id: int, limit: int, now: int
    ) -> list[StoredEnvelope]:
        """Unexpired envelopes with ``envelope_id > after_id``, oldest first, at most ``limit``."""

    async def ack(self, mailbox: MailboxId, envelope_ids: Sequence[int]) -> int:
        """Delete these envelopes of this mailbox (others' ids are ignored); returns how many."""

    async def purge_expired(self, now: int) -> PurgeCounts:
        """Really delete expired envelopes and blobs (not just hide them)."""

    # -- prekeys ----------------------------------------------------------------------------
    async def publish_prekeys(
        self,
        identity: MailboxId,
        signed_prekey: SignedPrekey | None,
        one_time_prekeys: Sequence[OneTimePrekey],
    ) -> int:
        """Replace the signed prekey (when given) and add one-time prekeys.

        Returns the number of one-time prekeys now stored.

        Raises:
            UnknownMailbox: the identity is not registered.
            QuotaExceeded: the total would exceed ``max_one_time_prekeys``.
        """

    async def take_prekey_bundle(self, identity: MailboxId) -> PrekeyBundleRecord | None:
        """Return the bundle, consuming one one-time prekey atomically; None if none published."""

    # -- blobs ------------------------------------------------------------------------------
    async def create_blob(
        self, owner: MailboxId, blob_id: bytes, size: int, expires_at: int
    ) -> None:
        """Reserve a blob of ``size`` bytes.

        Raises:
            QuotaExceeded: ``size`` is over ``blob_max_bytes`` or the owner's quota.
        """

    async def put_blob_chunk(
        self, owner: MailboxId, blob_id: bytes, offset: int, data: bytes
    ) -> int:
        """Write a chunk at ``offset`` (in order); returns the bytes received so far.

        Raises:
            UnknownBlob: no such blob of this owner, or the chunk is out of order or too long.
        """

    async def read_blob(self, blob_id: bytes, offset: int, length: int, now: int) -> bytes:
        """Read part of a complete, unexpired blob.

        Raises:
            UnknownBlob: no such complete blob, or it expired.
        """

    async def delete_blob(self, owner: MailboxId, blob_id: bytes) -> bool: ...

    # -- directory (opt-in) -----------------------------------------------------------------
    async def directory_publish(self, identity: MailboxId, display_name: str) -> None: ...

    async def directory_remove(self, identity: MailboxId) -> bool: ...

    async def directory_search(self, query: str, limit: int) -> list[DirectoryEntry]: ...
