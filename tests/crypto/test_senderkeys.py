"""crypto.senderkeys: group sender keys (DESIGN.md "Cryptography", sender keys)."""

from __future__ import annotations

import contextlib
import itertools
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import primitives as p
from crypto.errors import (
    AuthenticationError,
    BadSignature,
    CryptoError,
    DecodeError,
    DuplicateMessage,
    ExpiredKey,
    PredatesSenderKey,
    SenderKeyExhausted,
    SenderKeyMismatch,
    StateError,
    TooManySkipped,
    UnsupportedVersion,
)
from crypto.senderkeys import (
    DISTRIBUTION_SIZE,
    HEADER_SIZE,
    MAX_FORWARD,
    MAX_ITERATION,
    MAX_SKIPPED_KEYS,
    MESSAGE_OVERHEAD,
    SKIPPED_KEY_TTL,
    MessageHeader,
    OwnSenderKey,
    PeerSenderKey,
    read_header,
)
from tests.support.drbg import DeterministicRandom

GROUP = bytes(range(16))
OTHER_GROUP = bytes(range(1, 17))
ALICE_IK = bytes(range(32, 64))
MALLORY_IK = bytes(range(64, 96))
NOW = 1_700_000_000


def alice_and_bob(seed: str) -> tuple[OwnSenderKey, PeerSenderKey, DeterministicRandom]:
    rng = DeterministicRandom(seed)
    alice = OwnSenderKey.create(GROUP, ALICE_IK, rng)
    bob = PeerSenderKey.from_distribution(alice.distribution(), GROUP, ALICE_IK)
    return alice, bob, rng


def assert_rejected_unchanged(
    peer: PeerSenderKey, message: bytes, error: type[CryptoError], now: int = NOW
) -> None:
    before = peer.save()
    with pytest.raises(error):
        peer.decrypt(message, now)
    assert peer.save() == before


# --- Known answers ----------------------------------------------------------------------------

KAT_DISTRIBUTION = bytes.fromhex(
    "01000102030405060708090a0b0c0d0e0fbf5c181d000000008e3ea0757a1592dfdbb4cbc812d09cce5641ba"
    "33cb452133d6d08ed893a020dd48920dcd31e5ae0fbfc5de7f37496c3196b16538dbf50cbcba22a5f859466c03"
)
KAT_MESSAGE_0 = bytes.fromhex(
    "01000102030405060708090a0b0c0d0e0fbf5c181d000000008ad68c149bfa3330e62ec0c7e81368f08925ea"
    "b333398633eafc9becf8bf00e97a62dae39a8107f3a113e3015b10033fcfe23d08a4e59ffb300d49ea0b5f32"
    "0893e396f49702caae1cbab36aff72b041eb50d46e314f757c61157752cd69a5085dd0bc9003bafdd232c217"
    "81013861f3f31505"
)
KAT_MESSAGE_1 = bytes.fromhex(
    "01000102030405060708090a0b0c0d0e0fbf5c181d00000001fd9be0d42b00b0282d018dfc176098fdd03568"
    "72536b0c2200b4c9256e8432d0b8e8e29bd4c431f81c131fbba481fae6809a4654be08eb460cd13a36ecd47e"
    "438388a694884e17761f66ea2c22729bcd4d10f1214eb5129213329ba3f76a8a4fa9afea86b4b7d20e"
)
KAT_OWN_STATE = bytes.fromhex(
    "0201000102030405060708090a0b0c0d0e0f202122232425262728292a2b2c2d2e2f303132333435363738"
    "393a3b3c3d3e3fbf5c181d000000026e12d346ad08bfc9d00be14ab187a9902a057a1d48cbea128940628a"
    "cf3b39b7a5c9e33453b392e21bffdbda495e99f3aca1daf8aae5504e0986eb642dc717f048920dcd31e5ae"
    "0fbfc5de7f37496c3196b16538dbf50cbcba22a5f859466c03"
)
KAT_PEER_STATE = bytes.fromhex(
    "0301000102030405060708090a0b0c0d0e0f202122232425262728292a2b2c2d2e2f303132333435363738"
    "393a3b3c3d3e3fbf5c181d48920dcd31e5ae0fbfc5de7f37496c3196b16538dbf50cbcba22a5f859466c03"
    "00000000000000026e12d346ad08bfc9d00be14ab187a9902a057a1d48cbea128940628acf3b39b7000000"
    "0100000000bf0e05124e528d90d054318af4d96f2246de2b3aefb52dd7172e2c9247e7518600000000002790e8"
)


