"""crypto.x3dh: agreement, key checks, prekey store, and strict wire formats.

Section numbers refer to the Signal X3DH specification (revision 1, 2016-11-04): 2.2 the KDF
input (32 0xFF bytes first), 3.2 publishing and verifying prekey bundles, 3.3 the initial
message, 3.4 the responder's side (delete the one-time prekey), 4.5 the signed prekey's
rotation, 4.7 key checks. Parameters are Sourdine's normative ones.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import primitives as p
from crypto.errors import (
    AuthenticationError,
    BadSignature,
    CryptoError,
    DecodeError,
    LowOrderKey,
    PrekeyAlreadyUsed,
    StateError,
    UnknownPrekey,
    UnsupportedVersion,
)
from crypto.state import StateKind, frame
from crypto.x3dh import (
    SIGNED_PREKEY_GRACE,
    Identity,
    InitialMessage,
    PrekeyBundle,
    PrekeyStore,
    accept_session,
    initiate,
    respond,
    start_session,
)
from tests.crypto.kat.sessions import NOW, unchanged
from tests.support.drbg import DeterministicRandom
from tests.support.mutation import EDITS, mutate

_P = 2**255 - 19
X25519_LOW_ORDER = {  # libsodium's blocklist; every one also with the ignored top bit set
    "zero (order 4)": bytes(32),
    "one (order 1)": (1).to_bytes(32, "little"),
    "order 8 (a)": bytes.fromhex(
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"
    ),
    "order 8 (b)": bytes.fromhex(
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"
    ),
    "p - 1 (order 2)": (_P - 1).to_bytes(32, "little"),
    "p (= 0)": _P.to_bytes(32, "little"),
    "p + 1 (= 1)": (_P + 1).to_bytes(32, "little"),
}
X25519_LOW_ORDER_POINTS = [
    pytest.param(bytes(v[:31]) + bytes((v[31] | top,)), id=f"{k}{' top' if top else ''}")
    for k, v in X25519_LOW_ORDER.items()
    for top in (0, 0x80)
]
ED25519_SMALL_ORDER = [
    pytest.param(bytes.fromhex(h), id=name)
    for name, h in [
        ("identity", "01" + "00" * 31),
        ("order 2", "ec" + "ff" * 30 + "7f"),
        ("order 4", "00" * 32),
        ("order 4 (neg)", "00" * 31 + "80"),
        ("order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        ("order 8 (neg)", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    ]
]
FUZZ = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class Parties:
    """Alice's identity and Bob's identity with a prekey store holding two one-time prekeys."""

    def __init__(self, seed: str) -> None:
        self.random = DeterministicRandom(seed)
        self.alice = Identity.generate(self.random)
        self.bob = Identity.generate(self.random)
        self.store = PrekeyStore.create(self.bob, self.random, NOW)
        created = self.store.generate_one_time_prekeys(2, self.random)
        self.opk_ids = [key_id for key_id, _ in created]

    def bundle(self, with_opk: bool = True) -> PrekeyBundle:
        return self.store.bundle(self.bob.public, self.opk_ids[0] if with_opk else None)


def _first_message(parties: Parties, bundle: PrekeyBundle, text: bytes = b"hi") -> bytes:
    agreement, state = start_session(parties.alice, bundle, parties.random)
    return agreement.initial_message(state.encrypt(text, parties.random)).to_bytes()


# --- agreement (sections 2.2, 3.3, 3.4) -----------------------------------------------------


@pytest.mark.parametrize("with_opk", [True, False])
def test_both_sides_derive_the_same_secret_and_associated_data(with_opk: bool) -> None:
    parties = Parties(f"agree-{with_opk}")
    alice_side = initiate(parties.alice, parties.bundle(with_opk), parties.random)
    message = alice_side.initial_message(bytes(80))
    with unchanged(parties.store):  # respond() alone consumes nothing
        bob_side = respond(parties.bob, parties.store, message)
    assert bob_side.shared_secret == alice_side.shared_secret
    assert bob_side.associated_data == alice_side.associated_data
    assert alice_side.associated_data == parties.alice.public + parties.bob.public
    assert bob_side.signed_prekey_public == parties.store.current_signed_prekey.public
    assert bob_side.one_time_prekey_id == (parties.opk_ids[0] if with_opk else None)


@pytest.mark.parametrize("with_opk", [True, False])
def test_secret_is_the_normative_hkdf_of_the_dh_outputs(with_opk: bool) -> None:
    """SK = HKDF(32 0xFF ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4], salt 32 zeros, "Sourdine X3DH v1", 32)."""
    parties = Parties(f"formula-{with_opk}")
    bundle = parties.bundle(with_opk)
    ek_random = DeterministicRandom("formula-ek")
    agreement = initiate(parties.alice, bundle, ek_random)
    ek_private = DeterministicRandom("formula-ek")(32)
    assert agreement.ephemeral_key == p.x25519_public(ek_private)
    ik_a = p.ed25519_secret_to_x25519(parties.alice.secret)
    ik_b = p.ed25519_public_to_x25519(parties.bob.public)
    dh = [
        p.x25519(ik_a, bundle.signed_prekey),
        p.x25519(ek_private, ik_b),
        p.x25519(ek_private, bundle.signed_prekey),
    ]
    if with_opk:
        assert bundle.one_time_prekey is not None
        dh.append(p.x25519(ek_private, bundle.one_time_prekey))
    expected = p.hkdf_sha256(b"\xff" * 32 + b"".join(dh), bytes(32), b"Sourdine X3DH v1", 32)
    assert agreement.shared_secret == expected


def test_sessions_with_and_without_one_time_prekey_differ() -> None:
    parties = Parties("opk-differs")
    one = initiate(parties.alice, parties.bundle(True), DeterministicRandom("same-ek"))
    two = initiate(parties.alice, parties.bundle(False), DeterministicRandom("same-ek"))
    assert one.shared_secret != two.shared_secret


def test_a_session_starts_and_answers() -> None:
    parties = Parties("session")
    agreement, alice = start_session(parties.alice, parties.bundle(), parties.random)
    first = agreement.initial_message(alice.encrypt(b"hello Bob", parties.random))
    wire = first.to_bytes()
    bob, plaintext = accept_session(parties.bob, parties.store, InitialMessage.from_bytes(wire),
                                    NOW)
    assert plaintext == b"hello Bob"
    assert [key_id for key_id, _ in parties.store.one_time_prekeys] == parties.opk_ids[1:]
    assert not alice.has_received
    assert alice.decrypt(bob.encrypt(b"hello Alice", parties.random), NOW) == b"hello Alice"
    assert alice.has_received


# --- bundle verification and key checks (sections 3.2, 4.7) ----------------------------------


def test_bad_signed_prekey_signatures_are_rejected() -> None:
    parties = Parties("bad-sig")
    good = parties.bundle()
    mallory = Identity.generate(parties.random)
    other_spk = p.x25519_keypair(parties.random)[1]
    forged = [
        # signed by someone else
        PrekeyBundle(good.identity_key, good.signed_prekey_id, good.signed_prekey,
                     p.ed25519_sign(mallory.secret, good.signed_prekey)),
        # a different key under the real signature (a relay swapping the prekey)
        PrekeyBundle(good.identity_key, good.signed_prekey_id, other_spk,
                     good.signed_prekey_signature),
        # the right signer, but someone else's identity key in the bundle
        PrekeyBundle(mallory.public, good.signed_prekey_id, good.signed_prekey,
                     good.signed_prekey_signature),
    ]
    for bit in range(p.SIGNATURE_SIZE * 8):
        signature = bytearray(good.signed_prekey_signature)
        signature[bit // 8] ^= 1 << (bit % 8)
        forged.append(PrekeyBundle(good.identity_key, good.signed_prekey_id, good.signed_prekey,
                                   bytes(signature)))
    for bundle in forged:
        with pytest.raises(BadSignature):
            initiate(parties.alice, bundle, parties.random)


@pytest.mark.parametrize("point", X25519_LOW_ORDER_POINTS)
def test_low_order_signed_prekey_is_rejected_even_when_signed(point: bytes) -> None:
    parties = Parties("low-spk")
    bundle = PrekeyBundle(parties.bob.public, 7, point, p.ed25519_sign(parties.bob.secret, point))
    with pytest.raises(LowOrderKey):
        initiate(parties.alice, bundle, parties.random)


@pytest.mark.parametrize("point", X25519_LOW_ORDER_POINTS)
def test_low_order_one_time_prekey_is_rejected(point: bytes) -> None:
    parties = Parties("low-opk")
    good = parties.bundle(False)
    bundle = PrekeyBundle(good.identity_key, good.signed_prekey_id, good.signed_prekey,
                          good.signed_prekey_signature, 9, point)
    with pytest.raises(LowOrderKey):
        initiate(parties.alice, bundle, parties.random)


@pytest.mark.parametrize("point", X25519_LOW_ORDER_POINTS)
def test_low_order_ephemeral_key_is_rejected_without_state_change(point: bytes) -> None:
    parties = Parties("low-ek")
    genuine = InitialMessage.from_bytes(_first_message(parties, parties.bundle()))
    forged = InitialMessage(genuine.identity_key, point, genuine.signed_prekey_id,
                            genuine.one_time_prekey_id, genuine.ratchet_message)
    with unchanged(parties.store), pytest.raises(LowOrderKey):
        accept_session(parties.bob, parties.store, forged, NOW)


@pytest.mark.parametrize("point", ED25519_SMALL_ORDER)
def test_small_order_identity_keys_are_rejected(point: bytes) -> None:
    parties = Parties("low-ik")
    genuine = InitialMessage.from_bytes(_first_message(parties, parties.bundle()))
    forged = InitialMessage(point, genuine.ephemeral_key, genuine.signed_prekey_id,
                            genuine.one_time_prekey_id, genuine.ratchet_message)
    with unchanged(parties.store), pytest.raises(DecodeError):
        accept_session(parties.bob, parties.store, forged, NOW)
    spk = parties.store.current_signed_prekey
    bundle = PrekeyBundle(point, spk.id, spk.public, spk.signature)
    with pytest.raises(CryptoError):  # the signature cannot verify under such a key
        initiate(parties.alice, bundle, parties.random)


# --- the responder's prekeys (sections 3.4, 4.5) ---------------------------------------------


def test_unknown_and_reused_prekeys_are_rejected_without_state_change() -> None:
    parties = Parties("prekey-ids")
    genuine = InitialMessage.from_bytes(_first_message(parties, parties.bundle()))

    def variant(spk_id: int, opk_id: int | None) -> InitialMessage:
        return InitialMessage(genuine.identity_key, genuine.ephemeral_key, spk_id, opk_id,
                              genuine.ratchet_message)

    for message, error in [
        (variant(genuine.signed_prekey_id + 1, genuine.one_time_prekey_id), UnknownPrekey),
        (variant(genuine.signed_prekey_id, 1000), UnknownPrekey),
        (variant(genuine.signed_prekey_id, 0), UnknownPrekey),
    ]:
        with unchanged(parties.store), pytest.raises(error):
            accept_session(parties.bob, parties.store, message, NOW)
    accept_session(parties.bob, parties.store, genuine, NOW)
    with unchanged(parties.store), pytest.raises(PrekeyAlreadyUsed):
        accept_session(parties.bob, parties.store, genuine, NOW)
    with pytest.raises(PrekeyAlreadyUsed):
        parties.store.consume_one_time_prekey(parties.opk_ids[0])


def test_one_time_prekey_survives_a_forged_first_message() -> None:
    parties = Parties("forged-first")
    wire = bytearray(_first_message(parties, parties.bundle()))
    wire[-1] ^= 1  # the ratchet message's tag
    with unchanged(parties.store), pytest.raises(AuthenticationError):
        accept_session(parties.bob, parties.store, InitialMessage.from_bytes(bytes(wire)), NOW)
    wire[-1] ^= 1
    _, plaintext = accept_session(parties.bob, parties.store,
                                  InitialMessage.from_bytes(bytes(wire)), NOW)
    assert plaintext == b"hi"


def test_a_message_for_another_identity_does_not_authenticate() -> None:
    parties, other = Parties("for-bob"), Parties("for-someone-else")
    message = InitialMessage.from_bytes(_first_message(parties, parties.bundle(False)))
    carol_store = PrekeyStore.create(other.bob, other.random, NOW)  # same ids, other keys
    with unchanged(carol_store), pytest.raises(AuthenticationError):
        accept_session(other.bob, carol_store, message, NOW)


def test_initial_messages_in_any_order_use_one_session() -> None:
    """Alice sends three messages before hearing back; the first arrives last. Bob sets the
    session up from whichever comes first and routes the others to it by (IK_A, EK_A)."""
    parties = Parties("first-last")
    agreement, alice = start_session(parties.alice, parties.bundle(), parties.random)
    wires = [agreement.initial_message(alice.encrypt(b"m%d" % i, parties.random)).to_bytes()
             for i in range(3)]
    sessions = {}
    received = []
    for wire in reversed(wires):
        message = InitialMessage.from_bytes(wire)
        key = (message.identity_key, message.ephemeral_key)
        if key in sessions:
            received.append(sessions[key].decrypt(message.ratchet_message, NOW))
        else:
            sessions[key], plaintext = accept_session(parties.bob, parties.store, message, NOW)
            received.append(plaintext)
            with pytest.raises(PrekeyAlreadyUsed):  # why routing is needed
                accept_session(parties.bob, parties.store, message, NOW)
    assert received == [b"m2", b"m1", b"m0"]


def test_signed_prekey_rotation_keeps_the_previous_key_for_the_grace_period() -> None:
    parties = Parties("rotation")
    old_bundle = parties.bundle(False)
    new = parties.store.rotate_signed_prekey(parties.bob, parties.random, NOW + 10)
    assert new.id == old_bundle.signed_prekey_id + 1
    assert parties.store.current_signed_prekey == new
    assert parties.bundle(False).signed_prekey == new.public
    p.ed25519_verify(parties.bob.public, new.public, new.signature)
    message = InitialMessage.from_bytes(_first_message(parties, old_bundle))
    accept_session(parties.bob, parties.store, message, NOW + 20)  # still in its grace period
    parties.store.forget_retired_signed_prekeys(NOW + 10 + SIGNED_PREKEY_GRACE - 1)
    assert len(parties.store.signed_prekeys) == 2
    parties.store.rotate_signed_prekey(parties.bob, parties.random, NOW + 10 + SIGNED_PREKEY_GRACE)
    assert [key.id for key in parties.store.signed_prekeys] == [new.id, new.id + 1]
    with unchanged(parties.store), pytest.raises(UnknownPrekey):
        respond(parties.bob, parties.store, message)


def test_one_time_prekey_ids_are_never_reissued() -> None:
    parties = Parties("ids")
    more = parties.store.generate_one_time_prekeys(3, parties.random)
    assert [key_id for key_id, _ in more] == [3, 4, 5]
    parties.store.consume_one_time_prekey(4)
    restored = PrekeyStore.from_bytes(parties.store.to_bytes())
    assert [key_id for key_id, _ in restored.one_time_prekeys] == [1, 2, 3, 5]
    assert restored.generate_one_time_prekeys(1, parties.random)[0][0] == 6
    with pytest.raises(ValueError):
        restored.generate_one_time_prekeys(-1, parties.random)
    with pytest.raises(UnknownPrekey):
        restored.bundle(parties.bob.public, 4)


# --- saved states ----------------------------------------------------------------------------


def test_identity_round_trip_and_tamper_check() -> None:
    identity = Identity.generate(DeterministicRandom("identity"))
    saved = identity.to_bytes()
    assert saved[:2] == bytes((StateKind.IDENTITY, 1)) and len(saved) == 66
    assert Identity.from_bytes(saved) == identity
    assert "secret" not in repr(identity)  # keys never end up in logs through repr()
    tampered = bytearray(saved)
    tampered[-1] ^= 1  # the public half no longer matches the seed
    with pytest.raises(StateError):
        Identity.from_bytes(bytes(tampered))


def test_prekey_store_round_trip() -> None:
    parties = Parties("store")
    parties.store.rotate_signed_prekey(parties.bob, parties.random, NOW + 5)
    saved = parties.store.to_bytes()
    restored = PrekeyStore.from_bytes(saved)
    assert restored.to_bytes() == saved
    assert restored.signed_prekeys == parties.store.signed_prekeys
    assert restored.one_time_prekeys == parties.store.one_time_prekeys


def test_prekey_store_with_no_current_key_is_refused() -> None:
    body = struct.pack(">QQI", 1, 1, 0) + struct.pack(">I", 0)
    with pytest.raises(StateError):
        PrekeyStore.from_bytes(frame(StateKind.PREKEYS, 1, body))


# --- wire formats ----------------------------------------------------------------------------


def test_bundle_layout() -> None:
    parties = Parties("bundle-layout")
    bundle = parties.bundle()
    wire = bundle.to_bytes()
    spk = parties.store.current_signed_prekey
    assert bundle.one_time_prekey is not None and bundle.one_time_prekey_id is not None
    assert wire == (
        b"\x01" + parties.bob.public + struct.pack(">I", spk.id) + spk.public + spk.signature
        + b"\x01" + struct.pack(">I", bundle.one_time_prekey_id) + bundle.one_time_prekey
    )
    assert PrekeyBundle.from_bytes(wire) == bundle
    short = parties.bundle(False).to_bytes()
    assert short == wire[: 1 + 32 + 4 + 32 + 64] + b"\x00"
    assert PrekeyBundle.from_bytes(short) == parties.bundle(False)


def test_bundle_decoder_is_strict() -> None:
    parties = Parties("bundle-strict")
    for wire in (parties.bundle().to_bytes(), parties.bundle(False).to_bytes()):
        for cut in range(len(wire)):
            with pytest.raises(DecodeError):
                PrekeyBundle.from_bytes(wire[:cut])
        with pytest.raises(DecodeError):
            PrekeyBundle.from_bytes(wire + b"\x00")
        with pytest.raises(UnsupportedVersion):
            PrekeyBundle.from_bytes(b"\x02" + wire[1:])
    long, short = parties.bundle().to_bytes(), parties.bundle(False).to_bytes()
    with pytest.raises(DecodeError):  # flag says no OPK, but one follows
        PrekeyBundle.from_bytes(long[:133] + b"\x00" + long[134:])
    with pytest.raises(DecodeError):  # flag says OPK, none follows
        PrekeyBundle.from_bytes(short[:-1] + b"\x01")
    with pytest.raises(DecodeError):
        PrekeyBundle.from_bytes(short[:-1] + b"\x02")
    with pytest.raises(DecodeError):
        PrekeyBundle.from_bytes("text")  # type: ignore[arg-type]


def test_initial_message_layout_and_strict_decoder() -> None:
    ik, ek, ratchet = bytes(range(32)), bytes(range(32, 64)), bytes(range(80))
    with_opk = InitialMessage(ik, ek, 5, 9, ratchet)
    assert with_opk.to_bytes() == b"\x01" + ik + ek + b"\0\0\0\x05" + b"\x01\0\0\0\x09" + ratchet
    without = InitialMessage(ik, ek, 5, None, ratchet)
    assert without.to_bytes() == b"\x01" + ik + ek + b"\0\0\0\x05" + b"\x00" + ratchet
    for message in (with_opk, without):
        wire = message.to_bytes()
        assert InitialMessage.from_bytes(wire) == message
        for cut in range(len(wire)):
            with pytest.raises(DecodeError):
                InitialMessage.from_bytes(wire[:cut])
        with pytest.raises(UnsupportedVersion):
            InitialMessage.from_bytes(b"\x02" + wire[1:])
    with pytest.raises(DecodeError):
        InitialMessage.from_bytes(b"\x01" + ik + ek + b"\0\0\0\x05" + b"\x02" + ratchet)
    with pytest.raises(DecodeError):
        InitialMessage(ik, ek, 5, None, ratchet[:79]).to_bytes()


# --- fuzzing: arbitrary bytes only raise the decoders' own typed errors ------------------------


def _valid_encodings() -> list[bytes]:
    parties = Parties("fuzz")
    return [
        parties.bundle().to_bytes(),
        parties.bundle(False).to_bytes(),
        _first_message(parties, parties.bundle()),
        parties.alice.to_bytes(),
        parties.store.to_bytes(),
    ]


VALID = _valid_encodings()
DECODERS = [PrekeyBundle.from_bytes, InitialMessage.from_bytes, Identity.from_bytes,
            PrekeyStore.from_bytes]


def _decode_all(data: bytes) -> None:
    for decode in DECODERS:
        try:
            decoded = decode(data)
        except DecodeError:
            continue
        assert decoded.to_bytes() == data  # whatever decodes, encodes back to the same bytes


@FUZZ
@given(st.binary(max_size=400))
def test_decoders_on_arbitrary_bytes(data: bytes) -> None:
    _decode_all(data)


@FUZZ
@given(
    st.sampled_from(VALID),
    EDITS,
    st.integers(-3, 3),
)
def test_decoders_on_mutated_valid_encodings(
    valid: bytes, edits: list[tuple[int, int]], resize: int
) -> None:
    _decode_all(mutate(valid, edits, resize))
