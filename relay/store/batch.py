"""Group commit: one writer thread runs many callers' changes in one durable transaction.

An fsync costs the same for one change as for a thousand, so the writer takes every operation
queued while the previous commit was syncing (up to a cap), runs them in ONE transaction with a
SAVEPOINT around each, commits once and only then resolves the callers' futures. An operation
that raises is rolled back to its savepoint alone; the others in the batch still commit.

Futures are resolved with one ``call_soon_threadsafe`` per event loop and batch, so a busy
relay does not pay a loop wake-up per operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from relay.store.base import StoreError

T = TypeVar("T")

Operation = Callable[[sqlite3.Connection], Any]
"""A unit of work run on the writer connection inside the batch's transaction."""

STORAGE_FAILED = "the relay's storage failed; nothing was stored, try again later"


@dataclass(slots=True)
class _Pending:
    operation: Operation
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    checkpoint_after: bool  # truncate the WAL after the commit, before answering
    outcome: tuple[bool, Any] = field(default=(False, None))  # (succeeded, value or exception)


_STOP = object()


class BatchWriter:
    """Owns the write connection and its thread; :meth:`submit` is the only way to write.

    Invariants: only the writer thread touches ``connection``; a future is resolved only
    after the transaction holding its operation committed (or failed as a whole).
    """

    def __init__(self, connection: sqlite3.Connection, max_batch: int) -> None:
        self._connection = connection  # autocommit mode; owned by the writer thread
        self._max_batch = max_batch  # operations per transaction, at most
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="relay-store-writer", daemon=True)
        self._closing = False  # set once close() starts; later submits are refused
        self.commits = 0  # transactions committed so far (how well batching works)

    def start(self) -> None:
        self._thread.start()

    async def submit(
        self, operation: Callable[[sqlite3.Connection], T], *, checkpoint_after: bool = False
    ) -> T:
        """Run ``operation`` in the next batch and return its result once durably committed.

        Raises:
            StoreError: the store is closed, or the transaction failed as a whole.
            Exception: whatever ``operation`` raised (its changes were rolled back).
        """
        if self._closing:
            raise StoreError("the relay store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Pending(operation, loop, future, checkpoint_after))
        return await future

    def close(self) -> None:
        """Commit everything queued, stop the thread (blocking; call it off the event loop)."""
        self._closing = True
        self._queue.put(_STOP)
        self._thread.join()

    # -- writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Pending] = []
            item = self._queue.get()
            while True:
                if not isinstance(item, _Pending):  # the stop marker
                    stopping = True
                    break
                batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._run_batch(batch)
                _resolve(batch)

    def _run_batch(self, batch: list[_Pending]) -> None:
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            for pending in batch:
                connection.execute("SAVEPOINT operation")
                try:
                    pending.outcome = (True, pending.operation(connection))
                except Exception as error:  # isolate this operation from the rest
                    pending.outcome = (False, _for_caller(error))
                    connection.execute("ROLLBACK TO operation")
                connection.execute("RELEASE operation")
            connection.execute("COMMIT")
        except Exception as error:
            # The transaction as a whole is gone (disk full, I/O error): nobody's change
            # was stored, so nobody may be told it was.
            _rollback_quietly(connection)
            failure = StoreError(STORAGE_FAILED)
            failure.__cause__ = error
            for pending in batch:
                pending.outcome = (False, failure)
            return
        self.commits += 1
        if any(pending.checkpoint_after for pending in batch):
            truncate_wal(connection)


def truncate_wal(connection: sqlite3.Connection, attempts: int = 20) -> bool:
    """Copy the WAL into the database and truncate it to zero bytes; True when it was.

    Deleted rows otherwise linger in old WAL frames until those are overwritten. A reader in
    the middle of a query can hold the checkpoint back, so it is retried (the connection's
    busy timeout waits between attempts).
    """
    for _ in range(attempts):
        busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy == 0:
            return True
    return False


def _for_caller(error: Exception) -> Exception:
    """A database error becomes a readable :class:`StoreError`; the cause stays chained."""
    if isinstance(error, sqlite3.Error):
        failure = StoreError(STORAGE_FAILED)
        failure.__cause__ = error
        return failure
    return error


def _rollback_quietly(connection: sqlite3.Connection) -> None:
    try:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # SQLite already rolled back on its own


def _resolve(batch: list[_Pending]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
    for pending in batch:
        by_loop.setdefault(pending.loop, []).append(pending)
    for loop, group in by_loop.items():
        # RuntimeError: the caller's loop is closed, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, group)


def _settle(group: list[_Pending]) -> None:
    for pending in group:
        if pending.future.done():  # the caller was cancelled; the change still committed
            continue
        succeeded, value = pending.outcome
        if succeeded:
            pending.future.set_result(value)
        else:
            pending.future.set_exception(value)
