"""Deposit, delivery, ack, expiry and deposit limits (docs/PROTOCOL.md "Mailboxes")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from relay import errors
from relay import protocol as p
from tests.relay.harness import run, running_relay
from tests.relay.wire_client import Identity, RelayClient

ALICE = Identity("alice")
BOB = Identity("bob")
CAROL = Identity("carol")


async def register(relay_url: str, *identities: Identity) -> None:
    for identity in identities:
        async with await RelayClient.open(relay_url) as client:
            await client.login(identity)


async def sender(relay_url: str) -> RelayClient:
    client = await RelayClient.open(relay_url)
    await client.call(p.Hello, versions=(1,))
    return client


def test_backlog_then_live_delivery_each_once_then_ack_deletes(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            await register(relay.url, ALICE)
            async with await sender(relay.url) as depositor:
                for n in range(3):
                    await depositor.call(p.Deposit, recipients=(ALICE.public,),
                                         envelope=f"old {n}".encode())
                async with await relay.client() as alice:
                    await alice.login(ALICE)
                    backlog = await alice.deliveries(3)
                    assert [d.envelope for d in backlog] == [b"old 0", b"old 1", b"old 2"]
                    assert [d.envelope_id for d in backlog] == [1, 2, 3]
                    await depositor.call(p.Deposit, recipients=(ALICE.public,), envelope=b"new")
                    live = await alice.deliveries(1)
                    assert (live[0].envelope_id, live[0].envelope) == (4, b"new")
                    assert await alice.quiet() == []  # nothing twice
                    acked = await alice.call(p.Ack, envelope_ids=(1, 2, 4, 99))
                    assert acked.deleted == 3
            async with await relay.client() as alice:
                await alice.login(ALICE)
                again = await alice.deliveries(1)
                assert [d.envelope for d in again] == [b"old 2"]  # only the unacked one
                assert await alice.quiet() == []

    run(scenario)


def test_a_version_2_client_gets_queued_deliveries_in_one_push_a_version_1_client_one_each(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            await register(relay.url, ALICE)
            async with await sender(relay.url) as depositor:
                for n in range(5):
                    await depositor.call(p.Deposit, recipients=(ALICE.public,),
                                         envelope=b"queued %d" % n)
            async with await relay.client() as alice:
                await alice.login(ALICE, versions=(1, 2))
                assert alice.hello is not None and alice.hello.version == 2
                push = await alice.next_push()  # the whole backlog page is queued at once
                assert isinstance(push, p.DeliverMany)
                assert [d.envelope_id for d in push.deliveries] == [1, 2, 3, 4, 5]
                assert [d.envelope for d in push.deliveries] == [b"queued %d" % n
                                                                 for n in range(5)]
            async with await relay.client() as old_alice:
                await old_alice.login(ALICE)  # version 1 only
                assert old_alice.hello is not None and old_alice.hello.version == 1
                pushes = [await old_alice.next_push() for _ in range(5)]
                assert all(type(push) is p.Deliver for push in pushes)
                assert [push.envelope_id for push in pushes if isinstance(push, p.Deliver)] == [
                    1, 2, 3, 4, 5]
                assert await old_alice.quiet(0.2) == []

    run(scenario)


def test_a_deposit_reports_each_recipient_separately(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, mailbox_max_envelopes=1) as relay:
            await register(relay.url, ALICE, BOB)
            async with await sender(relay.url) as depositor:
                await depositor.call(p.Deposit, recipients=(BOB.public,), envelope=b"fills bob")
                reply = await depositor.call(
                    p.Deposit, recipients=(ALICE.public, BOB.public, CAROL.public),
                    envelope=b"three",
                )
                alice, bob, carol = reply.results
                assert alice.envelope_id == 1
                assert isinstance(bob.error(), errors.QuotaExceeded)
                assert isinstance(carol.error(), errors.UnknownMailbox)
                assert bob.message and carol.message

    run(scenario)


def test_a_client_cannot_read_or_ack_another_mailbox(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            await register(relay.url, ALICE, BOB)
            async with await sender(relay.url) as depositor:
                await depositor.call(p.Deposit, recipients=(ALICE.public,), envelope=b"for alice")
            async with await relay.client() as bob:
                await bob.login(BOB)
                assert await bob.quiet() == []  # Bob receives nothing of Alice's
                assert (await bob.call(p.Ack, envelope_ids=(1,))).deleted == 0
            async with await relay.client() as alice:
                await alice.login(ALICE)
                assert [d.envelope for d in await alice.deliveries(1)] == [b"for alice"]

    run(scenario)


def test_a_client_that_reads_slowly_still_gets_everything_exactly_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, send_queue_bytes=50_000, deposit_rate=0) as relay:
            await register(relay.url, ALICE)
            alice = await relay.client(max_queue=2)
            await alice.login(ALICE)
            alice._reader.cancel()  # stop reading for a while: the relay's queue fills up
            async with await sender(relay.url) as depositor:
                pending = [
                    await depositor.send(p.Deposit(request_id=depositor.next_id(),
                                                   recipients=(ALICE.public,),
                                                   envelope=b"%05d" % n + b"." * 20_000))
                    for n in range(300)
                ]
                replies = await asyncio.gather(*pending)
            assert all(isinstance(r, p.Deposited) for r in replies)  # deposits never waited
            feed = relay.server.service.online[ALICE.public].feed
            assert feed is not None
            assert feed.store_reads > 1  # live delivery fell back to reading the mailbox
            # Read everything now, straight from the socket.
            seen: list[int] = []
            while len(seen) < 300:
                message = await asyncio.wait_for(alice.connection.recv(), 10)
                frame = p.decode_relay_frame(message, {})  # type: ignore[arg-type]
                assert isinstance(frame, p.Deliver)
                seen.append(frame.envelope_id)
            assert sorted(seen) == list(range(1, 301))  # every envelope, none twice
            await alice.connection.close()

    run(scenario)


def test_ttl_is_capped_expired_envelopes_are_not_delivered_and_get_purged(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, ttl_days=1.0, purge_interval=0.05) as relay:
            await register(relay.url, ALICE)
            start = int(relay.clock.wall)
            async with await sender(relay.url) as depositor:
                await depositor.call(p.Deposit, recipients=(ALICE.public,), envelope=b"short",
                                     ttl=60)
                await depositor.call(p.Deposit, recipients=(ALICE.public,), envelope=b"capped",
                                     ttl=10 * 86_400)
            async with await relay.client() as alice:
                await alice.login(ALICE)
                first = await alice.deliveries(2)
                assert [(d.envelope, d.expires_at) for d in first] == [
                    (b"short", start + 60), (b"capped", start + 86_400)
                ]
            relay.clock.advance(61)
            async with await relay.client() as alice:
                await alice.login(ALICE)
                assert [d.envelope for d in await alice.deliveries(1)] == [b"capped"]
                assert await alice.quiet() == []
            await asyncio.sleep(0.3)  # a few purges run
            remaining = await relay.store.fetch(ALICE.public, 0, 10, now=start)
            assert [e.envelope for e in remaining] == [b"capped"]  # really deleted, not hidden

    run(scenario)


def test_deposits_are_rate_limited_per_connection_with_a_retry_hint(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, deposit_rate=10, deposit_burst=10,
                                 max_recipients=10) as relay:
            await register(relay.url, ALICE, BOB)
            async with await sender(relay.url) as depositor:
                for _ in range(4):
                    await depositor.call(p.Deposit, recipients=(ALICE.public, BOB.public),
                                         envelope=b"x")
                with pytest.raises(errors.RateLimited) as raised:
                    await depositor.call(p.Deposit, recipients=(ALICE.public, BOB.public,
                                                                CAROL.public), envelope=b"x")
                assert raised.value.retry_after_ms == 101  # one token missing at 10/s
                async with await sender(relay.url) as other:  # another connection is unaffected
                    await other.call(p.Deposit, recipients=(ALICE.public,), envelope=b"y")
                relay.clock.advance(0.1)
                await depositor.call(p.Deposit, recipients=(ALICE.public,), envelope=b"x")

    run(scenario)


def test_oversized_envelopes_and_recipient_lists_are_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, max_envelope_bytes=1000, max_recipients=2,
                                 deposit_burst=10) as relay:
            await register(relay.url, ALICE)
            async with await sender(relay.url) as depositor:
                with pytest.raises(errors.TooLarge, match="1000 bytes"):
                    await depositor.call(p.Deposit, recipients=(ALICE.public,),
                                         envelope=b"x" * 1001)
                with pytest.raises(errors.TooLarge, match="2 mailboxes"):
                    await depositor.call(p.Deposit, recipients=(ALICE.public, BOB.public,
                                                                CAROL.public), envelope=b"x")
                ok = await depositor.call(p.Deposit, recipients=(ALICE.public,),
                                          envelope=b"x" * 1000)
                assert ok.results[0].envelope_id == 1

    run(scenario)
