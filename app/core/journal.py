"""Group commit: every change of the core goes to the database through one ordered journal.

The core keeps its live state in memory (ratchet sessions, prekeys, contacts) and changes it
synchronously on the event loop. Each change is added to the *open batch* together with its
consequences (a received message, a sealed envelope in the outbox, ...). Batches are committed
one at a time, in order, each as one transaction; while one commits, the next fills up. So the
database is always the state after some prefix of batches, and nothing that depends on a
change (an ack to the relay, a deposit, an event) happens before the batch holding it is on
disk: the rule "stored before acknowledged, kept until the relay confirmed" for free.

Objects that live in memory (sessions, the prekey store) are not copied on every change:
they register a *sealer* that writes their current state into the batch at the moment it is
closed, synchronously, so the snapshot holds exactly the changes of the batches so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from app.adapters.store import Applied, Changes, ClientStore, StoreError
from app.core.errors import ClientClosed

_log = logging.getLogger(__name__)

AfterCommit = Callable[[Applied], None]
Sealer = Callable[[Changes], None]


class JournalFailed(ClientClosed):
    """A batch could not be written; the journal stopped (the in-memory state is ahead)."""


class Journal:
    """The single writer of the core. Create it, :meth:`start` it, :meth:`close` it."""

    def __init__(
        self, store: ClientStore, on_failure: Callable[[str], None], now_ms: Callable[[], int]
    ) -> None:
        self._store = store  # the database: one transaction per batch
        self._now_ms = now_ms  # stamps the messages of a batch
        self._on_failure = on_failure  # told once when a batch fails to commit
        self._sealers: list[Sealer] = []  # run, in order, when a batch closes
        self._open = Changes()  # the batch being filled
        self._after: list[AfterCommit] = []  # callbacks of the open batch
        self._done: asyncio.Future[Applied] | None = None  # resolved when the open batch commits
        self._wanted = asyncio.Event()  # set when the open batch should be committed
        self._failure: str | None = None  # set once a commit failed: no more commits
        self._task: asyncio.Task[None] | None = None  # the committer
        self.batches = 0  # committed batches (for tests and benchmarks)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="journal")

    def add_sealer(self, sealer: Sealer) -> None:
        """Run ``sealer(changes)`` on every batch just before it is committed."""
        self._sealers.append(sealer)

    @property
    def changes(self) -> Changes:
        """The open batch: add to it synchronously (no ``await`` between related changes).

        Raises:
            JournalFailed: a previous commit failed.
        """
        if self._failure is not None:
            raise JournalFailed(self._failure)
        return self._open

    def after_commit(self, callback: AfterCommit) -> None:
        """Call ``callback(applied)`` once the open batch is on disk (never if it fails)."""
        self._after.append(callback)

    def request(self) -> asyncio.Future[Applied]:
        """Ask for the open batch to be committed; returns the future of its commit.

        Raises:
            JournalFailed: a previous commit failed.
        """
        if self._failure is not None:
            raise JournalFailed(self._failure)
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        self._wanted.set()
        return self._done

    async def commit(self) -> Applied:
        """Commit the open batch (with whatever else joins it) and wait until it is durable.

        Raises:
            JournalFailed: this or an earlier batch could not be written.
        """
        return await asyncio.shield(self.request())

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            batch, callbacks, done = self._seal()
            try:
                applied = await self._store.apply(batch, self._now_ms())
            except (StoreError, OSError) as error:
                self._fail(f"The database could not be written: {error}", done)
                return
            self.batches += 1
            for callback in callbacks:
                try:
                    callback(applied)
                except Exception:  # an observer's bug must not stop the journal
                    _log.exception("after-commit callback failed")
            if done is not None and not done.done():
                done.set_result(applied)

    def _seal(self) -> tuple[Changes, list[AfterCommit], asyncio.Future[Applied] | None]:
        batch = self._open
        for sealer in self._sealers:
            sealer(batch)
        callbacks, done = self._after, self._done
        self._open, self._after, self._done = Changes(), [], None
        return batch, callbacks, done

    def _fail(self, reason: str, done: asyncio.Future[Applied] | None) -> None:
        self._failure = reason
        _log.error("journal stopped: %s", reason)
        error = JournalFailed(reason)
        for future in (done, self._done):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: no "never retrieved" warning if nobody waits
        self._on_failure(reason)

    async def close(self) -> None:
        """Commit what is pending, then stop the committer."""
        if self._task is None:
            return
        if self._failure is None and (not self._open.is_empty() or self._after):
            with contextlib.suppress(JournalFailed):
                await self.commit()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