def test_known_answer_transcript() -> None:
    """Seeded randomness gives exactly these bytes: any wire or state format change shows."""
    rng = DeterministicRandom("sender-key known answer")
    alice = OwnSenderKey.create(GROUP, ALICE_IK, rng)
    assert alice.distribution() == KAT_DISTRIBUTION
    assert alice.encrypt(b"hello group", rng) == KAT_MESSAGE_0
    assert alice.encrypt(b"", rng) == KAT_MESSAGE_1
    assert alice.save() == KAT_OWN_STATE
    bob = PeerSenderKey.from_distribution(KAT_DISTRIBUTION, GROUP, ALICE_IK)
    assert bob.decrypt(KAT_MESSAGE_1, 1000) == b""
    assert bob.save() == KAT_PEER_STATE
    assert bob.decrypt(KAT_MESSAGE_0, 1000) == b"hello group"


def test_wire_format_matches_the_documented_construction() -> None:
    """Recompute message 0 from the distribution with the primitives, as the docstring says."""
    chain_key = KAT_DISTRIBUTION[25:57]
    signing_public = KAT_DISTRIBUTION[57:]
    message_key = p.hmac_sha256(chain_key, b"\x01")
    body, signature = KAT_MESSAGE_0[:-64], KAT_MESSAGE_0[-64:]
    header, nonce, sealed = body[:HEADER_SIZE], body[HEADER_SIZE:49], body[49:]
    assert header == b"\x01" + GROUP + KAT_DISTRIBUTION[17:21] + struct.pack(">I", 0)
    p.ed25519_verify(signing_public, ALICE_IK + body, signature)
    assert p.aead_decrypt(message_key, nonce, sealed, ALICE_IK + header) == b"hello group"
    assert len(KAT_MESSAGE_0) == len(b"hello group") + MESSAGE_OVERHEAD
    assert len(KAT_DISTRIBUTION) == DISTRIBUTION_SIZE
    assert read_header(KAT_MESSAGE_1) == MessageHeader(
        GROUP, struct.unpack(">I", KAT_DISTRIBUTION[17:21])[0], 1
    )


# --- Authentication: forgery, misattribution ----------------------------------------------------


def forge(
    chain_key: bytes, key_id: int, iteration: int, signer: bytes, claimed: bytes, text: bytes
) -> bytes:
    """What a member who holds Alice's chain key (every member does) can build by hand."""
    message_key = chain_key
    for _ in range(iteration):
        message_key = p.hmac_sha256(message_key, b"\x02")
    message_key = p.hmac_sha256(message_key, b"\x01")
    header = b"\x01" + GROUP + struct.pack(">II", key_id, iteration)
    nonce = bytes(24)
    body = header + nonce + p.aead_encrypt(message_key, nonce, text, claimed + header)
    return body + p.ed25519_sign(signer, claimed + body)


