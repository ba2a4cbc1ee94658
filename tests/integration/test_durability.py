"""kill -9 while deposits are in flight: every acknowledged deposit survives, exactly once.

Senders pipeline deposits to two mailboxes; one owner is offline, the other online and acking
as it goes. The relay is killed with SIGKILL mid-flood and restarted on the same database.
Every deposit whose ``ok`` arrived must then be delivered (once), and no envelope whose ack
was confirmed may come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from relay import protocol as p
from tests.integration.conftest import RelayProcess, RelayStarter
from tests.relay.harness import run
from tests.relay.wire_client import Identity, RelayClient

OFFLINE, ONLINE = Identity("durable offline"), Identity("durable online")


async def flood(relay: RelayProcess, sender: int, confirmed: set[bytes], sent: set[bytes],
                stop: asyncio.Event) -> None:
    """Deposit until the relay dies; record the envelopes whose ok reply arrived."""
    client = await RelayClient.open(relay.url)
    await client.call(p.Hello, versions=(1,))
    pending: set[asyncio.Future[object]] = set()
    number = 0

    def record(envelope: bytes, future: asyncio.Future[object]) -> None:
        if not future.cancelled() and future.exception() is None:
            reply = future.result()
            if isinstance(reply, p.Deposited) and all(
                r.envelope_id is not None for r in reply.results
            ):
                confirmed.add(envelope)

    with contextlib.suppress(Exception):
        while not stop.is_set():
            while len(pending) >= 32:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            envelope = b"durable %d %06d " % (sender, number) + b"." * 200
            number += 1
            sent.add(envelope)
            future = await client.send(p.Deposit(request_id=client.next_id(),
                                                 recipients=(OFFLINE.public, ONLINE.public),
                                                 envelope=envelope))
            future.add_done_callback(lambda f, e=envelope: record(e, f))
            pending.add(future)
    with contextlib.suppress(Exception):
        await asyncio.wait(pending, timeout=5)
    with contextlib.suppress(Exception):
        await client.close()


async def wait_for_confirmed(confirmed: set[bytes], count: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while len(confirmed) < count:
        assert loop.time() < deadline, f"only {len(confirmed)} deposits confirmed"
        await asyncio.sleep(0.02)


async def online_reader(relay: RelayProcess, acked: set[bytes], ack_sent: set[bytes],
                        stop: asyncio.Event) -> None:
    """The online owner acks each delivery; ``acked`` gets those whose ack was confirmed,
    ``ack_sent`` those whose ack was sent (its reply may have been lost in the crash)."""
    with contextlib.suppress(Exception):
        client = await RelayClient.open(relay.url)
        await client.login(ONLINE)
        while not stop.is_set():
            deliver = await client.deliveries(1, timeout=30)
            ack_sent.add(deliver[0].envelope)
            await client.call(p.Ack, envelope_ids=(deliver[0].envelope_id,))
            acked.add(deliver[0].envelope)


async def drain(relay: RelayProcess, identity: Identity) -> list[p.Deliver]:
    """Everything delivered to ``identity`` until a second passes without a push."""
    async with await RelayClient.open(relay.url) as client:
        await client.login(identity)
        found: list[p.Deliver] = []
        with contextlib.suppress(TimeoutError):
            while True:
                found.extend(await client.deliveries(1, timeout=1.0))
        return found


def test_acknowledged_deposits_survive_kill_9_exactly_once(relay_starter: RelayStarter) -> None:
    relay = relay_starter("--deposit-rate", "0", "--max-connections-per-address", "0")
    database = relay.database

    async def before_crash() -> tuple[set[bytes], set[bytes], set[bytes], set[bytes]]:
        for identity in (OFFLINE, ONLINE):
            async with await RelayClient.open(relay.url) as client:
                await client.login(identity)
        confirmed: set[bytes] = set()
        acked: set[bytes] = set()
        sent: set[bytes] = set()
        ack_sent: set[bytes] = set()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(flood(relay, n, confirmed, sent, stop)) for n in range(6)]
        tasks.append(asyncio.create_task(online_reader(relay, acked, ack_sent, stop)))
        await wait_for_confirmed(confirmed, 1500)
        relay.kill()  # SIGKILL while deposits are in flight
        stop.set()
        await asyncio.wait(tasks, timeout=30)
        return confirmed, acked, sent, ack_sent

    confirmed, acked, sent, ack_sent = run(before_crash, timeout=120)
    assert len(confirmed) >= 1500
    assert len(sent) > len(confirmed)  # some deposits were in flight when it died
    assert acked  # and the online owner had acked some
    restarted = relay_starter("--deposit-rate", "0", database=database)

    async def after_restart() -> None:
        offline = await drain(restarted, OFFLINE)
        contents = [d.envelope for d in offline]
        assert len(contents) == len(set(contents))  # nothing twice
        assert len({d.envelope_id for d in offline}) == len(offline)
        assert confirmed <= set(contents)  # nothing acknowledged was lost
        online = await drain(restarted, ONLINE)
        redelivered = {d.envelope for d in online}
        assert not redelivered & acked  # a confirmed ack is durable too
        assert confirmed - ack_sent <= redelivered  # an ack without reply may have landed
        async with await RelayClient.open(restarted.url) as client:
            await client.login(OFFLINE)
            ids = [d.envelope_id for d in offline]
            for start in range(0, len(ids), 1000):
                await client.call(p.Ack, envelope_ids=tuple(ids[start:start + 1000]))
        assert await drain(restarted, OFFLINE) == []  # one ack cycle: delivered once, gone

    run(after_restart, timeout=120)


def test_sigterm_during_deposits_stops_cleanly_and_keeps_what_was_acknowledged(
    relay_starter: RelayStarter,
) -> None:
    relay = relay_starter("--deposit-rate", "0")
    database = relay.database

    async def flood_then_stop() -> set[bytes]:
        for identity in (OFFLINE, ONLINE):
            async with await RelayClient.open(relay.url) as client:
                await client.login(identity)
        confirmed: set[bytes] = set()
        sent: set[bytes] = set()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(flood(relay, n, confirmed, sent, stop)) for n in range(3)]
        await wait_for_confirmed(confirmed, 300)
        relay.process.send_signal(signal.SIGTERM)
        code = await asyncio.get_running_loop().run_in_executor(None, relay.process.wait, 30)
        assert code == 0, relay.log_text()
        stop.set()
        await asyncio.wait(tasks, timeout=30)
        return confirmed

    confirmed = run(flood_then_stop, timeout=120)
    events = [e["event"] for e in relay.events()]
    assert events[-2:] == ["stopping", "stopped"]
    restarted = relay_starter("--deposit-rate", "0", database=database)
    delivered = run(lambda: drain(restarted, OFFLINE), timeout=120)
    contents = [d.envelope for d in delivered]
    assert len(contents) == len(set(contents))
    assert confirmed <= set(contents)
