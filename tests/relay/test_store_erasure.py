"""Deleted data really leaves the disk: neither the database file nor its WAL keeps a copy.

A canary is written through every kind of record an account has; after the deletion (or the
purge) the raw bytes of ``relay.db``, ``relay.db-wal`` and ``relay.db-shm`` must not contain
it. Each test first checks the canary IS on disk, so it cannot pass by looking in the wrong
place.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from relay.store.base import OneTimePrekey, SignedPrekey
from relay.store.sqlite import SQLiteRelayStore

CANARY = b"SOURDINE-CANARY-5b1f0c"
ALICE = hashlib.sha256(b"alice's identity key").digest()
BOB = hashlib.sha256(b"bob's identity key").digest()
NOW = 1_700_000_000
LATER = NOW + 14 * 86_400
TABLES_BY_IDENTITY = {
    "accounts": "identity",
    "envelopes": "identity",
    "signed_prekeys": "identity",
    "one_time_prekeys": "identity",
    "blobs": "owner",
    "directory": "identity",
}


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def on_disk(path: Path) -> bytes:
    """The raw bytes of the database and every file SQLite keeps beside it."""
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        if candidate.exists()
    )


def canary_blob(n: int, size: int) -> bytes:
    return (CANARY + b"#%d#" % n) * (size // len(CANARY) + 1)


async def _fill_account(store: SQLiteRelayStore, identity: bytes) -> None:
    await store.register(identity)
    await store.deposit([identity], CANARY + b" small envelope", LATER)
    await store.deposit([identity], canary_blob(1, 20_000), LATER)  # spills to overflow pages
    spk = SignedPrekey(prekey_id=1, public_key=CANARY.ljust(32, b"S"), signature=bytes(64))
    opks = [OneTimePrekey(prekey_id=n, public_key=CANARY.ljust(32, b"%d" % n)) for n in range(5)]
    await store.publish_prekeys(identity, spk, opks)
    await store.create_blob(identity, CANARY + b"-blob-id", 30_000, LATER)
    await store.put_blob_chunk(identity, CANARY + b"-blob-id", 0, canary_blob(2, 30_000)[:30_000])
    await store.directory_publish(identity, CANARY.decode() + " Alice")


@run_async
async def test_a_deleted_account_leaves_nothing_in_the_database_or_its_wal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "relay.db"
    store = SQLiteRelayStore(path)
    await store.open()
    await store.register(BOB)
    await store.deposit([BOB], b"bob keeps this envelope", LATER)
    await _fill_account(store, ALICE)
    assert on_disk(path).count(CANARY) > 0 and on_disk(path).count(ALICE) > 0

    await store.delete_account(ALICE)

    raw = on_disk(path)  # the store is still open: this is what an intruder could copy now
    assert raw.count(CANARY) == 0
    assert raw.count(ALICE) == 0
    assert raw.count(BOB) > 0
    reader = sqlite3.connect(path)
    for table, column in TABLES_BY_IDENTITY.items():
        query = f"SELECT count(*) FROM {table} WHERE {column} = ?"  # fixed names, no input
        assert reader.execute(query, (ALICE,)).fetchone()[0] == 0, table
    assert reader.execute("SELECT count(*) FROM blob_chunks").fetchone()[0] == 0
    reader.close()
    assert [e.envelope for e in await store.fetch(BOB, 0, 10, NOW)] == [b"bob keeps this envelope"]
    await store.close()
    assert on_disk(path).count(CANARY) == 0


@run_async
async def test_purged_envelopes_and_blobs_leave_nothing_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "relay.db"
    store = SQLiteRelayStore(path)
    await store.open()
    await store.register(ALICE)
    await store.deposit([ALICE], CANARY + b" expires soon", NOW + 1)
    await store.deposit([ALICE], canary_blob(3, 10_000), NOW + 1)
    await store.deposit([ALICE], b"still valid", LATER)
    await store.create_blob(ALICE, b"short-lived", 5_000, NOW + 1)
    await store.put_blob_chunk(ALICE, b"short-lived", 0, canary_blob(4, 5_000)[:5_000])
    assert on_disk(path).count(CANARY) > 0

    counts = await store.purge_expired(NOW + 1)

    assert (counts.envelopes, counts.blobs) == (2, 1)
    assert on_disk(path).count(CANARY) == 0
    assert [e.envelope for e in await store.fetch(ALICE, 0, 10, NOW)] == [b"still valid"]
    await store.close()
