"""Drafts: one per conversation, in the encrypted database, kept across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.client import MAX_DRAFT_BYTES
from app.core.errors import SendError, UnknownContact
from tests.app.core.support import MemoryKeyring, new_client, reopen, run

BOB_LINK = "sourdine://127.0.0.1:9/u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7s"


def test_a_draft_per_conversation_survives_a_restart_and_empty_deletes_it(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        alice = await new_client(tmp_path, "Alice", "ws://127.0.0.1:9")  # offline is enough
        carol = await new_client(tmp_path, "Carol", "ws://127.0.0.1:9")
        await alice.add_contact(BOB_LINK, "Bob")
        await alice.add_contact(carol.invitation_link)
        await carol.close()
        assert await alice.draft("bob") == ""
        await alice.save_draft("bob", "Dear Bob,\nabout tomorrow")
        await alice.save_draft("carol", "  ")  # what the user typed, spaces included
        await alice.save_draft("bob", "Dear Bob,\nabout Friday ✓")
        assert await alice.draft("bob") == "Dear Bob,\nabout Friday ✓"
        assert await alice.draft("carol") == "  "
        await alice.close()
        alice = await reopen(tmp_path, "Alice")
        assert await alice.draft("Bob") == "Dear Bob,\nabout Friday ✓"
        await alice.save_draft("carol", "")
        assert await alice.draft("carol") == ""
        assert await alice.history("bob") == []  # a draft is not a message
        await alice.close()

    run(scenario())
    for path in (tmp_path / "alice").rglob("*"):  # never in clear in any profile file
        assert path.is_dir() or b"about Friday" not in path.read_bytes()


def test_bad_drafts_are_refused_and_change_nothing(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        alice = await new_client(tmp_path, "Alice", "ws://127.0.0.1:9")
        await alice.add_contact(BOB_LINK, "Bob")
        await alice.save_draft("bob", "kept")
        with pytest.raises(SendError, match="not valid text"):
            await alice.save_draft("bob", "half a surrogate \ud800")
        with pytest.raises(SendError, match="longer than"):
            await alice.save_draft("bob", "x" * (MAX_DRAFT_BYTES + 1))
        with pytest.raises(UnknownContact):
            await alice.save_draft("nobody", "hello")
        with pytest.raises(UnknownContact):
            await alice.draft("nobody")
        assert await alice.draft("bob") == "kept"
        await alice.save_draft("bob", "x" * MAX_DRAFT_BYTES)  # the limit itself is fine
        assert len(await alice.draft("bob")) == MAX_DRAFT_BYTES
        await alice.close()

    run(scenario())
