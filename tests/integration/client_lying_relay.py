"""A malicious relay for client tests: a WebSocket man in the middle in front of a real relay.

Clients connect to :class:`LyingRelay` as if it were their relay. It opens one connection to
the real relay per client connection and forwards every frame unchanged, both ways, except the
envelopes pushed to the *victim* identity while :attr:`LyingRelay.lying` is set. Those it
collects a few at a time and then, deterministically (seeded):

- drops some (never forwarded, so never acknowledged: the real relay keeps them),
- tampers some in place (one flipped byte, same envelope id),
- replays earlier envelopes with the same id and with a new id,
- forges envelopes that claim to come from a contact or from a stranger (garbage payloads),
- injects envelopes meant for another mailbox (copies of what it pushes to ``thief_source``),
- shuffles the order of everything it forwards.

Frames it makes up are built with relay.protocol's encoders, so they are well-formed: the
client has to notice the lies at the envelope and ratchet layers. The proxy also watches the
victim's acks (and the real relay's replies to them), so a test can wait until every lie was
handled before the relay turns honest again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from crypto.envelope import EnvelopeKind, seal_envelope
from relay import protocol as p
from relay.errors import ProtocolError
from relay.protocol.wire import unpack

FAKE_IDS = 2**40
"""Envelope ids the proxy makes up start here (far above the real relay's)."""
BATCH = 8
"""Deliveries collected before a shuffled batch goes out (or after a short pause)."""
PAUSE = 0.1


@dataclass
class Lies:
    """What the proxy did to the victim (the test's expected counts)."""

    genuine: int = 0  # envelopes the real relay pushed to the victim while lying
    forwarded: int = 0  # of those, forwarded intact
    dropped: int = 0
    tampered: int = 0  # forwarded with a flipped byte (the genuine one is lost)
    replayed_same_id: int = 0
    replayed_new_id: int = 0
    forged_as_contact: int = 0
    forged_as_stranger: int = 0
    stolen: int = 0  # envelopes of another mailbox
    sent_ids: set[int] = field(default_factory=set)  # every envelope id pushed to the victim


@dataclass(eq=False)
class _Link:
    client: ServerConnection
    upstream: ClientConnection
    identity: bytes | None = None  # from the auth request
    acks: dict[int, list[int]] = field(default_factory=dict)  # pending ack request id -> ids
    batch: list[p.Deliver] = field(default_factory=list)  # lies waiting to go out


class LyingRelay:
    """Start with :meth:`start`; set :attr:`victim`, :attr:`claimed_sender` and
    :attr:`thief_source`, then :attr:`lying`."""

    def __init__(self, upstream_url: str, seed: str) -> None:
        self.upstream_url = upstream_url
        self.victim: bytes | None = None  # whose deliveries are tampered with
        self.claimed_sender: bytes | None = None  # whom forgeries claim to come from
        self.thief_source: bytes | None = None  # whose deliveries are copied to the victim
        self.lying = False
        self.lies = Lies()
        self.acked: set[int] = set()  # ids the victim acked and the real relay confirmed
        self._random = random.Random(seed)
        self._forwarded: list[p.Deliver] = []  # intact envelopes already pushed to the victim
        self._stolen: list[p.Deliver] = []  # copies waiting for the victim's next batch
        self._next_fake = FAKE_IDS
        self._links: set[_Link] = set()
        self._server: Server | None = None

    async def start(self) -> str:
        """Listen on 127.0.0.1; returns the URL clients use."""
        self._server = await serve(self._serve, "127.0.0.1", 0, max_size=None,
                                   compression=None)
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def disconnect(self, identity: bytes) -> None:
        """Close that identity's connections (it reconnects and gets its backlog again)."""
        for link in list(self._links):
            if link.identity == identity:
                await link.client.close()

    async def wait_quiet(self, genuine: int, timeout: float) -> None:
        """Wait until ``genuine`` envelopes reached the victim's link and every envelope id
        pushed to it was acknowledged (confirmed by the real relay).

        Raises:
            TimeoutError: not within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not (self.lies.genuine >= genuine and not self._stolen
                       and not any(link.batch for link in self._links)
                       and self.lies.sent_ids <= self.acked):
                await asyncio.sleep(PAUSE)

    # --- plumbing -----------------------------------------------------------------------------

    async def _serve(self, client: ServerConnection) -> None:
        try:
            upstream = await connect(self.upstream_url, max_size=None, compression=None)
        except OSError:
            return
        link = _Link(client, upstream)
        self._links.add(link)
        tasks = [asyncio.create_task(self._to_relay(link)),
                 asyncio.create_task(self._to_client(link))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            self._links.discard(link)
            await upstream.close()
            await client.close()

    async def _to_relay(self, link: _Link) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in link.client:
                if isinstance(message, bytes):
                    with contextlib.suppress(ProtocolError):
                        request = p.decode_request(message)
                        if isinstance(request, p.Auth):
                            link.identity = request.identity
                        elif isinstance(request, p.Ack):
                            link.acks[request.request_id] = list(request.envelope_ids)
                await link.upstream.send(message)

    async def _to_client(self, link: _Link) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                try:
                    message = await asyncio.wait_for(link.upstream.recv(), PAUSE)
                except TimeoutError:
                    message = None
                if isinstance(message, bytes):
                    await self._from_relay(link, message)
                elif message is not None:
                    await link.client.send(message)
                if link.identity == self.victim and self._stolen:
                    link.batch.extend(self._stolen)
                    self._stolen.clear()
                if link.batch and (message is None or len(link.batch) >= BATCH):
                    await self._lie(link)

    async def _from_relay(self, link: _Link, message: bytes) -> None:
        frame = unpack(message)
        op, request_id = frame.get("op"), frame.get("id")
        if op == "ok" and request_id in link.acks:
            self.acked.update(link.acks.pop(request_id))
        if op in {"deliver", "deliver_many"} and self.lying:
            push = p.decode_relay_frame(message, {})
            deliveries = push.deliveries if isinstance(push, p.DeliverMany) else (push,)
            assert all(isinstance(d, p.Deliver) for d in deliveries)
            if link.identity == self.victim:
                link.batch.extend(deliveries)  # type: ignore[arg-type]
                self.lies.genuine += len(deliveries)
                return
            if link.identity == self.thief_source:
                self._stolen.extend(self._renamed(d) for d in deliveries)  # type: ignore[arg-type]
                self.lies.stolen += len(deliveries)
        await link.client.send(message)

    # --- the lies -----------------------------------------------------------------------------

    def _fake_id(self) -> int:
        self._next_fake += 1
        return self._next_fake

    def _renamed(self, delivery: p.Deliver, envelope: bytes | None = None) -> p.Deliver:
        return p.Deliver(envelope_id=self._fake_id(), expires_at=delivery.expires_at,
                         envelope=delivery.envelope if envelope is None else envelope)

    def _forged(self, sender: bytes, kind: EnvelopeKind, template: p.Deliver) -> p.Deliver:
        assert self.victim is not None
        payload = self._random.randbytes(self._random.randrange(40, 400))
        return self._renamed(template, seal_envelope(self.victim, sender, kind, payload))

    async def _lie(self, link: _Link) -> None:
        out: list[p.Deliver] = []
        lies = self.lies
        for delivery in link.batch:
            if delivery.envelope_id >= FAKE_IDS:  # stolen: already renamed
                out.append(delivery)
                continue
            turn = (lies.forwarded + lies.dropped + lies.tampered) % 10
            if turn == 3:
                lies.dropped += 1
                continue
            if turn == 6:
                spoiled = bytearray(delivery.envelope)
                spoiled[self._random.randrange(len(spoiled))] ^= 1 << self._random.randrange(8)
                out.append(p.Deliver(envelope_id=delivery.envelope_id, envelope=bytes(spoiled),
                                     expires_at=delivery.expires_at))
                lies.tampered += 1
                continue
            out.append(delivery)
            self._forwarded.append(delivery)
            lies.forwarded += 1
            if turn == 1:
                out.append(self._random.choice(self._forwarded))
                lies.replayed_same_id += 1
            elif turn == 2:
                out.append(self._renamed(self._random.choice(self._forwarded)))
                lies.replayed_new_id += 1
            elif turn in {4, 8} and self.claimed_sender is not None:
                kind = EnvelopeKind.RATCHET_MESSAGE if turn == 4 else EnvelopeKind.PREKEY_MESSAGE
                out.append(self._forged(self.claimed_sender, kind, delivery))
                lies.forged_as_contact += 1
            elif turn == 9:
                stranger = self._random.randbytes(32)  # the sender field is only a claim
                out.append(self._forged(stranger, EnvelopeKind.PREKEY_MESSAGE, delivery))
                lies.forged_as_stranger += 1
        link.batch.clear()
        self._random.shuffle(out)
        for delivery in out:
            lies.sent_ids.add(delivery.envelope_id)
            await link.client.send(p.encode(delivery))
