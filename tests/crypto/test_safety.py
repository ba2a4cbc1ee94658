"""crypto.safety: safety numbers and their QR payload."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import CryptoError, DecodeError, SafetyNumberMismatch, UnsupportedVersion
from crypto.safety import QR_PAYLOAD_SIZE, SafetyNumber, safety_number, verify_scanned

ALICE = bytes(range(32))
BOB = bytes(range(32, 64))
MALLORY = bytes(range(64, 96))

KAT_DIGITS = "391411497524418485859527190724668804790337287827788589513929"
KAT_QR = bytes.fromhex(
    "0160493c26459ee8e8f8ff1203b859222ea2700f69237b63d407c9399805a47d173e693841c0cde07df95f"
    "5f2d14e567ccef2190da52630c8fc732fbc5dfe95a5a"
)
ALICE_BOB = safety_number(ALICE, BOB)


def reference_fingerprint(identity: bytes) -> tuple[str, bytes]:
    """The construction in crypto/safety.py's docstring, written independently."""
    h = b"Sourdine safety number v1\x00" + identity
    for _ in range(5200):
        h = hashlib.sha512(h + identity).digest()
    chunks = [int.from_bytes(h[i : i + 5], "big") % 100000 for i in range(0, 30, 5)]
    return "".join(str(c).zfill(5) for c in chunks), h[:32]


def test_known_answer() -> None:
    assert ALICE_BOB.digits == KAT_DIGITS
    assert ALICE_BOB.qr_payload == KAT_QR
    assert str(ALICE_BOB) == (
        "39141 14975 24418 48585 95271 90724 66880 47903 37287 82778 85895 13929"
    )
    assert len(ALICE_BOB.groups()) == 12


def test_matches_the_documented_construction() -> None:
    first, second = sorted((reference_fingerprint(ALICE), reference_fingerprint(BOB)))
    assert ALICE_BOB.digits == first[0] + second[0]
    assert ALICE_BOB.qr_payload == b"\x01" + first[1] + second[1]
    assert len(KAT_QR) == QR_PAYLOAD_SIZE


def test_both_sides_see_the_same_number_and_accept_each_others_code() -> None:
    bobs_view = safety_number(BOB, ALICE)
    assert bobs_view == ALICE_BOB
    verify_scanned(ALICE_BOB, bobs_view.qr_payload)
    verify_scanned(bobs_view, ALICE_BOB.qr_payload)


def test_the_number_changes_when_either_key_changes() -> None:
    mallory_in_the_middle = safety_number(ALICE, MALLORY)
    other_alice = safety_number(MALLORY, BOB)
    digits = {ALICE_BOB.digits, mallory_in_the_middle.digits, other_alice.digits}
    assert len(digits) == 3
    # Only Alice's half survives when Bob's key is replaced (and vice versa).
    alice_half = reference_fingerprint(ALICE)[0]
    assert alice_half in mallory_in_the_middle.digits
    assert reference_fingerprint(BOB)[0] not in mallory_in_the_middle.digits
    with pytest.raises(SafetyNumberMismatch):
        verify_scanned(ALICE_BOB, mallory_in_the_middle.qr_payload)
    with pytest.raises(SafetyNumberMismatch):
        verify_scanned(ALICE_BOB, other_alice.qr_payload)


def test_a_one_bit_change_in_the_scanned_code_is_a_mismatch() -> None:
    for position in range(1, QR_PAYLOAD_SIZE):
        tampered = bytearray(KAT_QR)
        tampered[position] ^= 0x01
        with pytest.raises(SafetyNumberMismatch):
            verify_scanned(ALICE_BOB, bytes(tampered))


def test_malformed_codes_get_typed_errors() -> None:
    with pytest.raises(DecodeError):
        verify_scanned(ALICE_BOB, KAT_QR[:-1])
    with pytest.raises(DecodeError):
        verify_scanned(ALICE_BOB, KAT_QR + b"\x00")
    with pytest.raises(UnsupportedVersion):
        verify_scanned(ALICE_BOB, b"\x02" + KAT_QR[1:])
    with pytest.raises(DecodeError):
        safety_number(ALICE[:31], BOB)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100))
def test_fuzz_scanned_codes(data: bytes) -> None:
    expected = SafetyNumber(KAT_DIGITS, KAT_QR)
    for candidate in (data, b"\x01" + data[:64].ljust(64, b"\x00")):
        if candidate == KAT_QR:
            verify_scanned(expected, candidate)
        else:
            with pytest.raises(CryptoError):
                verify_scanned(expected, candidate)
