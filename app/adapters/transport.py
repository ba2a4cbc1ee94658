"""A kept-alive WebSocket connection to one Sourdine relay (the client side of docs/PROTOCOL.md).

:class:`RelayConnection` owns one background task that connects, says ``hello``, authenticates
with the identity key when one is given, then reads frames until the connection drops, and
starts again after a jittered exponential :class:`Backoff`. Frames are built and parsed only by
:mod:`relay.protocol`; this module shuttles bytes, matches each reply to its request by request
id, and turns ``error`` replies into :class:`RelayRefused`.

Pushed envelopes (the backlog first, then live deposits, in the relay's order) are handed to
``on_delivery`` one at a time, each awaited before the next, by a second task, so a handler may
itself await requests (its ``ack``) on the same connection. The transport never acknowledges
anything: the core acks after its own durable commit. An envelope whose ack did not reach the
relay is delivered again on the next connection, so a handler may see one envelope twice.

Requests issued while the connection is down wait for it, up to their timeout. A request is
never re-sent by the transport: when the connection drops after it was sent, the caller gets
:class:`ConnectionLost` and decides (the core's outbox retries).

The socket is read continuously, also while a slow handler works (a relay drops a client that
stops reading), so pushes wait in memory: at most what the relay holds for the mailbox (its
``mailbox_max_bytes``). A relay that breaks the protocol gets its link closed and reconnected
with a growing delay (docs/PROTOCOL.md, section 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
import logging
import math
import os
import random as _random
import ssl as _ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from crypto.primitives import ed25519_public, ed25519_sign
from relay import protocol as p
from relay.errors import BadSignature, ProtocolError

_log = logging.getLogger(__name__)

R = TypeVar("R", bound=p.Reply)

REPLACED_CLOSE_CODE: Final = 4001
"""Close code of a relay dropping this connection because another one authenticated as the
same identity (another copy of the application)."""
PERMANENT_AUTH_CODES: Final = frozenset(
    {"forbidden", "invitation_required", "invitation_invalid", "unsupported_version"}
)
"""Error codes answering hello or auth that reconnecting cannot fix: the connection stops."""
_DEFAULT_BLOB_CHUNK: Final = 256 * 1024
_JITTER_RANDOM: Final = _random.SystemRandom().random  # jitter needs no secrecy, only spread


# -- errors ------------------------------------------------------------------------------------
class TransportError(Exception):
    """Base class of every error of the relay transport; ``str()`` is a readable sentence."""


class InvalidSettings(TransportError, ValueError):
    """A URL, identity key, backoff or timeout that cannot work (checked at construction)."""


class RelayUnreachable(TransportError):
    """No usable connection to the relay within the request's timeout; nothing was sent."""


class ConnectionLost(TransportError):
    """The connection dropped after the request was sent and before its reply arrived.

    The relay may or may not have carried the request out; every operation is safe to retry
    (a retried deposit may store a duplicate, see :meth:`RelayConnection.deposit`).
    """


class RequestTimedOut(TransportError):
    """The request was sent but its reply did not arrive in time (it may have been done)."""


class TransportClosed(TransportError):
    """:meth:`RelayConnection.close` was called: this connection is gone for good."""


class IdentityRequired(TransportError):
    """The operation needs an authenticated connection and this one has no identity key."""


class ConnectionReplaced(TransportError):
    """Another connection authenticated as this identity on this relay (another copy of the
    application); this one stopped and does not reconnect."""


class BadReply(TransportError):
    """The relay answered outside the protocol (malformed reply, foreign receipt, ...)."""


class RelayRefused(TransportError):
    """The relay answered a request with an ``error`` frame.

    ``code`` is the relay's error code (docs/PROTOCOL.md, "Error codes", e.g. ``"rate_limited"``),
    ``message`` its readable sentence and ``retry_after_ms`` its hint for ``rate_limited``;
    ``error`` is the relay protocol's own typed error (a :class:`relay.errors.ProtocolError`
    subclass such as ``RateLimited``), as the relay raised it.
    """

    def __init__(self, reply: p.ErrorReply) -> None:
        super().__init__(f"the relay refused: {reply.message} ({reply.code})")
        self.reply = reply  # the error frame exactly as decoded
        self.code = reply.code
        self.message = reply.message
        self.retry_after_ms = reply.retry_after_ms
        self.error: ProtocolError = reply.to_exception()