def test_a_member_cannot_forge_another_members_message() -> None:
    alice, bob, rng = alice_and_bob("forgery")
    dist = alice.distribution()  # Mallory, a member, received this too
    key_id = struct.unpack(">I", dist[17:21])[0]
    mallory_signer, _ = p.ed25519_keypair(rng)
    forged = forge(dist[25:57], key_id, 0, mallory_signer, ALICE_IK, b"pay Mallory")
    assert_rejected_unchanged(bob, forged, BadSignature)
    # Mallory's own sender key cannot stand in for Alice's either.
    mallory = OwnSenderKey.create(GROUP, MALLORY_IK, rng)
    assert_rejected_unchanged(bob, mallory.encrypt(b"hi", rng), SenderKeyMismatch)
    # Alice's genuine message still decrypts afterwards.
    assert bob.decrypt(alice.encrypt(b"real", rng), NOW) == b"real"


def test_a_redistributed_key_does_not_move_authorship() -> None:
    """Mallory forwards Alice's distribution as her own: Alice's messages do not verify."""
    alice, _, rng = alice_and_bob("misattribution")
    bob_view_of_mallory = PeerSenderKey.from_distribution(alice.distribution(), GROUP, MALLORY_IK)
    assert_rejected_unchanged(bob_view_of_mallory, alice.encrypt(b"x", rng), BadSignature)


# --- Membership: rotation, late joiners ---------------------------------------------------------


def test_a_removed_member_cannot_read_after_rotation() -> None:
    alice, bob, rng = alice_and_bob("removal")
    carol = PeerSenderKey.from_distribution(alice.distribution(), GROUP, ALICE_IK)
    old_chain_key = alice.distribution()[25:57]
    assert carol.decrypt(alice.encrypt(b"before", rng), NOW) == b"before"
    assert bob.decrypt(alice.encrypt(b"still before", rng), NOW) == b"still before"

    alice = alice.rotate(rng)  # Carol was removed: only Bob gets the new distribution
    bob = PeerSenderKey.from_distribution(alice.distribution(), GROUP, ALICE_IK)
    secret = alice.encrypt(b"after Carol left", rng)
    assert bob.decrypt(secret, NOW) == b"after Carol left"
    assert_rejected_unchanged(carol, secret, SenderKeyMismatch)

    # Everything Carol could derive from what she held opens nothing.
    body = secret[:-64]
    header, nonce, sealed = body[:HEADER_SIZE], body[HEADER_SIZE:49], body[49:]
    chain_key = old_chain_key
    for _ in range(50):
        with pytest.raises(AuthenticationError):
            p.aead_decrypt(p.hmac_sha256(chain_key, b"\x01"), nonce, sealed, ALICE_IK + header)
        chain_key = p.hmac_sha256(chain_key, b"\x02")


def test_rotation_gives_an_independent_key() -> None:
    alice, _, rng = alice_and_bob("rotation")
    rotated = alice.rotate(rng)
    assert rotated.key_id != alice.key_id
    assert rotated.iteration == 0 and rotated.group_id == GROUP
    old, new = alice.distribution(), rotated.distribution()
    assert old[25:57] != new[25:57] and old[57:] != new[57:]  # chain and signing key


def test_a_late_joiner_cannot_read_earlier_messages() -> None:
    alice, _, rng = alice_and_bob("late joiner")
    earlier = [alice.encrypt(b"early %d" % i, rng) for i in range(3)]
    given = alice.distribution()
    dave = PeerSenderKey.from_distribution(given, GROUP, ALICE_IK)
    for message in earlier:
        assert_rejected_unchanged(dave, message, PredatesSenderKey)
    assert dave.decrypt(alice.encrypt(b"welcome", rng), NOW) == b"welcome"
    # Dave's chain key only leads forward: none of its keys opens an earlier message.
    chain_key = given[25:57]
    candidates = []
    for _ in range(10):
        mk, chain_key = p.hmac_sha256_pair(chain_key, b"\x01", b"\x02")
        candidates.append(mk)
    for message in earlier:
        body = message[:-64]
        for mk in candidates:
            with pytest.raises(AuthenticationError):
                p.aead_decrypt(mk, body[HEADER_SIZE:49], body[49:], ALICE_IK + body[:HEADER_SIZE])


