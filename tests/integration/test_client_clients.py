"""Headless clients (SourdineClient objects in this process) talking through a real
``sourdine-relay`` process on 127.0.0.1: first contact, long conversations, an offline
recipient's backlog, and a relay restart in the middle of a conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.store import MessageState
from app.core.client import SourdineClient
from app.core.events import MessageReceived, MessageStateChanged, PrekeysPublished
from tests.app.core.support import (
    MemoryKeyring,
    new_client,
    next_event,
    reopen,
    run,
    use_memory_keyring,
)
from tests.integration.conftest import RelayStarter, start_relay


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Keys in an in-memory keyring backend (test_client_cli.py uses the real OS keyring)."""
    yield from use_memory_keyring()


async def ready(client: SourdineClient) -> None:
    events = client.subscribe()
    await client.start()
    await next_event(events, PrekeysPublished, timeout=20)
    events.close()


async def settle(*clients: SourdineClient) -> None:
    """Twice round: deliver every outbox, store every backlog (receipts come back)."""
    for _ in range(2):
        for client in clients:
            assert await client.wait_outbox_empty(30)
        for client in clients:
            await client.sync(30)


def test_three_clients_first_contact_and_long_conversations(
    tmp_path: Path, relay_starter: RelayStarter, memory_keyring: MemoryKeyring
) -> None:
    relay = relay_starter()

    async def scenario() -> None:
        alice, bob, carol = [await new_client(tmp_path, n, relay.url) for n in
                             ("Alice", "Bob", "Carol")]
        for client in (alice, bob, carol):
            await ready(client)
        await alice.add_contact(bob.invitation_link)
        await alice.add_contact(carol.invitation_link)
        await bob.add_contact(carol.invitation_link)
        # Everyone starts at once: Bob and Carol learn about Alice from her first messages.
        rounds = 60
        for n in range(rounds):
            await alice.send_text("bob", f"alice to bob {n}")
            await alice.send_text("carol", f"alice to carol {n}")
            await bob.send_text("carol", f"bob to carol {n}")
            if n >= 1:  # once they have heard from Alice they can answer
                await bob.send_text("alice", f"bob to alice {n}")
                await carol.send_text("alice", f"carol to alice {n}")
                await carol.send_text("bob", f"carol to bob {n}")
            if n == 0:
                await settle(alice, bob, carol)
        await settle(alice, bob, carol)

        async def received(client: SourdineClient, who: str) -> list[str]:
            return [m.body for m in await client.history(who, limit=1000) if not m.outgoing]

        assert await received(bob, "alice") == [f"alice to bob {n}" for n in range(rounds)]
        assert await received(carol, "alice") == [f"alice to carol {n}" for n in range(rounds)]
        assert await received(carol, "bob") == [f"bob to carol {n}" for n in range(rounds)]
        assert await received(alice, "bob") == [f"bob to alice {n}" for n in range(1, rounds)]
        assert await received(alice, "carol") == [f"carol to alice {n}" for n in range(1, rounds)]
        assert await received(bob, "carol") == [f"carol to bob {n}" for n in range(1, rounds)]
        for client, who in ((alice, "bob"), (alice, "carol"), (bob, "carol"), (carol, "alice")):
            states = {m.state for m in await client.history(who, limit=1000) if m.outgoing}
            assert states == {MessageState.DELIVERED}, (client.account.display_name, who)
        for client in (alice, bob, carol):
            assert await client.rejected_envelopes() == []
            await client.close()

    run(scenario(), timeout=240)


def test_offline_recipient_receives_the_backlog_from_two_senders(
    tmp_path: Path, relay_starter: RelayStarter, memory_keyring: MemoryKeyring
) -> None:
    relay = relay_starter()

    async def scenario() -> None:
        alice, bob, carol = [await new_client(tmp_path, n, relay.url) for n in
                             ("Alice", "Bob", "Carol")]
        for client in (alice, bob, carol):
            await ready(client)
        link = bob.invitation_link
        await bob.close()
        for sender in (alice, carol):
            await sender.add_contact(link)
        for n in range(50):
            await alice.send_text("bob", f"from alice {n}")
            await carol.send_text("bob", f"from carol {n}")
        assert await alice.wait_outbox_empty(30) and await carol.wait_outbox_empty(30)
        bob = await reopen(tmp_path, "Bob")
        await bob.start()
        await bob.sync(30)
        for who in ("alice", "carol"):
            bodies = [m.body for m in await bob.history(who, limit=100)]
            assert bodies == [f"from {who} {n}" for n in range(50)]
        await settle(alice, bob, carol)
        for sender in (alice, carol):
            states = {m.state for m in await sender.history("bob", limit=100)}
            assert states == {MessageState.DELIVERED}
        for client in (alice, bob, carol):
            await client.close()

    run(scenario(), timeout=180)


def test_clients_reconnect_after_the_relay_restarts(
    tmp_path: Path, relay_starter: RelayStarter, memory_keyring: MemoryKeyring
) -> None:
    relay = relay_starter()

    async def scenario() -> None:
        alice = await new_client(tmp_path, "Alice", relay.url)
        bob = await new_client(tmp_path, "Bob", relay.url)
        for client in (alice, bob):
            await ready(client)
        a_events, b_events = alice.subscribe(), bob.subscribe()
        await alice.add_contact(bob.address, "Bob")
        await alice.send_text("bob", "before the restart")
        await next_event(b_events, MessageReceived, timeout=20)
        assert relay.stop() == 0
        await asyncio.sleep(0.3)
        assert alice.connection_state != "authenticated"
        written = [await alice.send_text("bob", f"while the relay was down {n}") for n in range(5)]
        assert all(m.state is MessageState.QUEUED for m in written)
        restarted = start_relay(tmp_path / "relay-again", "--port", str(relay.port),
                                database=relay.database)
        try:
            for message in written:
                await next_event(a_events, MessageStateChanged, timeout=30,
                                 message_id=message.message_id, state=MessageState.DELIVERED)
            await bob.send_text("alice", "got them all")
            got = await next_event(a_events, MessageReceived, timeout=30)
            assert got.message.body == "got them all"
            bodies = [m.body for m in await bob.history("alice")]
            assert bodies == ["before the restart"] + [
                f"while the relay was down {n}" for n in range(5)] + ["got them all"]
            await alice.close()
            await bob.close()
        finally:
            assert restarted.stop() == 0, restarted.log_text()

    run(scenario(), timeout=180)
