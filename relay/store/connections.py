"""Opening the relay database: the one write connection and a small pool of readers.

WAL lets readers run beside the writer, so reads (fetching a backlog, reading a blob,
searching the directory) go to their own read-only connections on worker threads and never
wait for a commit, nor block the event loop.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from relay.store.base import StoreError

T = TypeVar("T")

READ_FAILED = "the relay could not read its storage; try again later"

WAL_SIZE_LIMIT = 8 * 1024 * 1024
"""Bytes the WAL file is cut back to after a checkpoint, so old frames do not pile up."""


def create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite's -wal and -shm files
    copy these permissions); an existing file is left as it is."""
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(descriptor)


def connect_writer(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """The write connection: WAL, fsync on every commit, foreign keys, zeroed deletions.

    Raises:
        StoreError: the file is not a usable SQLite database or cannot be put in WAL mode.
    """
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
    )
    try:
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"the relay database cannot use WAL mode (got {mode!r})")
        for pragma in (
            "synchronous = FULL",  # a commit returns only after the WAL is fsync'd
            "foreign_keys = ON",
            "secure_delete = ON",  # deleted rows are overwritten with zeros
            "trusted_schema = OFF",
            f"journal_size_limit = {WAL_SIZE_LIMIT}",
            f"busy_timeout = {busy_timeout_ms}",
            "cache_size = -65536",  # 64 MiB of page cache
            "temp_store = MEMORY",  # savepoint journals stay in memory, never in a temp file
        ):
            connection.execute(f"PRAGMA {pragma}")
    except sqlite3.Error as error:
        connection.close()
        raise StoreError(f"cannot open the relay database {path}: {error}") from error
    except StoreError:
        connection.close()
        raise
    return connection


def connect_reader(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """A read-only connection (it could not change the database even by mistake)."""
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
        timeout=busy_timeout_ms / 1000,
    )
    connection.execute("PRAGMA query_only = ON")
    return connection


class ReaderPool:
    """Worker threads, each with its own read-only connection, opened on first use.

    Invariant: a connection is only ever used by the thread that opened it, until close().
    """

    def __init__(self, path: Path, size: int, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="relay-store-read")
        self._local = threading.local()  # .connection: this thread's read connection
        self._connections: list[sqlite3.Connection] = []  # every one opened, to close them
        self._lock = threading.Lock()  # guards _connections

    async def run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``query`` on a reader thread's connection.

        Raises:
            StoreError: the database could not be read (or whatever ``query`` raised).
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, query)

    def close(self) -> None:
        """Wait for running reads, then close every read connection (blocking)."""
        self._executor.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def _call(self, query: Callable[[sqlite3.Connection], T]) -> T:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        try:
            if connection is None:
                connection = connect_reader(self._path, self._busy_timeout_ms)
                self._local.connection = connection
                with self._lock:
                    self._connections.append(connection)
            return query(connection)
        except sqlite3.Error as error:
            if connection is not None and connection.in_transaction:
                connection.execute("ROLLBACK")
            raise StoreError(READ_FAILED) from error
