"""Group commit: one writer thread runs many callers' changes in one durable transaction.

An fsync costs the same for one change as for a thousand, so the writer takes every operation
queued while the previous commit was syncing (up to a cap), runs them in ONE transaction,
commits once and only then resolves the callers' futures.

An operation that raises must not spoil the others in its batch. The writer first runs the
batch without savepoints (the common case: nothing raises, and a SAVEPOINT/RELEASE pair per
operation would cost about an eighth of the writer's time). If one raises, that transaction is
rolled back and the batch runs again with a SAVEPOINT around each operation, so the one that
raised is rolled back alone. Operations may therefore run twice: they must only touch the
connection they are given.

Hot operations can go further: submissions queued one after another with the same ``run``
(deposits) run as ONE call, which reads each mailbox's counters once and inserts all the
envelopes with one statement.

Futures are resolved with one ``call_soon_threadsafe`` per event loop and batch, and the
writer thread is only woken when it is idle, so a busy relay pays neither a loop wake-up nor
a thread hand-off per operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from relay.store.base import StoreError

T = TypeVar("T")

Operation = Callable[[sqlite3.Connection], Any]
"""A unit of work run on the writer connection inside the batch's transaction."""

A = TypeVar("A")
RunMany = Callable[[sqlite3.Connection, list[Any]], list[Any]]
"""Runs several submissions of one kind as one call: one result per argument, in order."""

STORAGE_FAILED = "the relay's storage failed; nothing was stored, try again later"


@dataclass(slots=True)
class _Pending:
    run: RunMany  # consecutive submissions with the same ``run`` may run as one call
    argument: Any  # what ``run`` gets for this submission
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    checkpoint_after: bool  # truncate the WAL after the commit, before answering
    outcome: tuple[bool, Any] = field(default=(False, None))  # (succeeded, value or exception)


class _Raised(Exception):
    """An operation raised during the savepoint-free attempt (the batch must be redone)."""


class BatchWriter:
    """Owns the write connection and its thread; :meth:`submit` is the only way to write.

    Invariants: only the writer thread touches ``connection``; a future is resolved only
    after the transaction holding its operation committed (or failed as a whole).
    """

    def __init__(self, connection: sqlite3.Connection, max_batch: int) -> None:
        self._connection = connection  # autocommit mode; owned by the writer thread
        self._max_batch = max_batch  # operations per transaction, at most
        self._pending: deque[_Pending] = deque()  # submitted, not yet taken by the writer
        self._lock = threading.Lock()  # orders submits against close()
        self._wakeup = threading.Event()  # set to wake the writer while it is idle
        self._idle = False  # the writer found nothing to do and waits for _wakeup
        self._closing = False  # no more submits; the writer exits once _pending is empty
        self._thread = threading.Thread(target=self._run, name="relay-store-writer", daemon=True)
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
        result: T = await self._enqueue(_each, operation, checkpoint_after)
        return result

    async def submit_grouped(
        self, run_many: Callable[[sqlite3.Connection, list[A]], list[T]], argument: A
    ) -> T:
        """Like :meth:`submit`, for hot operations that are cheaper in bulk: submissions
        queued one after another with the same ``run_many`` run as one call.

        Raises:
            StoreError: the store is closed, or the transaction failed as a whole.
            Exception: whatever ``run_many`` raised for this argument (rolled back).
        """
        result: T = await self._enqueue(run_many, argument, False)
        return result

    async def _enqueue(self, run: RunMany, argument: Any, checkpoint_after: bool) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            if self._closing:
                raise StoreError("the relay store is closed")
            self._pending.append(_Pending(run, argument, loop, future, checkpoint_after))
        if self._idle:
            self._wakeup.set()
        return await future

    def close(self) -> None:
        """Commit everything queued, stop the thread (blocking; call it off the event loop)."""
        with self._lock:
            self._closing = True
        self._wakeup.set()
        self._thread.join()

    # -- writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        pending = self._pending
        while True:
            if not pending:
                if self._closing:
                    return
                self._wakeup.clear()
                self._idle = True
                if not pending and not self._closing:  # a submit may have come in between
                    self._wakeup.wait()
                self._idle = False
                continue
            batch = [pending.popleft() for _ in range(min(len(pending), self._max_batch))]
            self._run_batch(batch)
            _resolve(batch)

    def _run_batch(self, batch: list[_Pending]) -> None:
        connection = self._connection
        try:
            try:
                self._attempt(batch, isolated=False)
            except _Raised:
                if len(batch) > 1:
                    self._attempt(batch, isolated=True)
        except Exception as error:
            # The transaction as a whole is gone (disk full, I/O error): nobody's change
            # was stored, so nobody may be told it was.
            _rollback_quietly(connection)
            failure = StoreError(STORAGE_FAILED)
            failure.__cause__ = error
            for pending in batch:
                pending.outcome = (False, failure)
            return
        if any(pending.checkpoint_after for pending in batch):
            truncate_wal(connection)

    def _attempt(self, batch: list[_Pending], *, isolated: bool) -> None:
        """Run and commit ``batch``; with ``isolated``, each operation in its own savepoint.

        Raises:
            _Raised: not isolated and an operation raised (everything was rolled back).
            sqlite3.Error: the transaction failed as a whole.
        """
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        groups = [[p] for p in batch] if isolated else _grouped(batch)
        for group in groups:
            if isolated:
                connection.execute("SAVEPOINT operation")
            try:
                results = group[0].run(connection, [pending.argument for pending in group])
                for pending, result in zip(group, results, strict=True):
                    pending.outcome = (True, result)
            except Exception as error:
                for pending in group:
                    pending.outcome = (False, _for_caller(error))
                if not isolated:
                    connection.execute("ROLLBACK")
                    raise _Raised from error
                connection.execute("ROLLBACK TO operation")
            if isolated:
                connection.execute("RELEASE operation")
        connection.execute("COMMIT")
        self.commits += 1


def _each(connection: sqlite3.Connection, operations: list[Operation]) -> list[Any]:
    """The ``run`` of plain operations: one after the other."""
    return [operation(connection) for operation in operations]


def _grouped(batch: list[_Pending]) -> list[list[_Pending]]:
    """Split ``batch`` into runs of consecutive submissions sharing one ``run``."""
    groups: list[list[_Pending]] = []
    for pending in batch:
        if groups and groups[-1][0].run is pending.run:
            groups[-1].append(pending)
        else:
            groups.append([pending])
    return groups


def truncate_wal(connection: sqlite3.Connection, patience: float = 2.0) -> bool:
    """Copy the WAL into the database and truncate it to zero bytes; True when it was.

    Deleted rows otherwise linger in old WAL frames until those are overwritten. A reader in
    the middle of a query, or another process's checkpoint, can hold it back for a moment, so
    it is retried for up to ``patience`` seconds.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy == 0:
                return True
        except sqlite3.Error:
            pass  # another connection's checkpoint holds the lock right now
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


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
