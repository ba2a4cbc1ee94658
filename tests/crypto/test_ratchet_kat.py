"""Frozen known-answer transcript (X3DH + Double Ratchet) and frozen version-1 states.

Any change to a wire format, a KDF input or the saved-state layout changes these bytes and
fails here; such a change needs a new protocol or state version (and a migration registered
with ``crypto.state.register_migration`` for saved states), never an edit of the frozen data.
"""

from __future__ import annotations

import json

import pytest

from crypto.errors import DuplicateMessage, UnsupportedVersion
from crypto.ratchet import RatchetState
from crypto.x3dh import Identity, InitialMessage, PrekeyBundle, PrekeyStore
from tests.crypto.kat import transcript
from tests.crypto.kat.reference import ReferenceRatchet
from tests.crypto.kat.sessions import NOW
from tests.support.drbg import DeterministicRandom

FROZEN: dict[str, str] = json.loads(transcript.FROZEN.read_text(encoding="utf-8"))


def _frozen(name: str) -> bytes:
    return bytes.fromhex(FROZEN[name])


def test_transcript_reproduces_every_frozen_byte() -> None:
    """SK, AD, EK, bundle, every wire message and every saved state, exactly."""
    produced = transcript.run()
    assert produced.keys() == FROZEN.keys()
    for name, value in FROZEN.items():
        assert produced[name] == value, name


def test_frozen_secrets_have_the_normative_shape() -> None:
    alice = Identity.from_bytes(_frozen("alice_identity"))
    bob = Identity.from_bytes(_frozen("bob_identity"))
    assert _frozen("ad") == alice.public + bob.public  # X3DH: AD = IK_A ‖ IK_B
    assert len(_frozen("sk")) == 32
    assert _frozen("sk") != _frozen("sk_without_opk")  # DH4 is part of the secret


def test_a_literal_spec_implementation_produces_the_same_messages() -> None:
    """The reference ratchet (spec pseudo-code, DH step at receive time) and the production
    ratchet (split DH step, decrypt on a copy) agree on every wire byte."""
    store = PrekeyStore.from_bytes(_frozen("bob_prekeys_before"))
    spk = store.current_signed_prekey
    sk, ad = _frozen("sk"), _frozen("ad")
    alice_random = DeterministicRandom(f"{transcript.SEED}/alice")
    alice_random(32)  # the X3DH ephemeral key came first from this stream
    bob_random = DeterministicRandom(f"{transcript.SEED}/bob")
    alice = ReferenceRatchet.init_alice(sk, ad, spk.public, alice_random)
    bob = ReferenceRatchet.init_bob(sk, ad, (spk.private, spk.public))
    parties = {
        "alice": (alice, alice_random, bob, bob_random),
        "bob": (bob, bob_random, alice, alice_random),
    }
    wire: dict[str, bytes] = {}
    for sender, sent, delivered in transcript.SCRIPT:
        own, own_random, peer, peer_random = parties[sender]
        for text in sent:
            wire[text] = own.encrypt(text.encode(), own_random)
            frozen = _frozen(f"wire_{text}")
            if text in transcript.WRAPPED:
                frozen = InitialMessage.from_bytes(frozen).ratchet_message
            assert wire[text] == frozen, text
        for text in delivered:
            assert peer.decrypt(wire[text], peer_random) == text.encode()


def test_frozen_v1_ratchet_state_loads_and_continues() -> None:
    bob = RatchetState.from_bytes(_frozen("bob_state"))
    assert bob.to_bytes() == _frozen("bob_state")  # the layout is stable
    assert bob.skipped_key_count == 1  # a4's key, kept while a4 is in flight
    late = _frozen(f"wire_{transcript.LATE}")
    assert bob.decrypt(late, NOW) == transcript.LATE.encode()
    with pytest.raises(DuplicateMessage):
        bob.decrypt(_frozen("wire_a5"), NOW)
    alice = RatchetState.from_bytes(_frozen("alice_state"))
    assert alice.to_bytes() == _frozen("alice_state")
    assert bob.decrypt(alice.encrypt(b"after restore", DeterministicRandom("x")), NOW) == (
        b"after restore"
    )


def test_frozen_v1_identity_and_prekey_states_load_unchanged() -> None:
    for name in ("alice_identity", "bob_identity"):
        assert Identity.from_bytes(_frozen(name)).to_bytes() == _frozen(name)
    for name in ("bob_prekeys_before", "bob_prekeys_after"):
        assert PrekeyStore.from_bytes(_frozen(name)).to_bytes() == _frozen(name)
    before = PrekeyStore.from_bytes(_frozen("bob_prekeys_before"))
    after = PrekeyStore.from_bytes(_frozen("bob_prekeys_after"))
    assert len(before.one_time_prekeys) == 2 and len(after.one_time_prekeys) == 1  # consumed
    bundle = PrekeyBundle.from_bytes(_frozen("bundle"))
    assert bundle.to_bytes() == _frozen("bundle")
    assert bundle.one_time_prekey_id == before.one_time_prekeys[0][0]


@pytest.mark.parametrize("name", ["alice_state", "bob_prekeys_after", "alice_identity"])
def test_a_state_from_a_newer_release_is_refused(name: str) -> None:
    newer = bytearray(_frozen(name))
    newer[1] += 1  # the version byte
    loader = {"alice_state": RatchetState.from_bytes, "bob_prekeys_after":
              PrekeyStore.from_bytes, "alice_identity": Identity.from_bytes}[name]
    with pytest.raises(UnsupportedVersion):
        loader(bytes(newer))
