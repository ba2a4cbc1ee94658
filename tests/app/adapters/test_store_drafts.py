"""Store additions of the desktop client: drafts (schema version 3), the read state, a failed
message queued again, and the messages a read-marker move reads."""

from __future__ import annotations

from pathlib import Path

import sqlcipher3

from app.adapters.store import Changes, ClientStore, MessageState, NewMessage, StateChange
from app.adapters.store.schema import migrate, schema_version
from tests.app.adapters.test_store import ALICE, KEY, contact, run, text, with_store


def test_a_draft_is_kept_replaced_deleted_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"

    async def scenario() -> None:
        store = await with_store(path)
        assert await store.draft(1) == ""
        await store.apply(Changes(drafts=[(1, "first thoughts"), (2, "for Bob")]))
        await store.apply(Changes(drafts=[(1, "second thoughts")]))
        assert (await store.draft(1), await store.draft(2)) == ("second thoughts", "for Bob")
        await store.apply(Changes(drafts=[(2, "")]))
        assert await store.draft(2) == ""
        await store.close()
        again = await ClientStore.open(path, KEY)
        assert (await again.draft(1), await again.draft(2)) == ("second thoughts", "")
        await again.close()

    run(scenario())
    # The draft is inside the encrypted file, not in clear on disk.
    assert b"second thoughts" not in path.read_bytes()


def test_a_version_two_database_gets_the_drafts_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlcipher3.connect(str(path), isolation_level=None)
    db.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    assert migrate(db, target=2) == 2
    db.execute("INSERT INTO contacts VALUES (1, ?, NULL, 'Alice', 'alice', 0, 0, NULL, NULL)",
               (ALICE,))
    db.execute("INSERT INTO conversations VALUES (1, 1, 0)")
    db.close()

    async def scenario() -> str:
        store = await ClientStore.open(path, KEY)
        await store.apply(Changes(drafts=[(1, "kept")]))
        found = await store.draft(1)
        await store.close()
        return found

    assert run(scenario()) == "kept"
    db = sqlcipher3.connect(str(path))
    db.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    assert schema_version(db) == 3
    db.close()


def test_read_only_moves_forward_and_a_late_delivered_never_undoes_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        await store.apply(Changes(messages=[text(2, 1, "hi Bob", outgoing=True)]))
        mid = (1).to_bytes(16, "big")

        async def move(state: MessageState) -> bool:
            applied = await store.apply(Changes(states=[StateChange(2, mid, state, 5)]))
            return applied.states_changed[0]

        assert await move(MessageState.SENT)
        assert await move(MessageState.READ)
        assert not await move(MessageState.DELIVERED)
        assert not await move(MessageState.SENT)
        assert not await move(MessageState.FAILED)
        assert not await move(MessageState.QUEUED)  # only a failed message is queued again
        stored = await store.message(2, mid, outgoing=True)
        assert stored is not None and stored.state is MessageState.READ
        await store.close()

    run(scenario())


def test_a_failed_message_can_be_queued_again_without_its_reason(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        await store.apply(Changes(messages=[text(2, 1, "hi Bob", outgoing=True)]))
        mid = (1).to_bytes(16, "big")
        await store.apply(Changes(states=[StateChange(2, mid, MessageState.FAILED, 5, "refused")]))
        applied = await store.apply(Changes(states=[StateChange(2, mid, MessageState.QUEUED, 6)]))
        assert applied.states_changed == (True,)
        stored = await store.message(2, mid, outgoing=True)
        assert stored is not None
        assert (stored.state, stored.reason, stored.state_at) == (MessageState.QUEUED, None, 6)
        await store.close()

    run(scenario())


def test_newly_read_lists_received_messages_after_the_marker(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        unreadable = NewMessage(1, b"\x09" * 16, False, "", 1, 1, MessageState.UNDECRYPTABLE,
                                "could not be decrypted")
        applied = await store.apply(Changes(messages=[
            text(1, 1, "one"), text(1, 2, "mine", outgoing=True), unreadable,
            text(1, 3, "three"), text(1, 4, "four"), text(2, 5, "other conversation"),
        ]))
        seqs = applied.message_seqs
        assert all(seq is not None for seq in seqs)
        ids = [n.to_bytes(16, "big") for n in (1, 3, 4)]
        assert await store.newly_read(1, seqs[4] or 0) == ids
        await store.apply(Changes(read_through=[(1, seqs[3] or 0)]))
        assert await store.newly_read(1, seqs[4] or 0) == ids[2:]
        assert await store.newly_read(1, seqs[3] or 0) == []
        await store.close()

    run(scenario())


def test_drafts_of_two_conversations_are_independent(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await with_store(tmp_path / "s.db")
        await store.apply(Changes(contacts=[contact(3, b"\xcc" * 32, "Carol")],
                                  drafts=[(3, "to Carol")]))
        assert [await store.draft(n) for n in (1, 2, 3)] == ["", "", "to Carol"]
        await store.close()

    run(scenario())
