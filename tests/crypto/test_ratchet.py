"""crypto.ratchet: delivery order, replays, tampering, skip limits and expiry.

Section numbers refer to the Signal Double Ratchet specification (revision 1, 2016-11-20):
3.2 state and MAX_SKIP, 3.4 encryption, 3.5 decryption with skipped message keys, 5.2
recommended cryptographic algorithms (here Sourdine's normative parameters).
"""

from __future__ import annotations

import itertools
import struct

import pytest

from crypto.errors import (
    AuthenticationError,
    CryptoError,
    DecodeError,
    DuplicateMessage,
    ExpiredKey,
    LowOrderKey,
    SendingChainUnavailable,
    TooManySkipped,
)
from crypto.primitives import (
    aead_decrypt,
    hmac_sha256,
    x25519,
    x25519_keypair,
    x25519_public,
)
from crypto.ratchet import (
    MIN_MESSAGE_SIZE,
    RatchetConfig,
    RatchetState,
    kdf_rk,
)
from tests.crypto.kat.sessions import NOW, Pair, make_pair, restored, unchanged
from tests.support.drbg import DeterministicRandom

HEADER, NONCE = 40, 24


def test_config_defaults_are_the_protocol_limits() -> None:
    config = RatchetConfig()
    assert (config.max_skip, config.max_skipped_keys) == (1000, 2000)
    assert config.skipped_key_ttl == 30 * 24 * 3600  # beyond the relay's 14-day TTL
    with pytest.raises(ValueError):
        RatchetConfig(max_skip=0)
    with pytest.raises(ValueError):
        RatchetConfig(max_skip=10, max_skipped_keys=5)


# --- section 3.4 / 5.2: the wire format --------------------------------------------------------


def test_wire_format_and_kdfs_follow_the_normative_parameters() -> None:
    """Alice's first DH step against SPK_B (3.3), KDF_RK (HKDF, info "Sourdine ratchet v1"),
    KDF_CK (HMAC 0x01 / 0x02), header DHs ‖ PN ‖ N, and ENCRYPT with AD
    u32be(len(AD)) ‖ AD ‖ header (3.4, 5.2), all re-derived by hand."""
    shared_secret, associated_data = bytes(range(32)), b"A" * 32 + b"B" * 32
    spk_private, spk_public = x25519_keypair(DeterministicRandom("wire/spk"))
    state = RatchetState.initiator(
        shared_secret, associated_data, spk_public, DeterministicRandom("wire/alice")
    )
    sent = [state.encrypt(b"first", DeterministicRandom("unused")), b""]
    sent[1] = state.encrypt(b"second", DeterministicRandom("wire/nonce"))

    by_hand = DeterministicRandom("wire/alice")
    ratchet_private = by_hand(32)
    _, chain_key = kdf_rk(shared_secret, x25519(ratchet_private, spk_public))
    for number, (message, plaintext) in enumerate(zip(sent, (b"first", b"second"), strict=True)):
        header = x25519_public(ratchet_private) + struct.pack(">II", 0, number)
        assert message[:HEADER] == header
        assert len(message) == HEADER + NONCE + len(plaintext) + 16
        message_key = hmac_sha256(chain_key, b"\x01")
        chain_key = hmac_sha256(chain_key, b"\x02")
        aad = struct.pack(">I", 64) + associated_data + header
        nonce = message[HEADER : HEADER + NONCE]
        assert aead_decrypt(message_key, nonce, message[HEADER + NONCE :], aad) == plaintext
    assert sent[1][HEADER : HEADER + NONCE] == DeterministicRandom("wire/nonce")(NONCE)
    # And Bob, whose first ratchet key pair is SPK_B, reads both.
    bob = RatchetState.responder(shared_secret, associated_data, spk_private, spk_public)
    assert [bob.decrypt(m, NOW) for m in sent] == [b"first", b"second"]


def test_responder_cannot_send_first() -> None:
    from crypto.x3dh import Identity, PrekeyStore, initiate, respond

    rng = DeterministicRandom("bob-first")
    alice, bob = Identity.generate(rng), Identity.generate(rng)
    store = PrekeyStore.create(bob, rng, NOW)
    agreement = initiate(alice, store.bundle(bob.public), rng)
    answer = respond(bob, store, agreement.initial_message(bytes(MIN_MESSAGE_SIZE)))
    state = RatchetState.responder(
        answer.shared_secret, answer.associated_data, answer.signed_prekey_private,
        answer.signed_prekey_public,
    )
    with unchanged(state), pytest.raises(SendingChainUnavailable):
        state.encrypt(b"too early", rng)


# --- section 3.5: out-of-order delivery ---------------------------------------------------------