# --- Ordering: out of order, duplicates, forward bound, skipped-key store ------------------------


def test_every_order_of_five_messages_decrypts_and_replays_are_rejected() -> None:
    alice, _, rng = alice_and_bob("permutations")
    dist = alice.distribution()
    messages = [alice.encrypt(b"m%d" % i, rng) for i in range(5)]
    for order in itertools.permutations(range(5)):
        bob = PeerSenderKey.from_distribution(dist, GROUP, ALICE_IK)
        for i in order:
            assert bob.decrypt(messages[i], NOW) == b"m%d" % i
        assert bob.skipped_count == 0
        for message in messages:
            assert_rejected_unchanged(bob, message, DuplicateMessage)


def test_replay_rejected_after_save_and_restore() -> None:
    alice, bob, rng = alice_and_bob("replay")
    messages = [alice.encrypt(b"m%d" % i, rng) for i in range(4)]
    for i in (0, 3, 1):
        bob.decrypt(messages[i], NOW)
    bob = PeerSenderKey.restore(bob.save())
    for i in (0, 3, 1):
        assert_rejected_unchanged(bob, messages[i], DuplicateMessage)
    assert bob.decrypt(messages[2], NOW) == b"m2"


def test_forward_jump_bound_is_exact() -> None:
    alice, bob, rng = alice_and_bob("forward bound")
    messages = [alice.encrypt(b"%d" % i, rng) for i in range(MAX_FORWARD + 2)]
    # Iteration MAX_FORWARD + 1 would skip MAX_FORWARD + 1 keys: rejected, nothing stored.
    assert_rejected_unchanged(bob, messages[MAX_FORWARD + 1], TooManySkipped)
    assert bob.skipped_count == 0
    # Iteration MAX_FORWARD skips exactly MAX_FORWARD keys: accepted.
    assert bob.decrypt(messages[MAX_FORWARD], NOW) == b"%d" % MAX_FORWARD
    assert bob.skipped_count == MAX_FORWARD
    assert bob.decrypt(messages[0], NOW) == b"0"
    assert bob.decrypt(messages[MAX_FORWARD - 1], NOW) == b"%d" % (MAX_FORWARD - 1)
    assert bob.skipped_count == MAX_FORWARD - 2


def test_skipped_key_store_is_capped_and_drops_the_oldest() -> None:
    alice, bob, rng = alice_and_bob("cap")
    messages = [alice.encrypt(b"%d" % i, rng) for i in range(2 * MAX_FORWARD + 2)]
    bob.decrypt(messages[MAX_FORWARD], NOW)  # skips 0 .. MAX_FORWARD - 1
    bob.decrypt(messages[2 * MAX_FORWARD + 1], NOW)  # skips MAX_FORWARD + 1 .. 2 * MAX_FORWARD
    assert bob.skipped_count == MAX_SKIPPED_KEYS
    assert_rejected_unchanged(bob, messages[0], DuplicateMessage)  # dropped: oldest first
    assert bob.decrypt(messages[MAX_FORWARD + 1], NOW) == b"%d" % (MAX_FORWARD + 1)
    assert bob.skipped_count == MAX_SKIPPED_KEYS - 1


def test_skipped_keys_expire() -> None:
    alice, bob, rng = alice_and_bob("expiry")
    messages = [alice.encrypt(b"%d" % i, rng) for i in range(4)]
    bob.decrypt(messages[2], NOW)  # skips 0 and 1, which expire at NOW + SKIPPED_KEY_TTL
    assert bob.decrypt(messages[0], NOW + SKIPPED_KEY_TTL - 1) == b"0"
    assert_rejected_unchanged(bob, messages[1], ExpiredKey, now=NOW + SKIPPED_KEY_TTL)
    assert bob.skipped_count == 1
    # A later success purges the expired key; the message then counts as gone.
    assert bob.decrypt(messages[3], NOW + SKIPPED_KEY_TTL) == b"3"
    assert bob.skipped_count == 0
    assert_rejected_unchanged(bob, messages[1], DuplicateMessage, now=NOW + SKIPPED_KEY_TTL)


