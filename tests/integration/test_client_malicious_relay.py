"""A malicious relay (DESIGN.md product rule 1, "the relay is untrusted"): between the clients
and a real relay process sits a man in the middle (tests/integration/client_lying_relay.py)
that drops, tampers with, replays, forges, reorders and misdirects the envelopes pushed to
Bob, from his very first contact with Alice on. Bob must never show a wrong or duplicate
message, must record every tampered or forged envelope as undecryptable or rejected (never as
text), must not crash, and must go on working once the relay is honest again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.store import MessageState
from app.core.client import EventStream, SourdineClient
from app.core.events import (
    ClientFailed,
    ConnectionChanged,
    Event,
    MessageReceived,
    MessageUndecryptable,
    PrekeysPublished,
)
from tests.app.core.support import MemoryKeyring, new_client, next_event, run, use_memory_keyring
from tests.integration.client_lying_relay import LyingRelay
from tests.integration.conftest import RelayStarter

TO_BOB = 200
TO_CAROL = 20


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Keys in an in-memory keyring (the OS keyring is covered by test_client_crash.py)."""
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


def drain(stream: EventStream) -> list[Event]:
    events = []
    while (event := stream.get_nowait()) is not None:
        events.append(event)
    return events


async def incoming(client: SourdineClient, contact: str) -> list[str]:
    return [m.body for m in await client.history(contact, limit=10_000)
            if m.state is MessageState.RECEIVED]


def test_a_lying_relay_never_makes_the_client_show_a_wrong_or_duplicate_message(
    tmp_path: Path, relay_starter: RelayStarter, memory_keyring: MemoryKeyring
) -> None:
    relay = relay_starter()

    async def scenario() -> None:
        proxy = LyingRelay(relay.url, seed="a relay that lies")
        url = await proxy.start()
        alice, bob, carol = [await new_client(tmp_path, n, url) for n in
                             ("Alice", "Bob", "Carol")]
        for client in (alice, bob, carol):
            await ready(client)
        shown, connection = bob.subscribe(), bob.subscribe()
        await alice.add_contact(bob.invitation_link)
        await alice.add_contact(carol.invitation_link)
        proxy.victim, proxy.claimed_sender = bob.identity_key, alice.identity_key
        proxy.thief_source = carol.identity_key
        proxy.lying = True
        # Carol's envelopes go to her intact; the relay also slips copies to Bob.
        for n in range(TO_CAROL):
            await alice.send_text("carol", f"to carol {n:04d}")
        genuine = [f"to bob {n:04d}" for n in range(TO_BOB)]
        for text in genuine:  # Bob first hears of Alice through the lying relay
            await alice.send_text("bob", text)
        assert await alice.wait_outbox_empty(60)
        await carol.sync(30)
        await proxy.wait_quiet(TO_BOB, 60)  # Bob acknowledged every lie

        lies = proxy.lies
        assert lies.genuine == TO_BOB
        assert min(lies.dropped, lies.tampered, lies.replayed_same_id, lies.replayed_new_id,
                   lies.forged_as_contact, lies.forged_as_stranger, lies.stolen) > 0, lies
        # The relay turns honest; Bob reconnects and gets what it held back.
        proxy.lying = False
        await proxy.disconnect(bob.identity_key)
        await next_event(connection, ConnectionChanged, timeout=30, state="authenticated")
        await settle(alice, bob, carol)

        history = await bob.history("alice", limit=10_000)
        texts = [m.body for m in history if m.state is MessageState.RECEIVED]
        # Only genuine messages, each once: all but those tampered with (they are lost).
        assert len(texts) == len(set(texts)) == TO_BOB - lies.tampered
        assert set(texts) <= set(genuine)
        # Forgeries that claim to be from Alice are in her conversation as undecryptable,
        # with a reason and no text.
        unreadable = [m for m in history if m.state is MessageState.UNDECRYPTABLE]
        assert len(unreadable) == lies.forged_as_contact
        assert all(m.body == "" and m.reason for m in unreadable)
        assert len(history) == len(texts) + len(unreadable)
        # Envelopes nobody can open (tampered, meant for Carol) or from no contact: recorded.
        rejected = await bob.rejected_envelopes()
        assert len(rejected) == lies.tampered + lies.stolen + lies.forged_as_stranger
        opened_none = [r for r in rejected if "could not be opened" in r.reason]
        assert len(opened_none) == lies.tampered + lies.stolen
        assert [c.display_name for c in bob.contacts()] == ["Alice"]  # no made-up stranger
        # What Bob was told about matches what he stores: once each, never a forgery as text.
        events = drain(shown)
        announced = [e.message.body for e in events if isinstance(e, MessageReceived)]
        assert sorted(announced) == sorted(texts)
        assert sum(isinstance(e, MessageUndecryptable) for e in events) == len(unreadable)
        assert not any(isinstance(e, ClientFailed) for e in events)
        # Alice sees exactly the messages Bob got as delivered; the lost ones stay "sent".
        states = {m.body: m.state for m in await alice.history("bob", limit=10_000)}
        assert {t for t, s in states.items() if s is MessageState.DELIVERED} == set(texts)
        assert {t for t, s in states.items() if s is MessageState.SENT} == set(genuine) - set(
            texts)
        assert await incoming(carol, "alice") == [f"to carol {n:04d}" for n in range(TO_CAROL)]

        # Bob is still up and the session works both ways through the honest relay.
        for n in range(3):
            await bob.send_text("alice", f"bob again {n}")
            await alice.send_text("bob", f"alice again {n}")
        await settle(alice, bob)
        assert (await incoming(alice, "bob")) == [f"bob again {n}" for n in range(3)]
        assert (await incoming(bob, "alice"))[-3:] == [f"alice again {n}" for n in range(3)]
        assert bob.connection_state == "authenticated"
        for client in (alice, bob, carol):
            await client.close()
        await proxy.close()

    run(scenario(), timeout=150)
