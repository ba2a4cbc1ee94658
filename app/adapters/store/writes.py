"""Applying one :class:`Changes` inside one transaction (runs on the store's thread)."""

from __future__ import annotations

from typing import Any, Final

from app.adapters.store.records import (
    Applied,
    Changes,
    ContactRecord,
    MessageState,
)

_ADVANCE: Final = {
    # new state -> the states it may replace (outgoing messages only move forward)
    MessageState.SENT: ("queued",),
    MessageState.DELIVERED: ("queued", "sent"),
    MessageState.READ: ("queued", "sent", "delivered"),
    MessageState.FAILED: ("queued",),
    MessageState.QUEUED: ("failed",),  # the user retries a failed message
}


def name_key(display_name: str) -> str:
    """The case-insensitive form that must be unique among contacts."""
    return display_name.casefold()


def apply_changes(db: Any, changes: Changes, now_ms: int) -> Applied:
    """Write ``changes`` in one transaction (``BEGIN IMMEDIATE`` .. ``COMMIT``).

    Raises:
        sqlcipher3.DatabaseError: the transaction failed and was rolled back.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        applied = _write(db, changes, now_ms)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return applied


def _write(db: Any, c: Changes, now_ms: int) -> Applied:
    if c.account is not None:
        a = c.account
        db.execute(
            "INSERT OR REPLACE INTO account (singleton, identity_key, relay_url, display_name,"
            " created_at, published_signed_prekey_id, published_one_time_through)"
            " VALUES (1, ?, ?, ?, ?, ?, ?)",
            (a.identity_key, a.relay_url, a.display_name, a.created_at,
             a.published_signed_prekey_id, a.published_one_time_through),
        )
    if c.prekeys is not None:
        db.execute("INSERT OR REPLACE INTO prekeys (singleton, state) VALUES (1, ?)", (c.prekeys,))
    for contact in c.contacts:
        _upsert_contact(db, contact)
    for peer, ephemeral in c.sessions_removed:
        db.execute(
            "DELETE FROM sessions WHERE peer_identity = ? AND ephemeral_key = ?", (peer, ephemeral)
        )
    if c.sessions:
        db.executemany(
            "INSERT OR REPLACE INTO sessions (peer_identity, ephemeral_key, initiator,"
            " signed_prekey_id, one_time_prekey_id, state, active, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(s.peer_identity, s.ephemeral_key, int(s.initiator), s.signed_prekey_id,
              s.one_time_prekey_id, s.state, int(s.active), s.created_at) for s in c.sessions],
        )
    seqs: list[int | None] = []
    for m in c.messages:
        if m.dedup_peer is not None:
            cursor = db.execute(
                "INSERT OR IGNORE INTO inbound_ids (peer_identity, message_id) VALUES (?, ?)",
                (m.dedup_peer, m.message_id),
            )
            if cursor.rowcount == 0:
                seqs.append(None)
                continue
        cursor = db.execute(
            "INSERT OR IGNORE INTO messages (conversation_id, message_id, outgoing, body,"
            " sent_at, received_at, state, reason, state_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.conversation_id, m.message_id, int(m.outgoing), m.body, m.sent_at, m.received_at,
             m.state.value, m.reason, now_ms),
        )
        seqs.append(cursor.lastrowid if cursor.rowcount else None)
    changed: list[bool] = []
    for s in c.states:
        allowed = _ADVANCE.get(s.state, ())
        marks = ",".join("?" * len(allowed))
        cursor = db.execute(
            f"UPDATE messages SET state = ?, reason = ?, state_at = ?"  # noqa: S608 (fixed marks)
            f" WHERE conversation_id = ? AND outgoing = 1 AND message_id = ?"
            f" AND state IN ({marks})",
            (s.state.value, s.reason, s.at, s.conversation_id, s.message_id, *allowed),
        )
        changed.append(cursor.rowcount > 0)
    outbox_seqs: list[int] = []
    for o in c.outbox:
        cursor = db.execute(
            "INSERT INTO outbox (recipient, relay_url, kind, message_id, conversation_id,"
            " plaintext, envelope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (o.recipient, o.relay_url, o.kind.value, o.message_id, o.conversation_id,
             o.plaintext, o.envelope, o.created_at),
        )
        outbox_seqs.append(int(cursor.lastrowid))
    if c.outbox_encrypted:
        db.executemany(
            "UPDATE outbox SET envelope = ?, plaintext = NULL WHERE seq = ?",
            [(envelope, seq) for seq, envelope in c.outbox_encrypted],
        )
    if c.outbox_done:
        db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in c.outbox_done])
    for conversation_id, seq in c.read_through:
        db.execute(
            "UPDATE conversations SET read_through = max(read_through, ?)"
            " WHERE conversation_id = ?",
            (seq, conversation_id),
        )
    if c.rejected:
        db.executemany(
            "INSERT INTO rejected_envelopes (received_at, reason, claimed_sender) VALUES (?, ?, ?)",
            [(r.received_at, r.reason, r.claimed_sender) for r in c.rejected],
        )
    for conversation_id, text in c.drafts:
        if text:
            db.execute(
                "INSERT INTO drafts (conversation_id, body, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (conversation_id) DO UPDATE SET body = excluded.body,"
                " updated_at = excluded.updated_at",
                (conversation_id, text, now_ms),
            )
        else:
            db.execute("DELETE FROM drafts WHERE conversation_id = ?", (conversation_id,))
    return Applied(tuple(seqs), tuple(changed), tuple(outbox_seqs))


def _upsert_contact(db: Any, k: ContactRecord) -> None:
    db.execute(
        "INSERT INTO contacts (contact_id, identity_key, relay_url, display_name, name_key,"
        " added_at, verified, pending_identity_key, pending_relay_url)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (contact_id) DO UPDATE SET identity_key = excluded.identity_key,"
        " relay_url = excluded.relay_url, display_name = excluded.display_name,"
        " name_key = excluded.name_key, verified = excluded.verified,"
        " pending_identity_key = excluded.pending_identity_key,"
        " pending_relay_url = excluded.pending_relay_url",
        (k.contact_id, k.identity_key, k.relay_url, k.display_name, name_key(k.display_name),
         k.added_at, int(k.verified), k.pending_identity_key, k.pending_relay_url),
    )
    db.execute(
        "INSERT OR IGNORE INTO conversations (conversation_id, contact_id) VALUES (?, ?)",
        (k.contact_id, k.contact_id),
    )
