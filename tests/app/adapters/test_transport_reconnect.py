"""RelayConnection when the relay goes away: killed, restarted, frozen, or never there.

Each test runs its own ``sourdine-relay`` process, kills it (SIGKILL), freezes it (SIGSTOP)
or restarts it on the same port with the same database, and watches the connection recover
by itself. Backoff and heartbeats are shortened so that the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import msgpack
import pytest
from websockets.asyncio.server import ServerConnection, serve

from app.adapters.transport import (
    Backoff,
    BadReply,
    ConnectionLost,
    ConnectionSettings,
    RelayConnection,
    RelayUnreachable,
    RequestTimedOut,
    TransportClosed,
)
from relay import protocol as p
from tests.app.adapters.test_transport import (
    AUTHENTICATED,
    CONNECTED,
    CONNECTING,
    FAST,
    FAST_BACKOFF,
    OFF,
    Inbox,
    anonymous,
    identity,
    owner,
    register,
    run,
    until,
)
from tests.integration.conftest import RelayProcess, start_relay


class Relays:
    """Relay processes of one test, sharing one database (so restarts keep the mailboxes)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.database = directory / "relay.db"
        self.started: list[RelayProcess] = []

    def start(self, port: int | None = None) -> RelayProcess:
        args = ("--port", str(port)) if port is not None else ()
        relay = start_relay(self.directory, *args, database=self.database)
        self.started.append(relay)
        return relay

    def stop_all(self) -> None:
        for relay in self.started:
            if relay.process.poll() is None:
                relay.process.send_signal(signal.SIGCONT)
            relay.kill()


@pytest.fixture
def relays(tmp_path: Path) -> Iterator[Relays]:
    started = Relays(tmp_path / "relay")
    yield started
    started.stop_all()


def freeze(relay: RelayProcess) -> None:
    relay.process.send_signal(signal.SIGSTOP)


def thaw(relay: RelayProcess) -> None:
    relay.process.send_signal(signal.SIGCONT)


def test_a_killed_and_restarted_relay_is_found_again_and_the_backlog_arrives(
    relays: Relays,
) -> None:
    first = relays.start()
    secret, public = identity("restart ana")

    async def scenario() -> None:
        inbox = Inbox()
        ana = owner(first.url, secret, inbox)
        sender = anonymous(first.url)
        await ana.wait_authenticated(10)
        await sender.deposit([public], b"before the crash")
        await inbox.wait_for(1)  # delivered, deliberately not acked

        first.kill()
        await until(lambda: ana.state is not AUTHENTICATED, what="the drop to be noticed")
        # A deposit issued while the relay is down waits for it instead of failing.
        waiting = asyncio.ensure_future(sender.deposit([public], b"while down", timeout=20))
        await asyncio.sleep(0.5)  # several failed attempts with a 50 ms backoff
        assert not waiting.done()
        assert OFF in inbox.states[3:] and inbox.states.count(CONNECTING) >= 3

        relays.start(port=first.port)
        (outcome,) = await waiting
        assert outcome.envelope_id is not None
        await ana.wait_authenticated(10)
        await inbox.wait_for(3)
        # The unacked envelope comes back (backlog), then the one deposited while down.
        assert inbox.envelopes == [b"before the crash", b"before the crash", b"while down"]
        assert inbox.deliveries[0].envelope_id == inbox.deliveries[1].envelope_id
        assert inbox.states[:3] == [CONNECTING, CONNECTED, AUTHENTICATED]
        assert inbox.states[-3:] == [CONNECTING, CONNECTED, AUTHENTICATED]
        assert await ana.ack([d.envelope_id for d in inbox.deliveries]) == 2
        await asyncio.gather(ana.close(), sender.close())

    run(scenario)


def test_a_request_while_the_relay_is_down_fails_after_its_timeout(relays: Relays) -> None:
    relay = relays.start()
    relay.kill()

    async def scenario() -> None:
        sender = anonymous(relay.url)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RelayUnreachable) as error:
            await sender.deposit([bytes(32)], b"nowhere to go", timeout=0.8)
        elapsed = loop.time() - started
        assert 0.8 <= elapsed < 2.5
        assert relay.url in str(error.value) and "cannot connect" in str(error.value)
        assert sender.state in {OFF, CONNECTING}  # still trying in the background
        await sender.close()

    run(scenario)


def test_a_relay_that_never_answers_gives_a_timeout_and_a_drop_gives_connection_lost(
    relays: Relays,
) -> None:
    relay = relays.start()
    secret, _ = identity("frozen ana")

    async def scenario() -> None:
        ana = RelayConnection(relay.url, identity_secret=secret, backoff=FAST_BACKOFF,
                              settings=ConnectionSettings(request_timeout=10, ping_interval=60))
        await ana.wait_authenticated(10)
        freeze(relay)
        with pytest.raises(RequestTimedOut):
            await ana.ack([1], timeout=0.3)  # sent, never answered
        in_flight = asyncio.ensure_future(ana.ack([2], timeout=20))
        await asyncio.sleep(0.1)
        relay.kill()  # the kernel closes the socket: the client sees the drop at once
        with pytest.raises(ConnectionLost):
            await in_flight
        await ana.close()

    run(scenario)


