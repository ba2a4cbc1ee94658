"""The SQL of each relay store operation, run on a connection inside a transaction.

Write functions run on the writer thread inside a batch's SAVEPOINT: raising a
:class:`~relay.store.base.StoreError` rolls back everything the function changed, and only
that. Read functions run on a read-only connection. Arguments were checked by
:mod:`relay.store.sqlite`; the schema is :mod:`relay.store.schema`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Final

from relay.store.base import (
    AccountDeletion,
    DepositOutcome,
    DirectoryEntry,
    MailboxId,
    OneTimePrekey,
    PrekeyBundleRecord,
    PurgeCounts,
    QuotaExceeded,
    SignedPrekey,
    StoredEnvelope,
    StoreError,
    StoreLimits,
    UnknownBlob,
    UnknownMailbox,
)

PURGE_ENVELOPES_PER_SLICE: Final = 5_000
PURGE_BLOBS_PER_SLICE: Final = 20  # a blob can be ~1,600 chunk rows


def _exists(connection: sqlite3.Connection, identity: MailboxId) -> bool:
    row = connection.execute("SELECT 1 FROM accounts WHERE identity = ?", (identity,)).fetchone()
    return row is not None


def _require_account(connection: sqlite3.Connection, identity: MailboxId) -> None:
    if not _exists(connection, identity):
        raise UnknownMailbox("this identity has no mailbox on this relay")


# -- accounts and admission ----------------------------------------------------------------
def register(connection: sqlite3.Connection, identity: MailboxId) -> bool:
    cursor = connection.execute(
        "INSERT INTO accounts (identity) VALUES (?) ON CONFLICT DO NOTHING", (identity,)
    )
    return cursor.rowcount == 1


def is_registered(connection: sqlite3.Connection, identity: MailboxId) -> bool:
    return _exists(connection, identity)


def add_invitation(connection: sqlite3.Connection, code_hash: bytes, uses: int) -> None:
    connection.execute(
        "INSERT INTO invitations (code_hash, uses_left) VALUES (?, ?)"
        " ON CONFLICT (code_hash) DO UPDATE SET uses_left = excluded.uses_left",
        (code_hash, uses),
    )


def redeem_invitation(connection: sqlite3.Connection, code_hash: bytes) -> bool:
    """Use one use up; the last use deletes the invitation."""
    last = connection.execute(
        "DELETE FROM invitations WHERE code_hash = ? AND uses_left = 1", (code_hash,)
    )
    if last.rowcount == 1:
        return True
    more = connection.execute(
        "UPDATE invitations SET uses_left = uses_left - 1 WHERE code_hash = ? AND uses_left > 1",
        (code_hash,),
    )
    return more.rowcount == 1


def delete_account(connection: sqlite3.Connection, identity: MailboxId) -> AccountDeletion:
    _require_account(connection, identity)
    envelopes = connection.execute("DELETE FROM envelopes WHERE identity = ?", (identity,))
    prekeys = connection.execute("DELETE FROM one_time_prekeys WHERE identity = ?", (identity,))
    connection.execute("DELETE FROM signed_prekeys WHERE identity = ?", (identity,))
    blobs = connection.execute("DELETE FROM blobs WHERE owner = ?", (identity,))  # + chunks
    entry = connection.execute("DELETE FROM directory WHERE identity = ?", (identity,))
    connection.execute("DELETE FROM accounts WHERE identity = ?", (identity,))
    return AccountDeletion(
        identity=identity,
        envelopes=envelopes.rowcount,
        one_time_prekeys=prekeys.rowcount,
        blobs=blobs.rowcount,
        directory_entry=entry.rowcount == 1,
    )


# -- mailboxes ----------------------------------------------------------------------------------
Deposit = tuple[Sequence[MailboxId], bytes, int]
"""One deposit: its mailboxes, the envelope and its expiry."""


def deposit_many(
    connection: sqlite3.Connection, limits: StoreLimits, deposits: Sequence[Deposit]
) -> list[list[DepositOutcome]]:
    """Store several deposits in order; one list of outcomes (one per mailbox) per deposit.

    Each mailbox is independent: a full or unknown one is refused, the others get the
    envelope. The counters of each mailbox are read once, kept here while ids are handed
    out and quotas checked, and written back once; the envelopes go in with one statement.
    """
    accounts: dict[MailboxId, list[int] | None] = {}  # [next id, count, bytes] or unknown
    rows: list[tuple[MailboxId, int, int, int, bytes]] = []
    results: list[list[DepositOutcome]] = []
    for mailboxes, envelope, expires_at in deposits:
        size = len(envelope)
        outcomes: list[DepositOutcome] = []
        for mailbox in mailboxes:
            if mailbox not in accounts:
                accounts[mailbox] = _counters(connection, mailbox)
            counters = accounts[mailbox]
            if (
                counters is None
                or counters[1] >= limits.mailbox_max_envelopes
                or counters[2] + size > limits.mailbox_max_bytes
            ):
                error: StoreError = (
                    UnknownMailbox("the recipient has no mailbox on this relay")
                    if counters is None
                    else QuotaExceeded("the recipient's mailbox is full")
                )
                outcomes.append(DepositOutcome(mailbox=mailbox, envelope_id=None, error=error))
                continue
            envelope_id = counters[0]
            counters[0] += 1
            counters[1] += 1
            counters[2] += size
            rows.append((mailbox, envelope_id, expires_at, size, envelope))
            outcomes.append(DepositOutcome(mailbox=mailbox, envelope_id=envelope_id, error=None))
        results.append(outcomes)
    connection.executemany(
        "INSERT INTO envelopes (identity, envelope_id, expires_at, size, envelope)"
        " VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    connection.executemany(
        "UPDATE accounts SET next_envelope_id = ?, envelope_count = ?, envelope_bytes = ?"
        " WHERE identity = ?",
        [(*counters, mailbox) for mailbox, counters in accounts.items() if counters is not None],
    )
    return results


def _counters(connection: sqlite3.Connection, mailbox: MailboxId) -> list[int] | None:
    row = connection.execute(
        "SELECT next_envelope_id, envelope_count, envelope_bytes FROM accounts WHERE identity = ?",
        (mailbox,),
    ).fetchone()
    return None if row is None else list(row)


def fetch(
    connection: sqlite3.Connection, mailbox: MailboxId, after_id: int, limit: int, now: int
) -> list[StoredEnvelope]:
    rows = connection.execute(
        "SELECT envelope_id, envelope, expires_at FROM envelopes"
        " WHERE identity = ? AND envelope_id > ? AND expires_at > ?"
        " ORDER BY envelope_id LIMIT ?",
        (mailbox, after_id, now, limit),
    ).fetchall()
    return [StoredEnvelope(envelope_id=i, envelope=e, expires_at=x) for i, e, x in rows]


def ack(connection: sqlite3.Connection, mailbox: MailboxId, envelope_ids: Sequence[int]) -> int:
    sizes = connection.execute(
        "DELETE FROM envelopes WHERE identity = ?"
        " AND envelope_id IN (SELECT value FROM json_each(?)) RETURNING size",
        (mailbox, json.dumps(list(envelope_ids))),
    ).fetchall()
    _uncount(connection, [(mailbox, size) for (size,) in sizes])
    return len(sizes)


def _uncount(connection: sqlite3.Connection, deleted: Sequence[tuple[MailboxId, int]]) -> None:
    """Take deleted envelopes (mailbox, size) off their mailboxes' counters."""
    totals: dict[MailboxId, list[int]] = {}
    for mailbox, size in deleted:
        total = totals.setdefault(mailbox, [0, 0])
        total[0] += 1
        total[1] += size
    connection.executemany(
        "UPDATE accounts SET envelope_count = envelope_count - ?, "
        " envelope_bytes = envelope_bytes - ? WHERE identity = ?",
        [(count, size, mailbox) for mailbox, (count, size) in totals.items()],
    )


