"""Client benchmark: end-to-end 1:1 messages through the real relay, and a 100,000-message
conversation opened and searched.

    python -m bench.client [--json] [--messages 2000] [--rounds 3] [--history 100000] ...

**End to end.** One relay process (``python -m relay`` on 127.0.0.1, fresh database, deposit
rate limiter off) and two headless :class:`SourdineClient` profiles, Alice in this process
and Bob in a child process (two users are two processes), with real SQLCipher databases
(keys in an in-memory secret store, never the OS keyring). After a first message has set
up the session, Alice sends ``--messages`` texts as
fast as the client takes them (``--window`` ``send_text`` calls in flight); each text
carries the time it was handed to ``send_text``. Throughput is messages over the time from the
first ``send_text`` to the last ``MessageReceived`` at Bob; latency is ``send_text`` called ->
``MessageReceived`` at Bob (it includes the wait in Alice's queue when she sends flat out).
``e2e_idle_p50_ms``/``p99`` is the same latency one message at a time. Everything the client
does is in the figure: the outbox and journal commits (fsync), ratchet encryption, sealed
deposits, decryption, Bob's commit before his ack, and the delivery receipts going back.

**Relay only**, same relay process, same run: bench/relay.py's load generator (imported, not
copied) deposits bare envelopes of the *same size* as Alice's sealed ones from one sender
(``--window`` deposits in flight, like the client's outbox) to one authenticated receiver
that acks in batches. ``e2e_vs_relay`` = end-to-end messages/s / relay-only messages/s.

**History.** A profile with one contact and ``--history`` messages (bulk-inserted through the
store's API, one transaction per 10,000) is opened ``--repetitions`` times; each time
``history(contact, limit=50)`` (the newest page) and ``search(word)`` are timed on the
freshly opened client. Medians are reported.

Output: ``name: value unit`` lines, or with ``--json`` one JSON object (``e2e_vs_relay``,
``open_100k_ms``, ``search_100k_ms`` and the rest). Targets: e2e_vs_relay >= 0.3,
open_100k_ms < 50, search_100k_ms < 100.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from app.adapters.keystore import AccountSecrets
from app.adapters.store import Changes, ClientStore, MessageState, NewMessage
from app.config import profile_paths
from app.core import messages
from app.core.address import format_address
from app.core.client import ClientOptions, SourdineClient
from app.core.events import MessageReceived, PrekeysPublished
from bench.relay import (
    HEADER,
    Phase,
    RelayBench,
    RelayClient,
    ServerProcess,
    percentile,
    relay_command,
    relay_port,
)
from crypto.envelope import sealed_size
from crypto.primitives import system_random
from crypto.x3dh import Identity, PrekeyStore, start_session
from relay import protocol as p

TEXT_BYTES: Final = 200  # a chat line
STAMP: Final = struct.Struct(">q")  # perf_counter_ns when send_text was called, in the text
TARGETS: Final = {"e2e_vs_relay": 0.3}  # at least
LIMITS_MS: Final = {"open_100k_ms": 50.0, "search_100k_ms": 100.0}  # below
PAGE: Final = 50
BULK: Final = 10_000  # messages per transaction when building the history
SEARCH_WORD: Final = "quokka"  # in about 1 message out of 100
EVENT_TIMEOUT: Final = 120.0


class MemorySecrets:
    """A profile's two secrets in memory (a :class:`SecretStore`; the bench never writes
    to the OS keyring)."""

    kind = "memory"

    def __init__(self) -> None:
        self._secrets: AccountSecrets | None = None

    def load(self) -> AccountSecrets | None:
        return self._secrets

    def save(self, secrets: AccountSecrets) -> None:
        self._secrets = secrets

    def delete(self) -> None:
        self._secrets = None


def stamped_text(n: int, sent_ns: int) -> str:
    """A TEXT_BYTES chat line carrying its number and send time (hex, so it is printable)."""
    head = f"{n:08d} {STAMP.pack(sent_ns).hex()} "
    return head + "x" * (TEXT_BYTES - len(head))


def sent_at_ns(text: str) -> int:
    return int(STAMP.unpack(bytes.fromhex(text[9:25]))[0])


def sealed_text_size(relay_url: str) -> int:
    """Bytes of the sealed envelope of one of Alice's texts (a running session's message),
    computed with the client's own encoders."""
    alice, bob = Identity.generate(system_random), Identity.generate(system_random)
    store = PrekeyStore.create(bob, system_random, 0)
    _agreement, ratchet = start_session(alice, store.bundle(bob.public), system_random)
    plaintext = messages.encode(messages.TextMessage(
        bytes(16), 0, stamped_text(0, 0), messages.SenderProfile(relay_url, "Alice"),
    ))
    return sealed_size(len(ratchet.encrypt(plaintext, system_random)))