# -- settings and values -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between connection attempts: ``initial * multiplier**failures``, at most
    ``maximum`` seconds, of which a random fraction up to ``jitter`` is taken off (0: none,
    1: "full jitter"), so that clients cut off together do not all return at once.

    Raises:
        InvalidSettings: a value out of range (``0 < initial <= maximum``, finite maximum,
            ``multiplier >= 1``, ``0 <= jitter <= 1``).
    """

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.maximum and math.isfinite(self.maximum)):
            raise InvalidSettings("the backoff needs 0 < initial <= maximum (finite seconds)")
        if not (self.multiplier >= 1 and math.isfinite(self.multiplier)):
            raise InvalidSettings("the backoff multiplier must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise InvalidSettings("the backoff jitter must be between 0 and 1")

    def delay(self, failures: int, random: Callable[[], float]) -> float:
        """Seconds to wait after ``failures`` (0, 1, ...) consecutive failed attempts.

        ``random`` returns a float in [0, 1); the result is in (base * (1 - jitter), base].
        """
        try:
            base = min(self.maximum, self.initial * self.multiplier ** max(0, failures))
        except OverflowError:
            base = self.maximum
        return base * (1.0 - self.jitter * random())


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Timeouts and limits of a :class:`RelayConnection` (seconds, bytes).

    Raises:
        InvalidSettings: a value that is not positive.
    """

    request_timeout: float = 20.0  # default for a request: waiting for the link plus its reply
    open_timeout: float = 10.0  # TCP, TLS and WebSocket handshakes, then hello and auth
    ping_interval: float = 20.0  # heartbeat: a WebSocket ping this often
    ping_timeout: float = 20.0  # a ping unanswered this long means the connection is dead
    close_timeout: float = 2.0  # closing handshake, before the socket is simply dropped
    max_frame_bytes: int = 8 * 1024 * 1024  # largest frame accepted from the relay

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not (value > 0 and math.isfinite(value)):
                raise InvalidSettings(f"the connection setting {field.name} must be positive")


class ConnectionState(enum.Enum):
    """Where a :class:`RelayConnection` stands, as reported to ``on_state``."""

    OFFLINE = "offline"  # no connection; waiting before the next attempt, stopped or closed
    CONNECTING = "connecting"  # opening the WebSocket and saying hello
    CONNECTED = "connected"  # hello done: unauthenticated requests work
    AUTHENTICATED = "authenticated"  # auth done: the mailbox is being delivered


@dataclass(frozen=True, slots=True)
class Delivery:
    """One envelope pushed by the relay; ack its ``envelope_id`` once it is stored."""

    envelope_id: int
    envelope: bytes
    expires_at: int = 0  # seconds since the epoch after which the relay deletes it


DEFAULT_BACKOFF: Final = Backoff()
DEFAULT_SETTINGS: Final = ConnectionSettings()

DeliveryHandler = Callable[[Delivery], Awaitable[None]]
PrekeysLowHandler = Callable[[int], Awaitable[None]]
StateHandler = Callable[[ConnectionState], None]


