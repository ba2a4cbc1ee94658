"""crypto.envelope: sealed envelopes (DESIGN.md "Sealed envelope")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import primitives as p
from crypto.envelope import (
    HEADER_SIZE,
    MAX_ENVELOPE_SIZE,
    MAX_PAYLOAD_SIZE,
    Envelope,
    EnvelopeKind,
    open_envelope,
    seal_envelope,
    sealed_size,
)
from crypto.errors import (
    AuthenticationError,
    CryptoError,
    DecodeError,
    PayloadTooLarge,
    UnsupportedVersion,
)
from crypto.padding import BUCKETS, pad
from tests.support.drbg import DeterministicRandom

_rng = DeterministicRandom("envelope identities")
BOB_SECRET, BOB_IK = p.ed25519_keypair(_rng)
CAROL_SECRET, CAROL_IK = p.ed25519_keypair(_rng)
ALICE_IK = p.ed25519_keypair(_rng)[1]
BOB_X25519 = p.ed25519_public_to_x25519(BOB_IK)


def seal_inner(inner: bytes, size: int = 256) -> bytes:
    """Seal an arbitrary (well padded) inner plaintext to Bob, bypassing seal_envelope."""
    return p.seal(BOB_X25519, pad(inner, size - p.SEAL_OVERHEAD))


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_roundtrip_every_kind(kind: EnvelopeKind) -> None:
    sealed = seal_envelope(BOB_IK, ALICE_IK, kind, b"payload")
    assert open_envelope(BOB_SECRET, sealed) == Envelope(ALICE_IK, kind, b"payload")


def test_kinds_are_stable_numbers() -> None:
    assert {k.name: int(k) for k in EnvelopeKind} == {
        "PREKEY_MESSAGE": 1,
        "RATCHET_MESSAGE": 2,
        "SENDER_KEY_DISTRIBUTION": 3,
        "GROUP_MESSAGE": 4,
        "RECEIPT": 5,
    }


def test_inner_layout_is_version_sender_kind_payload_then_padding() -> None:
    sealed = seal_envelope(BOB_IK, ALICE_IK, EnvelopeKind.GROUP_MESSAGE, b"abc")
    inner = p.seal_open(BOB_X25519, p.ed25519_secret_to_x25519(BOB_SECRET), sealed)
    assert inner == b"\x01" + ALICE_IK + b"\x04" + b"abc" + b"\x80" + bytes(256 - 48 - 38)


def test_sealed_sizes_land_exactly_on_buckets() -> None:
    overhead = p.SEAL_OVERHEAD + HEADER_SIZE + 1  # seal, header, at least one padding byte
    for bucket in BUCKETS:
        largest = bucket - overhead
        assert sealed_size(largest) == bucket
        if bucket != BUCKETS[-1]:
            assert sealed_size(largest + 1) == BUCKETS[BUCKETS.index(bucket) + 1]
    assert MAX_ENVELOPE_SIZE - overhead == MAX_PAYLOAD_SIZE
    for length in (0, 1, 150, 256 - overhead, 256 - overhead + 1, 5000, MAX_PAYLOAD_SIZE):
        payload = bytes([7]) * length
        sealed = seal_envelope(BOB_IK, ALICE_IK, EnvelopeKind.RATCHET_MESSAGE, payload)
        assert len(sealed) == sealed_size(length)
        assert len(sealed) in BUCKETS
        assert open_envelope(BOB_SECRET, sealed).payload == payload


def test_an_oversized_payload_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        seal_envelope(BOB_IK, ALICE_IK, EnvelopeKind.GROUP_MESSAGE, bytes(MAX_PAYLOAD_SIZE + 1))


def test_the_wrong_recipient_cannot_open() -> None:
    sealed = seal_envelope(BOB_IK, ALICE_IK, EnvelopeKind.RATCHET_MESSAGE, b"for Bob")
    with pytest.raises(AuthenticationError):
        open_envelope(CAROL_SECRET, sealed)


def test_every_bit_flip_and_truncation_is_rejected() -> None:
    sealed = seal_envelope(BOB_IK, ALICE_IK, EnvelopeKind.RATCHET_MESSAGE, b"do not touch")
    assert len(sealed) == 256
    for position in range(len(sealed)):
        for bit in range(8):
            flipped = bytearray(sealed)
            flipped[position] ^= 1 << bit
            with pytest.raises(AuthenticationError):
                open_envelope(BOB_SECRET, bytes(flipped))
    for length in range(len(sealed)):
        with pytest.raises(DecodeError):  # not a bucket size
            open_envelope(BOB_SECRET, sealed[:length])


@pytest.mark.parametrize(
    ("inner", "error", "message"),
    [
        (b"\x01" + bytes(32), DecodeError, "too short"),
        (b"\x02" + bytes(32) + b"\x01payload", UnsupportedVersion, "version 2"),
        (b"\x01" + bytes(32) + b"\x00payload", DecodeError, "kind 0"),
        (b"\x01" + bytes(32) + b"\xffpayload", DecodeError, "kind 255"),
    ],
)
def test_malformed_inner_plaintexts_get_typed_errors(
    inner: bytes, error: type[CryptoError], message: str
) -> None:
    with pytest.raises(error, match=message):
        open_envelope(BOB_SECRET, seal_inner(inner))


def test_bad_padding_inside_a_valid_seal_is_a_decode_error() -> None:
    unpadded = b"\x01" + ALICE_IK + b"\x02" + bytes(256 - 48 - 34)  # zeros, no 0x80 marker
    with pytest.raises(DecodeError, match="padding"):
        open_envelope(BOB_SECRET, p.seal(BOB_X25519, unpadded))


def test_an_off_bucket_seal_is_rejected_before_opening() -> None:
    inner = pad(b"\x01" + ALICE_IK + b"\x02hi", 300)  # a valid box, but 348 bytes long
    with pytest.raises(DecodeError, match="bucket"):
        open_envelope(BOB_SECRET, p.seal(BOB_X25519, inner))


def test_bad_keys_and_kinds_are_refused_when_sealing() -> None:
    with pytest.raises(DecodeError):
        seal_envelope(BOB_IK, ALICE_IK[:31], EnvelopeKind.RECEIPT, b"")
    with pytest.raises(DecodeError):
        seal_envelope(bytes(32), ALICE_IK, EnvelopeKind.RECEIPT, b"")  # not a valid point
    with pytest.raises(DecodeError):
        seal_envelope(BOB_IK, ALICE_IK, 9, b"")  # type: ignore[arg-type]
    with pytest.raises(DecodeError):
        open_envelope(BOB_SECRET[:32], seal_envelope(BOB_IK, ALICE_IK, EnvelopeKind.RECEIPT, b""))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_opener_with_arbitrary_bytes(data: bytes) -> None:
    with pytest.raises(CryptoError):
        open_envelope(BOB_SECRET, data)
    with pytest.raises(CryptoError):
        open_envelope(BOB_SECRET, data[:256].ljust(256, b"\x00"))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=256 - 48, max_size=256 - 48))
def test_fuzz_opener_with_arbitrary_sealed_plaintexts(inner: bytes) -> None:
    """A validly sealed but arbitrary plaintext opens or raises a DecodeError, nothing else."""
    try:
        envelope = open_envelope(BOB_SECRET, p.seal(BOB_X25519, inner))
    except DecodeError:
        return
    assert len(envelope.sender) == 32
    assert isinstance(envelope.kind, EnvelopeKind)
