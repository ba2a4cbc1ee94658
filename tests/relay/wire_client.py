"""A minimal relay client for tests, built only on ``relay.protocol`` (as the desktop client is).

It keeps a table of pending request ids, decodes every frame from the relay with
``decode_relay_frame`` and routes replies to their caller and pushes to :attr:`pushes`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from crypto.primitives import ed25519_keypair, ed25519_sign
from relay import protocol as p
from relay.errors import ProtocolError
from tests.support.drbg import DeterministicRandom

R = TypeVar("R", bound=p.Reply)


class Identity:
    """An Ed25519 identity key pair from a fixed seed (a mailbox name)."""

    def __init__(self, seed: str) -> None:
        self.secret, self.public = ed25519_keypair(DeterministicRandom(seed))

    def sign(self, message: bytes) -> bytes:
        return ed25519_sign(self.secret, message)


class RelayClient:
    """One WebSocket connection to a relay."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._next_id = 0
        self._pending: dict[int, tuple[type[p.Reply], asyncio.Future[Any]]] = {}
        self.pushes: asyncio.Queue[p.Push] = asyncio.Queue()
        self.orphans: asyncio.Queue[p.ErrorReply | bytes] = asyncio.Queue()  # unmatched frames
        self.hello: p.HelloOk | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> RelayClient:
        kwargs.setdefault("max_size", 16 * 1024 * 1024)
        kwargs.setdefault("compression", None)
        return cls(await connect(url, **kwargs))

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def __aenter__(self) -> RelayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def _read(self) -> None:
        try:
            async for message in self.connection:
                assert isinstance(message, bytes), "the relay sent a text frame"
                lookup = {rid: cls for rid, (cls, _) in self._pending.items()}
                try:
                    frame = p.decode_relay_frame(message, lookup)
                except ProtocolError:
                    await self.orphans.put(message)
                    continue
                if isinstance(frame, p.Push):
                    await self.pushes.put(frame)
                    continue
                waiter = self._pending.pop(frame.request_id, None)
                if waiter is None:
                    assert isinstance(frame, p.ErrorReply)
                    await self.orphans.put(frame)
                elif not waiter[1].done():
                    waiter[1].set_result(frame)
        except ConnectionClosed:
            pass
        finally:
            for _, future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the relay closed the connection"))

    async def send(self, request: p.Request) -> asyncio.Future[Any]:
        """Send ``request`` and return a future of its reply frame (Reply or ErrorReply)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # a lost connection is not an unhandled error
        self._pending[request.request_id] = (type(request).REPLY, future)
        await self.connection.send(p.encode(request))
        return future

    async def call(self, cls: type[p.Request], **fields: Any) -> Any:
        """Send a request built from ``fields`` and return its reply; raise its typed error."""
        request = cls(request_id=self.next_id(), **fields)
        frame = await asyncio.wait_for(await self.send(request), timeout=20)
        if isinstance(frame, p.ErrorReply):
            raise frame.to_exception()
        return frame

    async def send_raw(self, data: bytes | str) -> None:
        await self.connection.send(data)

    async def login(
        self, identity: Identity, invitation: str | None = None, versions: tuple[int, ...] = (1,)
    ) -> p.AuthOk:
        hello: p.HelloOk = await self.call(p.Hello, versions=versions)
        self.hello = hello
        signature = identity.sign(p.auth_message(hello.relay_key, hello.nonce, identity.public))
        auth: p.AuthOk = await self.call(
            p.Auth, identity=identity.public, signature=signature, invitation=invitation
        )
        return auth

    async def next_push(self, timeout: float = 10) -> p.Push:
        return await asyncio.wait_for(self.pushes.get(), timeout)

    async def deliveries(self, count: int, timeout: float = 10) -> list[p.Deliver]:
        """The next ``count`` deliver pushes (other pushes are skipped)."""
        found: list[p.Deliver] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < count:
            push = await asyncio.wait_for(self.pushes.get(), max(0.0, deadline - loop.time()))
            if isinstance(push, p.Deliver):
                found.append(push)
            elif isinstance(push, p.DeliverMany):  # version 2
                found.extend(push.deliveries)
        return found

    async def quiet(self, seconds: float = 0.3) -> list[p.Push]:
        """Whatever pushes arrive within ``seconds`` (to check that nothing more comes)."""
        await asyncio.sleep(seconds)
        found = []
        while not self.pushes.empty():
            found.append(self.pushes.get_nowait())
        return found


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