def purge_slice(connection: sqlite3.Connection, now: int) -> PurgeCounts:
    """Delete a bounded number of expired envelopes and blobs (with their chunks)."""
    envelopes = connection.execute(
        "DELETE FROM envelopes WHERE rowid IN"
        " (SELECT rowid FROM envelopes WHERE expires_at <= ? LIMIT ?) RETURNING identity, size",
        (now, PURGE_ENVELOPES_PER_SLICE),
    ).fetchall()
    _uncount(connection, envelopes)
    blobs = connection.execute(
        "DELETE FROM blobs WHERE blob_seq IN"
        " (SELECT blob_seq FROM blobs WHERE expires_at <= ? LIMIT ?)",
        (now, PURGE_BLOBS_PER_SLICE),
    )
    return PurgeCounts(envelopes=len(envelopes), blobs=blobs.rowcount)


def slice_was_full(counts: PurgeCounts) -> bool:
    """True when a purge slice hit a bound, so more may be left to purge."""
    return counts.envelopes >= PURGE_ENVELOPES_PER_SLICE or counts.blobs >= PURGE_BLOBS_PER_SLICE


# -- prekeys ------------------------------------------------------------------------------------
def publish_prekeys(
    connection: sqlite3.Connection,
    limits: StoreLimits,
    identity: MailboxId,
    signed_prekey: SignedPrekey | None,
    one_time_prekeys: Sequence[OneTimePrekey],
) -> int:
    _require_account(connection, identity)
    if signed_prekey is not None:
        connection.execute(
            "INSERT INTO signed_prekeys (identity, prekey_id, public_key, signature)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (identity) DO UPDATE SET"
            " prekey_id = excluded.prekey_id, public_key = excluded.public_key,"
            " signature = excluded.signature",
            (identity, signed_prekey.prekey_id, signed_prekey.public_key, signed_prekey.signature),
        )
    connection.executemany(
        "INSERT INTO one_time_prekeys (identity, prekey_id, public_key) VALUES (?, ?, ?)"
        " ON CONFLICT (identity, prekey_id) DO UPDATE SET public_key = excluded.public_key",
        [(identity, prekey.prekey_id, prekey.public_key) for prekey in one_time_prekeys],
    )
    stored = _one_time_count(connection, identity)
    if stored > limits.max_one_time_prekeys:
        raise QuotaExceeded(
            f"at most {limits.max_one_time_prekeys} one-time prekeys can be stored;"
            f" this would make {stored}"
        )
    return stored


