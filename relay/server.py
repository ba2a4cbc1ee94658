"""The WebSocket shell around the relay: accept, read frames, write frames, keep time.

Per connection, one task reads and decodes frames and one writes the connection's
:class:`~relay.session.Outbox`. Requests run in arrival order, except deposits, which run
concurrently (up to ``max_inflight`` per connection) because each waits for a durable commit;
their replies may overtake replies to later frames (clients match replies by id).

Background tasks purge expired data every ``purge_interval`` seconds and drop clients whose
writes have been stuck for ``send_timeout`` seconds. A plain ``GET /healthz`` on the same port
answers ``200 ok``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from crypto.primitives import Random, system_random
from relay import protocol as p
from relay.config import RelayConfig
from relay.errors import Malformed, ProtocolError
from relay.identity import RelayIdentity
from relay.limits import ConnectionCounter, TokenBucket
from relay.logging import log_event
from relay.operations import RelayService
from relay.session import Delivery, Outbox, Session
from relay.store.base import RelayStore

_WRITE_BATCH_BYTES = 256 * 1024
"""Frames written to a socket in one go, at most about this many bytes."""
_GROUP_ROOM = 64
"""Bytes of a deliver_many frame besides its deliveries (op, id, key, array header)."""
_TEXT_FRAME = p.encode(p.ErrorReply.of(Malformed("frames must be binary WebSocket messages")))


class ServerError(Exception):
    """The relay cannot start (e.g. the TLS files cannot be loaded or the port is taken)."""


class RelayConnection(ServerConnection):
    """A websockets connection that hands all its pending frames to the socket in one write.

    The writer queues several frames at once (replies and deliveries of one commit batch);
    one system call for all of them instead of one each is most of the relay's write cost.
    """

    def send_data(self) -> None:
        batch: list[bytes] = []
        for data in self.protocol.data_to_send():
            if data:
                batch.append(data)
                continue
            if batch:  # an empty chunk asks for a half-close after what came before
                self.transport.write(b"".join(batch))
                batch = []
            if self.transport.can_write_eof():
                with contextlib.suppress(Exception):
                    self.transport.write_eof()
            else:
                self.transport.close()
        if batch:
            self.transport.write(batch[0] if len(batch) == 1 else b"".join(batch))


class RelayServer:
    """Serves the relay protocol on one host and port, over a :class:`RelayStore` (opened)."""

    def __init__(
        self,
        config: RelayConfig,
        store: RelayStore,
        identity: RelayIdentity,
        *,
        random: Random = system_random,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.service = RelayService(config, store, identity, random, wall_clock, monotonic)
        self._monotonic = monotonic
        limits = config.limits
        self.counter = ConnectionCounter(limits.max_connections_per_address, limits.max_connections)
        self._connections: dict[Session, ServerConnection] = {}  # every open session
        self._deposits: set[asyncio.Task[None]] = set()  # deposits awaiting their commit
        self._background: list[asyncio.Task[None]] = []  # purge and send watchdog
        self._closing: set[asyncio.Task[None]] = set()  # connections being closed by the relay
        self._server: Server | None = None  # set between start() and stop()
        self._next_connection = 0  # a process-local counter naming sessions

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> tuple[str, int]:
        """Listen; returns the bound host and port (useful with port 0).

        Raises:
            ServerError: the TLS files cannot be loaded or the address cannot be bound.
        """
        config = self.config
        try:
            self._server = await serve(
                self._serve_connection,
                config.host,
                config.port,
                process_request=self._process_request,
                compression=None,  # sealed envelopes do not compress; deflate costs CPU
                server_header=None,  # no software version for scanners
                max_size=config.limits.max_frame_bytes,
                ping_interval=config.ping_interval,
                ping_timeout=config.ping_interval,
                close_timeout=2,
                ssl=self._tls_context(),
                create_connection=RelayConnection,
            )
        except OSError as error:
            raise ServerError(
                f"cannot listen on {config.host}:{config.port}: {error.strerror}"
            ) from None
        loop = asyncio.get_running_loop()
        self._background = [
            loop.create_task(self._purge_loop()),
            loop.create_task(self._watchdog_loop()),
        ]
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    def _tls_context(self) -> ssl.SSLContext | None:
        cert, key = self.config.tls_cert, self.config.tls_key
        if cert is None or key is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as error:
            raise ServerError(f"cannot load the TLS certificate or key: {error}") from None
        return context

    async def stop(self) -> None:
        """Stop accepting, close every connection (1001), let pending deposits commit.

        The store is left open: the caller closes it afterwards.
        """
        for task in self._background:
            task.cancel()
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), timeout=10)
            except TimeoutError:
                log_event("stop_timeout", logging.WARNING, stage="connections")
            self._server = None
        if self._deposits:
            await asyncio.wait(self._deposits, timeout=10)
        await asyncio.gather(*self._background, return_exceptions=True)

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    # -- HTTP before the upgrade --------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            return connection.respond(HTTPStatus.OK, "ok\n")
        if not self.counter.would_admit(_address(connection)):
            return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "too many connections\n")
        return None

    # -- one connection ---------------------------------------------------------------------
    async def _serve_connection(self, connection: ServerConnection) -> None:
        address = _address(connection)
        if not self.counter.acquire(address):
            await connection.close(1013, "too many connections; try again later")
            return
        limits = self.config.limits
        self._next_connection += 1
        session = Session(
            self._next_connection, address, Outbox(limits.send_queue_bytes),
            TokenBucket(limits.deposit_rate, limits.deposit_burst, self._monotonic()),
            limits.max_inflight,
        )
        session.disconnect = lambda code, reason: self._disconnect(session, code, reason)
        self._connections[session] = connection
        writer = asyncio.get_running_loop().create_task(self._write_loop(connection, session))
        try:
            await self._read_loop(connection, session)
        except ConnectionClosed:
            pass
        finally:
            self.service.end_session(session)
            session.outbox.close()
            del self._connections[session]
            self.counter.release(address)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    async def _read_loop(self, connection: ServerConnection, session: Session) -> None:
        service = self.service
        outbox = session.outbox
        loop = asyncio.get_running_loop()
        while not outbox.closed:
            message = await connection.recv()
            if type(message) is not bytes:
                await outbox.put(_TEXT_FRAME)
                continue
            try:
                request = p.decode_request(message)
                service.admit_request(session, request)
            except ProtocolError as error:
                await outbox.put(p.encode(p.ErrorReply.of(error)))
                continue
            if type(request) is p.Deposit:
                while session.inflight >= session.max_inflight:  # backpressure on this client
                    session.inflight_done.clear()
                    await session.inflight_done.wait()
                session.inflight += 1
                self._deposits.add(loop.create_task(self._deposit(session, request)))
                continue
            try:
                reply = await service.handle(session, request)
            except ProtocolError as error:
                await outbox.put(p.encode(p.ErrorReply.of(error)))
                continue
            await outbox.put(p.encode(reply))
            if type(reply) is p.AuthOk and session.feed is not None:
                session.feed.start()  # the backlog follows the auth reply

    async def _deposit(self, session: Session, request: p.Deposit) -> None:
        try:
            try:
                frame = p.encode(await self.service.handle(session, request))
            except ProtocolError as error:
                frame = p.encode(p.ErrorReply.of(error))
            await session.outbox.put(frame)
        finally:
            session.inflight -= 1
            session.inflight_done.set()
            self._deposits.discard(asyncio.current_task())

    async def _write_loop(self, connection: ServerConnection, session: Session) -> None:
        outbox = session.outbox
        monotonic = self._monotonic
        protocol = connection.protocol
        group_bytes = min(_WRITE_BATCH_BYTES, self.config.limits.max_frame_bytes - _GROUP_ROOM)
        try:
            while True:
                first = await outbox.take()
                if first is None:
                    return
                ready = outbox.take_ready(_WRITE_BATCH_BYTES)
                ready.insert(0, first)
                grouped = (session.version or 0) >= p.DELIVER_MANY_VERSION
                session.send_started = monotonic()
                async with connection.send_context():  # one socket write for the batch
                    for frame in _frames(ready, grouped, group_bytes):
                        protocol.send_binary(frame)
                session.send_started = None
        except ConnectionClosed:
            outbox.close()

    def _disconnect(self, session: Session, code: int, reason: str) -> None:
        """Close a session's connection with ``code`` (queued frames are dropped)."""
        session.outbox.close()
        connection = self._connections.get(session)
        if connection is not None:
            task = asyncio.get_running_loop().create_task(connection.close(code, reason))
            self._closing.add(task)  # keep a reference until it is done
            task.add_done_callback(self._closing.discard)

    # -- background -------------------------------------------------------------------------
    async def _purge_loop(self) -> None:
        store, service = self.service.store, self.service
        while True:
            await asyncio.sleep(self.config.purge_interval)
            try:
                counts = await store.purge_expired(service.now())
            except Exception as error:
                log_event("purge_failed", logging.ERROR, error=type(error).__name__)
                continue
            if counts.envelopes or counts.blobs:
                log_event("purged", envelopes=counts.envelopes, blobs=counts.blobs)

    async def _watchdog_loop(self) -> None:
        """Abort connections whose current write has not finished within ``send_timeout``."""
        timeout = self.config.send_timeout
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            now = self._monotonic()
            for session, connection in list(self._connections.items()):
                started = session.send_started
                if started is not None and now - started > timeout:
                    log_event("client_dropped", reason="send_timeout")
                    session.outbox.close()
                    connection.transport.abort()


