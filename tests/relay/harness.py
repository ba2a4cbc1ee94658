"""An in-process relay (real server, real SQLite store) on 127.0.0.1 with a settable clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from relay.config import RelayConfig, build_config
from relay.identity import RelayIdentity
from relay.server import RelayServer
from relay.store.sqlite import SQLiteRelayStore
from tests.relay.wire_client import RelayClient
from tests.support.drbg import DeterministicRandom

T = TypeVar("T")


class Clock:
    """Wall-clock and monotonic time that only move when a test says so."""

    def __init__(self, wall: float = 1_700_000_000.0, monotonic: float = 1_000.0) -> None:
        self.wall = wall
        self.mono = monotonic

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono


@dataclass
class Relay:
    url: str
    server: RelayServer
    store: SQLiteRelayStore
    identity: RelayIdentity
    config: RelayConfig
    clock: Clock

    async def client(self, **kwargs: Any) -> RelayClient:
        return await RelayClient.open(self.url, **kwargs)


@contextlib.asynccontextmanager
async def running_relay(
    tmp_path: Path, *, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[Relay]:
    """Start a relay with ``settings`` (option names as in relay.config) and stop it after."""
    clock = clock or Clock()
    config = build_config({"database": tmp_path / "relay.db", "port": 0, **settings})
    store = SQLiteRelayStore(config.database, config.limits.store)
    await store.open()
    identity = RelayIdentity(DeterministicRandom("relay")(32))
    server = RelayServer(
        config, store, identity, random=DeterministicRandom("relay random"),
        wall_clock=clock.time, monotonic=clock.monotonic,
    )
    host, port = await server.start()
    try:
        yield Relay(f"ws://{host}:{port}", server, store, identity, config, clock)
    finally:
        await server.stop()
        await store.close()


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 60) -> T:
    """Run an async test scenario with an overall timeout."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout)

    return asyncio.run(bounded())