@pytest.mark.parametrize("size", [4, 5])
def test_every_permutation_of_one_chain_decrypts(size: int) -> None:
    pair = make_pair(f"perm-{size}")
    messages = [pair.a2b(b"m%d" % i) for i in range(size)]
    saved = pair.bob.to_bytes()
    for order in itertools.permutations(range(size)):
        bob = RatchetState.from_bytes(saved)
        assert [bob.decrypt(messages[i], NOW) for i in order] == [b"m%d" % i for i in order]
        assert bob.skipped_key_count == 0


def test_every_permutation_across_a_ratchet_step() -> None:
    """a1 belongs to Alice's previous chain, a2 and a3 to her next one: Bob must use PN to
    keep a1's key when a2 or a3 comes first."""
    pair = make_pair("perm-step")
    a1 = pair.a2b(b"a1")
    pair.alice.decrypt(pair.b2a(b"b0"), NOW)  # Bob replies to "hello"; Alice steps
    a2, a3 = pair.a2b(b"a2"), pair.a2b(b"a3")
    messages = {b"a1": a1, b"a2": a2, b"a3": a3}
    saved = pair.bob.to_bytes()
    for order in itertools.permutations(messages):
        bob = RatchetState.from_bytes(saved)
        assert [bob.decrypt(messages[name], NOW) for name in order] == list(order)
        assert bob.skipped_key_count == 0


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_message_delayed_across_ratchet_steps(steps: int) -> None:
    pair = make_pair(f"delay-{steps}")
    late = pair.a2b(b"late")
    for i in range(steps):  # full round trips while "late" is in flight
        pair.alice.decrypt(pair.b2a(b"b%d" % i), NOW)
        assert pair.bob.decrypt(pair.a2b(b"a%d" % i), NOW) == b"a%d" % i
    assert pair.bob.skipped_key_count == 1
    assert pair.bob.decrypt(late, NOW) == b"late"
    assert pair.bob.skipped_key_count == 0


def test_reverse_order_with_the_chain_opener_last() -> None:
    pair = make_pair("first-last")
    bob_msgs = [pair.b2a(b"b%d" % i) for i in range(4)]
    for m, i in zip(reversed(bob_msgs), reversed(range(4)), strict=True):
        assert pair.alice.decrypt(m, NOW) == b"b%d" % i


# --- replay: section 3.5 deletes used keys ------------------------------------------------------


def _conversation(pair: Pair) -> tuple[list[bytes], list[bytes]]:
    """A short conversation with reordering; returns what Alice and Bob each received."""
    to_bob, to_alice = [], []
    a = [pair.a2b(b"a%d" % i) for i in range(3)]
    for m in (a[2], a[0], a[1]):
        pair.bob.decrypt(m, NOW)
    to_bob += a
    b = [pair.b2a(b"b%d" % i) for i in range(3)]
    for m in (b[1], b[2], b[0]):
        pair.alice.decrypt(m, NOW)
    to_alice += b
    a = [pair.a2b(b"c%d" % i) for i in range(2)]
    for m in a:
        pair.bob.decrypt(m, NOW)
    to_bob += a
    b = [pair.b2a(b"d0")]
    pair.alice.decrypt(b[0], NOW)
    to_alice += b
    return to_bob, to_alice


@pytest.mark.parametrize("save_restore", [False, True])
def test_replay_of_every_message_is_rejected_without_state_change(save_restore: bool) -> None:
    pair = make_pair("replay")
    to_bob, to_alice = _conversation(pair)
    alice = restored(pair.alice) if save_restore else pair.alice
    bob = restored(pair.bob) if save_restore else pair.bob
    for state, received in ((bob, to_bob), (alice, to_alice)):
        for message in received:
            with unchanged(state), pytest.raises(DuplicateMessage):
                state.decrypt(message, NOW)
    # And the session still works afterwards.
    assert bob.decrypt(alice.encrypt(b"still", pair.alice_random), NOW) == b"still"


def test_replay_older_than_remembered_chains_is_still_rejected() -> None:
    config = RatchetConfig(remembered_chains=1)
    pair = make_pair("old-replay", config)
    old = pair.a2b(b"old")
    assert pair.bob.decrypt(old, NOW) == b"old"
    for i in range(3):
        pair.alice.decrypt(pair.b2a(b"b%d" % i), NOW)
        pair.bob.decrypt(pair.a2b(b"a%d" % i), NOW)
    with unchanged(pair.bob), pytest.raises(AuthenticationError):
        pair.bob.decrypt(old, NOW)


# --- tampering: every bit and every truncation ----------------------------------------------