def _one_time_count(connection: sqlite3.Connection, identity: MailboxId) -> int:
    row = connection.execute(
        "SELECT count(*) FROM one_time_prekeys WHERE identity = ?", (identity,)
    ).fetchone()
    return int(row[0])


def take_prekey_bundle(
    connection: sqlite3.Connection, identity: MailboxId
) -> PrekeyBundleRecord | None:
    signed = connection.execute(
        "SELECT prekey_id, public_key, signature FROM signed_prekeys WHERE identity = ?",
        (identity,),
    ).fetchone()
    if signed is None:
        return None
    taken = connection.execute(
        "DELETE FROM one_time_prekeys WHERE rowid ="
        " (SELECT rowid FROM one_time_prekeys WHERE identity = ? ORDER BY rowid LIMIT 1)"
        " RETURNING prekey_id, public_key",
        (identity,),
    ).fetchall()
    one_time = OneTimePrekey(prekey_id=taken[0][0], public_key=taken[0][1]) if taken else None
    return PrekeyBundleRecord(
        identity=identity,
        signed_prekey=SignedPrekey(prekey_id=signed[0], public_key=signed[1], signature=signed[2]),
        one_time_prekey=one_time,
        one_time_remaining=_one_time_count(connection, identity),
    )


# -- blobs --------------------------------------------------------------------------------------
def create_blob(
    connection: sqlite3.Connection,
    limits: StoreLimits,
    owner: MailboxId,
    blob_id: bytes,
    size: int,
    expires_at: int,
) -> None:
    if size > limits.blob_max_bytes:
        raise QuotaExceeded(f"a blob can be at most {limits.blob_max_bytes} bytes")
    _require_account(connection, owner)
    existing = connection.execute(
        "SELECT owner, size FROM blobs WHERE blob_id = ?", (blob_id,)
    ).fetchone()
    if existing is not None:
        if existing[0] == owner and existing[1] == size:
            return  # the same request again
        raise StoreError("this blob id is already in use; choose another")
    used = connection.execute(
        "SELECT coalesce(sum(size), 0) FROM blobs WHERE owner = ?", (owner,)
    ).fetchone()[0]
    if used + size > limits.blob_quota_bytes_per_owner:
        raise QuotaExceeded(
            f"this account's blob space is full ({used} of"
            f" {limits.blob_quota_bytes_per_owner} bytes used)"
        )
    connection.execute(
        "INSERT INTO blobs (blob_id, owner, size, expires_at) VALUES (?, ?, ?, ?)",
        (blob_id, owner, size, expires_at),
    )