def check_relay_url(url: str, ssl: _ssl.SSLContext | None = None) -> str:
    """The URL if it names a relay (``ws://`` or ``wss://``, with a host).

    Raises:
        InvalidSettings: another scheme, no host, or a TLS context with a ``ws://`` URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidSettings(f"{url!r} is not a valid relay URL") from None
    if parts.scheme not in {"ws", "wss"} or not parts.hostname:
        raise InvalidSettings(f"{url!r} is not a relay URL (ws://HOST:PORT/ or wss://...)")
    if port == 0:
        raise InvalidSettings(f"{url!r} names port 0")
    if ssl is not None and parts.scheme != "wss":
        raise InvalidSettings("a TLS context only applies to a wss:// relay URL")
    return url


# -- one WebSocket ------------------------------------------------------------------------------
_Outcome = p.Reply | p.ErrorReply | TransportError


class _NotSent(Exception):
    """The link was already closed: the request never left, it can wait for the next link."""


class _Link:
    """One open WebSocket and the requests awaiting their reply on it."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        # Every request sent on this link until its reply arrives, including those whose
        # caller gave up (their future is cancelled), so that a late reply is recognised.
        self.pending: dict[int, tuple[type[p.Reply], asyncio.Future[_Outcome]]] = {}
        self.open = True  # False once the reader stopped; every pending future is then resolved
        self.hello: p.HelloOk | None = None  # the relay's hello reply on this link
        self.reader: asyncio.Task[None] | None = None  # reads frames until the socket closes
        # Why the reader dropped the link when the relay broke the protocol (None otherwise).
        self.violation: str | None = None

    def reply_type(self, request_id: int) -> type[p.Reply] | None:
        waiter = self.pending.get(request_id)
        return None if waiter is None else waiter[0]

    def resolve(self, request_id: int, outcome: _Outcome) -> bool:
        """Hand ``outcome`` to the request ``request_id`` (dropped if its caller gave up);
        False when no such request was sent on this link."""
        waiter = self.pending.pop(request_id, None)
        if waiter is None:
            return False
        if not waiter[1].done():
            waiter[1].set_result(outcome)
        return True

    def finish(self, failure: Callable[[], TransportError]) -> None:
        """The socket is gone: every waiting request gets a fresh ``failure()``."""
        self.open = False
        for request_id in list(self.pending):
            self.resolve(request_id, failure())

    async def call(self, request: p.Request, deadline: float) -> _Outcome:
        """Send ``request`` and wait for its outcome until ``deadline`` (loop time).

        Raises:
            _NotSent: the link was closed before the request could be written.
            RequestTimedOut: the deadline passed (the request may have been sent).
        """
        if not self.open:
            raise _NotSent
        future: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
        self.pending[request.request_id] = (type(request).REPLY, future)
        try:
            async with asyncio.timeout_at(deadline):
                try:
                    await self.socket.send(p.encode(request))
                except ConnectionClosed:
                    self.pending.pop(request.request_id, None)
                    self.open = False  # the reader is about to stop: never pick this link again
                    raise _NotSent from None
                return await future  # a timeout cancels the future; the entry stays pending
        except TimeoutError:
            raise RequestTimedOut(
                f"the relay did not answer {request.OP} in time; it may have been done"
            ) from None

    async def drop(self) -> None:
        """Close the socket (closing handshake, bounded) and stop the reader."""
        try:
            with contextlib.suppress(Exception):
                await self.socket.close()
        finally:
            if not self.socket.transport.is_closing():
                self.socket.transport.abort()
            if self.reader is not None and not self.reader.done():
                self.reader.cancel()
                await asyncio.wait([self.reader])


