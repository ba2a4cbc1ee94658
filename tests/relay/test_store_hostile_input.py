"""Hostile values for the SQLite relay store: only typed errors, and a refusal changes nothing.

The protocol layer checks frames first, but the store is the last line: any value of the
declared type (integers of any size, bytes of any length, text with any code point) must end
in a result or a :class:`~relay.store.base.StoreError` with a readable message, and a refused
call must leave the database exactly as it was.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.store.base import OneTimePrekey, SignedPrekey, StoreError
from relay.store.sqlite import SQLiteRelayStore

ALICE = bytes([1]) * 32
NOW = 1_700_000_000
LATER = NOW + 86_400
HOSTILE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

ints = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 4, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, -1]),
)
blobs = st.one_of(st.binary(max_size=80), st.sampled_from([b"", ALICE, b"blob", bytes(32)]))
keys = st.one_of(st.just(ALICE), st.binary(min_size=31, max_size=33), blobs)
texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),  # lone surrogates, NUL, ...
    st.sampled_from(["\ud800", "a\x00b", " ", "%", "_"]),
)

Call = Callable[[SQLiteRelayStore], Awaitable[object]]


def dump(path: Path) -> list[tuple[str, list[Any]]]:
    """Every row of every table, to compare before and after a refused call."""
    raw = sqlite3.connect(path)
    tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    content = [(t, raw.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()) for t in tables]
    raw.close()
    return content


def exercise(path: Path, *calls: Call) -> None:
    """Run each call on a store holding one account, one prekey bundle and one blob."""

    async def body() -> None:
        store = SQLiteRelayStore(path)
        await store.open()
        await store.register(ALICE)
        await store.publish_prekeys(
            ALICE, SignedPrekey(1, b"k" * 32, b"s" * 64), [OneTimePrekey(1, b"o" * 32)]
        )
        await store.create_blob(ALICE, b"blob", 4, LATER)
        await store.put_blob_chunk(ALICE, b"blob", 0, b"data")
        try:
            for call in calls:
                before = dump(path)
                try:
                    await call(store)
                except StoreError as error:
                    assert str(error)  # a readable sentence
                    assert dump(path) == before, "a refused call changed the database"
        finally:
            await store.close()

    path.unlink(missing_ok=True)
    asyncio.run(body())


@HOSTILE
@given(mailboxes=st.lists(keys, max_size=3), envelope=blobs, expires_at=ints, ids=st.lists(ints))
def test_mailboxes_with_hostile_values(
    tmp_path: Path, mailboxes: list[bytes], envelope: bytes, expires_at: int, ids: list[int]
) -> None:
    exercise(
        tmp_path / "relay.db",
        lambda s: s.deposit(mailboxes, envelope, expires_at),
        lambda s: s.fetch(mailboxes[0] if mailboxes else ALICE, expires_at, len(ids), expires_at),
        lambda s: s.fetch(ALICE, ids[0] if ids else 0, expires_at, NOW),
        lambda s: s.ack(mailboxes[0] if mailboxes else ALICE, ids),
        lambda s: s.purge_expired(expires_at),
    )


@HOSTILE
@given(identity=keys, prekey_id=ints, key=blobs, signature=blobs)
def test_prekeys_with_hostile_values(
    tmp_path: Path, identity: bytes, prekey_id: int, key: bytes, signature: bytes
) -> None:
    exercise(
        tmp_path / "relay.db",
        lambda s: s.publish_prekeys(
            identity, SignedPrekey(prekey_id, key, signature), [OneTimePrekey(prekey_id, key)]
        ),
        lambda s: s.publish_prekeys(identity, None, [OneTimePrekey(prekey_id, key)] * 2),
        lambda s: s.take_prekey_bundle(identity),
    )


@HOSTILE
@given(owner=keys, blob_id=blobs, size=ints, offset=ints, data=blobs, now=ints)
def test_blobs_with_hostile_values(
    tmp_path: Path, owner: bytes, blob_id: bytes, size: int, offset: int, data: bytes, now: int
) -> None:
    exercise(
        tmp_path / "relay.db",
        lambda s: s.create_blob(owner, blob_id, size, now),
        lambda s: s.put_blob_chunk(owner, blob_id, offset, data),
        lambda s: s.read_blob(blob_id, offset, size, now),
        lambda s: s.delete_blob(owner, blob_id),
    )


@HOSTILE
@given(identity=keys, name=texts, limit=ints, code=blobs, uses=ints)
def test_accounts_directory_and_invitations_with_hostile_values(
    tmp_path: Path, identity: bytes, name: str, limit: int, code: bytes, uses: int
) -> None:
    exercise(
        tmp_path / "relay.db",
        lambda s: s.register(identity),
        lambda s: s.directory_publish(identity, name),
        lambda s: s.directory_search(name, limit),
        lambda s: s.directory_remove(identity),
        lambda s: s.add_invitation(code, uses),
        lambda s: s.redeem_invitation(code),
        lambda s: s.is_registered(identity),
        lambda s: s.delete_account(identity),
    )
