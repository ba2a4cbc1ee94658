"""Relay benchmark: durable deposits per second and deposit-to-delivery latency, on loopback.

    python -m bench.relay [--json] [--senders 8] [--receivers 8] [--messages 20000] ...

Two servers run in turn, each in its own process, driven by the same load generator (this
process) with 1 KiB envelopes from many senders to many receivers:

- **bare**: a plain ``websockets`` server that forwards each frame from a sender to its
  receiver, with no storage, no protocol and no checks (the baseline);
- **relay**: the real ``python -m relay`` on a fresh SQLite database. Senders speak the relay
  protocol (``relay.protocol``): hello, then deposits, each answered only after the durable
  commit. Receivers authenticate with Ed25519 identity keys, get envelopes pushed and ack them.

Each server is measured twice: flat out (senders keep a window of deposits in flight, bare
senders write as fast as the socket takes it) and at a fixed offered load of 1,000 messages/s
(an open-loop schedule, so a slow server cannot slow the clock down). Latency runs from the
moment a message was due to be sent to its arrival at the receiver.

Output: ``name: value unit`` lines, or with ``--json`` one JSON object (``relay_vs_bare``,
``p99_ms_at_1000`` and the rest). Targets: relay_vs_bare >= 0.5, p99_ms_at_1000 < 50.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from crypto.primitives import ed25519_keypair, ed25519_sign, system_random
from relay import protocol as p

ENVELOPE_BYTES = 1024
HEADER = struct.Struct(">qQ")  # due time (perf_counter_ns), message number
PADDING = os.urandom(ENVELOPE_BYTES - HEADER.size)  # sealed envelopes look random
MAX_FRAME = 1 << 20
STARTUP_TIMEOUT = 30.0
PHASE_TIMEOUT = 120.0
BARE_RECEIVER = b"R"


# -- servers as child processes --------------------------------------------------------------
class ServerProcess:
    """A server in its own process; its port is read from the line it logs when listening."""

    def __init__(self, argv: list[str], find_port: Callable[[str], int | None]) -> None:
        self._process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self.log: deque[str] = deque(maxlen=50)  # last lines, shown if something fails
        self._port: int | None = None
        self._ready = threading.Event()
        self._find_port = find_port
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._ready.wait(STARTUP_TIMEOUT) or self._port is None:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "\n".join(self.log))

    @property
    def port(self) -> int:
        assert self._port is not None
        return self._port

    @property
    def pid(self) -> int:
        return self._process.pid

    def _drain(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.log.append(line.rstrip())
            if self._port is None:
                self._port = self._find_port(line)
                if self._port is not None:
                    self._ready.set()
        self._ready.set()

    def cpu_seconds(self) -> float:
        """User + system CPU time the process used so far (Linux; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def relay_port(line: str) -> int | None:
    """The port in the relay's JSON "listening" log line."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("event") != "listening":
        return None
    port = record.get("port")
    if isinstance(port, int):
        return port
    address = str(record.get("address", ""))
    tail = address.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def bare_port(line: str) -> int | None:
    words = line.split()
    return int(words[1]) if len(words) == 2 and words[0] == "listening" else None


async def serve_bare() -> None:
    """The baseline: forward ``recipient (32 bytes) || payload`` frames to the recipient.

    A receiver's first frame is ``R || its 32-byte name``; any other connection is a sender.
    """
    receivers: dict[bytes, ServerConnection] = {}

    async def handler(connection: ServerConnection) -> None:
        first = await connection.recv()
        assert isinstance(first, bytes)
        if first[:1] == BARE_RECEIVER:
            receivers[first[1:]] = connection
            await connection.wait_closed()
            return
        async for frame in connection:
            assert isinstance(frame, bytes)
            target = receivers.get(frame[:32])
            if target is not None:
                await target.send(frame[32:])

    async with serve(handler, "127.0.0.1", 0, max_size=MAX_FRAME, compression=None) as server:
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.Future()


# -- measurements ----------------------------------------------------------------------------
@dataclass
class Phase:
    """What one run of messages produced."""

    expected: int
    started_ns: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # due -> delivered
    deposit_ms: list[float] = field(default_factory=list)  # due -> deposit acknowledged
    last_delivery_ns: int = 0
    last_deposit_ns: int = 0
    failures: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def delivered(self, envelope: bytes) -> None:
        now = time.perf_counter_ns()
        due, _number = HEADER.unpack_from(envelope)
        self.latencies_ms.append((now - due) / 1e6)
        self.last_delivery_ns = now
        if len(self.latencies_ms) >= self.expected:
            self.done.set()

    def deposited(self, due: int) -> None:
        self.last_deposit_ns = time.perf_counter_ns()
        self.deposit_ms.append((self.last_deposit_ns - due) / 1e6)

    def per_second(self, end_ns: int, count: int) -> float:
        return count / max((end_ns - self.started_ns) / 1e9, 1e-9)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def envelope(due_ns: int, number: int) -> bytes:
    return HEADER.pack(due_ns, number) + PADDING


def schedule(senders: int, rate: float, seconds: float, start_ns: int) -> list[list[int]]:
    """Due times (ns) per sender for ``rate`` messages/s in all, spread evenly."""
    total = int(rate * seconds)
    step = 1e9 / rate
    due: list[list[int]] = [[] for _ in range(senders)]
    for n in range(total):
        due[n % senders].append(start_ns + int(n * step))
    return due


async def sleep_until(due_ns: int) -> None:
    delay = (due_ns - time.perf_counter_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)


async def wait_phase(phase: Phase) -> None:
    try:
        await asyncio.wait_for(phase.done.wait(), PHASE_TIMEOUT)
    except TimeoutError:
        phase.failures += phase.expected - len(phase.latencies_ms)


# -- bare baseline ---------------------------------------------------------------------------
class BareBench:
    def __init__(self, port: int, senders: int, receivers: int) -> None:
        self.uri = f"ws://127.0.0.1:{port}"
        self.sender_count = senders
        self.names = [bytes([n]) * 32 for n in range(receivers)]
        self.senders: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.phase = Phase(expected=0)

    async def __aenter__(self) -> BareBench:
        for name in self.names:
            connection = await connect(self.uri, max_size=MAX_FRAME, compression=None)
            await connection.send(BARE_RECEIVER + name)
            self.readers.append(asyncio.create_task(self._receive(connection)))
        for _ in range(self.sender_count):
            connection = await connect(self.uri, max_size=MAX_FRAME, compression=None)
            await connection.send(b"S")
            self.senders.append(connection)
        await asyncio.sleep(0.2)  # let the server register every receiver
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.readers:
            task.cancel()
        for connection in self.senders:
            await connection.close()

    async def _receive(self, connection: ClientConnection) -> None:
        async with connection:
            async for frame in connection:
                assert isinstance(frame, bytes)
                self.phase.delivered(frame)

    async def flat_out(self, messages: int) -> Phase:
        self.phase = phase = Phase(expected=messages)
        phase.started_ns = time.perf_counter_ns()

        async def sender(index: int, connection: ClientConnection) -> None:
            for n in range(index, messages, len(self.senders)):
                target = self.names[n % len(self.names)]
                await connection.send(target + envelope(time.perf_counter_ns(), n))

        await asyncio.gather(*(sender(i, c) for i, c in enumerate(self.senders)))
        await wait_phase(phase)
        return phase

    async def at_rate(self, rate: float, seconds: float) -> Phase:
        start = time.perf_counter_ns() + 50_000_000
        plan = schedule(len(self.senders), rate, seconds, start)
        self.phase = phase = Phase(expected=sum(map(len, plan)))
        phase.started_ns = start

        async def sender(index: int, connection: ClientConnection) -> None:
            for k, due in enumerate(plan[index]):
                await sleep_until(due)
                n = k * len(self.senders) + index
                await connection.send(self.names[n % len(self.names)] + envelope(due, n))

        await asyncio.gather(*(sender(i, c) for i, c in enumerate(self.senders)))
        await wait_phase(phase)
        return phase


# -- the relay -------------------------------------------------------------------------------
class RelayClient:
    """A minimal pipelined client over ``relay.protocol``: requests matched to replies by id."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._replies: dict[int, type[p.Reply]] = {}  # pending request id -> its reply type
        self._waiting: dict[int, asyncio.Future[p.Reply | p.ErrorReply]] = {}
        self._next_id = 1
        self.on_deliver: Callable[[p.Deliver], None] = lambda frame: None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for data in self.connection:
            assert isinstance(data, bytes)
            frame = p.decode_relay_frame(data, self._replies)
            if isinstance(frame, p.Deliver):
                self.on_deliver(frame)
            elif isinstance(frame, p.DeliverMany):  # protocol version 2
                for delivery in frame.deliveries:
                    self.on_deliver(delivery)
            elif isinstance(frame, p.Reply | p.ErrorReply):
                self._replies.pop(frame.request_id, None)
                waiter = self._waiting.pop(frame.request_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)

    async def call(self, kind: type[p.Request], **fields: Any) -> p.Reply:
        """Send one request and return its ``ok`` reply.

        Raises:
            RuntimeError: the relay answered with an error.
        """
        request_id = self._next_id
        self._next_id += 1
        waiter: asyncio.Future[p.Reply | p.ErrorReply] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = kind.REPLY
        self._waiting[request_id] = waiter
        await self.connection.send(p.encode(kind(request_id=request_id, **fields)))
        reply = await waiter
        if isinstance(reply, p.ErrorReply):
            raise RuntimeError(f"{kind.OP} failed: {reply.code}: {reply.message}")
        return reply

    async def close(self) -> None:
        self._reader.cancel()
        await self.connection.close()


async def relay_connect(uri: str) -> tuple[RelayClient, p.HelloOk]:
    connection = await connect(uri, max_size=MAX_FRAME, compression=None)
    client = RelayClient(connection)
    hello = await client.call(p.Hello, versions=(p.PROTOCOL_VERSION,))
    assert isinstance(hello, p.HelloOk)
    return client, hello


class Receiver:
    """An authenticated owner: records each delivery and acks in batches, one ack in flight."""

    def __init__(self, client: RelayClient, identity: bytes, bench: RelayBench) -> None:
        self.client = client
        self.identity = identity
        self._bench = bench
        self._to_ack: list[int] = []
        self._has_acks = asyncio.Event()
        self.acked = 0
        client.on_deliver = self._deliver
        self._acker = asyncio.create_task(self._ack_loop())

    def _deliver(self, frame: p.Deliver) -> None:
        self._bench.phase.delivered(frame.envelope)
        self._to_ack.append(frame.envelope_id)
        self._has_acks.set()

    async def _ack_loop(self) -> None:
        while True:
            await self._has_acks.wait()
            self._has_acks.clear()
            while self._to_ack:
                batch = tuple(self._to_ack[: p.MAX_LIST])
                del self._to_ack[: len(batch)]
                await self.client.call(p.Ack, envelope_ids=batch)
                self.acked += len(batch)

    async def close(self) -> None:
        self._acker.cancel()
        await self.client.close()


class RelayBench:
    def __init__(self, port: int, senders: int, receivers: int, window: int) -> None:
        self.uri = f"ws://127.0.0.1:{port}"
        self.sender_count = senders
        self.receiver_count = receivers
        self.window = window
        self.senders: list[RelayClient] = []
        self.receivers: list[Receiver] = []
        self.phase = Phase(expected=0)

    async def __aenter__(self) -> RelayBench:
        for _ in range(self.receiver_count):
            client, hello = await relay_connect(self.uri)
            secret, public = ed25519_keypair(system_random)
            signature = ed25519_sign(secret, p.auth_message(hello.relay_key, hello.nonce, public))
            await client.call(p.Auth, identity=public, signature=signature)
            self.receivers.append(Receiver(client, public, self))
        for _ in range(self.sender_count):
            client, _hello = await relay_connect(self.uri)  # senders stay anonymous
            self.senders.append(client)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for receiver in self.receivers:
            await receiver.close()
        for client in self.senders:
            await client.close()

    async def _deposit(self, client: RelayClient, n: int, due: int) -> None:
        target = self.receivers[n % len(self.receivers)].identity
        reply = await client.call(p.Deposit, recipients=(target,), envelope=envelope(due, n))
        assert isinstance(reply, p.Deposited)
        if reply.results[0].envelope_id is None:
            self.phase.failures += 1
        self.phase.deposited(due)

    async def flat_out(self, messages: int) -> Phase:
        self.phase = phase = Phase(expected=messages)
        phase.started_ns = time.perf_counter_ns()
        numbers = iter(range(messages))

        async def worker(client: RelayClient) -> None:
            for n in numbers:
                await self._deposit(client, n, time.perf_counter_ns())

        await asyncio.gather(
            *(worker(client) for client in self.senders for _ in range(self.window))
        )
        await wait_phase(phase)
        return phase

    async def at_rate(self, rate: float, seconds: float) -> Phase:
        start = time.perf_counter_ns() + 50_000_000
        plan = schedule(len(self.senders), rate, seconds, start)
        self.phase = phase = Phase(expected=sum(map(len, plan)))
        phase.started_ns = start

        async def sender(index: int, client: RelayClient) -> None:
            pending = []
            for k, due in enumerate(plan[index]):
                await sleep_until(due)
                n = k * len(self.senders) + index
                pending.append(asyncio.create_task(self._deposit(client, n, due)))
            await asyncio.gather(*pending)

        await asyncio.gather(*(sender(i, c) for i, c in enumerate(self.senders)))
        await wait_phase(phase)
        return phase

    async def settle(self) -> None:
        """Wait until every delivered envelope was acked (mailboxes empty for the next run)."""
        for _ in range(200):
            if all(not r._to_ack for r in self.receivers):
                return
            await asyncio.sleep(0.05)


# -- running it all --------------------------------------------------------------------------
@dataclass
class Settings:
    senders: int
    receivers: int
    messages: int
    window: int
    rate: float
    seconds: float
    rounds: int
    relay_command: str | None


async def measure(
    server: ServerProcess, bench: BareBench | RelayBench, settings: Settings, name: str
) -> dict[str, float]:
    results: dict[str, float] = {}
    async with bench:
        await bench.flat_out(min(500, settings.messages))  # warm-up
        if isinstance(bench, RelayBench):
            await bench.settle()
        cpu, own_cpu = server.cpu_seconds(), time.process_time()
        flat = await bench.flat_out(settings.messages)
        cpu, own_cpu = server.cpu_seconds() - cpu, time.process_time() - own_cpu
        results[f"{name}_msgs_per_s"] = flat.per_second(flat.last_delivery_ns, settings.messages)
        results[f"{name}_p50_ms_flat_out"] = percentile(flat.latencies_ms, 0.50)
        results[f"{name}_p99_ms_flat_out"] = percentile(flat.latencies_ms, 0.99)
        results[f"{name}_server_cpu_us_per_msg"] = cpu / settings.messages * 1e6
        results[f"{name}_clients_cpu_us_per_msg"] = own_cpu / settings.messages * 1e6
        failures = flat.failures
        if isinstance(bench, RelayBench):
            results["relay_deposits_per_s"] = flat.per_second(
                flat.last_deposit_ns, settings.messages
            )
            await bench.settle()
        paced = await bench.at_rate(settings.rate, settings.seconds)
        results[f"{name}_p50_ms_at_rate"] = percentile(paced.latencies_ms, 0.50)
        results[f"{name}_p99_ms_at_rate"] = percentile(paced.latencies_ms, 0.99)
        results[f"{name}_max_ms_at_rate"] = max(paced.latencies_ms, default=float("nan"))
        if paced.deposit_ms:
            results[f"{name}_deposit_p99_ms_at_rate"] = percentile(paced.deposit_ms, 0.99)
        results[f"{name}_failures"] = failures + paced.failures
    return results


async def one_round(settings: Settings) -> dict[str, float]:
    """Bare then relay, each in a fresh process; relay_vs_bare compares the two."""
    results: dict[str, float] = {}
    bare = ServerProcess([sys.executable, "-m", "bench.relay", "--serve-bare"], bare_port)
    try:
        bench = BareBench(bare.port, settings.senders, settings.receivers)
        results.update(await measure(bare, bench, settings, "bare"))
    finally:
        bare.stop()
    with tempfile.TemporaryDirectory(prefix="sourdine-bench-") as scratch:
        relay = ServerProcess(relay_command(settings.relay_command, Path(scratch)), relay_port)
        try:
            bench_relay = RelayBench(
                relay.port, settings.senders, settings.receivers, settings.window
            )
            results.update(await measure(relay, bench_relay, settings, "relay"))
        except BaseException:
            print("\n".join(relay.log), file=sys.stderr)
            raise
        finally:
            relay.stop()
    results["relay_vs_bare"] = results["relay_deposits_per_s"] / results["bare_msgs_per_s"]
    return results


async def run(settings: Settings) -> dict[str, Any]:
    """Several rounds (other work on the machine skews any single one); medians reported."""
    rounds = [await one_round(settings) for _ in range(settings.rounds)]
    results: dict[str, Any] = {
        "envelope_bytes": ENVELOPE_BYTES,
        "senders": settings.senders,
        "receivers": settings.receivers,
        "messages": settings.messages,
        "window": settings.window,
        "rate": settings.rate,
        "seconds_at_rate": settings.seconds,
        "rounds": settings.rounds,
    }
    for name in rounds[0]:
        values = [r[name] for r in rounds]
        results[name] = sum(values) if name.endswith("failures") else statistics.median(values)
    results["relay_vs_bare_per_round"] = [round(r["relay_vs_bare"], 3) for r in rounds]
    results["p50_ms_at_1000"] = results["relay_p50_ms_at_rate"]
    results["p99_ms_at_1000"] = results["relay_p99_ms_at_rate"]
    results["p99_ms_at_1000_per_round"] = [round(r["relay_p99_ms_at_rate"], 2) for r in rounds]
    results["targets_met"] = bool(
        results["relay_vs_bare"] >= 0.5
        and results["p99_ms_at_1000"] < 50
        and results["relay_failures"] == 0
    )
    return results


def relay_command(command: str | None, scratch: Path) -> list[str]:
    flags = {
        "--host": "127.0.0.1",
        "--port": "0",
        "--database": str(scratch / "relay.db"),
        "--deposit-rate": "0",  # the bench measures the relay, not its rate limiter
        "--max-connections-per-address": "0",  # every bench client comes from 127.0.0.1
        "--mailbox-max-envelopes": "1000000",
        "--log-level": "info",
    }
    program = shlex.split(command) if command else [sys.executable, "-m", "relay"]
    return [*program, *(part for flag in flags.items() for part in flag)]


UNITS = {"_us_per_": "us", "_per_s": "/s", "_ms_": "ms", "_ms": "ms"}  # first match wins


def report_lines(results: dict[str, Any]) -> Iterator[str]:
    for name, value in results.items():
        unit = next((u for key, u in UNITS.items() if key in name), "")
        if name == "relay_vs_bare":
            unit = "x (target >= 0.5)"
        elif name == "p99_ms_at_1000":
            unit = "ms (target < 50)"
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        yield f"{name}: {text} {unit}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.relay", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--receivers", type=int, default=8)
    parser.add_argument("--messages", type=int, default=20_000, help="messages flat out")
    parser.add_argument("--window", type=int, default=32, help="deposits in flight per sender")
    parser.add_argument("--rate", type=float, default=1000.0, help="offered messages/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds at that rate")
    parser.add_argument("--rounds", type=int, default=3, help="bare+relay rounds (medians)")
    parser.add_argument(
        "--relay-command",
        help="command starting the relay, before its flags (default: this Python -m relay),"
        " e.g. to run it under a profiler",
    )
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_bare())
        return 0
    settings = Settings(
        senders=args.senders,
        receivers=args.receivers,
        messages=args.messages,
        window=args.window,
        rate=args.rate,
        seconds=args.seconds,
        rounds=args.rounds,
        relay_command=args.relay_command,
    )
    results = asyncio.run(run(settings))
    if args.json:
        clean = {k: None if v != v else v for k, v in results.items()}  # NaN is not JSON
        print(json.dumps(clean, allow_nan=False))
    else:
        for line in report_lines(results):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
