"""The SQLite relay store under concurrency: group commits, failure isolation, atomic takes."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from relay.store.base import (
    OneTimePrekey,
    QuotaExceeded,
    SignedPrekey,
    StoreError,
    StoreLimits,
    UnknownBlob,
    UnknownMailbox,
)
from relay.store.batch import BatchWriter
from relay.store.sqlite import SQLiteRelayStore

MAILBOXES = [bytes([n]) * 32 for n in (1, 2, 3)]
ALICE, BOB, CAROL = MAILBOXES
STRANGER = bytes([9]) * 32
NOW = 1_700_000_000
LATER = NOW + 14 * 86_400
SPK = SignedPrekey(prekey_id=1, public_key=b"k" * 32, signature=b"s" * 64)


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def opk(prekey_id: int) -> OneTimePrekey:
    return OneTimePrekey(prekey_id=prekey_id, public_key=prekey_id.to_bytes(32, "big"))


@run_async
async def test_concurrent_deposits_get_dense_increasing_ids_and_share_commits(
    tmp_path: Path,
) -> None:
    store = SQLiteRelayStore(tmp_path / "relay.db")
    await store.open()
    for mailbox in MAILBOXES:
        await store.register(mailbox)
    commits_before = store.commit_count

    outcomes = await asyncio.gather(
        *(store.deposit([MAILBOXES[n % 3]], b"message %d" % n, LATER) for n in range(900))
    )

    commits = store.commit_count - commits_before
    assert commits <= 20, f"900 deposits took {commits} commits"
    for box in range(3):
        ids = [outcomes[n][0].envelope_id for n in range(box, 900, 3)]
        assert ids == list(range(1, 301))  # in the order they were issued, no gap, no repeat
    await store.close()

    reopened = SQLiteRelayStore(tmp_path / "relay.db")
    await reopened.open()
    for box, mailbox in enumerate(MAILBOXES):
        stored = await reopened.fetch(mailbox, 0, 1000, NOW)
        assert [e.envelope for e in stored] == [b"message %d" % n for n in range(box, 900, 3)]
    await reopened.close()


@run_async
async def test_deposits_committed_together_respect_the_quota_exactly(tmp_path: Path) -> None:
    store = SQLiteRelayStore(tmp_path / "relay.db", StoreLimits(mailbox_max_envelopes=5))
    await store.open()
    await store.register(ALICE)
    await store.register(BOB)

    outcomes = await asyncio.gather(
        *(store.deposit([ALICE, BOB] if n % 2 else [ALICE], b"m%d" % n, LATER) for n in range(12))
    )

    to_alice = [o[0] for o in outcomes]
    assert [o.envelope_id for o in to_alice] == [1, 2, 3, 4, 5] + [None] * 7
    assert all(isinstance(o.error, QuotaExceeded) for o in to_alice[5:])
    to_bob = [o[1] for o in outcomes if len(o) == 2]
    assert [o.envelope_id for o in to_bob] == [1, 2, 3, 4, 5, None]
    assert [e.envelope for e in await store.fetch(ALICE, 0, 10, NOW)] == [
        b"m%d" % n for n in range(5)
    ]
    assert [e.envelope for e in await store.fetch(BOB, 0, 10, NOW)] == [
        b"m%d" % n for n in (1, 3, 5, 7, 9)
    ]
    await store.close()


@run_async
async def test_a_failing_operation_does_not_spoil_the_rest_of_its_batch(tmp_path: Path) -> None:
    limits = StoreLimits(mailbox_max_envelopes=2, max_one_time_prekeys=3)
    store = SQLiteRelayStore(tmp_path / "relay.db", limits)
    await store.open()
    for mailbox in MAILBOXES:
        await store.register(mailbox)
    await store.deposit([CAROL], b"fills carol's mailbox", LATER)
    await store.deposit([CAROL], b"to the brim", LATER)
    await store.publish_prekeys(ALICE, SPK, [opk(1), opk(2)])
    await store.create_blob(ALICE, b"blob", 4, LATER)

    # Another connection holds the write lock, so the writer is stuck on its first operation
    # while the rest queue up behind it: they must all land in the next, single, batch.
    blocker = sqlite3.connect(tmp_path / "relay.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    first = asyncio.ensure_future(store.deposit([ALICE], b"first", LATER))
    await asyncio.sleep(0.2)
    commits_before = store.commit_count
    batch = asyncio.gather(
        store.deposit([BOB], b"ok 1", LATER),
        store.publish_prekeys(ALICE, None, [opk(3), opk(4)]),  # writes rows, then over quota
        store.deposit([CAROL, STRANGER, BOB], b"ok 2 for bob only", LATER),
        store.put_blob_chunk(ALICE, b"blob", 2, b"zz"),  # out of order
        store.delete_account(STRANGER),
        store.put_blob_chunk(ALICE, b"blob", 0, b"abcd"),
        store.register(STRANGER),
        return_exceptions=True,
    )
    await asyncio.sleep(0.2)
    blocker.execute("ROLLBACK")
    blocker.close()
    await first
    results = await batch

    assert store.commit_count - commits_before == 2  # the first operation's, then the batch
    ok_1, prekeys, ok_2, bad_chunk, no_account, good_chunk, registered = results
    assert isinstance(prekeys, QuotaExceeded)
    assert isinstance(bad_chunk, UnknownBlob)
    assert isinstance(no_account, UnknownMailbox)
    assert isinstance(ok_1, list) and ok_1[0].envelope_id == 1
    assert isinstance(ok_2, list)
    assert [type(o.error) for o in ok_2] == [QuotaExceeded, UnknownMailbox, type(None)]
    assert ok_2[2].envelope_id == 2
    assert good_chunk == 4
    assert registered is True
    bundle = await store.take_prekey_bundle(ALICE)
    assert bundle is not None and bundle.one_time_remaining == 1  # 2 published, none added
    assert [e.envelope for e in await store.fetch(BOB, 0, 10, NOW)] == [
        b"ok 1",
        b"ok 2 for bob only",
    ]
    assert await store.read_blob(b"blob", 0, 4, NOW) == b"abcd"
    await store.close()


@run_async
async def test_the_batch_writer_rolls_back_only_the_operation_that_raised(tmp_path: Path) -> None:
    connection = sqlite3.connect(
        tmp_path / "plain.db", isolation_level=None, check_same_thread=False
    )
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    writer = BatchWriter(connection, max_batch=100)

    def insert(value: int) -> Callable[[sqlite3.Connection], int]:
        def operation(c: sqlite3.Connection) -> int:
            c.execute("INSERT INTO t VALUES (?)", (value,))
            return value

        return operation

    def insert_then_fail(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO t VALUES (666)")
        raise RuntimeError("bug in an operation")

    def database_error(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO t VALUES (NULL)")  # NOT NULL constraint

    batch = asyncio.gather(
        writer.submit(insert(1)),
        writer.submit(insert_then_fail),
        writer.submit(insert(2)),
        writer.submit(database_error),
        writer.submit(insert(3)),
        return_exceptions=True,
    )
    await asyncio.sleep(0.05)  # all five are queued before the thread starts: one batch
    writer.start()
    results = await batch
    assert list(results[0::2]) == [1, 2, 3]
    assert isinstance(results[1], RuntimeError)
    assert isinstance(results[3], StoreError) and "nothing was stored" in str(results[3])
    assert isinstance(results[3].__cause__, sqlite3.IntegrityError)
    await asyncio.to_thread(writer.close)
    assert writer.commits == 1
    assert connection.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,), (3,)]
    with pytest.raises(StoreError, match="closed"):
        await writer.submit(insert(4))
    connection.close()


@run_async
async def test_concurrent_bundle_fetches_never_share_a_one_time_prekey(tmp_path: Path) -> None:
    store = SQLiteRelayStore(tmp_path / "relay.db")
    await store.open()
    await store.register(ALICE)
    await store.publish_prekeys(ALICE, SPK, [opk(n) for n in range(60)])

    bundles = await asyncio.gather(*(store.take_prekey_bundle(ALICE) for _ in range(100)))

    handed_out = [b.one_time_prekey.prekey_id for b in bundles if b and b.one_time_prekey]
    assert sorted(handed_out) == list(range(60))
    assert sum(1 for b in bundles if b is not None and b.one_time_prekey is None) == 40
    assert sorted(b.one_time_remaining for b in bundles if b and b.one_time_prekey) == list(
        range(60)
    )
    await store.close()


@run_async
async def test_two_stores_on_one_file_never_hand_out_the_same_prekey(tmp_path: Path) -> None:
    first = SQLiteRelayStore(tmp_path / "relay.db")
    await first.open()
    second = SQLiteRelayStore(tmp_path / "relay.db")
    await second.open()
    await first.register(ALICE)
    await first.publish_prekeys(ALICE, SPK, [opk(n) for n in range(50)])

    bundles = await asyncio.gather(
        *(store.take_prekey_bundle(ALICE) for _ in range(40) for store in (first, second))
    )

    handed_out = [b.one_time_prekey.prekey_id for b in bundles if b and b.one_time_prekey]
    assert sorted(handed_out) == list(range(50))
    assert len(bundles) == 80
    await first.close()
    await second.close()


@run_async
async def test_a_cancelled_caller_leaves_the_store_working(tmp_path: Path) -> None:
    store = SQLiteRelayStore(tmp_path / "relay.db")
    await store.open()
    await store.register(ALICE)
    waiting = asyncio.ensure_future(store.deposit([ALICE], b"impatient", LATER))
    await asyncio.sleep(0)
    waiting.cancel()
    (outcome,) = await store.deposit([ALICE], b"patient", LATER)
    stored = [e.envelope for e in await store.fetch(ALICE, 0, 10, NOW)]
    # The cancelled deposit may or may not have committed; the next one always does.
    assert stored[-1] == b"patient"
    assert outcome.envelope_id == len(stored)
    await store.close()
