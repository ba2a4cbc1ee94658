"""The sealed envelope: the only thing the relay ever holds (DESIGN.md "Sealed envelope").

An envelope is ``crypto_box_seal`` to the recipient's X25519 key (the X25519 form of their
Ed25519 identity key) around a padded plaintext::

    inner  = version u8 (1) ‖ sender identity key (32, Ed25519) ‖ kind u8 ‖ payload
    sealed = seal(recipient X25519 key, pad(inner))      # len(sealed) is one of BUCKETS

Padding (see :mod:`crypto.padding`) makes the whole sealed envelope exactly one bucket long,
so the relay learns the recipient mailbox it deposits into and a bucketed size, not the
sender, the kind or the exact length.

The sender field is a *claim*. Anyone can seal to anyone (sealed boxes are anonymous), so
nothing at this layer proves who wrote the envelope. The inner layer authenticates it: a
ratchet message's associated data contains both identity keys, and a group message is
signed by a sender key bound to that identity. Callers must look up the session or sender
key *by this claimed identity* and treat a failure there as a forgery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from crypto import primitives as _p
from crypto.errors import DecodeError, UnsupportedVersion
from crypto.padding import MAX_BUCKET, bucket_for, is_bucket, pad, unpad

VERSION: Final = 1
"""Version byte of the inner envelope plaintext."""
HEADER_SIZE: Final = 1 + _p.KEY_SIZE + 1
"""Version, sender identity key and kind before the payload (34 bytes)."""
MAX_ENVELOPE_SIZE: Final = MAX_BUCKET
"""Largest sealed envelope (1 MiB); a relay can reject anything bigger or off-bucket."""
MAX_PAYLOAD_SIZE: Final = MAX_BUCKET - _p.SEAL_OVERHEAD - HEADER_SIZE - 1
"""Largest payload that fits (one byte of padding is always added)."""


class EnvelopeKind(IntEnum):
    """What the payload is, so the recipient knows which layer opens it.

    New kinds may be added; an older client rejects an unknown kind with a DecodeError.
    """

    PREKEY_MESSAGE = 1
    """An X3DH initial message carrying the first Double Ratchet message of a session."""
    RATCHET_MESSAGE = 2
    """A Double Ratchet message of an established pairwise session."""
    SENDER_KEY_DISTRIBUTION = 3
    """A ratchet message whose plaintext is a group sender-key distribution."""
    GROUP_MESSAGE = 4
    """A sender-key group message (the same ciphertext is sealed to every member)."""
    RECEIPT = 5
    """A delivery or read receipt (opt-in; never sent while off duty)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """An opened envelope. ``sender`` is claimed, not yet authenticated (see module doc)."""

    sender: bytes
    """The claimed sender's Ed25519 identity public key (32 bytes)."""
    kind: EnvelopeKind
    payload: bytes


def sealed_size(payload_length: int) -> int:
    """The exact size of the sealed envelope for a payload of ``payload_length`` bytes.

    Raises:
        PayloadTooLarge: the payload exceeds :data:`MAX_PAYLOAD_SIZE`.
    """
    return bucket_for(_p.SEAL_OVERHEAD + HEADER_SIZE + payload_length + 1)


def seal_envelope(
    recipient_identity: bytes, sender_identity: bytes, kind: EnvelopeKind, payload: bytes
) -> bytes:
    """Seal ``payload`` for the owner of the Ed25519 key ``recipient_identity``.

    The output is not reproducible: ``crypto_box_seal`` draws its own ephemeral key.

    Raises:
        DecodeError: a key has the wrong size, the recipient key is not a valid point, or
            ``kind`` is not an :class:`EnvelopeKind`.
        PayloadTooLarge: the payload exceeds :data:`MAX_PAYLOAD_SIZE`.
    """
    if type(sender_identity) is not bytes or len(sender_identity) != _p.KEY_SIZE:
        raise DecodeError("the sender identity key must be 32 bytes")
    if not isinstance(kind, EnvelopeKind):
        raise DecodeError(f"{kind!r} is not an envelope kind")
    recipient = _p.ed25519_public_to_x25519(recipient_identity)
    inner = bytes((VERSION,)) + sender_identity + bytes((kind,)) + payload
    size = sealed_size(len(payload))
    return _p.seal(recipient, pad(inner, size - _p.SEAL_OVERHEAD))


def open_envelope(recipient_identity_secret: bytes, sealed: bytes) -> Envelope:
    """Open an envelope with our 64-byte Ed25519 identity secret key.

    Raises:
        DecodeError: the envelope's size is not a bucket, or its padding, length or kind is
            malformed.
        UnsupportedVersion: the inner version byte is unknown.
        AuthenticationError: the envelope is tampered with or sealed to someone else.
    """
    if type(sealed) is not bytes or not is_bucket(len(sealed)):
        raise DecodeError("the envelope's size is not one of the padding buckets")
    if len(recipient_identity_secret) != _p.ED25519_SECRET_SIZE:
        raise DecodeError("the identity secret key must be 64 bytes")
    private = _p.ed25519_secret_to_x25519(recipient_identity_secret)
    public = _p.x25519_public(private)
    inner = unpad(_p.seal_open(public, private, sealed))
    del private
    if len(inner) < HEADER_SIZE:
        raise DecodeError("the envelope is too short for its header")
    if inner[0] != VERSION:
        raise UnsupportedVersion(f"envelope version {inner[0]} is not supported")
    try:
        kind = EnvelopeKind(inner[HEADER_SIZE - 1])
    except ValueError:
        raise DecodeError(f"unknown envelope kind {inner[HEADER_SIZE - 1]}") from None
    return Envelope(inner[1 : 1 + _p.KEY_SIZE], kind, inner[HEADER_SIZE:])
