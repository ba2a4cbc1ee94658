"""Messages that cannot go out yet wait; failed messages can be retried by the user.

Real in-process relay, real SQLCipher profiles, keys in an in-memory keyring backend.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from app.adapters.store import MessageState
from app.adapters.transport import Backoff
from app.core.errors import SendError, UnknownContact
from app.core.events import MessageReceived, MessageStateChanged, PrekeysPublished
from tests.app.core.support import MemoryKeyring, new_client, next_event, reopen, run
from tests.app.core.test_client import delivered, mailbox_size, relay_at

QUICK_ASKS = Backoff(initial=0.1, maximum=0.3, jitter=0.0)
SLOW_ASKS = Backoff(initial=60.0, maximum=60.0, jitter=0.0)


def test_a_message_to_someone_who_never_connected_waits_and_arrives_once_they_do(
    tmp_path: Path, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.core.outbox")

    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url, recipient_backoff=QUICK_ASKS)
            bob = await new_client(tmp_path, "Bob", relay.url)  # created, never connected
            events = alice.subscribe()
            await alice.start()
            await alice.add_contact(bob.invitation_link)
            sent = await alice.send_text("bob", "welcome aboard")
            await asyncio.sleep(1.0)  # several asks: the relay has no mailbox for Bob
            assert "unknown_mailbox" in caplog.text
            assert alice.outbox_size == 1
            changes = []  # neither sent nor failed: the user was told why, once
            while (event := events.get_nowait()) is not None:
                if isinstance(event, MessageStateChanged):
                    changes.append((event.message_id, event.state, event.reason))
            assert changes == [(sent.message_id, MessageState.QUEUED,
                                "Waiting for Bob to open Sourdine for the first time.")]
            (stored,) = await alice.history("bob")
            assert stored.state is MessageState.QUEUED
            # Bob's mailbox exists now but he has published no prekeys: still waiting.
            await relay.store.register(bob.identity_key)
            caplog.clear()
            await asyncio.sleep(1.0)
            assert "not_found" in caplog.text
            assert alice.outbox_size == 1
            # Bob starts: his keys are published, the message goes out once.
            b_events = bob.subscribe()
            await bob.start()
            got = await next_event(b_events, MessageReceived)
            assert got.message.message_id == sent.message_id
            await next_event(events, MessageStateChanged, **delivered(sent.message_id))
            await bob.sync(10)
            assert [m.body for m in await bob.history("alice")] == ["welcome aboard"]
            assert alice.outbox_size == 0
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_reconnect_asks_again_at_once_for_a_contact_not_set_up(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url, recipient_backoff=SLOW_ASKS)
            bob = await new_client(tmp_path, "Bob", relay.url)
            events, b_events = alice.subscribe(), bob.subscribe()
            await alice.start()
            await alice.add_contact(bob.invitation_link)
            sent = await alice.send_text("bob", "are you there yet?")
            await asyncio.sleep(0.5)  # the first ask was refused; the next is a minute away
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            with pytest.raises(TimeoutError):
                await next_event(b_events, MessageReceived, timeout=1.0)
            # The relay drops every connection; Alice's client reconnects and asks at once.
            for connection in list(relay.server._connections.values()):
                await connection.close()
            got = await next_event(b_events, MessageReceived, timeout=10)
            assert got.message.message_id == sent.message_id
            await next_event(events, MessageStateChanged, **delivered(sent.message_id))
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_failed_message_is_retried_with_the_same_id_and_arrives_once(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            events, b_events = alice.subscribe(), bob.subscribe()
            await alice.start()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            await alice.add_contact(bob.invitation_link)
            first = await alice.send_text("bob", "hello")
            await next_event(events, MessageStateChanged, **delivered(first.message_id))
            await bob.close()
            await relay.store.delete_account(bob.identity_key)  # e.g. the operator removed it
            lost = await alice.send_text("bob", "this one fails")
            failed = await next_event(events, MessageStateChanged, message_id=lost.message_id)
            assert failed.state is MessageState.FAILED
            assert failed.reason is not None and "unknown_mailbox" in failed.reason
            with pytest.raises(SendError, match="cannot be retried"):
                await alice.retry_message("bob", first.message_id)  # delivered, not failed
            bob = await reopen(tmp_path, "Bob")  # his mailbox is created again
            b_events = bob.subscribe()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            await alice.retry_message("bob", lost.message_id)
            queued = await next_event(events, MessageStateChanged, message_id=lost.message_id)
            assert (queued.state, queued.reason) == (MessageState.QUEUED, None)
            got = await next_event(b_events, MessageReceived)
            assert (got.message.message_id, got.message.body) == (lost.message_id,
                                                                  "this one fails")
            assert got.message.sent_at == lost.sent_at
            await next_event(events, MessageStateChanged, **delivered(lost.message_id))
            await bob.sync(10)
            assert [m.body for m in await bob.history("alice")] == ["hello", "this one fails"]
            assert await mailbox_size(relay, bob.identity_key) == 0
            with pytest.raises(SendError, match="cannot be retried"):
                await alice.retry_message("bob", lost.message_id)  # delivered now
            await alice.close()
            await bob.close()

    run(scenario())


def test_retry_refuses_what_is_not_a_failed_message_of_ours(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            await alice.add_contact(bob.invitation_link)
            queued = await alice.send_text("bob", "still queued (Alice is offline)")
            with pytest.raises(SendError, match="cannot be retried"):
                await alice.retry_message("bob", queued.message_id)
            with pytest.raises(SendError, match="cannot be retried"):
                await alice.retry_message("bob", b"\x00" * 16)
            with pytest.raises(UnknownContact):
                await alice.retry_message("carol", queued.message_id)
            assert alice.outbox_size == 1
            (stored,) = await alice.history("bob")
            assert stored.state is MessageState.QUEUED
            await alice.close()
            await bob.close()

    run(scenario())
