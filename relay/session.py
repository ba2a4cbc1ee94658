"""One client connection: its outgoing queue, its auth state and its mailbox feed.

Nothing here reads the socket. :class:`Outbox` is the bounded queue of frames for one client;
a depositor on another connection only ever calls :meth:`Outbox.offer`, which never waits, so a
slow client can never hold up anyone else. :class:`MailboxFeed` delivers one mailbox to its
connected owner: first the backlog read from the store, then deposits pushed live; when the
queue is full it stops pushing and reads the store again at the client's own pace.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from relay.limits import TokenBucket
from relay.logging import log_event
from relay.protocol import encode_delivery
from relay.store.base import RelayStore


class Delivery(bytes):
    """One envelope for the client, as :func:`relay.protocol.encode_delivery` bytes.

    Queued in an :class:`Outbox` like a frame; the connection's writer turns consecutive ones
    into ``deliver`` or ``deliver_many`` pushes, depending on the client's protocol version.
    """

    __slots__ = ()

    @classmethod
    def of(cls, envelope_id: int, envelope: bytes, expires_at: int) -> Delivery:
        return cls(encode_delivery(envelope_id, envelope, expires_at))


class Outbox:
    """Frames (and :class:`Delivery` items) waiting to be written to one client, in order,
    about ``limit_bytes`` at most.

    A frame is accepted when it fits under the limit, or when the queue is empty (so one frame
    larger than the limit still goes through, alone).
    """

    __slots__ = ("_bytes", "_closed", "_frames", "_has_frames", "_has_room", "_limit")

    def __init__(self, limit_bytes: int) -> None:
        self._limit = limit_bytes  # _bytes stays under this, or _frames holds one frame
        self._frames: deque[bytes] = deque()  # oldest first
        self._bytes = 0  # total length of _frames
        self._has_frames = asyncio.Event()  # set whenever _frames is non-empty or closed
        self._has_room = asyncio.Event()  # cleared only while a waiting put() does not fit
        self._has_room.set()
        self._closed = False  # once set, frames are dropped and waiters released

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    def offer(self, frame: bytes) -> bool:
        """Queue ``frame`` if there is room now; False (frame dropped) when full or closed."""
        if self._closed or (self._frames and self._bytes + len(frame) > self._limit):
            return False
        self._frames.append(frame)
        self._bytes += len(frame)
        self._has_frames.set()
        return True

    async def put(self, frame: bytes) -> None:
        """Queue ``frame``, waiting for room (the caller is this client's own work)."""
        while not self.offer(frame):
            if self._closed:
                return
            self._has_room.clear()
            await self._has_room.wait()

    def take_ready(self, max_bytes: int) -> list[bytes]:
        """Queued frames, oldest first, up to about ``max_bytes`` (at least one if any)."""
        frames: list[bytes] = []
        total = 0
        queue = self._frames
        while queue and (not frames or total + len(queue[0]) <= max_bytes):
            frame = queue.popleft()
            total += len(frame)
            frames.append(frame)
        if frames:
            self._bytes -= total
            self._has_room.set()
        return frames

    async def take(self) -> bytes | None:
        """The oldest frame, waiting for one; None once closed."""
        while not self._frames:
            if self._closed:
                return None
            self._has_frames.clear()
            await self._has_frames.wait()
        if self._closed:
            return None
        frame = self._frames.popleft()
        self._bytes -= len(frame)
        self._has_room.set()
        return frame

    def close(self) -> None:
        """Drop every queued frame and release all waiters."""
        self._closed = True
        self._frames.clear()
        self._bytes = 0
        self._has_frames.set()
        self._has_room.set()


class MailboxFeed:
    """Pushes one mailbox to its connected, authenticated owner, each envelope once.

    Invariants: while :attr:`live`, every offered envelope is queued to the client or, when
    the queue is full, the feed leaves live mode and marks the store to be re-read from just
    below that envelope. ``sent`` holds the ids queued on this connection and not yet acked,
    so re-reading never sends an envelope twice on one connection. The feed becomes live only
    after a store read during which nothing new was offered.
    """

    def __init__(
        self,
        store: RelayStore,
        mailbox: bytes,
        outbox: Outbox,
        now: Callable[[], int],
        on_failure: Callable[[], None],
        page_size: int = 64,
    ) -> None:
        self._store = store
        self._page = page_size  # envelopes per store query (bounds the memory of one read)
        self._mailbox = mailbox  # the owner's identity key
        self._outbox = outbox  # the owner's connection's queue
        self._now = now  # wall-clock seconds, for expiry
        self._on_failure = on_failure  # called when the store cannot be read (drops the client)
        self.live = False  # offers go straight to the outbox
        self.sent: set[int] = set()  # ids queued on this connection and not acked since
        self._reread_after: int | None = 0  # store ids above this must still be read; None: none
        self._started = False  # start() was called (after the auth reply was queued)
        self._task: asyncio.Task[None] | None = None  # the running store reader, if any
        self.store_reads = 0  # store queries made (1 for a client that keeps up)

    def start(self) -> None:
        """Begin with the backlog (everything stored for the mailbox)."""
        self._started = True
        self._ensure_reader()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def offer(self, envelope_id: int, envelope: bytes, expires_at: int) -> None:
        """A deposit to this mailbox was committed: push it now, or read it from the store."""
        if envelope_id in self.sent:
            return
        if self.live:
            if self._outbox.offer(Delivery.of(envelope_id, envelope, expires_at)):
                self.sent.add(envelope_id)
                return
            self.live = False
        floor = envelope_id - 1
        if self._reread_after is None or floor < self._reread_after:
            self._reread_after = floor
        self._ensure_reader()

    def acked(self, envelope_ids: tuple[int, ...]) -> None:
        self.sent.difference_update(envelope_ids)

    def _ensure_reader(self) -> None:
        if self._started and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._read_store())

    async def _read_store(self) -> None:
        try:
            while self._reread_after is not None:
                after = self._reread_after
                self._reread_after = None  # an offer during the read sets it again
                while True:
                    self.store_reads += 1
                    page = await self._store.fetch(self._mailbox, after, self._page, self._now())
                    for stored in page:
                        if stored.envelope_id not in self.sent:
                            await self._outbox.put(
                                Delivery.of(stored.envelope_id, stored.envelope,
                                            stored.expires_at)
                            )
                            self.sent.add(stored.envelope_id)
                    if len(page) < self._page:
                        break
                    after = page[-1].envelope_id
            self.live = not self._outbox.closed
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log_event("delivery_failed", logging.ERROR, error=type(error).__name__)
            self._on_failure()