# --- Tampering and malformed input --------------------------------------------------------------


def test_every_bit_flip_and_truncation_is_rejected_without_state_change() -> None:
    alice, bob, rng = alice_and_bob("tamper")
    bob.decrypt(alice.encrypt(b"first", rng), NOW)
    message = alice.encrypt(b"tamper with me", rng)
    before = bob.save()
    for position in range(len(message)):
        for bit in range(8):
            flipped = bytearray(message)
            flipped[position] ^= 1 << bit
            with pytest.raises(CryptoError):
                bob.decrypt(bytes(flipped), NOW)
    for length in range(len(message)):
        with pytest.raises(CryptoError):
            bob.decrypt(message[:length], NOW)
    with pytest.raises(CryptoError):
        bob.decrypt(message + b"\x00", NOW)
    assert bob.save() == before
    assert bob.decrypt(message, NOW) == b"tamper with me"


def test_messages_for_another_group_or_key_id_are_told_apart() -> None:
    alice, bob, rng = alice_and_bob("mismatch")
    other_group = OwnSenderKey.create(OTHER_GROUP, ALICE_IK, rng)
    with pytest.raises(SenderKeyMismatch, match="another group"):
        bob.decrypt(other_group.encrypt(b"x", rng), NOW)
    with pytest.raises(SenderKeyMismatch, match="key id"):
        bob.decrypt(alice.rotate(rng).encrypt(b"x", rng), NOW)


def test_malformed_distributions_are_rejected() -> None:
    alice, _, _ = alice_and_bob("distribution")
    dist = alice.distribution()
    with pytest.raises(SenderKeyMismatch):
        PeerSenderKey.from_distribution(dist, OTHER_GROUP, ALICE_IK)
    with pytest.raises(DecodeError):
        PeerSenderKey.from_distribution(dist[:-1], GROUP, ALICE_IK)
    with pytest.raises(UnsupportedVersion):
        PeerSenderKey.from_distribution(b"\x02" + dist[1:], GROUP, ALICE_IK)
    with pytest.raises(DecodeError):  # a small-order signing key
        PeerSenderKey.from_distribution(dist[:57] + bytes(32), GROUP, ALICE_IK)
    with pytest.raises(DecodeError):  # an iteration no message can carry
        PeerSenderKey.from_distribution(dist[:21] + b"\xff" * 4 + dist[25:], GROUP, ALICE_IK)
    with pytest.raises(DecodeError):
        PeerSenderKey.from_distribution(dist, GROUP[:15], ALICE_IK)
    with pytest.raises(DecodeError):
        OwnSenderKey.create(GROUP, ALICE_IK[:31], DeterministicRandom("x"))


def test_a_used_up_sender_key_must_be_rotated() -> None:
    alice, _, rng = alice_and_bob("exhausted")
    saved = alice.save()
    last = OwnSenderKey.restore(saved[:54] + struct.pack(">I", MAX_ITERATION) + saved[58:])
    bob = PeerSenderKey.from_distribution(last.distribution(), GROUP, ALICE_IK)
    assert bob.decrypt(last.encrypt(b"last one", rng), NOW) == b"last one"
    with pytest.raises(SenderKeyExhausted):
        last.encrypt(b"one too many", rng)
    with pytest.raises(DecodeError):  # its distribution is refused too
        PeerSenderKey.from_distribution(last.distribution(), GROUP, ALICE_IK)
    assert bob.iteration == MAX_ITERATION + 1
    assert PeerSenderKey.restore(bob.save()).save() == bob.save()


# --- Saved state ---------------------------------------------------------------------------------


