"""The client's SQLCipher database behind an asyncio API.

Every SQLite call runs on one dedicated thread (a single-worker executor), in submission
order, so the event loop never blocks on disk and transactions never interleave. The file is
keyed with the profile's raw 32-byte database key (``PRAGMA key = "x'<hex>'"``), in WAL mode
with ``synchronous=FULL`` (a commit is on disk when :meth:`ClientStore.apply` returns) and
temporary tables in memory (so no plaintext temporary file is ever written).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

import sqlcipher3  # type: ignore[import-untyped]

from app.adapters.store import reads, writes
from app.adapters.store.errors import (
    NoDatabase,
    StoreClosed,
    StoreError,
    StoreFailure,
    WrongDatabaseKey,
)
from app.adapters.store.lock import DatabaseLock
from app.adapters.store.records import (
    AccountRecord,
    Applied,
    Changes,
    ContactRecord,
    ConversationRow,
    MessageRecord,
    OutboxRecord,
    RejectedEnvelope,
    SessionRecord,
)
from app.adapters.store.schema import migrate

KEY_SIZE: Final = 32
T = TypeVar("T")


def _connect(path: Path, key: bytes, create: bool, lock: DatabaseLock) -> Any:
    """Lock, open and key the database, check the key, migrate the schema (store thread)."""
    if not path.exists():
        if not create:
            raise NoDatabase(f"There is no Sourdine database at {path}.")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    lock.acquire()
    try:
        db = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    except BaseException:
        lock.release()
        raise
    try:
        db.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError:
            raise WrongDatabaseKey(
                f"The database key does not open {path}: the key is wrong or the file is not "
                "a Sourdine database."
            ) from None
        db.execute("PRAGMA temp_store = MEMORY")
        db.execute("PRAGMA journal_mode = WAL").fetchone()
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
    except BaseException:
        db.close()
        lock.release()
        raise
    return db


class ClientStore:
    """The encrypted database of one profile. Create with :meth:`open`; close when done."""

    def __init__(
        self, path: Path, db: Any, executor: ThreadPoolExecutor, lock: DatabaseLock
    ) -> None:
        self.path = path  # the database file
        self._lock = lock  # held while open: one process per profile
        self._db: Any = db  # the sqlcipher3 connection; used on the executor's thread only
        self._executor = executor  # one worker thread: every call, in order
        self._closed = False  # set by close(); later calls raise StoreClosed

    @classmethod
    async def open(cls, path: Path, key: bytes, *, create: bool = False) -> ClientStore:
        """Open (or with ``create``, create) the database at ``path`` with ``key``.

        Raises:
            NoDatabase: the file does not exist and ``create`` is false.
            ProfileInUse: another process has the database open.
            WrongDatabaseKey: ``key`` does not open the file.
            DatabaseTooNew: the file comes from a newer Sourdine.
            StoreFailure: the file cannot be read or written.
            ValueError: ``key`` is not 32 bytes.
        """
        if type(key) is not bytes or len(key) != KEY_SIZE:
            raise ValueError("the database key must be 32 bytes")
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sourdine-store")
        loop = asyncio.get_running_loop()
        lock = DatabaseLock(path.with_name(path.name + ".lock"))
        try:
            db = await loop.run_in_executor(
                executor, functools.partial(_guarded, _connect, path, key, create, lock)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(path, db, executor, lock)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreClosed("The database is closed.")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(_guarded, fn, self._db, *args)
        )

    async def close(self) -> None:
        """Close the connection (folding the WAL back into the file) and stop the thread."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            await loop.run_in_executor(self._executor, self._db.close)
        self._executor.shutdown(wait=True)
        self._lock.release()

    # --- writes -----------------------------------------------------------------------------

    async def apply(self, changes: Changes, now_ms: int | None = None) -> Applied:
        """Commit ``changes`` in one durable transaction (all or nothing); ``now_ms`` stamps
        the new messages' ``state_at`` (default: the system clock).

        Raises:
            StoreFailure: the transaction failed; nothing of it was written.
            StoreClosed: the store is closed.
        """
        stamp = int(time.time() * 1000) if now_ms is None else now_ms
        return await self._run(writes.apply_changes, changes, stamp)

    # --- reads ------------------------------------------------------------------------------

    async def account(self) -> AccountRecord | None:
        return await self._run(reads.load_account)

    async def prekeys(self) -> bytes | None:
        return await self._run(reads.load_prekeys)

    async def contacts(self) -> list[ContactRecord]:
        return await self._run(reads.load_contacts)

    async def sessions(self) -> list[SessionRecord]:
        return await self._run(reads.load_sessions)

    async def outbox(self) -> list[OutboxRecord]:
        return await self._run(reads.load_outbox)

    async def history(
        self, conversation_id: int, *, before: int | None = None, limit: int = 50
    ) -> list[MessageRecord]:
        """A page of a conversation: the ``limit`` newest messages with ``seq < before``,
        oldest first. Pass the first message's ``seq`` as ``before`` for the previous page.
        """
        return await self._run(reads.history, conversation_id, before, limit)

    async def message(
        self, conversation_id: int, message_id: bytes, *, outgoing: bool
    ) -> MessageRecord | None:
        return await self._run(reads.message, conversation_id, message_id, outgoing)

    async def conversations(self) -> list[ConversationRow]:
        return await self._run(reads.conversations)

    async def search(
        self, text: str, *, limit: int = 50, conversation_id: int | None = None
    ) -> list[MessageRecord]:
        """Messages containing every word of ``text`` (word prefixes), newest first.

        Raises:
            SearchQueryError: ``text`` has no word in it.
        """
        return await self._run(reads.search, text, limit, conversation_id)

    async def rejected_envelopes(self) -> list[RejectedEnvelope]:
        return await self._run(reads.rejected_envelopes)

    async def draft(self, conversation_id: int) -> str:
        """The conversation's unsent text, ``""`` when there is none."""
        return await self._run(reads.draft, conversation_id)

    async def newly_read(self, conversation_id: int, through: int) -> list[bytes]:
        """Ids of the received messages that moving the read marker to ``through`` reads."""
        return await self._run(reads.newly_read, conversation_id, through)

    async def count_messages(self, conversation_id: int | None = None) -> int:
        return await self._run(reads.count_messages, conversation_id)


def _guarded(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn``, turning sqlcipher3's errors into :class:`StoreFailure`."""
    try:
        return fn(*args)
    except StoreError:
        raise
    except sqlcipher3.Error as exc:
        raise StoreFailure(f"The database failed: {exc}.") from exc