def _assert_every_corruption_rejected(state: RatchetState, message: bytes) -> None:
    for bit in range(len(message) * 8):
        corrupt = bytearray(message)
        corrupt[bit // 8] ^= 1 << (bit % 8)
        with unchanged(state), pytest.raises(CryptoError) as caught:
            state.decrypt(bytes(corrupt), NOW)
        if bit // 8 >= HEADER:  # nonce, ciphertext or tag
            assert type(caught.value) is AuthenticationError
        else:
            assert isinstance(
                caught.value, AuthenticationError | DuplicateMessage | TooManySkipped | LowOrderKey
            )
    for cut in range(len(message)):
        expected = DecodeError if cut < MIN_MESSAGE_SIZE else AuthenticationError
        with unchanged(state), pytest.raises(expected):
            state.decrypt(message[:cut], NOW)  # tag, then ciphertext, nonce, header cut off
        with unchanged(state), pytest.raises(CryptoError):
            state.decrypt(message[len(message) - cut :], NOW)  # the front cut off
    assert state.decrypt(message, NOW) == b"intact"


def test_every_bit_flip_and_truncation_of_a_same_chain_message_is_rejected() -> None:
    pair = make_pair("flip-same")
    message = pair.a2b(b"intact")
    _assert_every_corruption_rejected(pair.bob, message)


def test_every_bit_flip_and_truncation_of_a_new_chain_message_is_rejected() -> None:
    pair = make_pair("flip-new")
    message = pair.b2a(b"intact")  # Bob's first message: a DH step at Alice
    _assert_every_corruption_rejected(pair.alice, message)


def test_every_bit_flip_of_a_delayed_message_is_rejected() -> None:
    pair = make_pair("flip-skipped")
    delayed = pair.a2b(b"intact")
    pair.bob.decrypt(pair.a2b(b"later"), NOW)
    assert pair.bob.skipped_key_count == 1
    _assert_every_corruption_rejected(pair.bob, delayed)


def test_non_bytes_message_is_a_decode_error() -> None:
    pair = make_pair("types")
    with unchanged(pair.bob), pytest.raises(DecodeError):
        pair.bob.decrypt("text", NOW)  # type: ignore[arg-type]
    assert pair.bob.decrypt(bytearray(pair.a2b(b"ok")), NOW) == b"ok"
    pair.bob.encrypt(b"", pair.bob_random)  # Bob's sending half-step is now done
    with unchanged(pair.alice, pair.bob), pytest.raises(DecodeError):
        pair.bob.encrypt("text", pair.bob_random)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "point",
    [bytes(32), (1).to_bytes(32, "little"), bytes.fromhex(
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")],
)
def test_low_order_ratchet_key_in_a_header_is_rejected(point: bytes) -> None:
    pair = make_pair("low-order-header")
    message = pair.b2a(b"x")
    forged = point + message[32:]
    with unchanged(pair.alice), pytest.raises(LowOrderKey):
        pair.alice.decrypt(forged, NOW)


def test_a_message_for_another_session_is_rejected() -> None:
    one, other = make_pair("session-1"), make_pair("session-2")
    with unchanged(other.bob), pytest.raises(AuthenticationError):
        other.bob.decrypt(one.a2b(b"not yours"), NOW)


# --- section 3.2 MAX_SKIP, the total cap, and expiry -------------------------------------------


def test_max_skip_boundary_in_the_current_chain() -> None:
    pair = make_pair("skip-current")
    messages = [pair.a2b(b"%d" % i) for i in range(1003)]
    bob = pair.bob
    assert bob.decrypt(messages[0], NOW) == b"0"
    with unchanged(bob), pytest.raises(TooManySkipped):
        bob.decrypt(messages[1002], NOW)  # would skip 1..1001: 1001 keys
    assert bob.decrypt(messages[1001], NOW) == b"1001"  # skips exactly 1000
    assert bob.skipped_key_count == 1000
    assert bob.decrypt(messages[1], NOW) == b"1"
    assert bob.decrypt(messages[1002], NOW) == b"1002"


def test_max_skip_boundary_in_a_new_chain() -> None:
    for count, accepted in ((1001, True), (1002, False)):
        pair = make_pair("skip-new")
        messages = [pair.b2a(b"%d" % i) for i in range(count)]
        last = messages[-1]  # N = count - 1 keys skipped before it
        if accepted:
            assert pair.alice.decrypt(last, NOW) == b"%d" % (count - 1)
            assert pair.alice.skipped_key_count == 1000
        else:
            with unchanged(pair.alice), pytest.raises(TooManySkipped):
                pair.alice.decrypt(last, NOW)


@pytest.mark.parametrize(("sent_in_old_chain", "accepted"), [(1001, True), (1002, False)])
def test_max_skip_boundary_for_the_previous_chain_length(
    sent_in_old_chain: int, accepted: bool
) -> None:
    """Alice received b0 only; Bob sent ``sent_in_old_chain`` messages in that chain before
    stepping, so PN tells Alice to skip PN - 1 keys of it."""
    pair = make_pair("skip-pn")
    old_chain = [pair.b2a(b"old%d" % i) for i in range(sent_in_old_chain)]
    assert pair.alice.decrypt(old_chain[0], NOW) == b"old0"
    assert pair.bob.decrypt(pair.a2b(b"step"), NOW) == b"step"
    new_chain = pair.b2a(b"new")
    assert struct.unpack(">I", new_chain[32:36])[0] == sent_in_old_chain  # PN
    if accepted:
        assert pair.alice.decrypt(new_chain, NOW) == b"new"
        assert pair.alice.skipped_key_count == 1000
        assert pair.alice.decrypt(old_chain[-1], NOW) == b"old1000"
    else:
        with unchanged(pair.alice), pytest.raises(TooManySkipped):
            pair.alice.decrypt(new_chain, NOW)


def test_one_message_may_skip_the_full_cap_across_two_chains() -> None:
    pair = make_pair("skip-both")
    old_chain = [pair.b2a(b"old%d" % i) for i in range(1001)]
    pair.alice.decrypt(old_chain[0], NOW)
    pair.bob.decrypt(pair.a2b(b"step"), NOW)
    new_chain = [pair.b2a(b"new%d" % i) for i in range(1001)]
    assert pair.alice.decrypt(new_chain[-1], NOW) == b"new1000"
    assert pair.alice.skipped_key_count == 2000
    assert pair.alice.decrypt(old_chain[1], NOW) == b"old1"
    assert pair.alice.decrypt(new_chain[0], NOW) == b"new0"


def test_stored_skipped_keys_never_exceed_the_cap_and_oldest_go_first() -> None:
    pair = make_pair("cap")
    lost: list[bytes] = []
    kept: list[bytes] = []
    for round_number in range(4):  # each round leaves 700 skipped keys in Bob's chain
        chain = [pair.a2b(b"r%d-%d" % (round_number, i)) for i in range(701)]
        pair.bob.decrypt(chain[-1], NOW + round_number)
        assert pair.bob.skipped_key_count <= 2000
        # 700 keys per round: round 0 and the 100 oldest of round 1 get evicted.
        (lost if round_number == 0 else kept).append(chain[0] if round_number == 0 else chain[-2])
        pair.alice.decrypt(pair.b2a(b"step"), NOW)  # next round uses a new chain
    assert pair.bob.skipped_key_count == 2000
    with unchanged(pair.bob), pytest.raises(DuplicateMessage):
        pair.bob.decrypt(lost[0], NOW)  # evicted: round 0 was the oldest
    assert [pair.bob.decrypt(m, NOW) for m in kept] == [b"r1-699", b"r2-699", b"r3-699"]


def test_skipped_keys_expire() -> None:
    ttl = 3600
    config = RatchetConfig(skipped_key_ttl=ttl)
    pair = make_pair("expiry", config)
    chain = [pair.a2b(b"%d" % i) for i in range(4)]
    pair.bob.decrypt(chain[3], NOW)  # keys 0, 1, 2 stored at NOW
    assert pair.bob.decrypt(chain[0], NOW + ttl - 1) == b"0"
    with unchanged(pair.bob), pytest.raises(ExpiredKey):
        pair.bob.decrypt(chain[1], NOW + ttl)
    # The next successful decryption deletes the expired keys for good.
    assert pair.bob.decrypt(pair.a2b(b"4"), NOW + ttl) == b"4"
    assert pair.bob.skipped_key_count == 0
    with unchanged(pair.bob), pytest.raises(DuplicateMessage):
        pair.bob.decrypt(chain[2], NOW + ttl)


def test_expire_skipped_keeps_fresh_keys() -> None:
    config = RatchetConfig(skipped_key_ttl=100)
    pair = make_pair("expire-call", config)
    first = [pair.a2b(b"a%d" % i) for i in range(3)]
    pair.bob.decrypt(first[-1], NOW)  # 2 keys at NOW
    second = [pair.a2b(b"b%d" % i) for i in range(3)]
    pair.bob.decrypt(second[-1], NOW + 50)  # 2 more keys at NOW + 50
    pair.bob.expire_skipped(NOW + 100)
    assert pair.bob.skipped_key_count == 2
    assert pair.bob.decrypt(second[0], NOW + 100) == b"b0"
