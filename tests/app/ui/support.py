"""Helpers for the UI tests: real profiles, real keyring, real relay, one qasync loop."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import QEventLoop

from app.adapters.keystore import open_secret_store
from app.config import ProfilePaths, profile_paths
from app.core.client import ClientOptions, SourdineClient
from app.core.preferences import Preferences
from app.ui.bridge import Bridge
from tests.app.core.support import FAST_BACKOFF, FAST_SETTINGS

T = TypeVar("T")


def unique_profile(root: Path, name: str) -> ProfilePaths:
    """A profile with a name no other test uses (the keyring is shared by the whole run)."""
    return profile_paths(f"{name}-{secrets.token_hex(4)}", root=root)


def fast_options(**overrides: Any) -> ClientOptions:
    """Real randomness and clock; short reconnection delays and timeouts for tests."""
    return ClientOptions(backoff=FAST_BACKOFF, settings=FAST_SETTINGS, **overrides)


async def create_bridge(
    paths: ProfilePaths, display_name: str, relay_url: str, *,
    preferences: Preferences | None = None, start: bool = True,
    options: ClientOptions | None = None,
) -> Bridge:
    """A new account in the REAL keyring, wrapped in a bridge (started unless told not to)."""
    client = await SourdineClient.create(
        paths, open_secret_store(paths), display_name=display_name, relay_url=relay_url,
        options=options or fast_options(),
    )
    bridge = Bridge(client, preferences or Preferences(), paths.settings)
    if start:
        await bridge.start()
    return bridge


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
                     interval: float = 0.02) -> None:
    """Poll ``predicate`` on the running loop (Qt keeps processing events meanwhile).

    Raises:
        TimeoutError: still false after ``timeout`` seconds.
    """
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(interval)


@dataclass
class Pair:
    """Two bridges that know each other: ``alice_bob`` is Bob's conversation id at Alice's."""

    alice: Bridge
    bob: Bridge
    alice_bob: int
    bob_alice: int


async def introduce(alice: Bridge, bob: Bridge) -> Pair:
    """Each adds the other's invitation link (what two people exchanging addresses do)."""
    to_bob = await alice.client.add_contact(bob.invitation_link)
    to_alice = await bob.client.add_contact(alice.invitation_link)
    return Pair(alice, bob, to_bob.contact_id, to_alice.contact_id)


def run(loop: qasync.QEventLoop, awaitable: Awaitable[T], timeout: float = 30.0) -> T:
    """Run ``awaitable`` to completion on the test's qasync loop by spinning a local Qt event
    loop (the qasync loop is "already running" on Qt's dispatcher, like in the application,
    so Qt events keep flowing and asyncio callbacks always see their running loop).

    Raises:
        TimeoutError: not done within ``timeout`` seconds; whatever ``awaitable`` raises.
    """

    async def bounded() -> T:
        return await asyncio.wait_for(awaitable, timeout)

    future = asyncio.ensure_future(bounded(), loop=loop)
    spinner = QEventLoop()
    future.add_done_callback(lambda _: spinner.quit())
    while not future.done():
        spinner.exec()
    return future.result()
