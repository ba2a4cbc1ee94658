"""Read receipts and typing indicators: opt-in, never sent while off duty.

Two real clients through a real in-process relay. What the peer could learn is checked on
the peer's side *and* on the relay: the author's mailbox is counted while the author is
offline, so an envelope that should not exist cannot hide.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.adapters.store import MessageRecord, MessageState
from app.core.client import TYPING_INTERVAL, EventStream, SourdineClient
from app.core.clock import ManualClock
from app.core.events import (
    ContactTyping,
    Event,
    MessageReceived,
    MessageStateChanged,
    PrekeysPublished,
)
from tests.app.core.support import MemoryKeyring, new_client, next_event, reopen, run
from tests.app.core.test_client import delivered, mailbox_size, relay_at
from tests.relay.harness import Relay


async def pair(tmp_path: Path, relay: Relay, clock: ManualClock | None = None
               ) -> tuple[SourdineClient, SourdineClient]:
    """Alice and Bob, started, each a contact of the other with a session both ways."""
    alice = await new_client(tmp_path, "Alice", relay.url)
    bob = await new_client(tmp_path, "Bob", relay.url, clock=clock)
    b_events = bob.subscribe()
    await alice.start()
    await bob.start()
    await next_event(b_events, PrekeysPublished)
    await alice.add_contact(bob.invitation_link)
    await alice.send_text("bob", "hi Bob")
    await next_event(b_events, MessageReceived)
    await bob.send_text("alice", "hi Alice")
    await alice.sync(10)
    b_events.close()
    return alice, bob


async def settle(sender: SourdineClient, receiver: SourdineClient) -> None:
    """Everything ``sender`` queued is deposited and ``receiver`` has processed it."""
    assert await sender.wait_outbox_empty(10)
    await receiver.sync(10)


def drain(events: EventStream) -> list[Event]:
    """The events already in the stream."""
    found = []
    while (event := events.get_nowait()) is not None:
        found.append(event)
    return found


def test_read_receipts_are_opt_in_and_never_sent_off_duty(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice, bob = await pair(tmp_path, relay)
            a_events = alice.subscribe()
            sent = [await alice.send_text("bob", f"m{n}") for n in range(1, 5)]
            for message in sent:
                await next_event(a_events, MessageStateChanged, **delivered(message.message_id))
            await settle(bob, alice)  # Bob's delivery receipts are in and acknowledged
            await alice.close()  # from now on, whatever Bob sends Alice waits in her mailbox
            assert await mailbox_size(relay, alice.identity_key) == 0

            received = [m for m in await bob.history("alice") if not m.outgoing]
            seq = {m.body: m.seq for m in received}
            assert not bob.read_receipts  # off by default
            await bob.mark_read("alice", through=seq["m1"])
            assert await bob.wait_outbox_empty(10)
            assert await mailbox_size(relay, alice.identity_key) == 0

            bob.set_privacy(read_receipts=True, typing=False)
            bob.set_off_duty(True)
            await bob.mark_read("alice", through=seq["m2"])
            assert await bob.wait_outbox_empty(10)
            assert await mailbox_size(relay, alice.identity_key) == 0

            bob.set_off_duty(False)
            await bob.mark_read("alice", through=seq["m2"])  # read off duty: never a receipt
            assert await bob.wait_outbox_empty(10)
            assert await mailbox_size(relay, alice.identity_key) == 0
            await bob.mark_read("alice")  # m3 and m4: one receipt for both
            assert await bob.wait_outbox_empty(10)
            assert await mailbox_size(relay, alice.identity_key) == 1
            await bob.mark_read("alice")  # nothing newly read
            assert await bob.wait_outbox_empty(10)
            assert await mailbox_size(relay, alice.identity_key) == 1

            alice = await reopen(tmp_path, "Alice")
            a_events = alice.subscribe()
            await alice.start()
            await alice.sync(10)
            read = [e for e in drain(a_events) if isinstance(e, MessageStateChanged)]
            assert [(e.message_id, e.state) for e in read] == [
                (sent[2].message_id, MessageState.READ), (sent[3].message_id, MessageState.READ),
            ]
            states = {m.body: m.state for m in await alice.history("bob")}
            assert states == {
                "hi Bob": MessageState.DELIVERED, "hi Alice": MessageState.RECEIVED,
                "m1": MessageState.DELIVERED, "m2": MessageState.DELIVERED,
                "m3": MessageState.READ, "m4": MessageState.READ,
            }
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_read_receipt_names_the_contacts_newly_read_messages_only(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice, bob = await pair(tmp_path, relay)
            a_events = alice.subscribe()
            bob.set_privacy(read_receipts=True, typing=False)
            await bob.send_text("alice", "Bob's own words")
            theirs = await alice.send_text("bob", "Alice's words")
            await settle(alice, bob)
            await settle(bob, alice)
            drain(a_events)
            await bob.mark_read("alice")
            await settle(bob, alice)
            first = next(m for m in await alice.history("bob") if m.body == "hi Bob")
            changes = [e for e in drain(a_events) if isinstance(e, MessageStateChanged)]
            assert [(e.message_id, e.state) for e in changes] == [
                (first.message_id, MessageState.READ), (theirs.message_id, MessageState.READ),
            ]
            # Bob's own texts are not his to mark read: Alice's copies stay received.
            history: list[MessageRecord] = await alice.history("bob")
            assert {m.body: m.state for m in history if not m.outgoing} == {
                "hi Alice": MessageState.RECEIVED, "Bob's own words": MessageState.RECEIVED,
            }
            await alice.close()
            await bob.close()

    run(scenario())


def test_typing_is_shown_only_when_the_author_allows_it(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        async with relay_at(tmp_path) as relay:
            alice, bob = await pair(tmp_path, relay, clock)
            a_events = alice.subscribe()
            bob_id = alice.contact("bob").contact_id

            async def bob_types() -> tuple[int, list[Event]]:
                """Bob types; what reached Alice: envelopes (besides the sync marker) and
                typing events."""
                before = alice.received_envelopes
                await bob.send_typing("alice")
                await settle(bob, alice)
                typing = [e for e in drain(a_events) if isinstance(e, ContactTyping)]
                return alice.received_envelopes - before - 1, typing

            assert not bob.typing_indicators  # off by default
            assert await bob_types() == (0, [])
            bob.set_privacy(read_receipts=False, typing=True)
            assert await bob_types() == (1, [ContactTyping(bob_id)])
            assert await bob_types() == (0, [])  # at most one per interval
            clock.advance(TYPING_INTERVAL)
            assert await bob_types() == (1, [ContactTyping(bob_id)])
            bob.set_off_duty(True)  # Bob off duty: nothing leaves his computer
            clock.advance(TYPING_INTERVAL)
            assert await bob_types() == (0, [])
            bob.set_off_duty(False)
            alice.set_off_duty(True)  # Alice off duty: it arrives, nothing is shown
            clock.advance(TYPING_INTERVAL)
            assert await bob_types() == (1, [])
            alice.set_off_duty(False)
            # Typing never reaches the conversation itself.
            assert [m.body for m in await alice.history("bob")] == ["hi Bob", "hi Alice"]
            await alice.close()
            await bob.close()

    run(scenario())


def test_typing_waiting_in_the_outbox_is_dropped_after_a_restart(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice, bob = await pair(tmp_path, relay)
            await alice.close()
        # The relay is gone: Bob's typing indicator cannot leave.
        bob.set_privacy(read_receipts=False, typing=True)
        await bob.send_typing("alice")
        assert bob.outbox_size == 1
        await asyncio.sleep(0.2)
        await bob.close()
        bob = await reopen(tmp_path, "Bob")
        assert bob.outbox_size == 0
        await bob.close()

    run(scenario())
