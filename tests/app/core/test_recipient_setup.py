"""A message to a contact who has not set up Sourdine yet: the user is told why it waits,
and it fails (readably) once it has waited ``recipient_setup_timeout``; a retry waits anew.

Real in-process relay, real SQLCipher profiles, keys in an in-memory keyring backend; the
senders' wall clock is a ManualClock moved by the tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.adapters.store import MessageState
from app.adapters.transport import Backoff
from app.core.client import ClientOptions, EventStream
from app.core.clock import ManualClock
from app.core.errors import OptionsError
from app.core.events import MessageReceived, MessageStateChanged, PrekeysPublished
from tests.app.core.support import MemoryKeyring, new_client, next_event, reopen, run
from tests.app.core.test_client import delivered, relay_at

QUICK_ASKS = Backoff(initial=0.1, maximum=0.2, jitter=0.0)
DAY = 24 * 3600
WAITING = "Waiting for Bob to open Sourdine for the first time."
GAVE_UP = "Bob has not set up Sourdine at this address; check the address and retry."


def state_changes(stream: EventStream, message_id: bytes) -> list[tuple[MessageState, Any]]:
    """The state changes of one message among the events already in ``stream``."""
    found = []
    while (event := stream.get_nowait()) is not None:
        if isinstance(event, MessageStateChanged) and event.message_id == message_id:
            found.append((event.state, event.reason))
    return found


def test_the_default_bound_is_the_relays_envelope_lifetime() -> None:
    assert ClientOptions().recipient_setup_timeout == 14 * DAY


@pytest.mark.parametrize("timeout", [0, -1, 1.5, True, "14d"])
def test_a_bound_that_is_not_a_positive_number_of_seconds_is_refused(timeout: Any) -> None:
    with pytest.raises(OptionsError, match="positive number of seconds"):
        ClientOptions(recipient_setup_timeout=timeout)


def test_the_wait_is_shown_then_given_up_and_a_retry_after_they_set_up_arrives_once(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            clock = ManualClock()
            alice = await new_client(tmp_path, "Alice", relay.url, clock=clock,
                                     recipient_backoff=QUICK_ASKS)
            bob = await new_client(tmp_path, "Bob", relay.url)  # created, never connected
            events = alice.subscribe()
            await alice.start()
            await alice.add_contact(bob.invitation_link)
            sent = await alice.send_text("bob", "welcome aboard")
            waiting = await next_event(events, MessageStateChanged, message_id=sent.message_id)
            assert (waiting.state, waiting.reason) == (MessageState.QUEUED, WAITING)
            # Many more asks are refused; the user was told once. One second short of the
            # bound, the message still waits.
            clock.advance(14 * DAY - 1)
            await asyncio.sleep(1.0)
            assert state_changes(events, sent.message_id) == []
            assert alice.outbox_size == 1
            clock.advance(1)
            failed = await next_event(events, MessageStateChanged, message_id=sent.message_id)
            assert (failed.state, failed.reason) == (MessageState.FAILED, GAVE_UP)
            (stored,) = await alice.history("bob")
            assert (stored.state, stored.reason) == (MessageState.FAILED, GAVE_UP)
            assert alice.outbox_size == 0
            # Bob opens Sourdine; the user retries: the message arrives once.
            b_events = bob.subscribe()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            await alice.retry_message("bob", sent.message_id)
            got = await next_event(b_events, MessageReceived)
            assert (got.message.message_id, got.message.body) == (sent.message_id,
                                                                  "welcome aboard")
            await next_event(events, MessageStateChanged, **delivered(sent.message_id))
            await bob.sync(10)
            assert [m.body for m in await bob.history("alice")] == ["welcome aboard"]
            (stored,) = await alice.history("bob")
            assert (stored.state, stored.reason) == (MessageState.DELIVERED, None)
            await alice.close()
            await bob.close()

    run(scenario())


def test_the_bound_counts_from_sending_across_restarts_and_from_the_retry_after_one(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            clock = ManualClock()
            alice = await new_client(tmp_path, "Alice", relay.url, clock=clock,
                                     recipient_backoff=QUICK_ASKS)
            bob = await new_client(tmp_path, "Bob", relay.url)
            events = alice.subscribe()
            await alice.start()
            await alice.add_contact(bob.invitation_link)
            sent = await alice.send_text("bob", "are you there yet?")
            await next_event(events, MessageStateChanged, message_id=sent.message_id,
                             reason=WAITING)
            clock.advance(10 * DAY)
            later = await alice.send_text("bob", "written ten days later")
            await next_event(events, MessageStateChanged, message_id=later.message_id,
                             reason=WAITING)
            # Alice's app restarts: the wait is shown again, and still counts from sending.
            await alice.close()
            alice = await reopen(tmp_path, "Alice", clock=clock, recipient_backoff=QUICK_ASKS)
            events = alice.subscribe()
            await alice.start()
            await next_event(events, MessageStateChanged, message_id=sent.message_id,
                             reason=WAITING)
            clock.advance(4 * DAY)
            failed = await next_event(events, MessageStateChanged, message_id=sent.message_id)
            assert (failed.state, failed.reason) == (MessageState.FAILED, GAVE_UP)
            assert state_changes(events, later.message_id) == []  # 4 days old: still waits
            assert alice.outbox_size == 1
            # The retry waits the whole bound again, not what is left since sending.
            await alice.retry_message("bob", sent.message_id)
            await next_event(events, MessageStateChanged, message_id=sent.message_id,
                             state=MessageState.QUEUED, reason=None)
            await next_event(events, MessageStateChanged, message_id=sent.message_id,
                             reason=WAITING)
            clock.advance(10 * DAY)
            failed = await next_event(events, MessageStateChanged, message_id=later.message_id)
            assert (failed.state, failed.reason) == (MessageState.FAILED, GAVE_UP)
            await asyncio.sleep(0.5)
            assert state_changes(events, sent.message_id) == []  # retried 10 days ago
            assert alice.outbox_size == 1
            clock.advance(4 * DAY)
            failed = await next_event(events, MessageStateChanged, message_id=sent.message_id)
            assert (failed.state, failed.reason) == (MessageState.FAILED, GAVE_UP)
            assert alice.outbox_size == 0
            await alice.close()
            await bob.close()

    run(scenario())
