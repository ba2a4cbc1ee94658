"""The frozen known-answer transcript: seeded X3DH and a conversation in both directions with
reordering, run through the production code. ``transcript_v1.json`` holds its output; the
tests re-run it and compare every byte.

Regenerate only on a deliberate, versioned protocol change:
``python -m tests.crypto.kat.transcript > tests/crypto/kat/transcript_v1.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from crypto.ratchet import RatchetState
from crypto.x3dh import (
    Identity,
    InitialMessage,
    PrekeyStore,
    accept_session,
    initiate,
    start_session,
)
from tests.crypto.kat.sessions import NOW
from tests.support.drbg import DeterministicRandom

SEED = "sourdine-kat-v1"
FROZEN = Path(__file__).with_name("transcript_v1.json")

# (sender, plaintext) in sending order, then the receiver's delivery order by plaintext.
SCRIPT: list[tuple[str, list[str], list[str]]] = [
    ("alice", ["a0", "a1", "a2"], ["a1", "a0", "a2"]),  # initial messages, first one last-ish
    ("bob", ["b0", "b1"], ["b1", "b0"]),
    ("alice", ["a3"], ["a3"]),
    ("bob", ["b2"], ["b2"]),
    ("alice", ["a4", "a5"], ["a5"]),  # a4 stays in flight: Bob keeps its skipped key
]
LATE = "a4"
WRAPPED = {"a0", "a1", "a2"}  # sent before Alice heard from Bob: X3DH initial messages


def run() -> dict[str, str]:
    """Run the transcript; returns every frozen value as hex."""
    keys = DeterministicRandom(f"{SEED}/keys")
    alice_identity, bob_identity = Identity.generate(keys), Identity.generate(keys)
    store = PrekeyStore.create(bob_identity, keys, NOW)
    (opk_id, _), _ = store.generate_one_time_prekeys(2, keys)
    out: dict[str, str] = {
        "alice_identity": alice_identity.to_bytes().hex(),
        "bob_identity": bob_identity.to_bytes().hex(),
        "bob_prekeys_before": store.to_bytes().hex(),
    }
    bundle = store.bundle(bob_identity.public, opk_id)
    no_opk = initiate(alice_identity, store.bundle(bob_identity.public), keys)
    out["bundle"] = bundle.to_bytes().hex()
    out["bundle_without_opk"] = store.bundle(bob_identity.public).to_bytes().hex()
    out["sk_without_opk"] = no_opk.shared_secret.hex()

    alice_random = DeterministicRandom(f"{SEED}/alice")
    bob_random = DeterministicRandom(f"{SEED}/bob")
    agreement, alice = start_session(alice_identity, bundle, alice_random)
    out["sk"] = agreement.shared_secret.hex()
    out["ad"] = agreement.associated_data.hex()
    out["ek"] = agreement.ephemeral_key.hex()

    bob: RatchetState | None = None
    wire: dict[str, bytes] = {}
    wrapped: set[str] = set()  # sent as X3DH initial messages (before Alice heard from Bob)
    for sender, sent, delivered in SCRIPT:
        for text in sent:
            if sender == "alice":
                message = alice.encrypt(text.encode(), alice_random)
                if not alice.has_received:
                    message = agreement.initial_message(message).to_bytes()
                    wrapped.add(text)
            else:
                assert bob is not None
                message = bob.encrypt(text.encode(), bob_random)
            wire[text] = message
            out[f"wire_{text}"] = message.hex()
        for text in delivered:
            if sender == "alice" and text in wrapped:
                initial = InitialMessage.from_bytes(wire[text])
                if bob is None:
                    bob, plaintext = accept_session(bob_identity, store, initial, NOW)
                else:  # the session exists: route the wrapped ratchet message to it
                    plaintext = bob.decrypt(initial.ratchet_message, NOW)
            elif sender == "alice":
                assert bob is not None
                plaintext = bob.decrypt(wire[text], NOW)
            else:
                plaintext = alice.decrypt(wire[text], NOW)
            assert plaintext == text.encode()
    assert bob is not None and wrapped == WRAPPED
    out["alice_state"] = alice.to_bytes().hex()
    out["bob_state"] = bob.to_bytes().hex()
    out["bob_prekeys_after"] = store.to_bytes().hex()
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1, sort_keys=True))
