"""The embedded relay store: one SQLite file in WAL mode with batched durable commits.

Every change goes through one writer thread (:class:`~relay.store.batch.BatchWriter`), which
commits whatever is queued in one fsync'd transaction and answers callers only after it; reads
run on read-only connections in worker threads. The SQL of each operation lives in
:mod:`relay.store.transactions`; this module checks arguments and routes the work.

Times are integer seconds since the epoch, passed in by the caller. Something expires at its
``expires_at``: it is invisible from that second on and purged by the next purge.
"""

from __future__ import annotations

import asyncio
import sqlite3
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TypeVar

from relay.store import transactions as tx
from relay.store.base import (
    AccountDeletion,
    DepositOutcome,
    DirectoryEntry,
    MailboxId,
    OneTimePrekey,
    PrekeyBundleRecord,
    PurgeCounts,
    SignedPrekey,
    StoredEnvelope,
    StoreError,
    StoreLimits,
)
from relay.store.batch import BatchWriter
from relay.store.connections import ReaderPool, connect_writer, create_private_file
from relay.store.schema import migrate

T = TypeVar("T")

INT64_MAX: Final = 2**63 - 1
U32_MAX: Final = 2**32 - 1
MAX_BLOB_ID_BYTES: Final = 64
DEFAULT_LIMITS: Final = StoreLimits()


