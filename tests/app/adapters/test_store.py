"""The client's SQLCipher store: real encrypted files, keys, migrations, search and paging."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest
import sqlcipher3

from app.adapters.store import (
    LATEST_VERSION,
    AccountRecord,
    Changes,
    ClientStore,
    ContactRecord,
    DatabaseTooNew,
    MessageState,
    NewMessage,
    NewOutboxItem,
    NoDatabase,
    PayloadKind,
    SearchQueryError,
    SessionRecord,
    StateChange,
    StoreClosed,
    StoreFailure,
    WrongDatabaseKey,
)
from app.adapters.store.schema import migrate, schema_version

T = TypeVar("T")
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ALICE = b"\xaa" * 32
BOB = b"\xbb" * 32


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


def contact(contact_id: int, key: bytes, name: str) -> ContactRecord:
    return ContactRecord(contact_id, key, "ws://127.0.0.1:9/", name, added_at=1_700_000_000)


def text(conversation: int, n: int, body: str, *, outgoing: bool = False) -> NewMessage:
    return NewMessage(
        conversation, n.to_bytes(16, "big"), outgoing, body, sent_at=1_700_000_000_000 + n,
        received_at=None if outgoing else 1_700_000_000_500 + n,
        state=MessageState.QUEUED if outgoing else MessageState.RECEIVED,
        dedup_peer=None if outgoing else ALICE,
    )


async def with_store(path: Path) -> ClientStore:
    store = await ClientStore.open(path, KEY, create=True)
    await store.apply(Changes(contacts=[contact(1, ALICE, "Alice"), contact(2, BOB, "Bob")]))
    return store


def test_a_new_database_is_created_keyed_and_reopened(tmp_path: Path) -> None:
    path = tmp_path / "profile" / "sourdine.db"

    async def scenario() -> None:
        store = await ClientStore.open(path, KEY, create=True)
        account = AccountRecord(ALICE, "ws://127.0.0.1:1/", "Alice", 1_700_000_000)
        await store.apply(Changes(account=account, prekeys=b"prekey state"))
        await store.close()
        again = await ClientStore.open(path, KEY)
        assert await again.account() == account
        assert await again.prekeys() == b"prekey state"
        await again.close()

    run(scenario())
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes()[:16] != b"SQLite format 3\x00"  # encrypted from the first page


def test_missing_database_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(NoDatabase, match="no Sourdine database"):
        run(ClientStore.open(tmp_path / "none.db", KEY))
    assert not (tmp_path / "none.db").exists()


def test_wrong_key_is_a_typed_error_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sourdine.db"

    async def create() -> None:
        store = await with_store(path)
        await store.close()

    run(create())
    before = path.read_bytes()
    with pytest.raises(WrongDatabaseKey, match="key does not open"):
        run(ClientStore.open(path, OTHER_KEY))
    assert path.read_bytes() == before

    async def reopen() -> list[ContactRecord]:
        store = await ClientStore.open(path, KEY)
        contacts = await store.contacts()
        await store.close()
        return contacts

    assert [c.display_name for c in run(reopen())] == ["Alice", "Bob"]


def test_a_plain_sqlite_file_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    plain = sqlcipher3.connect(str(path))
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    with pytest.raises(WrongDatabaseKey):
        run(ClientStore.open(path, KEY))


def test_no_plaintext_in_the_database_or_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "sourdine.db"
    canary = "canary-7f3a9c-plaintext"
    name = "Zelda-canary-name"

    async def scenario() -> None:
        store = await ClientStore.open(path, KEY, create=True)
        await store.apply(Changes(contacts=[contact(1, ALICE, name)]))
        for n in range(50):
            await store.apply(Changes(messages=[text(1, n, f"{canary} number {n}")]))
        # While open, the transactions sit in the WAL: check it too.
        wal = Path(f"{path}-wal")
        assert wal.exists() and wal.stat().st_size > 0
        for file in tmp_path.iterdir():
            data = file.read_bytes()
            assert canary.encode() not in data, file
            assert name.encode() not in data, file
            assert ALICE not in data, file
        assert len(await store.search("canary")) == 50
        await store.close()

    run(scenario())
    for file in tmp_path.iterdir():
        data = file.read_bytes()
        assert canary.encode() not in data and name.encode() not in data, file


def test_outgoing_states_only_move_forward(tmp_path: Path) -> None:
    async def scenario() -> list[MessageState]:
        store = await with_store(tmp_path / "s.db")
        sent = text(2, 1, "hello", outgoing=True)
        await store.apply(Changes(messages=[sent]))
        seen = []
        for state in (MessageState.DELIVERED, MessageState.SENT, MessageState.FAILED):
            applied = await store.apply(
                Changes(states=[StateChange(2, sent.message_id, state, at=5)])
            )
            record = await store.message(2, sent.message_id, outgoing=True)
            assert record is not None
            seen.append(record.state)
            assert applied.states_changed == (state is MessageState.DELIVERED,)
        await store.close()
        return seen

    assert run(scenario()) == [MessageState.DELIVERED] * 3


def test_a_receipt_cannot_touch_another_conversations_message(tmp_path: Path) -> None:
    async def scenario() -> MessageState:
        store = await with_store(tmp_path / "s.db")
        sent = text(2, 1, "to bob", outgoing=True)
        await store.apply(Changes(messages=[sent]))
        await store.apply(
            Changes(states=[StateChange(1, sent.message_id, MessageState.DELIVERED, at=5)])
        )
        record = await store.message(2, sent.message_id, outgoing=True)
        await store.close()
        assert record is not None
        return record.state

    assert run(scenario()) is MessageState.QUEUED


def test_inbound_duplicates_are_stored_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        first = await store.apply(Changes(messages=[text(1, 7, "once")]))
        again = await store.apply(Changes(messages=[text(1, 7, "once"), text(1, 8, "two")]))
        assert first.message_seqs[0] is not None
        assert again.message_seqs[0] is None and again.message_seqs[1] is not None
        assert [m.body for m in await store.history(1)] == ["once", "two"]
        await store.close()

    run(scenario())


def test_a_failing_transaction_writes_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        broken = NewOutboxItem(BOB, "ws://x/", PayloadKind.TEXT, None, 2)  # neither plaintext
        with pytest.raises(StoreFailure):                                  # nor envelope
            await store.apply(Changes(messages=[text(1, 1, "lost?")], outbox=[broken]))
        assert await store.history(1) == []
        assert await store.outbox() == []
        await store.close()
        with pytest.raises(StoreClosed):
            await store.history(1)

    run(scenario())


def test_history_pages_backwards_in_local_order(tmp_path: Path) -> None:
    async def scenario() -> list[list[str]]:
        store = await with_store(tmp_path / "s.db")
        await store.apply(Changes(messages=[text(1, n, f"m{n}") for n in range(120)]))
        await store.apply(Changes(messages=[text(2, 500, "other conversation", outgoing=True)]))
        pages = []
        before = None
        while True:
            page = await store.history(1, before=before, limit=50)
            if not page:
                break
            pages.append([m.body for m in page])
            before = page[0].seq
        await store.close()
        return pages

    pages = run(scenario())
    assert [len(p) for p in pages] == [50, 50, 20]
    assert pages[0][0] == "m70" and pages[0][-1] == "m119"
    assert pages[2] == [f"m{n}" for n in range(20)]


def test_search_finds_words_prefixes_and_ignores_query_syntax(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        await store.apply(Changes(messages=[
            text(1, 1, "Le café est prêt"),
            text(1, 2, "meeting moved to Thursday"),
            text(1, 3, 'quote " and NEAR( star * AND OR'),
            text(2, 4, "Thursday works for me", outgoing=True),
        ]))
        assert [m.body for m in await store.search("cafe")] == ["Le café est prêt"]
        assert [m.body for m in await store.search("thurs")] == [
            "Thursday works for me", "meeting moved to Thursday",
        ]
        assert [m.body for m in await store.search("thursday", conversation_id=2)] == [
            "Thursday works for me",
        ]
        assert len(await store.search('NEAR( " * AND')) == 1
        assert await store.search("moved Friday") == []
        with pytest.raises(SearchQueryError):
            await store.search(' " * ')
        await store.close()

    run(scenario())


def test_conversations_have_last_message_and_unread_counts(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        await store.apply(Changes(messages=[text(1, n, f"a{n}") for n in range(3)]))
        await store.apply(Changes(messages=[text(2, 9, "to bob", outgoing=True)]))
        rows = await store.conversations()
        assert [(r.contact_id, r.unread) for r in rows] == [(2, 0), (1, 3)]
        assert rows[1].last_message is not None and rows[1].last_message.body == "a2"
        second = (await store.history(1))[1].seq
        await store.apply(Changes(read_through=[(1, second)]))
        await store.apply(Changes(read_through=[(1, 1)]))  # never moves back
        rows = await store.conversations()
        assert {r.contact_id: r.unread for r in rows} == {1: 1, 2: 0}
        await store.close()

    run(scenario())


def test_sessions_and_outbox_round_trip(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        session = SessionRecord(BOB, b"\x01" * 32, True, 1, 2, b"state", True, 5)
        item = NewOutboxItem(BOB, "ws://x/", PayloadKind.TEXT, b"\x02" * 16, 2, plaintext=b"p")
        applied = await store.apply(Changes(sessions=[session], outbox=[item]))
        (seq,) = applied.outbox_seqs
        await store.apply(Changes(outbox_encrypted=[(seq, b"sealed")]))
        (stored,) = await store.outbox()
        assert (stored.plaintext, stored.envelope, stored.kind) == (None, b"sealed", "text")
        assert await store.sessions() == [session]
        await store.apply(Changes(outbox_done=[seq], sessions_removed=[(BOB, b"\x01" * 32)]))
        assert await store.outbox() == [] and await store.sessions() == []
        await store.close()

    run(scenario())


def _version_one_database(path: Path) -> None:
    db = sqlcipher3.connect(str(path), isolation_level=None)
    db.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    assert migrate(db, target=1) == 1
    db.execute("INSERT INTO contacts VALUES (1, ?, NULL, 'Alice', 'alice', 0, 0, NULL, NULL)",
               (ALICE,))
    db.execute("INSERT INTO conversations VALUES (1, 1, 0)")
    db.execute(
        "INSERT INTO messages (conversation_id, message_id, outgoing, body, sent_at, state,"
        " state_at) VALUES (1, ?, 0, 'written before search existed', 1, 'received', 1)",
        (os.urandom(16),),
    )
    db.close()


def test_migration_from_version_one_indexes_old_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_one_database(path)

    async def scenario() -> list[str]:
        store = await ClientStore.open(path, KEY)
        found = [m.body for m in await store.search("before search")]
        await store.close()
        return found

    assert run(scenario()) == ["written before search existed"]
    db = sqlcipher3.connect(str(path))
    db.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    assert schema_version(db) == LATEST_VERSION == 3
    db.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    _version_one_database(path)
    db = sqlcipher3.connect(str(path), isolation_level=None)
    db.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(DatabaseTooNew, match="newer Sourdine"):
        run(ClientStore.open(path, KEY))


def test_a_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_one_database(path)
    db = sqlcipher3.connect(str(path), isolation_level=None)
    db.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    # A trigger with the name migration 2 uses for its third statement: it fails half way.
    db.execute("CREATE TABLE t (x)")
    db.execute("CREATE TRIGGER message_search_delete AFTER DELETE ON t BEGIN SELECT 1; END")
    with pytest.raises(sqlcipher3.OperationalError, match="already exists"):
        migrate(db)
    assert schema_version(db) == 1
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master").fetchall()}
    assert "message_search" not in names and "message_search_insert" not in names
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    db.close()
