"""crypto.senderkeys: group sender keys (DESIGN.md "Sender keys")."""

from __future__ import annotations

from crypto.senderkeys import OwnSenderKey, PeerSenderKey
from tests.support.drbg import DeterministicRandom

GROUP = bytes(range(16))
ALICE_IK = bytes(range(32, 64))


def test_roundtrip_in_order() -> None:
    rng = DeterministicRandom("roundtrip")
    alice = OwnSenderKey.create(GROUP, ALICE_IK, rng)
    bob = PeerSenderKey.from_distribution(alice.distribution(), GROUP, ALICE_IK)
    for i in range(5):
        assert bob.decrypt(alice.encrypt(b"hello %d" % i, rng), 1_000) == b"hello %d" % i
