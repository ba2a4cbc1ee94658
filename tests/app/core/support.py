"""Helpers for core tests: an in-memory keyring backend and clients on a real relay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import keyring
import keyring.backend

from app.adapters.keystore import KeyringSecretStore
from app.adapters.transport import Backoff, ConnectionSettings
from app.config import profile_paths
from app.core.client import ClientOptions, SourdineClient
from app.core.clock import ManualClock
from app.core.events import Event
from tests.support.drbg import DeterministicRandom

T = TypeVar("T")

FAST_BACKOFF = Backoff(initial=0.05, maximum=0.5)
FAST_SETTINGS = ConnectionSettings(request_timeout=5.0, open_timeout=5.0, close_timeout=0.5)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps entries in a dict (for tests that are not about the OS keyring)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


def use_memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def options(seed: str, clock: ManualClock | None = None, **overrides: Any) -> ClientOptions:
    return ClientOptions(
        random=DeterministicRandom(seed), clock=clock or ManualClock(),
        backoff=FAST_BACKOFF, settings=FAST_SETTINGS, **overrides,
    )


async def new_client(
    root: Path, name: str, relay_url: str, *, clock: ManualClock | None = None,
    profile: str | None = None, **overrides: Any,
) -> SourdineClient:
    """Create a profile (default: ``name`` lower-cased) under ``root`` for display name
    ``name`` (keys in the current keyring backend, randomness seeded by the profile)."""
    paths = profile_paths(profile or name.lower(), root)
    return await SourdineClient.create(
        paths, KeyringSecretStore(paths.name), display_name=name, relay_url=relay_url,
        options=options(f"client {paths.name}", clock, **overrides),
    )


async def reopen(root: Path, name: str, *, clock: ManualClock | None = None,
                 **overrides: Any) -> SourdineClient:
    paths = profile_paths(name.lower(), root)
    return await SourdineClient.open(
        paths, KeyringSecretStore(paths.name),
        options=options(f"client {name} again", clock, **overrides),
    )


async def next_event(stream: Any, kind: type[T], timeout: float = 10.0, **match: Any) -> T:
    """The next event of type ``kind`` whose fields equal ``match``."""

    def wanted(event: Event) -> bool:
        return isinstance(event, kind) and all(
            getattr(event, key) == value for key, value in match.items()
        )

    event = await stream.wait_for(wanted, timeout)
    assert isinstance(event, kind)
    return event


def run(coro: Awaitable[T], timeout: float = 90) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())
