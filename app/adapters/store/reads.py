"""Queries of the client store (run on the store's thread)."""

from __future__ import annotations

import re
from typing import Any, Final

from app.adapters.store.errors import SearchQueryError
from app.adapters.store.records import (
    AccountRecord,
    ContactRecord,
    ConversationRow,
    MessageRecord,
    MessageState,
    OutboxRecord,
    PayloadKind,
    RejectedEnvelope,
    SessionRecord,
)

_MESSAGE_COLUMNS: Final = (
    "seq, conversation_id, message_id, outgoing, body, sent_at, received_at, state, reason,"
    " state_at"
)
_WORD: Final = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_WORDS: Final = 16


def _message(row: tuple[Any, ...]) -> MessageRecord:
    return MessageRecord(
        seq=row[0], conversation_id=row[1], message_id=bytes(row[2]), outgoing=bool(row[3]),
        body=row[4], sent_at=row[5], received_at=row[6], state=MessageState(row[7]),
        reason=row[8], state_at=row[9],
    )


def load_account(db: Any) -> AccountRecord | None:
    row = db.execute(
        "SELECT identity_key, relay_url, display_name, created_at, published_signed_prekey_id,"
        " published_one_time_through FROM account WHERE singleton = 1"
    ).fetchone()
    if row is None:
        return None
    return AccountRecord(bytes(row[0]), row[1], row[2], row[3], row[4], row[5])


def load_prekeys(db: Any) -> bytes | None:
    row = db.execute("SELECT state FROM prekeys WHERE singleton = 1").fetchone()
    return None if row is None else bytes(row[0])


def load_contacts(db: Any) -> list[ContactRecord]:
    rows = db.execute(
        "SELECT contact_id, identity_key, relay_url, display_name, added_at, verified,"
        " pending_identity_key, pending_relay_url FROM contacts ORDER BY contact_id"
    ).fetchall()
    return [
        ContactRecord(
            r[0], bytes(r[1]), r[2], r[3], r[4], bool(r[5]),
            None if r[6] is None else bytes(r[6]), r[7],
        )
        for r in rows
    ]


def load_sessions(db: Any) -> list[SessionRecord]:
    rows = db.execute(
        "SELECT peer_identity, ephemeral_key, initiator, signed_prekey_id, one_time_prekey_id,"
        " state, active, created_at FROM sessions ORDER BY created_at, ephemeral_key"
    ).fetchall()
    return [
        SessionRecord(bytes(r[0]), bytes(r[1]), bool(r[2]), r[3], r[4], bytes(r[5]), bool(r[6]),
                      r[7])
        for r in rows
    ]


def load_outbox(db: Any) -> list[OutboxRecord]:
    rows = db.execute(
        "SELECT seq, recipient, relay_url, kind, message_id, conversation_id, plaintext,"
        " envelope, created_at FROM outbox ORDER BY seq"
    ).fetchall()
    return [
        OutboxRecord(
            r[0], bytes(r[1]), r[2], PayloadKind(r[3]), None if r[4] is None else bytes(r[4]),
            r[5], None if r[6] is None else bytes(r[6]), None if r[7] is None else bytes(r[7]),
            r[8],
        )
        for r in rows
    ]


def history(db: Any, conversation_id: int, before: int | None, limit: int) -> list[MessageRecord]:
    """The ``limit`` newest messages older than ``before`` (a seq), oldest first."""
    rows = db.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608 (constant columns)
        " WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        (conversation_id, before if before is not None else 2**63 - 1, limit),
    ).fetchall()
    return [_message(r) for r in reversed(rows)]


def message(
    db: Any, conversation_id: int, message_id: bytes, outgoing: bool
) -> MessageRecord | None:
    row = db.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608 (constant columns)
        " WHERE conversation_id = ? AND outgoing = ? AND message_id = ?",
        (conversation_id, int(outgoing), message_id),
    ).fetchone()
    return None if row is None else _message(row)


def conversations(db: Any) -> list[ConversationRow]:
    """Every conversation with its last message and unread count, most recent first."""
    result = []
    for conversation_id, contact_id, read_through in db.execute(
        "SELECT conversation_id, contact_id, read_through FROM conversations"
    ).fetchall():
        row = db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608 (constant columns)
            " WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1",
            (conversation_id,),
        ).fetchone()
        unread = db.execute(
            "SELECT count(*) FROM messages WHERE conversation_id = ? AND seq > ? AND outgoing = 0",
            (conversation_id, read_through),
        ).fetchone()[0]
        result.append(ConversationRow(
            conversation_id, contact_id, None if row is None else _message(row), unread,
            read_through,
        ))
    result.sort(key=lambda c: -(c.last_message.seq if c.last_message else 0))
    return result


def fts_query(text: str) -> str:
    """An FTS5 query matching messages that contain every word of ``text`` (word prefixes).

    User text never reaches FTS5's query syntax: each word is quoted.

    Raises:
        SearchQueryError: ``text`` has no word.
    """
    words = _WORD.findall(text)[:MAX_SEARCH_WORDS]
    if not words:
        raise SearchQueryError("The search has no word to look for.")
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def search(
    db: Any, text: str, limit: int, conversation_id: int | None = None
) -> list[MessageRecord]:
    """Messages containing every word of ``text``, newest first.

    Raises:
        SearchQueryError: ``text`` has no word.
    """
    query = fts_query(text)
    if conversation_id is None:
        rows = db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE seq IN"  # noqa: S608 (constant)
            " (SELECT rowid FROM message_search WHERE message_search MATCH ?"
            "  ORDER BY rowid DESC LIMIT ?) ORDER BY seq DESC",
            (query, limit),
        ).fetchall()
    else:
        rows = db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq IN"  # noqa: S608
            " (SELECT rowid FROM message_search WHERE message_search MATCH ?)"
            " ORDER BY seq DESC LIMIT ?",
            (conversation_id, query, limit),
        ).fetchall()
    return [_message(r) for r in rows]


def rejected_envelopes(db: Any) -> list[RejectedEnvelope]:
    rows = db.execute(
        "SELECT received_at, reason, claimed_sender FROM rejected_envelopes ORDER BY id"
    ).fetchall()
    return [RejectedEnvelope(r[0], r[1], None if r[2] is None else bytes(r[2])) for r in rows]


def count_messages(db: Any, conversation_id: int | None = None) -> int:
    if conversation_id is None:
        return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])
    return int(db.execute(
        "SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
    ).fetchone()[0])


def draft(db: Any, conversation_id: int) -> str:
    """The conversation's draft, ``""`` when there is none."""
    row = db.execute(
        "SELECT body FROM drafts WHERE conversation_id = ?", (conversation_id,)
    ).fetchone()
    return "" if row is None else str(row[0])


def newly_read(db: Any, conversation_id: int, through: int) -> list[bytes]:
    """Ids of the received messages a move of the read marker to ``through`` would read:
    incoming, decrypted (not undecryptable), with ``read_through < seq <= through``."""
    rows = db.execute(
        "SELECT m.message_id FROM messages m JOIN conversations c"
        " ON c.conversation_id = m.conversation_id"
        " WHERE m.conversation_id = ? AND m.outgoing = 0 AND m.state = 'received'"
        " AND m.seq > c.read_through AND m.seq <= ? ORDER BY m.seq",
        (conversation_id, through),
    ).fetchall()
    return [bytes(r[0]) for r in rows]
