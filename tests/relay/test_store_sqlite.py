"""The SQLite relay store, method by method, on real database files.

Every test runs its coroutine with ``asyncio.run`` (no async test plugin needed) against a
fresh file in ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
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
from relay.store.schema import SCHEMA_VERSION
from relay.store.sqlite import SQLiteRelayStore

ALICE = bytes([1]) * 32
BOB = bytes([2]) * 32
CAROL = bytes([3]) * 32
STRANGER = bytes([9]) * 32
NOW = 1_700_000_000
LATER = NOW + 14 * 86_400


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


@asynccontextmanager
async def opened(
    tmp_path: Path, limits: StoreLimits | None = None, *accounts: bytes
) -> AsyncIterator[SQLiteRelayStore]:
    store = SQLiteRelayStore(tmp_path / "relay.db", limits or StoreLimits())
    await store.open()
    try:
        for identity in accounts:
            await store.register(identity)
        yield store
    finally:
        await store.close()


def spk(prekey_id: int, fill: int) -> SignedPrekey:
    return SignedPrekey(prekey_id=prekey_id, public_key=bytes([fill]) * 32, signature=b"s" * 64)


def opk(prekey_id: int) -> OneTimePrekey:
    return OneTimePrekey(prekey_id=prekey_id, public_key=prekey_id.to_bytes(32, "big"))


# -- opening, schema ---------------------------------------------------------------------------
@run_async
async def test_a_new_database_has_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    async with opened(tmp_path):
        pass
    raw = sqlite3.connect(tmp_path / "relay.db")
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


@run_async
async def test_the_database_file_is_private_to_its_owner(tmp_path: Path) -> None:
    async with opened(tmp_path):
        assert (tmp_path / "relay.db").stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "relay.db-wal").stat().st_mode & 0o077 == 0


@run_async
async def test_a_database_from_a_newer_relay_is_refused_untouched(tmp_path: Path) -> None:
    raw = sqlite3.connect(tmp_path / "relay.db")
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    store = SQLiteRelayStore(tmp_path / "relay.db")
    with pytest.raises(StoreError, match="schema version 99"):
        await store.open()
    raw = sqlite3.connect(tmp_path / "relay.db")
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 99
    assert raw.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    raw.close()


@run_async
async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "relay.db").write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StoreError, match="cannot open the relay database"):
        await SQLiteRelayStore(tmp_path / "relay.db").open()


@run_async
async def test_a_database_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot create the relay database"):
        await SQLiteRelayStore(tmp_path / "missing-directory" / "relay.db").open()


@run_async
async def test_closing_folds_the_wal_into_the_database(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.deposit([ALICE], b"kept", LATER)
        assert (tmp_path / "relay.db-wal").exists()
    assert not (tmp_path / "relay.db-wal").exists()
    raw = sqlite3.connect(tmp_path / "relay.db")
    assert raw.execute("SELECT envelope FROM envelopes").fetchall() == [(b"kept",)]
    raw.close()


@run_async
async def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SQLiteRelayStore(tmp_path / "relay.db")
    with pytest.raises(StoreError, match="not open"):
        await store.register(ALICE)
    await store.open()
    with pytest.raises(StoreError, match="already open"):
        await store.open()
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.fetch(ALICE, 0, 10, NOW)
    await store.close()  # closing twice is harmless


# -- accounts and invitations ------------------------------------------------------------------
@run_async
async def test_register_creates_a_mailbox_once(tmp_path: Path) -> None:
    async with opened(tmp_path) as store:
        assert not await store.is_registered(ALICE)
        assert await store.register(ALICE) is True
        assert await store.register(ALICE) is False
        assert await store.is_registered(ALICE)
        assert not await store.is_registered(BOB)


@run_async
async def test_register_refuses_a_key_of_the_wrong_size(tmp_path: Path) -> None:
    async with opened(tmp_path) as store:
        with pytest.raises(StoreError, match="32 bytes"):
            await store.register(b"short")
        with pytest.raises(StoreError, match="must be bytes"):
            await store.register("a" * 32)  # type: ignore[arg-type]
        assert not await store.is_registered(b"short")


@run_async
async def test_an_invitation_is_good_for_exactly_its_uses(tmp_path: Path) -> None:
    code = bytes(range(32))
    async with opened(tmp_path) as store:
        await store.add_invitation(code, 2)
        assert await store.redeem_invitation(code) is True
        assert await store.redeem_invitation(code) is True
        assert await store.redeem_invitation(code) is False
        assert await store.redeem_invitation(bytes(32)) is False
        await store.add_invitation(code, 1)  # the operator hands it out again
        assert await store.redeem_invitation(code) is True
        assert await store.redeem_invitation(code) is False


@run_async
async def test_adding_an_invitation_again_sets_its_uses(tmp_path: Path) -> None:
    code = b"c" * 32
    async with opened(tmp_path) as store:
        await store.add_invitation(code, 5)
        await store.add_invitation(code, 1)
        assert await store.redeem_invitation(code) is True
        assert await store.redeem_invitation(code) is False


@run_async
async def test_malformed_invitations_are_refused(tmp_path: Path) -> None:
    async with opened(tmp_path) as store:
        with pytest.raises(StoreError, match="32 bytes"):
            await store.add_invitation(b"plain code", 1)
        with pytest.raises(StoreError, match="uses"):
            await store.add_invitation(b"c" * 32, 0)
        assert await store.redeem_invitation(b"c" * 32) is False


@run_async
async def test_delete_account_reports_what_it_deleted(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE, BOB) as store:
        await store.deposit([ALICE], b"one", LATER)
        await store.deposit([ALICE, BOB], b"two", LATER)
        await store.publish_prekeys(ALICE, spk(1, 7), [opk(1), opk(2), opk(3)])
        await store.create_blob(ALICE, b"blob-1", 3, LATER)
        await store.put_blob_chunk(ALICE, b"blob-1", 0, b"abc")
        await store.create_blob(ALICE, b"blob-2", 3, LATER)
        await store.directory_publish(ALICE, "Alice")

        deletion = await store.delete_account(ALICE)

        assert (deletion.identity, deletion.envelopes, deletion.one_time_prekeys) == (ALICE, 2, 3)
        assert (deletion.blobs, deletion.directory_entry) == (2, True)
        assert not await store.is_registered(ALICE)
        assert await store.fetch(ALICE, 0, 10, NOW) == []
        assert await store.take_prekey_bundle(ALICE) is None
        assert await store.directory_search("alice", 10) == []
        with pytest.raises(UnknownBlob):
            await store.read_blob(b"blob-1", 0, 3, NOW)
        assert [e.envelope for e in await store.fetch(BOB, 0, 10, NOW)] == [b"two"]
        with pytest.raises(UnknownMailbox):
            await store.delete_account(ALICE)


@run_async
async def test_delete_account_of_an_empty_account(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        deletion = await store.delete_account(ALICE)
        assert (deletion.envelopes, deletion.one_time_prekeys, deletion.blobs) == (0, 0, 0)
        assert deletion.directory_entry is False


# -- mailboxes ---------------------------------------------------------------------------------
@run_async
async def test_deposit_gives_one_outcome_per_mailbox_in_order(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE, BOB) as store:
        outcomes = await store.deposit([ALICE, STRANGER, BOB, ALICE], b"sealed", LATER)
        assert [o.mailbox for o in outcomes] == [ALICE, STRANGER, BOB, ALICE]
        assert [o.envelope_id for o in outcomes] == [1, None, 1, 2]
        assert isinstance(outcomes[1].error, UnknownMailbox)
        assert "no mailbox" in str(outcomes[1].error)
        assert [o.error for o in (outcomes[0], outcomes[2], outcomes[3])] == [None] * 3


@run_async
async def test_fetch_returns_envelopes_in_order_after_an_id_up_to_a_limit(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        for n in range(5):
            await store.deposit([ALICE], b"env-%d" % n, LATER + n)
        everything = await store.fetch(ALICE, 0, 100, NOW)
        assert [(e.envelope_id, e.envelope, e.expires_at) for e in everything] == [
            (n + 1, b"env-%d" % n, LATER + n) for n in range(5)
        ]
        assert [e.envelope_id for e in await store.fetch(ALICE, 2, 2, NOW)] == [3, 4]
        assert await store.fetch(ALICE, 5, 10, NOW) == []
        assert await store.fetch(ALICE, 0, 0, NOW) == []
        assert await store.fetch(BOB, 0, 10, NOW) == []


@run_async
async def test_fetch_hides_envelopes_from_their_expiry_on(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.deposit([ALICE], b"short", NOW + 10)
        await store.deposit([ALICE], b"long", NOW + 20)
        assert len(await store.fetch(ALICE, 0, 10, NOW + 9)) == 2
        assert [e.envelope for e in await store.fetch(ALICE, 0, 10, NOW + 10)] == [b"long"]
        assert await store.fetch(ALICE, 0, 10, NOW + 20) == []


@run_async
async def test_ack_deletes_only_the_owners_envelopes(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE, BOB) as store:
        for _ in range(3):
            await store.deposit([ALICE, BOB], b"x", LATER)
        assert await store.ack(ALICE, [1, 3, 3, 42, -1, 2**70]) == 2
        assert [e.envelope_id for e in await store.fetch(ALICE, 0, 10, NOW)] == [2]
        assert [e.envelope_id for e in await store.fetch(BOB, 0, 10, NOW)] == [1, 2, 3]
        assert await store.ack(ALICE, [1]) == 0  # already gone
        assert await store.ack(STRANGER, [2]) == 0
        assert await store.ack(ALICE, []) == 0


@run_async
async def test_envelope_ids_are_never_reused_after_an_ack(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.deposit([ALICE], b"a", LATER)
        await store.deposit([ALICE], b"b", LATER)
        await store.ack(ALICE, [1, 2])
        (outcome,) = await store.deposit([ALICE], b"c", LATER)
        assert outcome.envelope_id == 3


@run_async
async def test_mailbox_quota_by_count_is_exact(tmp_path: Path) -> None:
    limits = StoreLimits(mailbox_max_envelopes=3)
    async with opened(tmp_path, limits, ALICE) as store:
        for _ in range(3):
            (ok,) = await store.deposit([ALICE], b"x", LATER)
            assert ok.error is None
        (full,) = await store.deposit([ALICE], b"x", LATER)
        assert full.envelope_id is None
        assert isinstance(full.error, QuotaExceeded)
        assert "full" in str(full.error)
        await store.ack(ALICE, [2])
        (again,) = await store.deposit([ALICE], b"x", LATER)
        assert again.envelope_id == 4  # a refused deposit used no id


@run_async
async def test_mailbox_quota_by_bytes_is_exact(tmp_path: Path) -> None:
    limits = StoreLimits(mailbox_max_bytes=100)
    async with opened(tmp_path, limits, ALICE) as store:
        assert (await store.deposit([ALICE], b"a" * 60, LATER))[0].envelope_id == 1
        assert (await store.deposit([ALICE], b"b" * 40, LATER))[0].envelope_id == 2
        (over,) = await store.deposit([ALICE], b"c", LATER)
        assert isinstance(over.error, QuotaExceeded)
        await store.ack(ALICE, [1])
        (too_big,) = await store.deposit([ALICE], b"d" * 61, LATER)
        assert isinstance(too_big.error, QuotaExceeded)
        assert (await store.deposit([ALICE], b"e" * 60, LATER))[0].envelope_id == 3


@run_async
async def test_one_full_mailbox_does_not_stop_delivery_to_the_others(tmp_path: Path) -> None:
    async with opened(tmp_path, StoreLimits(mailbox_max_envelopes=1), ALICE, BOB) as store:
        await store.deposit([ALICE], b"first", LATER)
        outcomes = await store.deposit([ALICE, BOB], b"second", LATER)
        assert isinstance(outcomes[0].error, QuotaExceeded)
        assert outcomes[1].envelope_id == 1
        assert [e.envelope for e in await store.fetch(BOB, 0, 10, NOW)] == [b"second"]


@run_async
async def test_malformed_deposits_are_refused(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        with pytest.raises(StoreError, match="envelope must be bytes"):
            await store.deposit([ALICE], "text", LATER)  # type: ignore[arg-type]
        with pytest.raises(StoreError, match="expiry"):
            await store.deposit([ALICE], b"x", 2**64)
        assert await store.fetch(ALICE, 0, 10, NOW) == []


@run_async
async def test_purge_deletes_what_expired_and_frees_the_quota(tmp_path: Path) -> None:
    async with opened(tmp_path, StoreLimits(mailbox_max_envelopes=2), ALICE) as store:
        await store.deposit([ALICE], b"old", NOW + 5)
        await store.deposit([ALICE], b"new", NOW + 50)
        await store.create_blob(ALICE, b"old-blob", 1, NOW + 5)
        await store.create_blob(ALICE, b"new-blob", 1, NOW + 50)
        await store.put_blob_chunk(ALICE, b"new-blob", 0, b"n")

        counts = await store.purge_expired(NOW + 5)

        assert (counts.envelopes, counts.blobs) == (1, 1)
        assert [e.envelope for e in await store.fetch(ALICE, 0, 10, NOW)] == [b"new"]
        assert await store.read_blob(b"new-blob", 0, 1, NOW) == b"n"
        with pytest.raises(UnknownBlob):  # the id is free again: it can be created anew
            await store.put_blob_chunk(ALICE, b"old-blob", 0, b"o")
        assert (await store.deposit([ALICE], b"room", LATER))[0].envelope_id == 3
        assert (await store.purge_expired(NOW + 5)).envelopes == 0


@run_async
async def test_a_large_purge_removes_everything_in_slices(tmp_path: Path) -> None:
    async with opened(tmp_path, StoreLimits(mailbox_max_envelopes=20_000), ALICE) as store:
        await asyncio.gather(*(store.deposit([ALICE], b"e", NOW + 1) for _ in range(12_000)))
        await store.deposit([ALICE], b"kept", LATER)
        commits_before = store.commit_count
        counts = await store.purge_expired(NOW + 1)
        assert counts.envelopes == 12_000
        assert store.commit_count - commits_before >= 3  # deposits could run in between
        assert [e.envelope for e in await store.fetch(ALICE, 0, 10, NOW)] == [b"kept"]


# -- prekeys -----------------------------------------------------------------------------------
@run_async
async def test_a_bundle_hands_out_each_one_time_prekey_once_oldest_first(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        assert await store.take_prekey_bundle(ALICE) is None
        assert await store.publish_prekeys(ALICE, spk(7, 0xAA), [opk(30), opk(10)]) == 2
        first = await store.take_prekey_bundle(ALICE)
        second = await store.take_prekey_bundle(ALICE)
        third = await store.take_prekey_bundle(ALICE)
        assert first is not None and second is not None and third is not None
        assert first.identity == ALICE
        assert first.signed_prekey == spk(7, 0xAA)
        assert (first.one_time_prekey, first.one_time_remaining) == (opk(30), 1)
        assert (second.one_time_prekey, second.one_time_remaining) == (opk(10), 0)
        assert (third.one_time_prekey, third.one_time_remaining) == (None, 0)
        assert third.signed_prekey == spk(7, 0xAA)


@run_async
async def test_publishing_replaces_the_signed_prekey_and_adds_one_time_ones(
    tmp_path: Path,
) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.publish_prekeys(ALICE, spk(1, 1), [opk(1)])
        assert await store.publish_prekeys(ALICE, None, [opk(2)]) == 2
        assert await store.publish_prekeys(ALICE, spk(2, 2), []) == 2
        bundle = await store.take_prekey_bundle(ALICE)
        assert bundle is not None
        assert bundle.signed_prekey == spk(2, 2)
        assert bundle.one_time_prekey == opk(1)


@run_async
async def test_republishing_a_one_time_prekey_id_replaces_it(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.publish_prekeys(ALICE, spk(1, 1), [opk(1), opk(2)])
        replaced = OneTimePrekey(prekey_id=1, public_key=b"R" * 32)
        assert await store.publish_prekeys(ALICE, None, [replaced, opk(2)]) == 2
        bundle = await store.take_prekey_bundle(ALICE)
        assert bundle is not None and bundle.one_time_prekey == replaced


@run_async
async def test_the_one_time_prekey_cap_is_exact_and_all_or_nothing(tmp_path: Path) -> None:
    async with opened(tmp_path, StoreLimits(max_one_time_prekeys=5), ALICE) as store:
        assert await store.publish_prekeys(ALICE, spk(1, 1), [opk(i) for i in range(4)]) == 4
        with pytest.raises(QuotaExceeded, match="at most 5"):
            await store.publish_prekeys(ALICE, spk(2, 2), [opk(10), opk(11)])
        assert await store.publish_prekeys(ALICE, None, [opk(10)]) == 5
        bundle = await store.take_prekey_bundle(ALICE)
        assert bundle is not None
        assert bundle.signed_prekey == spk(1, 1)  # the refused call replaced nothing
        assert bundle.one_time_remaining == 4


@run_async
async def test_prekeys_of_an_unknown_identity_are_refused(tmp_path: Path) -> None:
    async with opened(tmp_path) as store:
        with pytest.raises(UnknownMailbox):
            await store.publish_prekeys(STRANGER, spk(1, 1), [opk(1)])
        assert await store.take_prekey_bundle(STRANGER) is None


@run_async
async def test_malformed_prekeys_are_refused_without_any_change(tmp_path: Path) -> None:
    bad_signature = SignedPrekey(prekey_id=1, public_key=b"k" * 32, signature=b"s" * 63)
    async with opened(tmp_path, None, ALICE) as store:
        with pytest.raises(StoreError, match="signature"):
            await store.publish_prekeys(ALICE, bad_signature, [opk(1)])
        with pytest.raises(StoreError, match="32 bytes"):
            await store.publish_prekeys(ALICE, None, [OneTimePrekey(1, b"short")])
        with pytest.raises(StoreError, match="prekey id"):
            await store.publish_prekeys(ALICE, None, [opk(2**32)])
        assert await store.take_prekey_bundle(ALICE) is None
        assert await store.publish_prekeys(ALICE, spk(1, 1), []) == 0


# -- blobs -------------------------------------------------------------------------------------
@run_async
async def test_a_blob_is_uploaded_in_order_then_readable_by_anyone(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.create_blob(ALICE, b"photo", 10, LATER)
        assert await store.put_blob_chunk(ALICE, b"photo", 0, b"0123") == 4
        with pytest.raises(UnknownBlob, match="not complete"):
            await store.read_blob(b"photo", 0, 4, NOW)
        assert await store.put_blob_chunk(ALICE, b"photo", 4, b"4567") == 8
        assert await store.put_blob_chunk(ALICE, b"photo", 8, b"89") == 10
        assert await store.read_blob(b"photo", 0, 10, NOW) == b"0123456789"
        assert await store.read_blob(b"photo", 3, 6, NOW) == b"345678"
        assert await store.read_blob(b"photo", 8, 100, NOW) == b"89"
        assert await store.read_blob(b"photo", 10, 5, NOW) == b""
        assert await store.read_blob(b"photo", 2, 0, NOW) == b""


@run_async
async def test_a_chunk_out_of_order_or_too_long_is_refused(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.create_blob(ALICE, b"doc", 6, LATER)
        await store.put_blob_chunk(ALICE, b"doc", 0, b"abc")
        with pytest.raises(UnknownBlob, match="starts at byte 3"):
            await store.put_blob_chunk(ALICE, b"doc", 0, b"abc")  # a resend
        with pytest.raises(UnknownBlob, match="starts at byte 3"):
            await store.put_blob_chunk(ALICE, b"doc", 4, b"e")
        with pytest.raises(UnknownBlob, match="declared size of 6"):
            await store.put_blob_chunk(ALICE, b"doc", 3, b"defg")
        assert await store.put_blob_chunk(ALICE, b"doc", 3, b"def") == 6
        with pytest.raises(UnknownBlob, match="declared size"):
            await store.put_blob_chunk(ALICE, b"doc", 6, b"g")
        assert await store.read_blob(b"doc", 0, 100, NOW) == b"abcdef"


@run_async
async def test_only_the_owner_writes_or_deletes_a_blob(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE, BOB) as store:
        await store.create_blob(ALICE, b"mine", 2, LATER)
        with pytest.raises(UnknownBlob, match="no such blob"):
            await store.put_blob_chunk(BOB, b"mine", 0, b"xx")
        assert await store.delete_blob(BOB, b"mine") is False
        assert await store.put_blob_chunk(ALICE, b"mine", 0, b"ok") == 2
        with pytest.raises(StoreError, match="already in use"):
            await store.create_blob(BOB, b"mine", 2, LATER)
        assert await store.delete_blob(ALICE, b"mine") is True
        assert await store.delete_blob(ALICE, b"mine") is False
        with pytest.raises(UnknownBlob):
            await store.read_blob(b"mine", 0, 2, NOW)


@run_async
async def test_creating_the_same_blob_again_changes_nothing(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.create_blob(ALICE, b"retry", 4, LATER)
        await store.put_blob_chunk(ALICE, b"retry", 0, b"ab")
        await store.create_blob(ALICE, b"retry", 4, LATER)
        assert await store.put_blob_chunk(ALICE, b"retry", 2, b"cd") == 4
        with pytest.raises(StoreError, match="already in use"):
            await store.create_blob(ALICE, b"retry", 5, LATER)


@run_async
async def test_an_expired_blob_cannot_be_read(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.create_blob(ALICE, b"brief", 1, NOW + 10)
        await store.put_blob_chunk(ALICE, b"brief", 0, b"!")
        assert await store.read_blob(b"brief", 0, 1, NOW + 9) == b"!"
        with pytest.raises(UnknownBlob, match="expired"):
            await store.read_blob(b"brief", 0, 1, NOW + 10)
        with pytest.raises(UnknownBlob):
            await store.read_blob(b"never-made", 0, 1, NOW)


@run_async
async def test_an_empty_blob_is_complete_at_once(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.create_blob(ALICE, b"empty", 0, LATER)
        assert await store.read_blob(b"empty", 0, 10, NOW) == b""
        assert await store.put_blob_chunk(ALICE, b"empty", 0, b"") == 0


@run_async
async def test_blob_size_and_owner_quota_are_exact(tmp_path: Path) -> None:
    limits = StoreLimits(blob_max_bytes=100, blob_quota_bytes_per_owner=150)
    async with opened(tmp_path, limits, ALICE, BOB) as store:
        with pytest.raises(QuotaExceeded, match="at most 100 bytes"):
            await store.create_blob(ALICE, b"huge", 101, LATER)
        await store.create_blob(ALICE, b"a", 100, LATER)
        await store.create_blob(ALICE, b"b", 50, LATER)
        with pytest.raises(QuotaExceeded, match="150 of 150"):
            await store.create_blob(ALICE, b"c", 1, LATER)
        await store.create_blob(BOB, b"d", 100, LATER)  # quotas are per owner
        await store.delete_blob(ALICE, b"b")
        await store.create_blob(ALICE, b"c", 50, LATER)


@run_async
async def test_blobs_need_a_registered_owner_and_sane_arguments(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        with pytest.raises(UnknownMailbox):
            await store.create_blob(STRANGER, b"x", 1, LATER)
        with pytest.raises(StoreError, match="blob id"):
            await store.create_blob(ALICE, b"", 1, LATER)
        with pytest.raises(StoreError, match="blob size"):
            await store.create_blob(ALICE, b"x", -1, LATER)
        with pytest.raises(StoreError, match="offset"):
            await store.read_blob(b"x", -1, 1, NOW)


# -- directory ---------------------------------------------------------------------------------
@run_async
async def test_directory_search_ignores_case_and_puts_prefixes_first(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE, BOB, CAROL) as store:
        await store.directory_publish(ALICE, "Annie Martin")
        await store.directory_publish(BOB, "Jean MARTIN")
        await store.directory_publish(CAROL, "Martine Dupont")
        found = await store.directory_search("martin", 10)
        assert [e.display_name for e in found] == ["Martine Dupont", "Annie Martin", "Jean MARTIN"]
        assert [e.identity for e in found] == [CAROL, ALICE, BOB]
        assert len(await store.directory_search("MARTIN", 2)) == 2
        assert await store.directory_search("zoé", 10) == []
        assert await store.directory_search("   ", 10) == []
        assert await store.directory_search("martin", 0) == []


@run_async
async def test_directory_search_matches_unicode_without_case(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE, BOB) as store:
        await store.directory_publish(ALICE, "Élodie Straße")
        await store.directory_publish(BOB, "\uff21\uff22\uff23 Corp")  # full-width ABC
        assert [e.identity for e in await store.directory_search("éLODIE", 5)] == [ALICE]
        assert [e.identity for e in await store.directory_search("STRASSE", 5)] == [ALICE]
        assert [e.identity for e in await store.directory_search("abc", 5)] == [BOB]


@run_async
async def test_directory_wildcards_are_literal(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE, BOB) as store:
        await store.directory_publish(ALICE, "Alice")
        await store.directory_publish(BOB, "100% Bob_")
        assert [e.identity for e in await store.directory_search("%", 5)] == [BOB]
        assert [e.identity for e in await store.directory_search("_", 5)] == [BOB]
        assert await store.directory_search("a%e", 5) == []


@run_async
async def test_directory_entries_are_replaced_and_removed(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        await store.directory_publish(ALICE, "  Alice  ")
        await store.directory_publish(ALICE, "Alice B.")
        found = await store.directory_search("alice", 5)
        assert [(e.identity, e.display_name) for e in found] == [(ALICE, "Alice B.")]
        assert await store.directory_remove(ALICE) is True
        assert await store.directory_remove(ALICE) is False
        assert await store.directory_search("alice", 5) == []


@run_async
async def test_directory_refuses_strangers_and_blank_names(tmp_path: Path) -> None:
    async with opened(tmp_path, None, ALICE) as store:
        with pytest.raises(UnknownMailbox):
            await store.directory_publish(STRANGER, "Mallory")
        with pytest.raises(StoreError, match="blank"):
            await store.directory_publish(ALICE, " \t ")
        with pytest.raises(StoreError, match="valid Unicode"):
            await store.directory_publish(ALICE, "Mallory \ud800")
        with pytest.raises(StoreError, match="valid Unicode"):
            await store.directory_search("\udfff", 5)
        assert await store.directory_search("mallory", 5) == []