class Session:
    """The state of one connection (see docs/PROTOCOL.md, "Session")."""

    __slots__ = (
        "address", "bucket", "connection_id", "disconnect", "feed", "identity", "inflight",
        "inflight_done", "max_inflight", "nonce", "nonce_issued", "outbox", "send_started",
        "version",
    )

    def __init__(self, connection_id: int, address: str, outbox: Outbox, bucket: TokenBucket,
                 max_inflight: int) -> None:
        self.connection_id = connection_id  # process-local counter, never logged with data
        self.address = address  # remote address, only for the connection counter
        self.outbox = outbox  # frames for this client
        self.bucket = bucket  # deposit and bundle-fetch tokens
        self.max_inflight = max_inflight  # the reader pauses while this many deposits are open
        self.inflight = 0  # deposits of this connection awaiting their commit
        self.inflight_done = asyncio.Event()  # set when a deposit finishes
        self.version: int | None = None  # set by hello; nothing else is accepted before
        self.nonce: bytes | None = None  # the current auth challenge; consumed by one auth
        self.nonce_issued = 0.0  # monotonic time the nonce was issued
        self.identity: bytes | None = None  # the authenticated identity (mailbox), if any
        self.feed: MailboxFeed | None = None  # delivery to this client, once authenticated
        self.send_started: float | None = None  # monotonic start of a write in progress
        self.disconnect: Callable[[int, str], None] = _ignore  # closes the connection (server)


def _ignore(code: int, reason: str) -> None:
    """The default :attr:`Session.disconnect` before the server sets its own."""
