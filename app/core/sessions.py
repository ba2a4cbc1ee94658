"""Pairwise sessions: X3DH to start them, the Double Ratchet to use them, several per peer.

A peer normally has one session. Two can exist when both sides started one at the same time
(each sent initial messages before receiving the other's) or when the peer lost its state and
started again. The rules, deterministic on both sides:

- Encrypt with the *active* session. An initiator session wraps each message in an X3DH
  initial message until it has received a reply.
- An initial message with a new ephemeral key creates a responder session. It becomes active
  unless our own active session is an unanswered one we initiated and our identity key sorts
  before theirs (then both sides end up on the session the smaller key started).
- A later initial message with a known ephemeral key, and every ratchet message, is decrypted
  by whichever kept session accepts it, active first. At most :data:`MAX_SESSIONS_PER_PEER`
  are kept, newest first.

Changes are synchronous on the event loop; sessions that changed are written into the
journal's batch when it closes (:meth:`SessionBook.seal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from app.adapters.store import Changes, SessionRecord
from crypto.envelope import EnvelopeKind
from crypto.errors import AuthenticationError, CryptoError, DecodeError, DuplicateMessage
from crypto.primitives import Random
from crypto.ratchet import RatchetState
from crypto.x3dh import (
    Identity,
    InitialMessage,
    PrekeyBundle,
    PrekeyStore,
    accept_session,
    start_session,
)

MAX_SESSIONS_PER_PEER: Final = 4


class NoSession(CryptoError):
    """We have no session with this peer (and the message is not an initial message)."""


@dataclass(slots=True)
class PeerSession:
    """One session with a peer: its ratchet and how it started."""

    peer: bytes
    ephemeral_key: bytes  # X3DH EK of the session: names it
    initiator: bool
    signed_prekey_id: int | None  # initiator: named in the initial messages
    one_time_prekey_id: int | None
    ratchet: RatchetState
    active: bool
    created_at: int

    def record(self) -> SessionRecord:
        return SessionRecord(
            self.peer, self.ephemeral_key, self.initiator, self.signed_prekey_id,
            self.one_time_prekey_id, self.ratchet.to_bytes(), self.active, self.created_at,
        )

    @property
    def unanswered(self) -> bool:
        """We started it and have not heard back: messages still carry X3DH."""
        return self.initiator and not self.ratchet.has_received


class SessionBook:
    """Every session of this identity, in memory, with the prekey store they consume."""

    def __init__(
        self, identity: Identity, prekeys: PrekeyStore, records: list[SessionRecord],
        random: Random,
    ) -> None:
        self._identity = identity  # our identity key pair
        self.prekeys = prekeys  # our private prekeys (initial messages consume one-time keys)
        self._random = random
        self._by_peer: dict[bytes, list[PeerSession]] = {}  # newest first
        self._dirty: dict[tuple[bytes, bytes], PeerSession] = {}  # changed since last seal
        self._removed: list[tuple[bytes, bytes]] = []  # dropped since last seal
        self.prekeys_dirty = False  # the prekey store changed since last seal
        for r in records:
            session = PeerSession(
                r.peer_identity, r.ephemeral_key, r.initiator, r.signed_prekey_id,
                r.one_time_prekey_id, RatchetState.from_bytes(r.state), r.active, r.created_at,
            )
            self._by_peer.setdefault(r.peer_identity, []).insert(0, session)

    # --- queries ----------------------------------------------------------------------------

    def active(self, peer: bytes) -> PeerSession | None:
        for session in self._by_peer.get(peer, ()):
            if session.active:
                return session
        return None

    def can_encrypt(self, peer: bytes) -> bool:
        """Whether a message to ``peer`` can be encrypted now (no bundle fetch needed)."""
        session = self.active(peer)
        return session is not None and (session.initiator or session.ratchet.has_received)

    def sessions(self, peer: bytes) -> list[PeerSession]:
        return list(self._by_peer.get(peer, ()))

    # --- changes ----------------------------------------------------------------------------

    def _touch(self, session: PeerSession) -> None:
        self._dirty[(session.peer, session.ephemeral_key)] = session

    def _add(self, session: PeerSession) -> None:
        kept = self._by_peer.setdefault(session.peer, [])
        if session.active:
            for other in kept:
                if other.active:
                    other.active = False
                    self._touch(other)
        kept.insert(0, session)
        self._touch(session)
        while len(kept) > MAX_SESSIONS_PER_PEER:
            dropped = kept.pop()
            self._dirty.pop((dropped.peer, dropped.ephemeral_key), None)
            self._removed.append((dropped.peer, dropped.ephemeral_key))

    def start(self, bundle: PrekeyBundle, now: int) -> PeerSession:
        """Run X3DH against ``bundle`` and make the new session the active one.

        Raises:
            BadSignature, DecodeError, LowOrderKey: the bundle is not usable (crypto.x3dh).
        """
        agreement, ratchet = start_session(self._identity, bundle, self._random)
        session = PeerSession(
            bundle.identity_key, agreement.ephemeral_key, True, agreement.signed_prekey_id,
            agreement.one_time_prekey_id, ratchet, True, now,
        )
        self._add(session)
        return session

    def encrypt(self, peer: bytes, plaintext: bytes) -> tuple[EnvelopeKind, bytes]:
        """Encrypt with the active session: ``(envelope kind, payload)`` to seal.

        Raises:
            NoSession: no active session that can send.
            SendingChainUnavailable: the session cannot send (crypto.ratchet).
        """
        session = self.active(peer)
        if session is None or not (session.initiator or session.ratchet.has_received):
            raise NoSession("no session that can send to this contact yet")
        message = session.ratchet.encrypt(plaintext, self._random)
        self._touch(session)
        if not session.unanswered:
            return EnvelopeKind.RATCHET_MESSAGE, message
        initial = InitialMessage(
            self._identity.public, session.ephemeral_key, session.signed_prekey_id or 0,
            session.one_time_prekey_id, message,
        )
        return EnvelopeKind.PREKEY_MESSAGE, initial.to_bytes()

    def decrypt(self, peer: bytes, kind: EnvelopeKind, payload: bytes, now: int) -> bytes:
        """Decrypt a pairwise message from ``peer`` (the envelope's claimed sender).

        Raises:
            DuplicateMessage: already decrypted once (a replay or a redelivery).
            NoSession: a ratchet message from a peer we have no session with.
            CryptoError: anything else (tampered, unknown prekey, too many skipped, ...).
        """
        if kind is EnvelopeKind.PREKEY_MESSAGE:
            return self._decrypt_initial(peer, InitialMessage.from_bytes(payload), now)
        kept = self._by_peer.get(peer)
        if not kept:
            raise NoSession("no session with the sender of this message")
        return self._try_each(sorted(kept, key=lambda s: not s.active), payload, now)

    def _try_each(self, candidates: list[PeerSession], message: bytes, now: int) -> bytes:
        first_error: CryptoError | None = None
        for session in candidates:
            try:
                plaintext = session.ratchet.decrypt(message, now)
            except DuplicateMessage:
                raise
            except CryptoError as error:
                first_error = first_error or error
                continue
            self._touch(session)
            return plaintext
        raise first_error or AuthenticationError("no session accepts this message")

    def _decrypt_initial(self, peer: bytes, initial: InitialMessage, now: int) -> bytes:
        if initial.identity_key != peer:
            raise DecodeError("the initial message names another identity than its envelope")
        for session in self._by_peer.get(peer, ()):
            if session.ephemeral_key == initial.ephemeral_key:
                return self._try_each([session], initial.ratchet_message, now)
        ratchet, plaintext = accept_session(self._identity, self.prekeys, initial, now)
        if initial.one_time_prekey_id is not None:
            self.prekeys_dirty = True
        current = self.active(peer)
        keep_ours = (
            current is not None and current.unanswered and self._identity.public < peer
        )
        self._add(PeerSession(
            peer, initial.ephemeral_key, False, None, None, ratchet, not keep_ours, now,
        ))
        return plaintext

    def seal(self, changes: Changes) -> None:
        """Write every session (and the prekey store) changed since the last seal."""
        if self._removed:
            changes.sessions_removed.extend(self._removed)
            self._removed = []
        if self._dirty:
            changes.sessions.extend(session.record() for session in self._dirty.values())
            self._dirty = {}
        if self.prekeys_dirty:
            changes.prekeys = self.prekeys.to_bytes()
            self.prekeys_dirty = False
