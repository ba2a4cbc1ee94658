"""Profiles with a written history, for the transcript tests.

A real account (real keyring, real SQLCipher) gets one contact, then its messages are written
straight through the store in large transactions (one per 10,000 messages), as
``bench/client.py``'s ``build_history`` does: sending 100,000 messages through a relay would
take minutes and test nothing the model sees differently.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.adapters.keystore import open_secret_store
from app.adapters.store import Changes, ClientStore, MessageState, NewMessage
from app.config import ProfilePaths
from app.core.address import format_address
from app.core.client import SourdineClient
from app.core.preferences import Preferences
from app.ui.bridge import Bridge
from crypto.primitives import system_random
from crypto.x3dh import Identity
from tests.app.ui.support import unique_profile

BULK = 10_000
"""Messages per transaction."""
NOWHERE = "ws://127.0.0.1:9/"
"""A relay URL nobody listens on: these profiles never go online."""


@dataclass(frozen=True)
class Line:
    """One message to write: who wrote it, what, and when (local time)."""

    outgoing: bool
    body: str
    at: datetime
    state: MessageState | None = None  # None: delivered for ours, received for theirs
    reason: str | None = None


@dataclass(frozen=True)
class History:
    paths: ProfilePaths
    contact_id: int
    count: int


def stranger_address(relay_url: str = NOWHERE) -> str:
    """The address of a new identity that nobody runs."""
    return format_address(relay_url, Identity.generate(system_random).public)


async def write_history(root: Path, name: str, lines: Iterable[Line]) -> History:
    """A new profile ``name`` with one contact, "Writer", and ``lines`` in that conversation.

    The keyring entries stay until :func:`forget` (the caller's teardown).
    """
    paths = unique_profile(root, name)
    client = await SourdineClient.create(
        paths, open_secret_store(paths), display_name=name, relay_url=NOWHERE,
    )
    try:
        contact = await client.add_contact(stranger_address(), "Writer")
    finally:
        await client.close()
    secrets = open_secret_store(paths).load()
    assert secrets is not None
    store = await ClientStore.open(paths.database, secrets.database_key)
    rng = random.Random(7)
    count = 0
    try:
        batch: list[NewMessage] = []
        for line in lines:
            ms = int(line.at.timestamp() * 1000)
            state = line.state or (
                MessageState.DELIVERED if line.outgoing else MessageState.RECEIVED)
            batch.append(NewMessage(
                contact.contact_id, rng.randbytes(16), line.outgoing, line.body, ms,
                None if line.outgoing else ms + 50, state, line.reason,
            ))
            if len(batch) == BULK:
                await store.apply(Changes(messages=batch))
                count += len(batch)
                batch = []
        if batch:
            await store.apply(Changes(messages=batch))
            count += len(batch)
    finally:
        await store.close()
    return History(paths, contact.contact_id, count)


def numbered(count: int, start: datetime, step_seconds: int = 60) -> Iterator[Line]:
    """``count`` messages "message N", one every ``step_seconds``, every third one ours."""
    first = start.timestamp()
    for n in range(count):
        yield Line(n % 3 == 0, f"message {n}", datetime.fromtimestamp(first + n * step_seconds))


async def open_bridge(history: History) -> Bridge:
    """The profile's client behind a bridge, not started (offline: queries only)."""
    client = await SourdineClient.open(history.paths, open_secret_store(history.paths))
    return Bridge(client, Preferences())


def forget(history: History) -> None:
    """Delete the profile's keyring entries."""
    open_secret_store(history.paths).delete()