def _frames(items: list[bytes], grouped: bool, group_bytes: int) -> list[bytes]:
    """The WebSocket messages for ``items`` taken from an outbox, in order.

    A :class:`Delivery` becomes a ``deliver`` push; with ``grouped`` (protocol version 2),
    consecutive deliveries share one ``deliver_many`` push of at most ``group_bytes`` of
    deliveries and MAX_LIST items (a delivery alone is sent as ``deliver``).
    """
    frames: list[bytes] = []
    group: list[bytes] = []
    size = 0
    for item in items:
        if type(item) is not Delivery:
            if group:
                frames.append(_group_frame(group))
                group = []
            frames.append(item)
        elif not grouped:
            frames.append(p.deliver_frame(item))
        else:
            if group and (size + len(item) > group_bytes or len(group) == p.MAX_LIST):
                frames.append(_group_frame(group))
                group = []
            if not group:
                size = 0
            group.append(item)
            size += len(item)
    if group:
        frames.append(_group_frame(group))
    return frames


def _group_frame(group: list[bytes]) -> bytes:
    return p.deliver_frame(group[0]) if len(group) == 1 else p.deliver_many_frame(group)


def _address(connection: ServerConnection) -> str:
    """The remote host (no port), only ever used as a key of the in-memory counter."""
    remote = connection.remote_address
    if isinstance(remote, tuple) and remote:
        return str(remote[0])
    return "unknown"
