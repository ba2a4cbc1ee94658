"""The database schema, one migration per version (``PRAGMA user_version``).

A migration is a list of SQL statements run in one transaction together with the new
``user_version``: a crash or an error leaves the database at the previous version. Never
edit a released migration; add a new one.

- Version 1: account, prekeys, contacts, conversations, sessions, messages, outbox, inbound
  de-duplication, rejected envelopes.
- Version 2: full-text search over message bodies (FTS5, external content on ``messages``,
  kept in sync by triggers) and the backfill of messages written before it.
- Version 3: drafts, one per conversation (the composer's unsent text, encrypted like the
  rest of the database, never in a plain file).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from app.adapters.store.errors import DatabaseTooNew

_V1: Final = (
    """CREATE TABLE account (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        identity_key BLOB NOT NULL CHECK (length(identity_key) = 32),
        relay_url TEXT NOT NULL,
        display_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        published_signed_prekey_id INTEGER,
        published_one_time_through INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE prekeys (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        state BLOB NOT NULL
    )""",
    """CREATE TABLE contacts (
        contact_id INTEGER PRIMARY KEY,
        identity_key BLOB NOT NULL UNIQUE CHECK (length(identity_key) = 32),
        relay_url TEXT,
        display_name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        added_at INTEGER NOT NULL,
        verified INTEGER NOT NULL DEFAULT 0,
        pending_identity_key BLOB,
        pending_relay_url TEXT
    )""",
    """CREATE TABLE conversations (
        conversation_id INTEGER PRIMARY KEY,
        contact_id INTEGER UNIQUE REFERENCES contacts (contact_id),
        read_through INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE sessions (
        peer_identity BLOB NOT NULL,
        ephemeral_key BLOB NOT NULL,
        initiator INTEGER NOT NULL,
        signed_prekey_id INTEGER,
        one_time_prekey_id INTEGER,
        state BLOB NOT NULL,
        active INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (peer_identity, ephemeral_key)
    ) WITHOUT ROWID""",
    """CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations (conversation_id),
        message_id BLOB NOT NULL CHECK (length(message_id) = 16),
        outgoing INTEGER NOT NULL,
        body TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        received_at INTEGER,
        state TEXT NOT NULL,
        reason TEXT,
        state_at INTEGER NOT NULL
    )""",
    "CREATE UNIQUE INDEX messages_by_id ON messages (conversation_id, outgoing, message_id)",
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, seq)",
    """CREATE TABLE inbound_ids (
        peer_identity BLOB NOT NULL,
        message_id BLOB NOT NULL,
        PRIMARY KEY (peer_identity, message_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        recipient BLOB NOT NULL,
        relay_url TEXT NOT NULL,
        kind TEXT NOT NULL,
        message_id BLOB,
        conversation_id INTEGER NOT NULL,
        plaintext BLOB,
        envelope BLOB,
        created_at INTEGER NOT NULL,
        CHECK ((plaintext IS NULL) != (envelope IS NULL))
    )""",
    """CREATE TABLE rejected_envelopes (
        id INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        claimed_sender BLOB
    )""",
)

_V2: Final = (
    """CREATE VIRTUAL TABLE message_search USING fts5 (
        body, content = 'messages', content_rowid = 'seq',
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_search (rowid, body) VALUES (new.seq, new.body);
    END""",
    """CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
        INSERT INTO message_search (message_search, rowid, body)
        VALUES ('delete', old.seq, old.body);
    END""",
    """CREATE TRIGGER message_search_update AFTER UPDATE OF body ON messages BEGIN
        INSERT INTO message_search (message_search, rowid, body)
        VALUES ('delete', old.seq, old.body);
        INSERT INTO message_search (rowid, body) VALUES (new.seq, new.body);
    END""",
    "INSERT INTO message_search (message_search) VALUES ('rebuild')",
)

_V3: Final = (
    """CREATE TABLE drafts (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations (conversation_id),
        body TEXT NOT NULL CHECK (body != ''),
        updated_at INTEGER NOT NULL
    )""",
)

MIGRATIONS: Final[tuple[Sequence[str], ...]] = (_V1, _V2, _V3)
"""``MIGRATIONS[n - 1]`` takes a database from version ``n - 1`` to ``n``."""
LATEST_VERSION: Final = len(MIGRATIONS)


def schema_version(connection: Any) -> int:
    """The database's ``user_version`` (0 for a new, empty database)."""
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: Any, target: int = LATEST_VERSION) -> int:
    """Bring the database to ``target``, one transaction per version; returns the version.

    ``connection`` is a sqlcipher3 connection in autocommit mode (``isolation_level=None``).

    Raises:
        DatabaseTooNew: the database's version is above ``LATEST_VERSION``.
        sqlcipher3.DatabaseError: a migration failed (that version's changes are rolled back).
    """
    current = schema_version(connection)
    if current > LATEST_VERSION:
        raise DatabaseTooNew(
            f"This database was written by a newer Sourdine (schema version {current}; this "
            f"version knows up to {LATEST_VERSION}). Update Sourdine to open it."
        )
    for version in range(current + 1, target + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {int(version)}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    return max(current, min(target, LATEST_VERSION))
