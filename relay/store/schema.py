"""The SQLite relay store's schema and its migrations, one function per version.

The schema version lives in ``PRAGMA user_version``. ``MIGRATIONS[n]`` turns a version ``n``
database into version ``n + 1``; :func:`migrate` applies the missing ones, each in its own
transaction, so a crash mid-migration leaves the previous version intact.

What is kept is deliberately minimal (docs/THREAT_MODEL.md): identity keys, opaque envelopes
and blobs with their expiry, prekeys, invitation hashes and opt-in directory names. No IP
addresses, no sender, no time other than an expiry.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from relay.store.base import StoreError

_VERSION_1 = """
CREATE TABLE accounts (
    identity         BLOB    PRIMARY KEY CHECK (length(identity) = 32),
    next_envelope_id INTEGER NOT NULL DEFAULT 1,  -- never reused, even after an ack
    envelope_count   INTEGER NOT NULL DEFAULT 0,  -- count(*) of its envelopes
    envelope_bytes   INTEGER NOT NULL DEFAULT 0   -- sum(size) of its envelopes
) WITHOUT ROWID;

CREATE TABLE envelopes (
    identity    BLOB    NOT NULL REFERENCES accounts (identity) ON DELETE CASCADE,
    envelope_id INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    size        INTEGER NOT NULL,  -- length(envelope): acks and purges never read the bytes
    envelope    BLOB    NOT NULL
);
CREATE UNIQUE INDEX envelopes_by_mailbox ON envelopes (identity, envelope_id);
CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);

CREATE TABLE signed_prekeys (
    identity   BLOB    PRIMARY KEY REFERENCES accounts (identity) ON DELETE CASCADE,
    prekey_id  INTEGER NOT NULL,
    public_key BLOB    NOT NULL CHECK (length(public_key) = 32),
    signature  BLOB    NOT NULL CHECK (length(signature) = 64)
) WITHOUT ROWID;

CREATE TABLE one_time_prekeys (  -- handed out oldest first (rowid order)
    identity   BLOB    NOT NULL REFERENCES accounts (identity) ON DELETE CASCADE,
    prekey_id  INTEGER NOT NULL,
    public_key BLOB    NOT NULL CHECK (length(public_key) = 32),
    UNIQUE (identity, prekey_id)
);

CREATE TABLE invitations (
    code_hash BLOB    PRIMARY KEY CHECK (length(code_hash) = 32),
    uses_left INTEGER NOT NULL CHECK (uses_left > 0)  -- a used-up invitation is deleted
) WITHOUT ROWID;

CREATE TABLE blobs (
    blob_seq   INTEGER PRIMARY KEY,
    blob_id    BLOB    NOT NULL UNIQUE,
    owner      BLOB    NOT NULL REFERENCES accounts (identity) ON DELETE CASCADE,
    size       INTEGER NOT NULL,
    received   INTEGER NOT NULL DEFAULT 0,  -- complete when received = size
    expires_at INTEGER NOT NULL
);
CREATE INDEX blobs_by_owner ON blobs (owner);
CREATE INDEX blobs_by_expiry ON blobs (expires_at);

CREATE TABLE blob_chunks (
    blob_seq     INTEGER NOT NULL REFERENCES blobs (blob_seq) ON DELETE CASCADE,
    chunk_offset INTEGER NOT NULL,
    chunk_size   INTEGER NOT NULL,
    data         BLOB    NOT NULL,
    PRIMARY KEY (blob_seq, chunk_offset)
);

CREATE TABLE directory (
    identity     BLOB PRIMARY KEY REFERENCES accounts (identity) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    folded_name  TEXT NOT NULL  -- NFKC + casefold, what searches match against
) WITHOUT ROWID;
"""


def _to_version_1(connection: sqlite3.Connection) -> None:
    for statement in _split_script(_VERSION_1):
        connection.execute(statement)


def _split_script(script: str) -> list[str]:
    """Split a DDL script into statements (``executescript`` would commit on its own)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


MIGRATIONS: Sequence[Callable[[sqlite3.Connection], None]] = (_to_version_1,)
"""``MIGRATIONS[n]`` migrates a version ``n`` database to version ``n + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code writes."""


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION`; returns the version found before.

    ``connection`` must be in autocommit mode (``isolation_level=None``).

    Raises:
        StoreError: the database was written by a newer version of the relay.
    """
    found = _user_version(connection)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the relay database has schema version {found}, newer than this relay's "
            f"{SCHEMA_VERSION}; upgrade the relay"
        )
    for version in range(found, SCHEMA_VERSION):
        connection.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](connection)
            connection.execute(f"PRAGMA user_version = {version + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return found


def _user_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])
