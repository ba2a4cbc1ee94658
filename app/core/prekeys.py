"""Keeping our prekeys on the relay: publish, replenish one-time keys, rotate the signed one.

Every change to the private prekey store is committed *before* the matching public keys are
published, so the relay never hands out a key whose private half a crash could lose. What the
relay has accepted is recorded in the account (``published_signed_prekey_id``,
``published_one_time_through``), so after a restart only what is missing is published again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Final

from app.adapters.store import AccountRecord
from app.adapters.transport import RelayConnection
from app.core.journal import Journal
from app.core.sessions import SessionBook
from crypto.primitives import Random
from crypto.x3dh import Identity
from relay import protocol as p

ONE_TIME_TARGET: Final = 100
"""One-time prekeys we keep published."""
SIGNED_PREKEY_ROTATION: Final = 7 * 24 * 3600
"""Seconds between signed-prekey rotations."""


class PrekeyUpkeep:
    """Publishes and renews this identity's prekeys through the own relay connection."""

    def __init__(
        self, identity: Identity, sessions: SessionBook, journal: Journal,
        account: Callable[[], AccountRecord], set_account: Callable[[AccountRecord], None],
        random: Random, one_time_target: int = ONE_TIME_TARGET,
        rotation: int = SIGNED_PREKEY_ROTATION,
    ) -> None:
        self._identity = identity
        self._sessions = sessions  # owns the PrekeyStore (initial messages consume from it)
        self._journal = journal
        self._account = account  # the current account record
        self._set_account = set_account  # replace it (and write it in the open batch)
        self._random = random
        self.one_time_target = one_time_target
        self.rotation = rotation
        self._lock = asyncio.Lock()  # one publication at a time

    def rotate_if_due(self, now: int) -> bool:
        """Make a new signed prekey when the current one is ``rotation`` seconds old."""
        store = self._sessions.prekeys
        store.forget_retired_signed_prekeys(now)
        if now - store.current_signed_prekey.created_at < self.rotation:
            return False
        store.rotate_signed_prekey(self._identity, self._random, now)
        self._sessions.prekeys_dirty = True
        return True

    def add_one_time(self, count: int) -> None:
        if count > 0:
            self._sessions.prekeys.generate_one_time_prekeys(count, self._random)
            self._sessions.prekeys_dirty = True

    async def publish(self, connection: RelayConnection, now: int, relay_count: int | None = None
                      ) -> tuple[int, int] | None:
        """Bring the relay up to date; returns ``(signed prekey id, one-time count)`` when
        something was published, else None.

        ``relay_count`` (from a ``prekeys_low`` push) asks for new one-time keys up to the
        target. Local changes are committed first.

        Raises:
            TransportError: the relay could not be reached or refused (try again later).
            JournalFailed: the database could not be written.
        """
        async with self._lock:
            changed = self.rotate_if_due(now)
            if relay_count is not None:
                self.add_one_time(self.one_time_target - relay_count)
                changed = True
            if changed:
                await self._journal.commit()
            store = self._sessions.prekeys
            account = self._account()
            spk = store.current_signed_prekey
            new_spk = None
            if account.published_signed_prekey_id != spk.id:
                new_spk = p.SignedPrekey(
                    prekey_id=spk.id, public_key=spk.public, signature=spk.signature
                )
            fresh = [
                p.OneTimePrekey(prekey_id=key_id, public_key=public)
                for key_id, public in store.one_time_prekeys
                if key_id > account.published_one_time_through
            ]
            if new_spk is None and not fresh and relay_count is None:
                count = await connection.publish_prekeys(None, ())
                if count >= self.one_time_target // 2:
                    return None
                self.add_one_time(self.one_time_target - count)
                await self._journal.commit()
                fresh = [
                    p.OneTimePrekey(prekey_id=key_id, public_key=public)
                    for key_id, public in store.one_time_prekeys
                    if key_id > account.published_one_time_through
                ]
            count = await connection.publish_prekeys(new_spk, fresh)
            through = max([k.prekey_id for k in fresh], default=account.published_one_time_through)
            self._set_account(dataclasses.replace(
                self._account(), published_signed_prekey_id=spk.id,
                published_one_time_through=through,
            ))
            await self._journal.commit()
            return spk.id, count
