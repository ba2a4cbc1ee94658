"""Safety numbers: what two people compare to know no one sits between their identity keys.

Each party's *fingerprint* is an iterated SHA-512 of its Ed25519 identity key (the scheme
of Signal's numeric fingerprints, without a phone number)::

    h = "Sourdine safety number v1" ‖ 0x00 ‖ IK
    repeat 5200 times: h = SHA-512(h ‖ IK)
    fingerprint = h[:32]
    digits      = the first 30 bytes as six 5-byte big-endian integers, each mod 100000,
                  written as 5 decimal digits (30 digits)

The safety number is both parties' 30 digits, the smaller string first, so both sides show
the same 60 digits (12 groups of 5). To impersonate one party, an attacker needs a key whose
30 digits match theirs: about 2^100 candidates, each costing 5200 hashes.

The QR payload is ``version u8 (1) ‖ fingerprint ‖ fingerprint`` in the same order (65
bytes): scanning the other party's screen and calling :func:`verify_scanned` checks both
keys at once, in constant time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from crypto import primitives as _p
from crypto.errors import DecodeError, SafetyNumberMismatch, UnsupportedVersion

VERSION: Final = 1
"""Version byte of the QR payload (and of the fingerprint label)."""
ITERATIONS: Final = 5200
"""SHA-512 iterations per fingerprint."""
FINGERPRINT_SIZE: Final = 32
DIGITS_PER_PARTY: Final = 30
QR_PAYLOAD_SIZE: Final = 1 + 2 * FINGERPRINT_SIZE

_LABEL: Final = b"Sourdine safety number v1\x00"


@dataclass(frozen=True, slots=True)
class SafetyNumber:
    """The safety number of one pair of identities (the same object on both sides)."""

    digits: str
    """60 decimal digits."""
    qr_payload: bytes
    """What to encode in the QR code (65 bytes)."""

    def groups(self) -> tuple[str, ...]:
        """The digits as 12 groups of 5, the way they are shown."""
        return tuple(self.digits[i : i + 5] for i in range(0, len(self.digits), 5))

    def __str__(self) -> str:
        return " ".join(self.groups())


def _fingerprint(identity: bytes) -> tuple[str, bytes]:
    if type(identity) is not bytes or len(identity) != _p.KEY_SIZE:
        raise DecodeError("an identity key must be 32 bytes")
    digest = _LABEL + identity
    for _ in range(ITERATIONS):
        digest = _p.sha512(digest + identity)
    digits = "".join(
        f"{int.from_bytes(digest[i : i + 5], 'big') % 100_000:05d}" for i in range(0, 30, 5)
    )
    return digits, digest[:FINGERPRINT_SIZE]


def safety_number(ours: bytes, theirs: bytes) -> SafetyNumber:
    """The safety number of our and their Ed25519 identity public keys (order-independent).

    Raises:
        DecodeError: a key is not 32 bytes.
    """
    first, second = sorted((_fingerprint(ours), _fingerprint(theirs)))
    return SafetyNumber(first[0] + second[0], bytes((VERSION,)) + first[1] + second[1])


def verify_scanned(expected: SafetyNumber, scanned: bytes) -> None:
    """Check a QR payload scanned from the other party against the one we expect.

    Raises:
        DecodeError: the scanned payload is not a safety-number code.
        UnsupportedVersion: it is a safety-number code of an unknown version.
        SafetyNumberMismatch: it is for another pair of identity keys.
    """
    if type(scanned) is not bytes or len(scanned) != QR_PAYLOAD_SIZE:
        raise DecodeError("the scanned code is not a safety-number code")
    if scanned[0] != VERSION:
        raise UnsupportedVersion(f"safety-number code version {scanned[0]} is not supported")
    if not _p.constant_time_equal(scanned, expected.qr_payload):
        raise SafetyNumberMismatch(
            "the scanned code does not match: the identity keys differ from the expected ones"
        )