# -- relay only --------------------------------------------------------------------------------
class SizedRelayBench(RelayBench):
    """bench/relay.py's relay load generator with envelopes of a given size."""

    def __init__(self, port: int, window: int, envelope_bytes: int) -> None:
        super().__init__(port, senders=1, receivers=1, window=window)
        self._padding = random.randbytes(envelope_bytes - HEADER.size)

    async def _deposit(self, client: RelayClient, n: int, due: int) -> None:
        envelope = HEADER.pack(due, n) + self._padding
        reply = await client.call(
            p.Deposit, recipients=(self.receivers[0].identity,), envelope=envelope
        )
        if not isinstance(reply, p.Deposited) or reply.results[0].envelope_id is None:
            self.phase.failures += 1
        self.phase.deposited(due)


async def relay_only(port: int, window: int, envelope_bytes: int, count: int) -> dict[str, float]:
    async with SizedRelayBench(port, window, envelope_bytes) as bench:
        await bench.flat_out(min(500, count))  # warm-up
        await bench.settle()
        phase: Phase = await bench.flat_out(count)
        await bench.settle()
    return {
        "relay_msgs_per_s": phase.per_second(phase.last_delivery_ns, count),
        "relay_p50_ms": percentile(phase.latencies_ms, 0.50),
        "relay_p99_ms": percentile(phase.latencies_ms, 0.99),
        "relay_failures": float(phase.failures),
    }


# -- end to end --------------------------------------------------------------------------------
async def new_client(root: Path, name: str, relay_url: str, window: int) -> SourdineClient:
    paths = profile_paths(name.lower(), root)
    return await SourdineClient.create(
        paths, MemorySecrets(), display_name=name, relay_url=relay_url,
        options=ClientOptions(deposit_window=window),
    )


