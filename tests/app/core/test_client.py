"""SourdineClient end to end on a real in-process relay (real server, SQLite store, real
WebSockets), with keys in an in-memory keyring backend and real SQLCipher profiles."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.adapters.store import MessageState, ProfileInUse
from app.adapters.transport import RelayConnection
from app.core.clock import ManualClock
from app.core.errors import ContactError, KeyChangePending, SendError
from app.core.events import (
    ContactAdded,
    ContactKeyChanged,
    EnvelopeRejected,
    MessageReceived,
    MessageStateChanged,
    MessageUndecryptable,
    PrekeysPublished,
)
from crypto.envelope import EnvelopeKind, seal_envelope
from tests.app.core.support import (
    MemoryKeyring,
    new_client,
    next_event,
    reopen,
    run,
)
from tests.relay.harness import Relay, running_relay


@contextlib.asynccontextmanager
async def relay_at(tmp_path: Path, **settings: Any) -> AsyncIterator[Relay]:
    (tmp_path / "relay").mkdir(exist_ok=True)
    async with running_relay(tmp_path / "relay", **settings) as relay:
        yield relay


async def mailbox_size(relay: Relay, identity: bytes) -> int:
    return len(await relay.store.fetch(identity, 0, 1000, int(relay.clock.time())))


def delivered(message_id: bytes) -> Any:
    return {"message_id": message_id, "state": MessageState.DELIVERED}


def test_first_contact_and_a_conversation_both_ways(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            a_events, b_events = alice.subscribe(), bob.subscribe()
            await alice.start()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            await alice.add_contact(bob.invitation_link)
            first = await alice.send_text("bob", "Hello Bob")
            assert first.state is MessageState.QUEUED
            got = await next_event(b_events, MessageReceived)
            assert got.message.body == "Hello Bob" and got.message.message_id == first.message_id
            added = next(iter(c for c in bob.contacts() if c.display_name == "Alice"))
            assert added.relay_url == relay.url + "/" and not added.verified
            await next_event(a_events, MessageStateChanged, **delivered(first.message_id))
            for n in range(30):
                await alice.send_text("bob", f"a{n}")
                await bob.send_text("alice", f"b{n}")
            await bob.sync(10)
            await alice.sync(10)
            assert await alice.wait_outbox_empty(10) and await bob.wait_outbox_empty(10)
            await bob.sync(10)
            await alice.sync(10)
            history = await alice.history("bob", limit=100)
            assert [m.body for m in history if not m.outgoing] == [f"b{n}" for n in range(30)]
            assert [m.body for m in history if m.outgoing] == ["Hello Bob"] + [
                f"a{n}" for n in range(30)
            ]
            assert all(m.state is MessageState.DELIVERED for m in history if m.outgoing)
            (summary,) = await alice.conversations()
            assert summary.unread == 30
            await alice.mark_read("bob")
            assert (await alice.conversations())[0].unread == 0
            hits = await bob.search("a1")
            assert {h.message.body for h in hits} == {"a1"} | {f"a1{n}" for n in range(10)}
            assert alice.safety_number("bob").digits == bob.safety_number("alice").digits
            assert await mailbox_size(relay, alice.identity_key) == 0
            assert await mailbox_size(relay, bob.identity_key) == 0
            await alice.close()
            await bob.close()

    run(scenario())


def test_offline_recipient_gets_the_backlog_in_order(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            b_events = bob.subscribe()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            link = bob.invitation_link
            await bob.close()  # Bob goes offline
            await alice.start()
            await alice.add_contact(link)
            sent = [await alice.send_text("bob", f"while you were away {n}") for n in range(40)]
            assert await alice.wait_outbox_empty(10)
            assert await mailbox_size(relay, bob.identity_key) == 40
            bob = await reopen(tmp_path, "Bob")
            b_events = bob.subscribe()
            await bob.start()
            await bob.sync(10)
            history = await bob.history("alice", limit=100)
            assert [m.message_id for m in history] == [m.message_id for m in sent]
            assert await bob.wait_outbox_empty(10)  # the receipts
            await alice.sync(10)
            states = {m.state for m in await alice.history("bob", limit=100)}
            assert states == {MessageState.DELIVERED}
            await alice.close()
            await bob.close()

    run(scenario())


def test_messages_written_offline_go_out_after_a_restart(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            bob = await new_client(tmp_path, "Bob", relay.url)
            b_events = bob.subscribe()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            alice = await new_client(tmp_path, "Alice", relay.url)  # never started: offline
            await alice.add_contact(bob.address, "Bob")
            queued = [await alice.send_text("bob", f"draft {n}") for n in range(3)]
            assert alice.outbox_size == 3
            await alice.close()
            alice = await reopen(tmp_path, "Alice")
            a_events = alice.subscribe()
            await alice.start()
            for message in queued:
                await next_event(a_events, MessageStateChanged, **delivered(message.message_id))
            assert [m.body for m in await bob.history("alice")] == ["draft 0", "draft 1", "draft 2"]
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_changed_identity_key_blocks_sending_until_accepted(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            new_bob = await new_client(tmp_path, "Bob", relay.url, profile="bob-reinstalled")
            a_events, n_events = alice.subscribe(), new_bob.subscribe()
            for client in (alice, bob, new_bob):
                await client.start()
            await next_event(n_events, PrekeysPublished)
            await alice.add_contact(bob.invitation_link)
            old_number = alice.safety_number("bob")
            changed = await alice.add_contact(new_bob.invitation_link)  # same name, new key
            event = await next_event(a_events, ContactKeyChanged)
            assert event.new_identity_key == new_bob.identity_key
            assert changed.identity_key == bob.identity_key
            with pytest.raises(KeyChangePending, match="accept the new key"):
                await alice.send_text("bob", "are you still you?")
            new_number = alice.safety_number("bob", pending=True)
            assert new_number.digits != old_number.digits
            assert await alice.history("bob") == []  # nothing was stored or sent
            accepted = await alice.accept_key("bob")
            assert accepted.identity_key == new_bob.identity_key and not accepted.verified
            await alice.send_text("bob", "welcome back")
            got = await next_event(n_events, MessageReceived)
            assert got.message.body == "welcome back"
            await bob.sync(10)
            assert bob.contacts() == [] and await bob.conversations() == []  # old key: nothing
            for client in (alice, bob, new_bob):
                await client.close()

    run(scenario())


def test_unreadable_envelopes_are_recorded_never_lost(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            b_events = bob.subscribe()
            await alice.start()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            await alice.add_contact(bob.address, "Bob")
            await alice.send_text("bob", "hello")
            await next_event(b_events, MessageReceived)
            depositor = RelayConnection(relay.url)
            # A ratchet message "from Alice" that is garbage: stored in her conversation.
            forged = seal_envelope(bob.identity_key, alice.identity_key,
                                   EnvelopeKind.RATCHET_MESSAGE, b"\x00" * 120)
            await depositor.deposit([bob.identity_key], forged)
            undecryptable = await next_event(b_events, MessageUndecryptable)
            assert undecryptable.message.state is MessageState.UNDECRYPTABLE
            assert "could not be decrypted" in (undecryptable.message.reason or "")
            # Bytes that are not an envelope for Bob at all: recorded as rejected.
            await depositor.deposit([bob.identity_key], b"\x01" * 256)
            rejected = await next_event(b_events, EnvelopeRejected)
            assert "could not be opened" in rejected.reason
            await bob.sync(10)
            assert await mailbox_size(relay, bob.identity_key) == 0
            history = await bob.history("alice")
            assert [m.state for m in history] == [MessageState.RECEIVED,
                                                  MessageState.UNDECRYPTABLE]
            assert len(await bob.rejected_envelopes()) == 1
            await depositor.close()
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_stranger_who_writes_first_becomes_a_contact_we_can_answer(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            carol = await new_client(tmp_path, "Carol", relay.url)
            a_events, c_events = alice.subscribe(), carol.subscribe()
            await alice.start()
            await carol.start()
            await next_event(a_events, PrekeysPublished)
            await carol.add_contact(alice.address)  # a bare address: named from the key
            assert carol.contact(1).display_name.startswith("contact ")
            await carol.rename_contact(1, "Alice")
            await carol.send_text("alice", "hi, I am Carol from accounting")
            added = await next_event(a_events, ContactAdded, by_user=False)
            assert added.contact.display_name == "Carol"
            await alice.send_text("carol", "hello Carol")
            assert (await next_event(c_events, MessageReceived)).message.body == "hello Carol"
            with pytest.raises(ContactError, match="own address"):
                await alice.add_contact(alice.address)
            with pytest.raises(SendError, match="empty"):
                await alice.send_text("carol", "   ")
            await alice.close()
            await carol.close()

    run(scenario())


def test_one_time_prekeys_are_replenished_and_the_signed_prekey_rotates(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        async with relay_at(tmp_path, prekeys_low_threshold=3) as relay:
            bob = await new_client(tmp_path, "Bob", relay.url, clock=clock, one_time_prekeys=5)
            b_events = bob.subscribe()
            await bob.start()
            first = await next_event(b_events, PrekeysPublished)
            assert first.one_time_count == 5
            fetcher = RelayConnection(relay.url)
            for _ in range(3):
                await fetcher.fetch_bundle(bob.identity_key)  # three strangers take one each
            refill = await next_event(b_events, PrekeysPublished)
            assert refill.one_time_count == 5 and refill.signed_prekey_id == first.signed_prekey_id
            clock.advance(8 * 24 * 3600)
            await bob.maintain_prekeys()
            rotated = await next_event(b_events, PrekeysPublished)
            assert rotated.signed_prekey_id == first.signed_prekey_id + 1
            bundle = await fetcher.fetch_bundle(bob.identity_key)
            assert bundle.signed_prekey.prekey_id == rotated.signed_prekey_id
            # A session started on the new signed prekey works.
            alice = await new_client(tmp_path, "Alice", relay.url, clock=clock)
            await alice.start()
            await alice.add_contact(bob.address, "Bob")
            await alice.send_text("bob", "on the new signed prekey")
            got = await next_event(b_events, MessageReceived)
            assert got.message.body == "on the new signed prekey"
            await fetcher.close()
            await alice.close()
            await bob.close()

    run(scenario())


def test_sessions_and_history_survive_a_restart_and_one_process_per_profile(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            b_events = bob.subscribe()
            await alice.start()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            await alice.add_contact(bob.address, "Bob")
            await alice.send_text("bob", "before")
            await next_event(b_events, MessageReceived)
            await bob.send_text("alice", "reply before")
            await alice.sync(10)
            with pytest.raises(ProfileInUse):
                await reopen(tmp_path, "Alice")
            await alice.close()
            await bob.close()
            alice, bob = await reopen(tmp_path, "Alice"), await reopen(tmp_path, "Bob")
            b_events = bob.subscribe()
            await alice.start()
            await bob.start()
            await alice.send_text("bob", "after")
            got = await next_event(b_events, MessageReceived)
            assert got.message.body == "after"
            assert [m.body for m in await bob.history("alice")] == ["before", "reply before",
                                                                    "after"]
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_burst_is_stored_in_few_transactions_exactly_once(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            b_events = bob.subscribe()
            await alice.start()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            await alice.add_contact(bob.address, "Bob")
            await alice.send_text("bob", "warm up")
            await next_event(b_events, MessageReceived)
            before = bob.commits
            await asyncio.gather(*(alice.send_text("bob", f"burst {n}") for n in range(300)))
            assert await alice.wait_outbox_empty(30)
            await bob.sync(30)
            bodies = [m.body for m in await bob.history("alice", limit=400)]
            assert sorted(bodies[1:]) == sorted(f"burst {n}" for n in range(300))
            assert len(bodies) == 301
            assert bob.commits - before < 300  # group commit: fewer transactions than messages
            await alice.close()
            await bob.close()

    run(scenario())