def put_blob_chunk(
    connection: sqlite3.Connection, owner: MailboxId, blob_id: bytes, offset: int, data: bytes
) -> int:
    row = connection.execute(
        "SELECT blob_seq, size, received FROM blobs WHERE blob_id = ? AND owner = ?",
        (blob_id, owner),
    ).fetchone()
    if row is None:
        raise UnknownBlob("this account has no such blob")
    blob_seq, size, received = row
    if offset != received:
        raise UnknownBlob(f"blob chunks go in order: the next one starts at byte {received}")
    if received + len(data) > size:
        raise UnknownBlob(f"the chunk goes past the blob's declared size of {size} bytes")
    if data:
        connection.execute(
            "INSERT INTO blob_chunks (blob_seq, chunk_offset, chunk_size, data)"
            " VALUES (?, ?, ?, ?)",
            (blob_seq, offset, len(data), data),
        )
        connection.execute(
            "UPDATE blobs SET received = received + ? WHERE blob_seq = ?", (len(data), blob_seq)
        )
    return int(received + len(data))


def read_blob(
    connection: sqlite3.Connection, blob_id: bytes, offset: int, length: int, now: int
) -> bytes:
    connection.execute("BEGIN")  # one snapshot: the blob and its chunks agree
    try:
        row = connection.execute(
            "SELECT blob_seq, size, received, expires_at FROM blobs WHERE blob_id = ?",
            (blob_id,),
        ).fetchone()
        if row is None or row[2] < row[1] or row[3] <= now:
            raise UnknownBlob("no such blob, or it is not complete yet, or it expired")
        blob_seq, size = row[0], row[1]
        end = min(offset + length, size)
        if offset >= end:
            return b""
        chunks = connection.execute(
            "SELECT chunk_offset, data FROM blob_chunks WHERE blob_seq = ?"
            " AND chunk_offset < ? AND chunk_offset + chunk_size > ? ORDER BY chunk_offset",
            (blob_seq, end, offset),
        ).fetchall()
        return b"".join(data[max(offset - start, 0) : end - start] for start, data in chunks)
    finally:
        connection.execute("COMMIT")


def delete_blob(connection: sqlite3.Connection, owner: MailboxId, blob_id: bytes) -> bool:
    cursor = connection.execute(
        "DELETE FROM blobs WHERE blob_id = ? AND owner = ?", (blob_id, owner)
    )
    return cursor.rowcount == 1


# -- directory ----------------------------------------------------------------------------------
def directory_publish(
    connection: sqlite3.Connection, identity: MailboxId, display_name: str, folded_name: str
) -> None:
    _require_account(connection, identity)
    connection.execute(
        "INSERT INTO directory (identity, display_name, folded_name) VALUES (?, ?, ?)"
        " ON CONFLICT (identity) DO UPDATE SET"
        " display_name = excluded.display_name, folded_name = excluded.folded_name",
        (identity, display_name, folded_name),
    )


def directory_remove(connection: sqlite3.Connection, identity: MailboxId) -> bool:
    cursor = connection.execute("DELETE FROM directory WHERE identity = ?", (identity,))
    return cursor.rowcount == 1


def directory_search(
    connection: sqlite3.Connection, folded_query: str, limit: int
) -> list[DirectoryEntry]:
    """Substring match with ``instr`` (no LIKE, so ``%`` and ``_`` in a query are literal)."""
    rows = connection.execute(
        "SELECT identity, display_name FROM directory WHERE instr(folded_name, ?1) > 0"
        " ORDER BY instr(folded_name, ?1) = 1 DESC, folded_name, identity LIMIT ?2",
        (folded_query, limit),
    ).fetchall()
    return [DirectoryEntry(identity=identity, display_name=name) for identity, name in rows]
