"""Hostile clients against a real relay process: fuzzed and malformed frames, oversized frames,
deposit floods, clients that stop reading, too many connections. The relay must stay up, answer
with errors, and keep another pair of clients' messages flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import urllib.request
from collections.abc import Awaitable, Callable, Iterator

import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from relay import protocol as p
from tests.integration.conftest import RelayProcess, RelayStarter, start_relay
from tests.relay.harness import run
from tests.relay.wire_client import Identity, RelayClient
from tests.support.drbg import DeterministicRandom

WATCHER = Identity("hostile watcher")
TARGET = Identity("hostile target")
MAX_FRAME = 256 * 1024


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    process = start_relay(
        tmp_path_factory.mktemp("hostile"), "--max-connections-per-address", "0",
        "--max-frame-bytes", str(MAX_FRAME), "--max-envelope-bytes", "65536",
        "--max-recipients", "100", "--deposit-rate", "200", "--deposit-burst", "400",
        "--blob-chunk-bytes", "131072", "--send-timeout", "2", "--send-queue-bytes", "262144",
    )
    yield process
    assert process.stop() == 0, process.log_text()


async def while_watching(
    relay: RelayProcess, attack: Callable[[], Awaitable[None]]
) -> list[float]:
    """Run ``attack`` while a bystander deposits to a watcher every 20 ms; return latencies."""
    latencies: list[float] = []
    async with await RelayClient.open(relay.url) as watcher, \
            await RelayClient.open(relay.url) as bystander:
        await watcher.login(WATCHER)
        await bystander.call(p.Hello, versions=(1,))
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def probe() -> None:
            number = 0
            while not done.is_set() or number < 20:
                started = loop.time()
                envelope = b"probe %d" % number
                await bystander.call(p.Deposit, recipients=(WATCHER.public,), envelope=envelope)
                while True:
                    delivered = (await watcher.deliveries(1, timeout=10))[0]
                    await watcher.call(p.Ack, envelope_ids=(delivered.envelope_id,))
                    if delivered.envelope == envelope:
                        break
                latencies.append(loop.time() - started)
                number += 1
                await asyncio.sleep(0.02)

        prober = asyncio.create_task(probe())
        try:
            await attack()
        finally:
            done.set()
        await prober
    return latencies


def assert_unaffected(latencies: list[float]) -> None:
    assert len(latencies) >= 20
    assert statistics.median(latencies) < 0.25, latencies
    assert max(latencies) < 3.0, latencies


def assert_healthy(relay: RelayProcess) -> None:
    assert relay.process.poll() is None, relay.log_text()
    with urllib.request.urlopen(f"http://{relay.host}:{relay.port}/healthz", timeout=10) as r:
        assert r.status == 200


def fuzzed_frames(count: int) -> list[bytes]:
    """Random bytes, truncated and bit-flipped valid frames, and well-formed nonsense maps."""
    random = DeterministicRandom("hostile fuzz")
    valid = [
        p.encode(p.Deposit(request_id=5, recipients=(TARGET.public,), envelope=b"x" * 40)),
        p.encode(p.Auth(request_id=6, identity=bytes(32), signature=bytes(64))),
        p.encode(p.BlobGet(request_id=7, blob_id=bytes(32), offset=0, length=10)),
        p.encode(p.PrekeysPublish(request_id=8)),
    ]
    frames = []
    for n in range(count):
        pick = random(4)
        base = valid[pick[0] % len(valid)]
        kind = pick[1] % 5
        if kind == 0:
            frames.append(random(1 + pick[2] % 200))
        elif kind == 1:
            frames.append(base[: 1 + pick[2] % (len(base) - 1)])
        elif kind == 2:
            position = int.from_bytes(random(2), "big") % len(base)
            frames.append(base[:position] + bytes([base[position] ^ (1 + pick[3] % 255)])
                          + base[position + 1:])
        elif kind == 3:
            frames.append(msgpack.packb({"op": "deposit", "id": n + 1,
                                         "to": [random(32)] * (pick[2] % 3),
                                         "envelope": random(pick[3] % 5),
                                         "ttl": -1 if pick[2] % 2 else "x"}))
        else:
            frames.append(msgpack.packb([n, "op", {"id": n}]))
    return frames


def test_thousands_of_fuzzed_frames_each_get_one_answer(relay: RelayProcess) -> None:
    frames = fuzzed_frames(3000)

    async def fuzzer(chunk: list[bytes]) -> int:
        async with connect(relay.url, compression=None) as connection:
            await connection.send(p.encode(p.Hello(request_id=1, versions=(1,))))
            await connection.recv()
            answers = 0

            async def read() -> None:
                nonlocal answers
                while answers < len(chunk):
                    frame = msgpack.unpackb(await connection.recv())
                    assert frame["op"] in {"ok", "error"}  # never a crash, never a push
                    if frame["op"] == "error":
                        assert frame["message"]
                    answers += 1

            reader = asyncio.create_task(read())
            for frame in chunk:
                await connection.send(frame)
            await asyncio.wait_for(reader, 60)
            return answers

    async def attack() -> None:
        counts = await asyncio.gather(*(fuzzer(frames[i::4]) for i in range(4)))
        assert sum(counts) == len(frames)

    assert_unaffected(run(lambda: while_watching(relay, attack), timeout=120))
    assert_healthy(relay)


def test_oversized_frames_close_only_their_connection(relay: RelayProcess) -> None:
    async def attack() -> None:
        for size in (MAX_FRAME + 1, 4 * MAX_FRAME):
            async with connect(relay.url, compression=None, max_size=None) as connection:
                with contextlib.suppress(ConnectionClosed):
                    await connection.send(b"\x81" + b"\x00" * size)
                    await connection.recv()
                assert connection.close_code == 1009
        async with await RelayClient.open(relay.url) as client:  # too large but under the frame
            await client.call(p.Hello, versions=(1,))
            with pytest.raises(Exception, match="65536 bytes"):
                await client.call(p.Deposit, recipients=(WATCHER.public,), envelope=b"x" * 70000)

    assert_unaffected(run(lambda: while_watching(relay, attack), timeout=60))
    assert_healthy(relay)


def test_a_deposit_flood_is_rate_limited_without_slowing_others(relay: RelayProcess) -> None:
    async def attack() -> None:
        async with await RelayClient.open(relay.url) as target:
            await target.login(TARGET)
        async with await RelayClient.open(relay.url) as flooder:
            await flooder.call(p.Hello, versions=(1,))
            futures = []
            for _ in range(3000):
                request = p.Deposit(request_id=flooder.next_id(), recipients=(TARGET.public,),
                                    envelope=b"flood")
                futures.append(await flooder.send(request))
            replies = await asyncio.gather(*futures)
            limited = [r for r in replies if isinstance(r, p.ErrorReply)]
            assert all(r.code == "rate_limited" and r.retry_after_ms for r in limited)
            assert len(limited) > 2000  # a burst of 400 tokens, then 200 per second

    assert_unaffected(run(lambda: while_watching(relay, attack), timeout=60))
    assert_healthy(relay)


def test_clients_that_stop_reading_do_not_hold_up_others_and_are_dropped(
    relay: RelayProcess,
) -> None:
    readers = [Identity(f"hostile sleeper {n}") for n in range(4)]

    async def attack() -> None:
        sleepers = []
        for identity in readers:
            # A tiny receive buffer, so the kernel cannot absorb what the client does not read.
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect((relay.host, relay.port))
            sock.setblocking(False)
            client = await RelayClient.open(relay.url, max_queue=1, sock=sock)
            await client.login(identity)
            client._reader.cancel()  # never reads again
            sleepers.append(client)

        async def deposit_to(sleeper: Identity) -> None:
            async with await RelayClient.open(relay.url) as depositor:
                await depositor.call(p.Hello, versions=(1,))
                for _ in range(100):  # 6 MB each: more than the relay's socket buffer
                    await depositor.call(p.Deposit, recipients=(sleeper.public,),
                                         envelope=b"z" * 60_000)

        await asyncio.gather(*(deposit_to(r) for r in readers))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while dropped() < len(sleepers) and loop.time() < deadline:
            await asyncio.sleep(0.1)
        for client in sleepers:
            client.connection.transport.abort()

    def dropped() -> int:
        return sum(e.get("event") == "client_dropped" for e in relay.events())

    assert dropped() == 0
    assert_unaffected(run(lambda: while_watching(relay, attack), timeout=120))
    assert dropped() == len(readers), relay.log_text()  # each sleeper, after --send-timeout
    assert_healthy(relay)


def test_connections_over_the_per_address_limit_get_http_429(
    relay_starter: RelayStarter,
) -> None:
    limited = relay_starter("--max-connections-per-address", "3")

    async def scenario() -> None:
        clients = [await RelayClient.open(limited.url) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await connect(limited.url)
        assert refused.value.response.status_code == 429
        await clients[0].close()
        await asyncio.sleep(0.2)
        async with await RelayClient.open(limited.url) as again:  # a slot was freed
            await again.login(Identity("hostile late"))
        for client in clients[1:]:
            await client.close()

    run(scenario)
    assert_healthy(limited)