# -- the kept-alive connection -----------------------------------------------------------------
class RelayConnection:
    """One WebSocket connection to one relay, kept alive in the background.

    With ``identity_secret`` (a 64-byte Ed25519 secret) the connection authenticates and the
    relay delivers that identity's mailbox; without it, it serves unauthenticated requests
    (deposits and prekey bundles on a contact's relay). ``invitation`` is sent with auth until
    one auth succeeds (registering on an invitation-only relay). ``random`` draws the backoff
    jitter. Requests start the connection if :meth:`start` was not called.

    A refusal of hello or auth that reconnecting cannot fix (:data:`PERMANENT_AUTH_CODES`) or
    a newer connection of the same identity (:class:`ConnectionReplaced`) stops the connection:
    it stays OFFLINE and every request raises that error.

    Raises:
        InvalidSettings: a bad URL or identity key.
    """

    def __init__(
        self,
        url: str,
        *,
        identity_secret: bytes | None = None,
        on_delivery: DeliveryHandler | None = None,
        on_prekeys_low: PrekeysLowHandler | None = None,
        on_state: StateHandler | None = None,
        ssl: _ssl.SSLContext | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        settings: ConnectionSettings = DEFAULT_SETTINGS,
        invitation: str | None = None,
        random: Callable[[], float] = _JITTER_RANDOM,
    ) -> None:
        self.url = check_relay_url(url, ssl)
        if identity_secret is not None and len(identity_secret) != 64:
            raise InvalidSettings("an identity secret is a 64-byte Ed25519 secret key")
        self._secret = identity_secret  # signs the auth challenge; never logged
        self.identity = None if identity_secret is None else ed25519_public(identity_secret)
        self._invitation = invitation  # sent with auth until an auth succeeds
        self._on_delivery = on_delivery
        self._on_prekeys_low = on_prekeys_low
        self._on_state = on_state
        self._ssl = ssl
        self._backoff = backoff
        self.settings = settings
        self._random = random
        self._ready_state = (
            ConnectionState.CONNECTED if identity_secret is None else ConnectionState.AUTHENTICATED
        )
        self.state = ConnectionState.OFFLINE  # changed only through _set_state
        self.last_error: TransportError | None = None  # why the last attempt or link failed
        self._link: _Link | None = None  # the current link, set only while it is ready
        self._hello: p.HelloOk | None = None  # the last hello reply received
        self._failure: Callable[[], TransportError] | None = None  # set: stopped for good
        self._closed = False  # close() was called
        self._close_done = asyncio.Event()  # set once close() has finished
        self._wakeup = asyncio.Event()  # set (and replaced) whenever readiness may have changed
        self._events: asyncio.Queue[tuple[_Link, p.Push]] = asyncio.Queue()  # pushes, in order
        self._task: asyncio.Task[None] | None = None  # connects and reconnects
        self._dispatcher: asyncio.Task[None] | None = None  # runs on_delivery/on_prekeys_low
        self._next_request_id = 0  # ids are never reused within this object

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start connecting in the background; returns at once.

        Raises:
            TransportClosed: after :meth:`close`.
        """
        self._launch()

    def _launch(self) -> None:
        if self._closed:
            raise TransportClosed("this relay connection was closed")
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name=f"relay connection {self.url}")
            self._dispatcher = loop.create_task(self._dispatch(), name=f"relay events {self.url}")

    async def close(self) -> None:
        """Stop for good: cancel the tasks, close the socket, fail waiting requests with
        :class:`TransportClosed`. Idempotent; safe to call from a delivery handler."""
        if self._closed:
            await self._close_done.wait()
            return
        self._closed = True
        self._wake()
        current = asyncio.current_task()
        tasks = [t for t in (self._task, self._dispatcher) if t is not None and t is not current]
        for task in tasks:
            task.cancel()
        try:
            if tasks:
                await asyncio.wait(tasks)
        finally:
            while not self._events.empty():
                self._events.get_nowait()
            self._set_state(ConnectionState.OFFLINE)
            self._close_done.set()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def relay_key(self) -> bytes | None:
        """The relay's Ed25519 key from its last hello reply (None before the first)."""
        return None if self._hello is None else self._hello.relay_key

    @property
    def limits(self) -> p.RelayLimits | None:
        """The limits the relay advertised in its last hello reply (None before the first)."""
        return None if self._hello is None else self._hello.limits

    async def wait_ready(self, timeout: float) -> None:
        """Wait until requests can be sent (CONNECTED, or AUTHENTICATED with an identity).

        Raises:
            RelayUnreachable: not ready within ``timeout`` seconds.
            RelayRefused, ConnectionReplaced: the connection stopped for good.
            TransportClosed: after :meth:`close`.
        """
        await self._ready_link(asyncio.get_running_loop().time() + timeout)

    async def wait_authenticated(self, timeout: float) -> None:
        """Wait until the relay accepted this connection's identity.

        Raises:
            IdentityRequired: the connection has no identity key.
            RelayUnreachable, RelayRefused, ConnectionReplaced, TransportClosed: as
                :meth:`wait_ready`.
        """
        if self._secret is None:
            raise IdentityRequired("this connection has no identity key to authenticate with")
        await self.wait_ready(timeout)

    # -- state --------------------------------------------------------------------------------
    def _set_state(self, state: ConnectionState) -> None:
        if state is self.state:
            return
        self.state = state
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception as error:  # a broken observer must not stop the connection
                _log.error("on_state handler failed: %s", type(error).__name__)

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _stop_for_good(self, failure: Callable[[], TransportError]) -> None:
        self._failure = failure
        self.last_error = failure()
        _log.warning("relay connection to %s stopped: %s", self.url, self.last_error)
        self._wake()

    # -- the background tasks -----------------------------------------------------------------
    async def _run(self) -> None:
        """Connect, serve the link until it drops, wait, and again, until stopped."""
        failures = 0  # consecutive attempts that failed (or links the relay broke)
        try:
            while self._failure is None:
                self._set_state(ConnectionState.CONNECTING)
                try:
                    link = await self._open_link()
                except RelayRefused as refused:
                    if refused.code in PERMANENT_AUTH_CODES:
                        self._stop_for_good(functools.partial(RelayRefused, refused.reply))
                        break
                    self.last_error = refused
                except TransportError as error:
                    self.last_error = error
                else:
                    await self._serve(link)
                    if self._failure is not None:
                        break
                    if link.violation is None:
                        failures = 0  # a link that simply dropped: retry after the initial delay
                self._set_state(ConnectionState.OFFLINE)
                delay = self._backoff.delay(failures, self._random)
                _log.info("relay %s: %s; next attempt in %.2f s", self.url, self.last_error, delay)
                await asyncio.sleep(delay)
                failures += 1
        except Exception as error:  # a bug here must not leave waiters hanging
            _log.error("relay connection task failed: %s", type(error).__name__)
            message = f"the relay connection failed unexpectedly ({type(error).__name__})"
            self._stop_for_good(lambda: TransportError(message))
        finally:
            self._set_state(ConnectionState.OFFLINE)

    async def _open_link(self) -> _Link:
        """Open a WebSocket, say hello and authenticate.

        Raises:
            RelayUnreachable: the socket could not be opened.
            RelayRefused: hello or auth was refused.
            ConnectionLost, RequestTimedOut, BadReply: the handshake did not complete.
        """
        settings = self.settings
        tls: dict[str, Any] = {} if self._ssl is None else {"ssl": self._ssl}  # else system CAs
        try:
            socket = await connect(
                self.url, open_timeout=settings.open_timeout,
                ping_interval=settings.ping_interval, ping_timeout=settings.ping_timeout,
                close_timeout=settings.close_timeout, max_size=settings.max_frame_bytes,
                compression=None,  # sealed envelopes do not compress
                user_agent_header=None,  # no software version for the relay or proxies
                **tls,
            )
        except (OSError, TimeoutError, WebSocketException) as error:
            raise RelayUnreachable(f"cannot connect to {self.url}: {_reason(error)}") from None
        except Exception as error:  # e.g. a proxy setting that needs a missing package
            raise RelayUnreachable(
                f"cannot connect to {self.url}: {type(error).__name__}: {error}"
            ) from None
        loop = asyncio.get_running_loop()
        link = _Link(socket)
        link.reader = loop.create_task(self._read(link), name=f"relay reader {self.url}")
        deadline = loop.time() + settings.open_timeout
        try:
            hello = await self._handshake(
                link, p.Hello(request_id=0, versions=p.SUPPORTED_VERSIONS), p.HelloOk, deadline
            )
            if hello.version not in p.SUPPORTED_VERSIONS:
                raise BadReply(f"the relay chose protocol version {hello.version}")
            link.hello = self._hello = hello
            self._set_state(ConnectionState.CONNECTED)
            if self._secret is not None and self.identity is not None:
                message = p.auth_message(hello.relay_key, hello.nonce, self.identity)
                auth = p.Auth(
                    request_id=0, identity=self.identity,
                    signature=ed25519_sign(self._secret, message), invitation=self._invitation,
                )
                await self._handshake(link, auth, p.AuthOk, deadline)
                self._invitation = None  # registered: the code is not needed any more
        except BaseException:
            await link.drop()
            raise
        return link

    async def _handshake(
        self, link: _Link, request: p.Request, reply_type: type[R], deadline: float
    ) -> R:
        try:
            outcome = await link.call(self._numbered(request), deadline)
        except _NotSent:
            raise ConnectionLost(f"the relay {self.url} closed the connection") from None
        return _expect(outcome, reply_type)

    async def _serve(self, link: _Link) -> None:
        """Make ``link`` the current one until its reader stops."""
        self._link = link
        self.last_error = None
        self._set_state(self._ready_state)
        self._wake()
        try:
            if link.reader is not None:
                await asyncio.wait([link.reader])
        finally:
            self._link = None
            self._wake()
            await link.drop()
        code, reason = link.socket.close_code, link.socket.close_reason or ""
        if link.violation is not None:
            self.last_error = BadReply(
                f"the relay {self.url} broke the protocol ({link.violation}); reconnecting"
            )
        elif code == REPLACED_CLOSE_CODE and self._secret is not None:
            self._stop_for_good(lambda: ConnectionReplaced(
                f"another connection authenticated as this identity on {self.url}"
            ))
        else:
            self.last_error = ConnectionLost(
                f"the connection to {self.url} dropped (code {code}{': ' if reason else ''}"
                f"{reason[:80]})"
            )

    async def _read(self, link: _Link) -> None:
        """Read frames until the socket closes: replies to their requests, pushes in order."""
        try:
            async for message in link.socket:
                violation = self._on_frame(link, message)
                if violation is not None:
                    _log.warning("the relay %s broke the protocol: %s", self.url, violation)
                    link.violation = violation
                    break  # _serve closes the link; the connection starts again
        except ConnectionClosed:
            pass
        finally:
            closed = self._closed
            link.finish(
                (lambda: TransportClosed("the relay connection was closed")) if closed
                else (lambda: ConnectionLost(
                    f"the connection to {self.url} dropped before the reply; the request "
                    "may have been done"
                ))
            )

    def _on_frame(self, link: _Link, message: str | bytes) -> str | None:
        """Route one frame; returns what is wrong with it when the relay broke the protocol
        (docs/PROTOCOL.md, section 3: log it and reconnect)."""
        if not isinstance(message, bytes):
            return "a text message"
        try:
            frame = p.decode_relay_frame(message, link.reply_type)
        except ProtocolError as error:
            if error.request_id:
                link.resolve(error.request_id, BadReply(f"the relay's reply is invalid: {error}"))
            return str(error)
        if isinstance(frame, p.DeliverMany):  # version 2: the same as its deliver pushes
            for delivery in frame.deliveries:
                self._events.put_nowait((link, delivery))
        elif isinstance(frame, p.Push):
            self._events.put_nowait((link, frame))
        elif isinstance(frame, p.ErrorReply) and frame.request_id == 0:
            _log.warning("the relay %s reported an error: %s", self.url, frame.code)
        elif not link.resolve(frame.request_id, frame):
            return f"a reply to request {frame.request_id}, which was not sent"
        return None

    async def _dispatch(self) -> None:
        """Hand pushes to the handlers one at a time, in arrival order."""
        while not self._closed:
            link, push = await self._events.get()
            try:
                if isinstance(push, p.Deliver):
                    # Not acked by anyone yet: a closed link's envelopes come again on the next.
                    if link.open and self._on_delivery is not None:
                        await self._on_delivery(
                            Delivery(push.envelope_id, push.envelope, push.expires_at)
                        )
                elif isinstance(push, p.PrekeysLow) and self._on_prekeys_low is not None:
                    await self._on_prekeys_low(push.one_time_count)
            except Exception as error:  # the envelope stays on the relay; the next one goes on
                _log.error("%s handler failed: %s", push.OP, type(error).__name__)

    # -- requests -----------------------------------------------------------------------------
    def _numbered(self, request: p.Request) -> p.Request:
        self._next_request_id += 1
        return dataclasses.replace(request, request_id=self._next_request_id)

    async def _ready_link(self, deadline: float) -> _Link:
        """The current link once it is ready, waiting for it until ``deadline`` (loop time)."""
        self._launch()
        while True:
            if self._closed:
                raise TransportClosed("this relay connection was closed")
            if self._failure is not None:
                raise self._failure()
            link = self._link
            if link is not None and link.open:
                return link
            wakeup = self._wakeup
            try:
                async with asyncio.timeout_at(deadline):
                    await wakeup.wait()
            except TimeoutError:
                reason = f": {self.last_error}" if self.last_error is not None else ""
                raise RelayUnreachable(
                    f"the relay {self.url} was not reachable in time{reason}"
                ) from None

    async def _call(self, request: p.Request, reply_type: type[R], timeout: float | None) -> R:
        """Send ``request`` (its id is assigned here) and return its reply.

        Raises:
            IdentityRequired, RelayUnreachable, ConnectionLost, RequestTimedOut, RelayRefused,
            BadReply, TransportClosed, ConnectionReplaced.
        """
        if type(request).NEEDS_AUTH and self._secret is None:
            raise IdentityRequired(f"{request.OP} needs a connection with an identity key")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.settings.request_timeout if timeout is None else timeout)
        while True:
            link = await self._ready_link(deadline)
            try:
                outcome = await link.call(self._numbered(request), deadline)
            except _NotSent:
                await asyncio.sleep(0)  # let the reader and the connection task notice the drop
                continue  # the request never left: wait for the next link
            return _expect(outcome, reply_type)

    async def deposit(
        self, mailboxes: Sequence[bytes], envelope: bytes, ttl_seconds: int | None = None,
        *, timeout: float | None = None,
    ) -> list[p.DepositOutcome]:
        """Store ``envelope`` in each mailbox (an identity key) on this relay.

        Returns one outcome per mailbox, in order: an ``envelope_id`` once stored durably, or
        the relay's ``code`` and ``message`` for that mailbox (e.g. ``unknown_mailbox``).
        Safe to retry after :class:`ConnectionLost` or :class:`RequestTimedOut`: the relay may
        then store the envelope twice, and the recipient drops the copy by its message id.

        Raises:
            RelayRefused: the whole deposit was refused (``too_large``, ``rate_limited``, ...).
            TransportError: see :meth:`_call`.
        """
        request = p.Deposit(
            request_id=0, recipients=tuple(mailboxes), envelope=envelope, ttl=ttl_seconds
        )
        reply = await self._call(request, p.Deposited, timeout)
        if len(reply.results) != len(request.recipients):
            raise BadReply("the relay's deposit reply has the wrong number of results")
        return list(reply.results)

    async def ack(self, envelope_ids: Sequence[int], *, timeout: float | None = None) -> int:
        """Delete delivered envelopes from the mailbox; returns how many were deleted now
        (ids already gone are not counted, so acking twice is harmless).

        Raises:
            IdentityRequired, RelayRefused, TransportError.
        """
        deleted = 0
        ids = tuple(envelope_ids)
        for start in range(0, len(ids), p.MAX_LIST):
            request = p.Ack(request_id=0, envelope_ids=ids[start : start + p.MAX_LIST])
            deleted += (await self._call(request, p.Acked, timeout)).deleted
        return deleted

    async def publish_prekeys(
        self, signed_prekey: p.SignedPrekey | None,
        one_time: Sequence[p.OneTimePrekey] = (), *, timeout: float | None = None,
    ) -> int:
        """Replace the signed prekey (when given) and add one-time prekeys (in frames of at
        most 200); returns the one-time prekeys now stored.

        Raises:
            IdentityRequired, RelayRefused (e.g. ``bad_signature``, ``quota_exceeded``),
            TransportError.
        """
        keys = tuple(one_time)
        size = p.MAX_ONE_TIME_PREKEYS_PER_FRAME
        batches = [keys[i : i + size] for i in range(0, len(keys), size)] or [()]
        count = 0
        for index, batch in enumerate(batches):
            request = p.PrekeysPublish(
                request_id=0, signed_prekey=signed_prekey if index == 0 else None,
                one_time_prekeys=batch,
            )
            count = (await self._call(request, p.PrekeysPublished, timeout)).one_time_count
        return count

    async def fetch_bundle(
        self, identity: bytes, *, timeout: float | None = None
    ) -> p.PrekeyBundle:
        """Take ``identity``'s prekey bundle (its signed prekey and one one-time prekey, which
        the relay hands out only once). The signature is for the caller (X3DH) to verify.

        Raises:
            RelayRefused: ``unknown_mailbox`` or ``not_found`` (no prekeys published).
            BadReply: the bundle is for another identity.
            TransportError.
        """
        reply = await self._call(p.PrekeysFetch(request_id=0, identity=identity), p.PrekeyBundle,
                                 timeout)
        if reply.identity != identity:
            raise BadReply("the relay returned the prekey bundle of another identity")
        return reply

    async def directory_publish(self, display_name: str, *, timeout: float | None = None) -> None:
        """List this identity in the relay's directory under ``display_name``.

        Raises:
            IdentityRequired, RelayRefused (``malformed`` name), TransportError.
        """
        request = p.DirectoryPublish(request_id=0, display_name=display_name)
        await self._call(request, p.Done, timeout)

    async def directory_remove(self, *, timeout: float | None = None) -> bool:
        """Remove this identity from the directory; False when it was not listed.

        Raises:
            IdentityRequired, RelayRefused, TransportError.
        """
        request = p.DirectoryRemove(request_id=0)
        return (await self._call(request, p.Removed, timeout)).removed

    async def directory_search(
        self, query: str, limit: int = 20, *, timeout: float | None = None
    ) -> list[p.DirectoryEntry]:
        """Directory entries whose display name matches ``query`` (at most ``limit``).

        Raises:
            IdentityRequired, RelayRefused, TransportError.
        """
        request = p.DirectorySearch(request_id=0, query=query, limit=limit)
        return list((await self._call(request, p.DirectoryResults, timeout)).entries)

    async def delete_account(
        self, pinned_relay_key: bytes | None = None, *, timeout: float | None = None
    ) -> p.AccountDeleted:
        """Delete this identity's mailbox, prekeys, blobs and directory entry on the relay.

        Returns the relay's signed receipt (keep it: proof of the deletion), checked against
        ``pinned_relay_key`` (default: the key of this connection's hello) and this identity.
        The connection then closes for good: reconnecting would register the identity again.

        Raises:
            IdentityRequired, RelayRefused, TransportError.
            BadReply: the receipt is not signed by that relay key or names another identity.
        """
        reply = await self._call(p.AccountDelete(request_id=0), p.AccountDeleted, timeout)
        relay_key = pinned_relay_key or self.relay_key  # hello of the link that answered
        await self.close()
        if relay_key is None or reply.receipt.identity != self.identity:
            raise BadReply("the deletion receipt names another identity")
        try:
            reply.verify(relay_key)
        except BadSignature as error:
            raise BadReply(f"the deletion receipt is not valid: {error}") from None
        return reply

    # -- blobs --------------------------------------------------------------------------------
    async def blob_create(
        self, size: int, ttl_seconds: int | None = None, *, timeout: float | None = None
    ) -> p.BlobCreated:
        """Reserve a blob of ``size`` bytes. Raises: IdentityRequired, RelayRefused,
        TransportError."""
        request = p.BlobCreate(request_id=0, size=size, ttl=ttl_seconds)
        return await self._call(request, p.BlobCreated, timeout)

    async def blob_put(
        self, blob_id: bytes, offset: int, data: bytes, *, timeout: float | None = None
    ) -> int:
        """Write the chunk at ``offset`` (the bytes received so far); returns the new total.
        Raises: IdentityRequired, RelayRefused, TransportError."""
        request = p.BlobPut(request_id=0, blob_id=blob_id, offset=offset, data=data)
        return (await self._call(request, p.BlobWritten, timeout)).received

    async def blob_get(
        self, blob_id: bytes, offset: int, length: int, *, timeout: float | None = None
    ) -> bytes:
        """Read up to ``length`` bytes at ``offset`` (shorter only at the end).
        Raises: RelayRefused (``not_found``), TransportError."""
        request = p.BlobGet(request_id=0, blob_id=blob_id, offset=offset, length=length)
        return (await self._call(request, p.BlobData, timeout)).data

    async def blob_delete(self, blob_id: bytes, *, timeout: float | None = None) -> bool:
        """Delete one of this identity's blobs; False when it was already gone.
        Raises: IdentityRequired, RelayRefused, TransportError."""
        request = p.BlobDelete(request_id=0, blob_id=blob_id)
        return (await self._call(request, p.Removed, timeout)).removed

    async def _chunk_size(self, timeout: float | None) -> int:
        """The largest blob chunk the relay accepts (its hello says; wait for one first)."""
        await self.wait_ready(self.settings.request_timeout if timeout is None else timeout)
        limits = self.limits
        chunk = _DEFAULT_BLOB_CHUNK
        if limits is not None and limits.blob_chunk_bytes:
            chunk = limits.blob_chunk_bytes
        if limits is not None and limits.max_frame_bytes:
            chunk = min(chunk, max(1, limits.max_frame_bytes - 1024))  # room for the header
        return chunk

    async def upload_blob(
        self, data: bytes, ttl_seconds: int | None = None, *, timeout: float | None = None
    ) -> p.BlobCreated:
        """Create a blob holding ``data``, written in chunks the relay accepts.

        Raises:
            IdentityRequired, RelayRefused (``too_large``, ``quota_exceeded``), TransportError.
        """
        chunk = await self._chunk_size(timeout)
        created = await self.blob_create(len(data), ttl_seconds, timeout=timeout)
        offset = 0
        while offset < len(data):
            piece = data[offset : offset + chunk]
            offset = await self.blob_put(created.blob_id, offset, piece, timeout=timeout)
        return created

    async def download_blob(
        self, blob_id: bytes, max_bytes: int, *, timeout: float | None = None
    ) -> bytes:
        """The whole blob, read in chunks.

        Raises:
            RelayRefused (``not_found``), TransportError.
            BadReply: the blob is longer than ``max_bytes``.
        """
        chunk = await self._chunk_size(timeout)
        parts: list[bytes] = []
        offset = 0
        while True:
            data = await self.blob_get(blob_id, offset, chunk, timeout=timeout)
            parts.append(data)
            offset += len(data)
            if offset > max_bytes:
                raise BadReply(f"the blob is longer than {max_bytes} bytes")
            if len(data) < chunk:
                return b"".join(parts)


def _expect(outcome: _Outcome, reply_type: type[R]) -> R:
    """The reply if it is of ``reply_type``; raise the typed error otherwise."""
    if isinstance(outcome, TransportError):
        raise outcome
    if isinstance(outcome, p.ErrorReply):
        raise RelayRefused(outcome)
    if not isinstance(outcome, reply_type):  # decode_relay_frame parses by the request's type
        raise BadReply(f"the relay answered with {type(outcome).__name__}")
    return outcome


def _reason(error: BaseException) -> str:
    """A short readable cause of a connection failure."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, _ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({getattr(error, 'verify_message', error)})"
    if isinstance(error, _ssl.SSLError):
        return f"TLS failed ({error.reason or error})"
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno)  # asyncio's own text only repeats the address
    text = str(error)
    return text[:200] if text else type(error).__name__