class SQLiteRelayStore:
    """:class:`~relay.store.base.RelayStore` on one SQLite file.

    ``max_batch`` caps the operations committed together; ``readers`` is the number of read
    threads; ``busy_timeout_ms`` is how long a connection waits for another's lock.
    """

    def __init__(
        self,
        path: Path,
        limits: StoreLimits = DEFAULT_LIMITS,
        *,
        max_batch: int = 512,
        readers: int = 2,
        busy_timeout_ms: int = 10_000,
    ) -> None:
        self.path = path
        self.limits = limits
        self._max_batch = max_batch
        self._reader_count = readers
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: sqlite3.Connection | None = None  # the writer's, while open
        self._writer: BatchWriter | None = None  # set between open() and close()
        self._readers: ReaderPool | None = None  # set between open() and close()
        # One object, so that queued deposits are recognised as one kind and run together.
        self._deposit_many: Callable[
            [sqlite3.Connection, list[tx.Deposit]], list[list[DepositOutcome]]
        ] = lambda connection, deposits: tx.deposit_many(connection, limits, deposits)

    @property
    def commit_count(self) -> int:
        """Transactions committed since :meth:`open` (fewer than operations when batching)."""
        return self._writer.commits if self._writer is not None else 0

    async def open(self) -> None:
        """Create or migrate the schema and start the writer thread.

        Raises:
            StoreError: already open, the file is not a usable database, or it was written
                by a newer relay.
        """
        if self._writer is not None:
            raise StoreError("the relay store is already open")
        self._connection = await asyncio.to_thread(self._open_writer_connection)
        self._writer = BatchWriter(self._connection, self._max_batch)
        self._writer.start()
        self._readers = ReaderPool(self.path, self._reader_count, self._busy_timeout_ms)

    def _open_writer_connection(self) -> sqlite3.Connection:
        try:
            create_private_file(self.path)
        except OSError as error:
            raise StoreError(
                f"cannot create the relay database {self.path}: {error.strerror}"
            ) from error
        connection = connect_writer(self.path, self._busy_timeout_ms)
        try:
            migrate(connection)
        except sqlite3.Error as error:
            connection.close()
            raise StoreError(f"cannot migrate the relay database {self.path}: {error}") from error
        except BaseException:
            connection.close()
            raise
        return connection

    async def close(self) -> None:
        """Commit what is queued and close the file."""
        writer, readers, connection = self._writer, self._readers, self._connection
        self._writer = self._readers = self._connection = None
        if writer is None or readers is None or connection is None:
            return
        await asyncio.to_thread(_shut_down, writer, readers, connection)

    async def _write(
        self, operation: Callable[[sqlite3.Connection], T], *, checkpoint_after: bool = False
    ) -> T:
        if self._writer is None:
            raise StoreError("the relay store is not open")
        return await self._writer.submit(operation, checkpoint_after=checkpoint_after)

    async def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        if self._readers is None:
            raise StoreError("the relay store is not open")
        return await self._readers.run(query)

    # -- accounts and admission ------------------------------------------------------------
    async def register(self, identity: MailboxId) -> bool:
        """Create the identity's mailbox if missing; True when it was created now.

        Raises:
            StoreError: ``identity`` is not a 32-byte key.
        """
        _require_bytes(identity, 32, 32, "an identity key")
        return await self._write(lambda c: tx.register(c, identity))

    async def is_registered(self, identity: MailboxId) -> bool:
        return await self._read(lambda c: tx.is_registered(c, identity))

    async def add_invitation(self, code_hash: bytes, uses: int) -> None:
        """Store an invitation's SHA-256 usable ``uses`` times (replacing the count if known).

        Raises:
            StoreError: ``code_hash`` is not 32 bytes or ``uses`` is not a positive integer.
        """
        _require_bytes(code_hash, 32, 32, "an invitation hash")
        _require_int(uses, 1, INT64_MAX, "the number of uses of an invitation")
        await self._write(lambda c: tx.add_invitation(c, code_hash, uses))

    async def redeem_invitation(self, code_hash: bytes) -> bool:
        return await self._write(lambda c: tx.redeem_invitation(c, code_hash))

    async def delete_account(self, identity: MailboxId) -> AccountDeletion:
        """Delete everything of ``identity``; returns only once none of it is left in the
        database or its WAL.

        Raises:
            UnknownMailbox: the identity is not registered.
        """
        return await self._write(lambda c: tx.delete_account(c, identity), checkpoint_after=True)

    # -- mailboxes --------------------------------------------------------------------------
    async def deposit(
        self, mailboxes: Sequence[MailboxId], envelope: bytes, expires_at: int
    ) -> list[DepositOutcome]:
        """Store ``envelope`` in each mailbox; one outcome per mailbox, in order.

        Raises:
            StoreError: ``envelope`` is not bytes or ``expires_at`` is not an integer.
        """
        _require_bytes(envelope, 0, INT64_MAX, "an envelope")
        _require_int(expires_at, 0, INT64_MAX, "an expiry time")
        if self._writer is None:
            raise StoreError("the relay store is not open")
        deposit: tx.Deposit = (list(mailboxes), envelope, expires_at)
        return await self._writer.submit_grouped(self._deposit_many, deposit)

    async def fetch(
        self, mailbox: MailboxId, after_id: int, limit: int, now: int
    ) -> list[StoredEnvelope]:
        """Unexpired envelopes with ``envelope_id > after_id``, oldest first, at most ``limit``."""
        after_id = max(after_id, 0)
        if limit <= 0 or after_id >= INT64_MAX:
            return []
        limit = min(limit, INT64_MAX)
        now = min(max(now, 0), INT64_MAX)
        return await self._read(lambda c: tx.fetch(c, mailbox, after_id, limit, now))

    async def ack(self, mailbox: MailboxId, envelope_ids: Sequence[int]) -> int:
        """Delete these envelopes of this mailbox (others' ids are ignored); returns how many."""
        ids = {i for i in envelope_ids if type(i) is int and 0 < i <= INT64_MAX}
        if not ids:
            return 0
        return await self._write(lambda c: tx.ack(c, mailbox, sorted(ids)))

    async def purge_expired(self, now: int) -> PurgeCounts:
        """Really delete what expired at or before ``now``, in bounded slices so deposits keep
        flowing during a large purge, then truncate the WAL so no copy is left there."""
        now = min(max(now, 0), INT64_MAX)
        envelopes = blobs = 0
        while True:
            slice_counts = await self._write(lambda c: tx.purge_slice(c, now))
            envelopes += slice_counts.envelopes
            blobs += slice_counts.blobs
            if not tx.slice_was_full(slice_counts):
                break
        if envelopes or blobs:
            await self._write(_nothing, checkpoint_after=True)
        return PurgeCounts(envelopes=envelopes, blobs=blobs)

    # -- prekeys ----------------------------------------------------------------------------
    async def publish_prekeys(
        self,
        identity: MailboxId,
        signed_prekey: SignedPrekey | None,
        one_time_prekeys: Sequence[OneTimePrekey],
    ) -> int:
        """Replace the signed prekey (when given) and add one-time prekeys; a one-time prekey
        whose id is already stored replaces it (so a retried publish adds nothing twice).

        Returns the number of one-time prekeys now stored.

        Raises:
            UnknownMailbox: the identity is not registered.
            QuotaExceeded: the total would exceed ``max_one_time_prekeys``.
            StoreError: a prekey id is not a u32, or a key or signature has the wrong size.
        """
        if signed_prekey is not None:
            _require_int(signed_prekey.prekey_id, 0, U32_MAX, "a prekey id")
            _require_bytes(signed_prekey.public_key, 32, 32, "a signed prekey")
            _require_bytes(signed_prekey.signature, 64, 64, "a signed prekey's signature")
        one_time = list(one_time_prekeys)
        for prekey in one_time:
            _require_int(prekey.prekey_id, 0, U32_MAX, "a prekey id")
            _require_bytes(prekey.public_key, 32, 32, "a one-time prekey")
        return await self._write(
            lambda c: tx.publish_prekeys(c, self.limits, identity, signed_prekey, one_time)
        )

    async def take_prekey_bundle(self, identity: MailboxId) -> PrekeyBundleRecord | None:
        """Return the bundle, consuming the oldest one-time prekey atomically; None if no
        signed prekey was published."""
        return await self._write(lambda c: tx.take_prekey_bundle(c, identity))

    # -- blobs ------------------------------------------------------------------------------
    async def create_blob(
        self, owner: MailboxId, blob_id: bytes, size: int, expires_at: int
    ) -> None:
        """Reserve a blob of ``size`` bytes. Creating the same blob again (same owner, id and
        size) changes nothing, so a retried request is harmless.

        Raises:
            QuotaExceeded: ``size`` is over ``blob_max_bytes`` or the owner's quota.
            UnknownMailbox: the owner is not registered.
            StoreError: the id is taken by another blob, or an argument is malformed.
        """
        _require_bytes(blob_id, 1, MAX_BLOB_ID_BYTES, "a blob id")
        _require_int(size, 0, INT64_MAX, "a blob size")
        _require_int(expires_at, 0, INT64_MAX, "an expiry time")
        await self._write(
            lambda c: tx.create_blob(c, self.limits, owner, blob_id, size, expires_at)
        )

    async def put_blob_chunk(
        self, owner: MailboxId, blob_id: bytes, offset: int, data: bytes
    ) -> int:
        """Write a chunk at ``offset`` (in order); returns the bytes received so far.

        Raises:
            UnknownBlob: no such blob of this owner, or the chunk is out of order or too long.
            StoreError: ``data`` is not bytes or ``offset`` is not an integer.
        """
        _require_bytes(data, 0, INT64_MAX, "a blob chunk")
        _require_int(offset, 0, INT64_MAX, "a blob offset")
        return await self._write(lambda c: tx.put_blob_chunk(c, owner, blob_id, offset, data))

    async def read_blob(self, blob_id: bytes, offset: int, length: int, now: int) -> bytes:
        """Read up to ``length`` bytes at ``offset`` of a complete, unexpired blob (fewer at
        its end, none past it).

        Raises:
            UnknownBlob: no such complete blob, or it expired.
            StoreError: ``offset`` or ``length`` is negative.
        """
        _require_int(offset, 0, INT64_MAX, "a blob offset")
        _require_int(length, 0, INT64_MAX, "a read length")
        now = min(max(now, 0), INT64_MAX)
        return await self._read(lambda c: tx.read_blob(c, blob_id, offset, length, now))

    async def delete_blob(self, owner: MailboxId, blob_id: bytes) -> bool:
        return await self._write(lambda c: tx.delete_blob(c, owner, blob_id))

    # -- directory (opt-in) -----------------------------------------------------------------
    async def directory_publish(self, identity: MailboxId, display_name: str) -> None:
        """Publish or replace the identity's display name.

        Raises:
            UnknownMailbox: the identity is not registered.
            StoreError: the name is blank or not valid Unicode text.
        """
        _require_text(display_name, "a display name")
        name = display_name.strip()
        if not name:
            raise StoreError("a display name must not be blank")
        folded = fold(name)
        await self._write(lambda c: tx.directory_publish(c, identity, name, folded))

    async def directory_remove(self, identity: MailboxId) -> bool:
        return await self._write(lambda c: tx.directory_remove(c, identity))

    async def directory_search(self, query: str, limit: int) -> list[DirectoryEntry]:
        """Entries whose name contains ``query`` (ignoring case and Unicode compatibility
        forms), names starting with it first; a blank query finds nothing.

        Raises:
            StoreError: the query is not valid Unicode text.
        """
        _require_text(query, "a search query")
        if limit <= 0:
            return []
        folded = fold(query.strip())
        if not folded:
            return []
        limit = min(limit, INT64_MAX)
        return await self._read(lambda c: tx.directory_search(c, folded, limit))


def fold(text: str) -> str:
    """The form names are matched in: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def _nothing(connection: sqlite3.Connection) -> None:
    """An empty operation, to have the writer truncate the WAL after its batch."""


def _shut_down(writer: BatchWriter, readers: ReaderPool, connection: sqlite3.Connection) -> None:
    """Stop reads, commit queued writes, close. The last connection to close (this one, unless
    another process has the file open) checkpoints the WAL and removes it."""
    readers.close()
    writer.close()
    try:
        connection.execute("PRAGMA optimize")
    finally:
        connection.close()


def _require_bytes(value: object, least: int, most: int, what: str) -> None:
    if type(value) is not bytes:
        raise StoreError(f"{what} must be bytes")
    if not least <= len(value) <= most:
        size = f"{least} bytes" if least == most else f"{least} to {most} bytes"
        raise StoreError(f"{what} must be {size} long, not {len(value)}")


def _require_text(value: object, what: str) -> None:
    if type(value) is not str:
        raise StoreError(f"{what} must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(f"{what} must be valid Unicode text") from None


def _require_int(value: object, least: int, most: int, what: str) -> None:
    if type(value) is not int or not least <= value <= most:
        raise StoreError(f"{what} must be an integer from {least} to {most}")