def test_heartbeats_notice_a_frozen_relay_and_the_connection_comes_back(
    relays: Relays,
) -> None:
    relay = relays.start()
    secret, public = identity("heartbeat ana")
    quick_pings = ConnectionSettings(
        request_timeout=10, open_timeout=0.5, ping_interval=0.2, ping_timeout=0.2,
        close_timeout=0.2,
    )

    async def scenario() -> None:
        inbox = Inbox()
        ana = RelayConnection(
            relay.url, identity_secret=secret, on_delivery=inbox.on_delivery,
            on_state=inbox.on_state, backoff=FAST_BACKOFF, settings=quick_pings,
        )
        await ana.wait_authenticated(10)
        freeze(relay)  # the socket stays open; only the missing pongs tell
        loop = asyncio.get_running_loop()
        frozen_at = loop.time()
        await until(lambda: ana.state is not AUTHENTICATED, timeout=5, what="a ping timeout")
        assert loop.time() - frozen_at < 3.0  # ping every 0.2 s, 0.2 s to answer
        thaw(relay)
        await ana.wait_authenticated(10)
        sender = anonymous(relay.url)
        await sender.deposit([public], b"after the thaw")
        await inbox.wait_for(1)
        await asyncio.gather(ana.close(), sender.close())

    run(scenario)


def test_close_fails_waiting_and_in_flight_requests_and_leaves_no_task(
    relays: Relays,
) -> None:
    relay = relays.start()
    secret, public = identity("close ana")

    async def scenario() -> None:
        await register(relay.url, secret)
        ana = owner(relay.url, secret, Inbox())
        await ana.wait_authenticated(10)
        freeze(relay)
        in_flight = asyncio.ensure_future(ana.ack([1], timeout=30))
        await asyncio.sleep(0.1)
        await ana.close()
        with pytest.raises(TransportClosed):
            await in_flight
        assert ana.state is OFF
        with pytest.raises(TransportClosed):
            await ana.deposit([public], b"after close")
        with pytest.raises(TransportClosed):
            await ana.start()
        await ana.close()  # idempotent
        thaw(relay)

        relay.kill()
        offline = anonymous(relay.url)
        waiting = asyncio.ensure_future(offline.deposit([public], b"never sent", timeout=30))
        await asyncio.sleep(0.2)
        await offline.close()
        with pytest.raises(TransportClosed):
            await waiting
        # run() checks that no task is left and that no exception went unretrieved.

    run(scenario)


def test_a_port_where_nothing_listens_is_retried_with_growing_delays() -> None:
    with socket.socket() as probe:  # a free port, closed again: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []

    class RecordingBackoff(Backoff):
        def delay(self, failures: int, random: Callable[[], float]) -> float:
            value = Backoff.delay(self, failures, random)
            delays.append(value)
            return value

    async def scenario() -> None:
        connection = RelayConnection(
            f"ws://127.0.0.1:{port}/", settings=FAST, random=lambda: 0.5,  # the jitter's draw
            backoff=RecordingBackoff(initial=0.02, maximum=0.16, multiplier=2.0, jitter=0.5),
        )
        await connection.start()
        await until(lambda: len(delays) >= 6, what="six attempts")
        assert delays[:6] == pytest.approx([0.015, 0.03, 0.06, 0.12, 0.12, 0.12])
        assert connection.last_error is not None and "refused" in str(connection.last_error)
        await connection.close()

    run(scenario)


# -- a relay that breaks the protocol ------------------------------------------------------------
# The real relay never sends these frames, so this one test uses a small hostile peer: it
# answers hello correctly, then answers the next request with something outside the protocol.
HOSTILE_LIMITS = p.RelayLimits(
    max_frame_bytes=1 << 20, max_envelope_bytes=1 << 16, max_recipients=10, max_ttl_seconds=60,
    deposit_rate=0, deposit_burst=0, blob_max_bytes=0, blob_chunk_bytes=1024,
    max_one_time_prekeys=10, mailbox_max_envelopes=10, mailbox_max_bytes=1 << 20,
)


def garbage(request: p.Request) -> bytes | str:
    return b"\xc1 is never MessagePack"


def wrong_fields(request: p.Request) -> bytes | str:
    return msgpack.packb({"op": "ok", "id": request.request_id, "results": "none"})


def unknown_id(request: p.Request) -> bytes | str:
    return p.encode(p.Acked(request_id=request.request_id + 1000, deleted=0))


def text(request: p.Request) -> bytes | str:
    return "a text message"


@pytest.mark.parametrize(("answer", "failure"), [
    (garbage, ConnectionLost),  # cannot be tied to the request: the link drops under it
    (wrong_fields, BadReply),  # names the request: that request fails with BadReply
    (unknown_id, ConnectionLost),
    (text, ConnectionLost),
])
def test_a_relay_breaking_the_protocol_fails_the_request_and_is_reconnected(
    answer: Callable[[p.Request], bytes | str], failure: type[Exception],
) -> None:
    async def scenario() -> None:
        connections = 0

        async def hostile(peer: ServerConnection) -> None:
            nonlocal connections
            connections += 1
            async for message in peer:
                assert isinstance(message, bytes)
                request = p.decode_request(message)
                if isinstance(request, p.Hello):
                    await peer.send(p.encode(p.HelloOk(
                        request_id=request.request_id, version=1, relay_key=bytes(32),
                        nonce=bytes(32), admission="open", limits=HOSTILE_LIMITS,
                    )))
                else:
                    await peer.send(answer(request))

        async with serve(hostile, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            sender = anonymous(f"ws://127.0.0.1:{port}/")
            for attempt in (1, 2):  # the same again on the new link: nothing is stuck
                with pytest.raises(failure):
                    await sender.deposit([bytes(32)], b"x", timeout=5)
                await until(lambda: connections > attempt, what="a reconnect")  # noqa: B023
            await sender.close()

    run(scenario)