async def serve_receiver(root: Path, relay_url: str, window: int) -> None:
    """Bob, in his own process (two users are two processes): print the invitation link,
    then ``arrived_ns sent_ns`` for every text received (perf_counter is CLOCK_MONOTONIC,
    one clock for every process); at the end of stdin, send the last receipts and leave."""
    bob = await new_client(root, "Bob", relay_url, window)
    events = bob.subscribe()
    await bob.start()
    await events.wait_for(lambda e: isinstance(e, PrekeysPublished), EVENT_TIMEOUT)
    print(json.dumps({"invitation": bob.invitation_link}), flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    while not stdin_closed.done():
        getter = asyncio.ensure_future(events.get())
        await asyncio.wait({getter, stdin_closed}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            break
        event = getter.result()
        if isinstance(event, MessageReceived):
            arrived = time.perf_counter_ns()
            sys.stdout.write(f"{arrived} {sent_at_ns(event.message.body)}\n")
            sys.stdout.flush()
    await bob.wait_outbox_empty(EVENT_TIMEOUT)
    print(json.dumps({"commits": bob.commits}), flush=True)
    await bob.close()


class Receiver:
    """The parent's view of Bob's process: his arrivals, as he reports them."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.latencies_ms: list[float] = []
        self.last_ns = 0
        self.expected = 0
        self.done = asyncio.Event()
        self.final: dict[str, Any] = {}
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, root: Path, relay_url: str, window: int) -> tuple[Receiver, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.client", "--serve-receiver", str(root), relay_url,
            "--window", str(window), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=1 << 20,
        )
        receiver = cls(process)
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), EVENT_TIMEOUT)
        if not first:
            raise RuntimeError("Bob's process did not start")
        receiver._reader = asyncio.create_task(receiver._read())
        return receiver, str(json.loads(first)["invitation"])

    def expect(self, count: int) -> None:
        self.latencies_ms, self.expected = [], count
        self.done.clear()

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            if line.startswith(b"{"):
                self.final = json.loads(line)
                continue
            arrived, sent = map(int, line.split())
            self.latencies_ms.append((arrived - sent) / 1e6)
            self.last_ns = arrived
            if len(self.latencies_ms) >= self.expected:
                self.done.set()

    async def wait(self) -> None:
        await asyncio.wait_for(self.done.wait(), EVENT_TIMEOUT)

    async def finish(self) -> None:
        """Let Bob send his last receipts and exit."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), EVENT_TIMEOUT)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            if self._reader is not None:
                await asyncio.gather(self._reader, return_exceptions=True)


async def end_to_end(
    root: Path, relay_url: str, count: int, idle: int, window: int
) -> dict[str, float]:
    receiver, invitation = await Receiver.start(root, relay_url, window)
    alice = await new_client(root, "Alice", relay_url, window)
    try:
        await alice.start()
        await alice.add_contact(invitation)

        async def send(n: int) -> None:
            await alice.send_text("bob", stamped_text(n, time.perf_counter_ns()))

        receiver.expect(1)  # first contact (X3DH) and warm-up
        await send(0)
        await receiver.wait()

        receiver.expect(0)  # one at a time: latency without queueing
        for n in range(idle):
            receiver.expected = n + 1
            receiver.done.clear()
            await send(n)
            await receiver.wait()
        idle_latencies = receiver.latencies_ms
        await alice.wait_outbox_empty(EVENT_TIMEOUT)

        receiver.expect(count)  # flat out
        start = time.perf_counter_ns()
        gate = asyncio.Semaphore(window)

        async def gated(n: int) -> None:
            async with gate:
                await send(n)

        await asyncio.gather(*(gated(n) for n in range(count)))
        await receiver.wait()
        elapsed = (receiver.last_ns - start) / 1e9
        await receiver.finish()  # Bob sends his last receipts
        await alice.sync(EVENT_TIMEOUT)
        total = 1 + idle + count
        page = await alice.history("bob", limit=total)
        return {
            "e2e_msgs_per_s": count / elapsed,
            "e2e_p50_ms": percentile(receiver.latencies_ms, 0.50),
            "e2e_p99_ms": percentile(receiver.latencies_ms, 0.99),
            "e2e_idle_p50_ms": percentile(idle_latencies, 0.50),
            "e2e_idle_p99_ms": percentile(idle_latencies, 0.99),
            "e2e_received": float(len(receiver.latencies_ms)),
            "e2e_delivered": float(sum(m.state is MessageState.DELIVERED for m in page)),
            "e2e_sent": float(total),
            "e2e_commits_alice": float(alice.commits),
            "e2e_commits_bob": float(receiver.final.get("commits", 0)),
        }
    finally:
        await receiver.finish()
        await alice.close()


async def one_round(settings: argparse.Namespace, scratch: Path) -> dict[str, float]:
    relay = ServerProcess(relay_command(None, scratch), relay_port)
    try:
        url = f"ws://127.0.0.1:{relay.port}"
        size = sealed_text_size(url + "/")
        results = await relay_only(relay.port, settings.window, size, settings.messages)
        results |= await end_to_end(
            scratch, url, settings.messages, settings.idle, settings.window
        )
    except BaseException:
        print("\n".join(relay.log), file=sys.stderr)
        raise
    finally:
        relay.stop()
    results["envelope_bytes"] = float(size)
    results["e2e_vs_relay"] = results["e2e_msgs_per_s"] / results["relay_msgs_per_s"]
    return results


# -- a 100,000-message conversation ------------------------------------------------------------
def bodies(count: int, seed: int = 4) -> Iterator[str]:
    """Chat-like lines from a fixed vocabulary; about 1 in 100 contains SEARCH_WORD."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(5000)
    ]
    for _ in range(count):
        words = rng.choices(vocabulary, k=rng.randint(3, 25))
        if rng.random() < 0.01:
            words.insert(rng.randrange(len(words)), SEARCH_WORD)
        yield " ".join(words)


async def build_history(root: Path, count: int) -> tuple[MemorySecrets, int]:
    """A profile "reader" with one contact and ``count`` messages with them."""
    paths = profile_paths("reader", root)
    secrets = MemorySecrets()
    client = await SourdineClient.create(
        paths, secrets, display_name="Reader", relay_url="ws://127.0.0.1:9/"
    )
    peer = Identity.generate(system_random).public
    contact = await client.add_contact(format_address("ws://127.0.0.1:9/", peer), "Writer")
    await client.close()
    loaded = secrets.load()
    assert loaded is not None
    store = await ClientStore.open(paths.database, loaded.database_key)
    try:
        now_ms = int(time.time() * 1000) - count * 1000
        batch: list[NewMessage] = []
        for n, body in enumerate(bodies(count)):
            outgoing = n % 3 == 0
            batch.append(NewMessage(
                contact.contact_id, random.randbytes(16), outgoing, body, now_ms + n * 1000,
                None if outgoing else now_ms + n * 1000 + 50,
                MessageState.DELIVERED if outgoing else MessageState.RECEIVED,
            ))
            if len(batch) == BULK:
                await store.apply(Changes(messages=batch))
                batch = []
        if batch:
            await store.apply(Changes(messages=batch))
        stored = await store.count_messages(contact.contact_id)
    finally:
        await store.close()
    return secrets, stored


async def open_and_search(root: Path, count: int, repetitions: int) -> dict[str, float]:
    build_start = time.perf_counter()
    secrets, stored = await build_history(root, count)
    build_s = time.perf_counter() - build_start
    paths = profile_paths("reader", root)
    opened, pages, searches, hits = [], [], [], 0
    for _ in range(repetitions):
        t0 = time.perf_counter()
        client = await SourdineClient.open(paths, secrets)
        t1 = time.perf_counter()
        page = await client.history("Writer", limit=PAGE)
        t2 = time.perf_counter()
        found = await client.search(SEARCH_WORD, limit=PAGE)
        t3 = time.perf_counter()
        await client.close()
        if len(page) != PAGE or not found:
            raise RuntimeError("the history benchmark read nothing: the profile is broken")
        hits = len(found)
        opened.append((t1 - t0) * 1000)
        pages.append((t2 - t1) * 1000)
        searches.append((t3 - t2) * 1000)
    return {
        "history_messages": float(stored),
        "history_build_s": build_s,
        "open_client_ms": statistics.median(opened),
        "open_100k_ms": statistics.median(pages),
        "search_100k_ms": statistics.median(searches),
        "search_100k_hits": float(hits),
    }


# -- running it all ----------------------------------------------------------------------------
async def run(settings: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sourdine-bench-client-") as scratch:
        rounds = []
        for number in range(settings.rounds):
            directory = Path(scratch) / f"round-{number}"
            directory.mkdir()
            rounds.append(await one_round(settings, directory))
        history = await open_and_search(Path(scratch) / "history", settings.history,
                                        settings.repetitions)
    results: dict[str, Any] = {
        "messages": settings.messages, "window": settings.window, "rounds": settings.rounds,
        "text_bytes": TEXT_BYTES,
    }
    for name in rounds[0]:
        results[name] = statistics.median(r[name] for r in rounds)
    results["e2e_vs_relay_per_round"] = [round(r["e2e_vs_relay"], 3) for r in rounds]
    results |= history
    results["targets_met"] = bool(
        all(results[name] >= goal for name, goal in TARGETS.items())
        and all(results[name] < limit for name, limit in LIMITS_MS.items())
        and results["e2e_received"] == settings.messages
        and results["e2e_delivered"] == results["e2e_sent"]
    )
    return results


UNITS = {"_per_s": "/s", "_ms": "ms", "_s": "s", "_bytes": "bytes"}


def report_lines(results: dict[str, Any]) -> Iterator[str]:
    for name, value in results.items():
        unit = next((u for key, u in UNITS.items() if name.endswith(key)), "")
        if name in TARGETS:
            unit = f"x (target >= {TARGETS[name]})"
        elif name in LIMITS_MS:
            unit = f"ms (target < {LIMITS_MS[name]:g})"
        if isinstance(value, float) and value.is_integer() and not unit.startswith(("ms", "x")):
            text = str(int(value))
        else:
            text = f"{value:.2f}" if isinstance(value, float) else str(value)
        yield f"{name}: {text} {unit}".rstrip()


def main(argv: list[str] | None = None) -> int:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(prog="python -m bench.client",
                                     description=doc.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--messages", type=int, default=2000, help="messages flat out")
    parser.add_argument("--idle", type=int, default=100, help="messages one at a time")
    parser.add_argument("--window", type=int, default=32,
                        help="send_text calls and deposits in flight")
    parser.add_argument("--rounds", type=int, default=3, help="relay+e2e rounds (medians)")
    parser.add_argument("--history", type=int, default=100_000, help="messages in the history")
    parser.add_argument("--repetitions", type=int, default=7, help="opens of the history")
    parser.add_argument("--serve-receiver", nargs=2, metavar=("HOME", "RELAY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_receiver:
        home, relay_url = args.serve_receiver
        asyncio.run(serve_receiver(Path(home), relay_url, args.window))
        return 0
    results = asyncio.run(run(args))
    if args.json:
        clean = {k: None if isinstance(v, float) and v != v else v for k, v in results.items()}
        print(json.dumps(clean, allow_nan=False))
    else:
        for line in report_lines(results):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
