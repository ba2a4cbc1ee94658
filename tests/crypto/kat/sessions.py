"""Seeded X3DH + ratchet session set-ups shared by the ratchet and X3DH tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from crypto.ratchet import DEFAULT_CONFIG, RatchetConfig, RatchetState
from crypto.x3dh import Identity, PrekeyStore, accept_session, start_session
from tests.support.drbg import DeterministicRandom

NOW = 1_700_000_000
"""A fixed clock for tests (seconds since the epoch)."""


@dataclass
class Pair:
    """Two ends of one session and the randomness each side uses."""

    alice: RatchetState
    bob: RatchetState
    alice_random: DeterministicRandom
    bob_random: DeterministicRandom
    alice_identity: Identity
    bob_identity: Identity

    def a2b(self, plaintext: bytes) -> bytes:
        return self.alice.encrypt(plaintext, self.alice_random)

    def b2a(self, plaintext: bytes) -> bytes:
        return self.bob.encrypt(plaintext, self.bob_random)


def make_pair(
    seed: str, config: RatchetConfig = DEFAULT_CONFIG, one_time_prekey: bool = True
) -> Pair:
    """A session after X3DH and Alice's first message ("hello") delivered to Bob, so both
    sides can send."""
    keys = DeterministicRandom(f"{seed}/keys")
    alice_identity, bob_identity = Identity.generate(keys), Identity.generate(keys)
    store = PrekeyStore.create(bob_identity, keys, NOW)
    opk_id = store.generate_one_time_prekeys(1, keys)[0][0] if one_time_prekey else None
    alice_random = DeterministicRandom(f"{seed}/alice")
    bob_random = DeterministicRandom(f"{seed}/bob")
    agreement, alice = start_session(
        alice_identity, store.bundle(bob_identity.public, opk_id), alice_random, config
    )
    first = agreement.initial_message(alice.encrypt(b"hello", alice_random))
    bob, plaintext = accept_session(bob_identity, store, first, NOW, config)
    assert plaintext == b"hello"
    return Pair(alice, bob, alice_random, bob_random, alice_identity, bob_identity)


def restored(state: RatchetState, config: RatchetConfig = DEFAULT_CONFIG) -> RatchetState:
    """A save/restore round trip (also a deep copy)."""
    return RatchetState.from_bytes(state.to_bytes(), config)


@contextmanager
def unchanged(*states: object) -> Iterator[None]:
    """Assert that the block leaves every state (anything with ``to_bytes``) byte-identical."""
    before = [s.to_bytes() for s in states]  # type: ignore[attr-defined]
    yield
    assert [s.to_bytes() for s in states] == before  # type: ignore[attr-defined]