def test_saving_and_restoring_at_every_step_changes_nothing() -> None:
    order = [0, 3, 1, 2, 7, 4, 6, 5, 8, 9]
    outputs = []
    for restore_each_step in (False, True):
        rng = DeterministicRandom("save every step")
        alice = OwnSenderKey.create(GROUP, ALICE_IK, rng)
        bob = PeerSenderKey.from_distribution(alice.distribution(), GROUP, ALICE_IK)
        messages = []
        for i in range(10):
            messages.append(alice.encrypt(b"m%d" % i, rng))
            if restore_each_step:
                alice = OwnSenderKey.restore(alice.save())
        seen = []
        for i in order:
            seen.append(bob.decrypt(messages[i], NOW + i))
            if restore_each_step:
                bob = PeerSenderKey.restore(bob.save())
        outputs.append((messages, seen, alice.save(), bob.save()))
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda s: s[:-1],
        lambda s: s + b"\x00",
        lambda s: b"\x02" + s[1:],  # an own state is not a peer state
        lambda s: s[:1] + b"\x09" + s[2:],  # a version from the future
    ],
)
def test_corrupt_peer_states_are_rejected(corrupt: Callable[[bytes], bytes]) -> None:
    with pytest.raises(DecodeError):
        PeerSenderKey.restore(corrupt(KAT_PEER_STATE))


def test_peer_state_invariants_are_checked_on_restore() -> None:
    # The one stored skipped key is iteration 0; claim iteration 5 instead (>= next expected).
    offset = 2 + 16 + 32 + 4 + 32 + 4 + 4 + 32 + 4
    bad = KAT_PEER_STATE[:offset] + struct.pack(">I", 5) + KAT_PEER_STATE[offset + 4 :]
    with pytest.raises(StateError):
        PeerSenderKey.restore(bad)


# --- Fuzzing -----------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_decrypt_raises_only_typed_errors(data: bytes) -> None:
    bob = PeerSenderKey.from_distribution(KAT_DISTRIBUTION, GROUP, ALICE_IK)
    for candidate in (data, KAT_MESSAGE_0[:25] + data, KAT_MESSAGE_0[:-64] + data[:64]):
        with pytest.raises(CryptoError):
            bob.decrypt(candidate, NOW)
    assert bob.iteration == 0 and bob.skipped_count == 0


@FUZZ
@given(st.integers(0, len(KAT_MESSAGE_0) - 1), st.integers(1, 255))
def test_fuzz_mutated_messages_change_nothing(position: int, xor: int) -> None:
    bob = PeerSenderKey.from_distribution(KAT_DISTRIBUTION, GROUP, ALICE_IK)
    mutated = bytearray(KAT_MESSAGE_0)
    mutated[position] ^= xor
    assert_rejected_unchanged(bob, bytes(mutated), CryptoError)


@FUZZ
@given(st.binary(max_size=120))
def test_fuzz_distribution_and_header_decoders(data: bytes) -> None:
    for candidate in (data, KAT_DISTRIBUTION[:17] + data):
        with contextlib.suppress(CryptoError):
            PeerSenderKey.from_distribution(candidate, GROUP, ALICE_IK)
        with contextlib.suppress(DecodeError):
            read_header(candidate)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_state_decoders_raise_only_decode_errors(data: bytes) -> None:
    for candidate in (data, KAT_PEER_STATE[:2] + data, KAT_OWN_STATE[:2] + data):
        for restore in (PeerSenderKey.restore, OwnSenderKey.restore):
            with contextlib.suppress(DecodeError):
                restore(candidate)


def test_rotation_never_reuses_the_current_key_id() -> None:
    alice, _, rng = alice_and_bob("key id collision")
    replies = [struct.pack(">I", alice.key_id)]  # the first draw collides with the current id

    def colliding(n: int) -> bytes:
        return replies.pop() if replies and n == 4 else rng(n)

    assert alice.rotate(colliding).key_id != alice.key_id
    assert not replies
