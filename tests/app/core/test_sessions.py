"""Pairwise sessions: first contact through X3DH, simultaneous starts converge, replays,
saved and restored sessions (no network: two books exchange payloads directly)."""

from __future__ import annotations

import pytest

from app.adapters.store import Changes
from app.core.sessions import MAX_SESSIONS_PER_PEER, NoSession, SessionBook
from crypto.envelope import EnvelopeKind
from crypto.errors import DecodeError, DuplicateMessage, PrekeyAlreadyUsed
from crypto.x3dh import Identity, PrekeyStore
from tests.support.drbg import DeterministicRandom

NOW = 1_700_000_000


class Party:
    def __init__(self, name: str, run: int = 0) -> None:
        self.identity = Identity.generate(DeterministicRandom(name))
        self.random = DeterministicRandom(f"{name} run {run}")  # a restart draws anew
        prekeys = PrekeyStore.create(self.identity, self.random, NOW)
        prekeys.generate_one_time_prekeys(5, self.random)
        self.book = SessionBook(self.identity, prekeys, [], self.random)

    def bundle(self) -> object:
        store = self.book.prekeys
        opk_id = store.one_time_prekeys[0][0]
        return store.bundle(self.identity.public, opk_id)

    def send(self, peer: Party, text: bytes) -> tuple[EnvelopeKind, bytes]:
        return self.book.encrypt(peer.identity.public, text)

    def receive(self, peer: Party, sent: tuple[EnvelopeKind, bytes]) -> bytes:
        return self.book.decrypt(peer.identity.public, sent[0], sent[1], NOW)


def pair() -> tuple[Party, Party]:
    return Party("alice"), Party("bob")


def test_first_contact_wraps_messages_until_answered() -> None:
    alice, bob = pair()
    with pytest.raises(NoSession):
        alice.send(bob, b"too early")
    alice.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
    first, second = alice.send(bob, b"one"), alice.send(bob, b"two")
    assert first[0] is second[0] is EnvelopeKind.PREKEY_MESSAGE
    assert bob.receive(alice, second) == b"two"  # out of order: the second sets it up
    assert bob.receive(alice, first) == b"one"
    assert not bob.book.prekeys_dirty or len(bob.book.prekeys.one_time_prekeys) == 4
    reply = bob.send(alice, b"three")
    assert reply[0] is EnvelopeKind.RATCHET_MESSAGE
    assert alice.receive(bob, reply) == b"three"
    assert alice.send(bob, b"four")[0] is EnvelopeKind.RATCHET_MESSAGE


def test_replays_are_duplicates_and_change_nothing() -> None:
    alice, bob = pair()
    alice.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
    initial = alice.send(bob, b"hi")
    bob.receive(alice, initial)
    with pytest.raises(DuplicateMessage):
        bob.receive(alice, initial)
    later = bob.send(alice, b"yo")
    alice.receive(bob, later)
    with pytest.raises(DuplicateMessage):
        alice.receive(bob, later)


def test_an_initial_message_must_name_its_envelope_sender() -> None:
    alice, bob = pair()
    carol = Party("carol")
    alice.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
    initial = alice.send(bob, b"hi")
    with pytest.raises(DecodeError, match="another identity"):
        bob.receive(carol, initial)
    assert bob.book.sessions(carol.identity.public) == []


def test_simultaneous_starts_converge_on_one_session() -> None:
    alice, bob = pair()
    alice.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
    bob.book.start(alice.bundle(), NOW)  # type: ignore[arg-type]
    from_alice = alice.send(bob, b"from alice")
    from_bob = bob.send(alice, b"from bob")
    assert bob.receive(alice, from_alice) == b"from alice"
    assert alice.receive(bob, from_bob) == b"from bob"
    smaller, larger = sorted((alice, bob), key=lambda p: p.identity.public)
    # Both now encrypt with the session the smaller key started, and both can read it.
    for _ in range(3):
        assert larger.receive(smaller, smaller.send(larger, b"s")) == b"s"
        assert smaller.receive(larger, larger.send(smaller, b"l")) == b"l"
    active_small = smaller.book.active(larger.identity.public)
    active_large = larger.book.active(smaller.identity.public)
    assert active_small is not None and active_large is not None
    assert active_small.ephemeral_key == active_large.ephemeral_key
    assert active_small.initiator and not active_large.initiator


def test_a_peer_that_starts_over_gets_a_new_active_session() -> None:
    alice, bob = pair()
    alice.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
    bob.receive(alice, alice.send(bob, b"one"))
    alice.receive(bob, bob.send(alice, b"two"))
    fresh_alice = Party("alice", run=1)  # same identity, sessions lost
    fresh_alice.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
    assert bob.receive(fresh_alice, fresh_alice.send(bob, b"again")) == b"again"
    assert fresh_alice.receive(bob, bob.send(fresh_alice, b"welcome back")) == b"welcome back"


def test_a_used_one_time_prekey_is_refused_for_a_new_session() -> None:
    alice, bob = pair()
    bundle = bob.bundle()
    alice.book.start(bundle, NOW)  # type: ignore[arg-type]
    bob.receive(alice, alice.send(bob, b"one"))
    mallory_copy = Party("alice", run=1)
    mallory_copy.book.start(bundle, NOW)  # type: ignore[arg-type]  # the same OPK again
    with pytest.raises(PrekeyAlreadyUsed):
        bob.receive(mallory_copy, mallory_copy.send(bob, b"two"))


def test_sessions_survive_being_saved_and_restored() -> None:
    alice, bob = pair()
    alice.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
    bob.receive(alice, alice.send(bob, b"one"))
    changes = Changes()
    bob.book.seal(changes)
    assert changes.prekeys is not None and len(changes.sessions) == 1
    sealed_again = Changes()
    bob.book.seal(sealed_again)
    assert sealed_again.is_empty()  # nothing changed since
    restored = SessionBook(bob.identity, PrekeyStore.from_bytes(changes.prekeys),
                           changes.sessions, bob.random)
    reply = restored.encrypt(alice.identity.public, b"from the restored side")
    assert alice.receive(bob, reply) == b"from the restored side"


def test_at_most_a_few_sessions_are_kept_per_peer() -> None:
    alice, bob = pair()
    bob.book.prekeys.generate_one_time_prekeys(10, bob.random)
    for n in range(MAX_SESSIONS_PER_PEER + 2):
        restart = Party("alice", run=n + 1)
        restart.book.start(bob.bundle(), NOW)  # type: ignore[arg-type]
        bob.receive(restart, restart.send(bob, b"%d" % n))
    assert len(bob.book.sessions(alice.identity.public)) == MAX_SESSIONS_PER_PEER
    changes = Changes()
    bob.book.seal(changes)
    assert len(changes.sessions) == MAX_SESSIONS_PER_PEER
    assert len(changes.sessions_removed) == 2
