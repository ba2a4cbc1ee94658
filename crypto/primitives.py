"""The only module that touches libsodium (through PyNaCl); HMAC and HKDF come from the stdlib.

Every primitive the protocol uses is here, with fixed sizes and typed errors, so the rest of
``crypto`` never sees a PyNaCl exception. Randomness is injected as a ``Random`` callable
(``system_random`` in production, a seeded generator in tests).

Key material is plain ``bytes``: CPython cannot reliably zero immutable objects, so the
protocol modules drop references to keys as soon as they are used (see docs/THREAT_MODEL.md).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Final

import nacl.bindings as _sodium
import nacl.exceptions as _nacl_exc

from crypto.errors import AuthenticationError, BadSignature, DecodeError, LowOrderKey

Random = Callable[[int], bytes]
"""A source of uniformly random bytes: ``random(n)`` returns exactly ``n`` bytes."""

KEY_SIZE: Final = 32
"""Size of X25519 and Ed25519 public keys, X25519 private keys, chain and message keys."""
SIGNATURE_SIZE: Final = 64
"""Size of an Ed25519 signature."""
ED25519_SECRET_SIZE: Final = 64
"""Size of an Ed25519 secret key in libsodium's form (seed ‖ public key)."""
AEAD_NONCE_SIZE: Final = 24
"""XChaCha20-Poly1305-IETF nonce size."""
AEAD_TAG_SIZE: Final = 16
"""Poly1305 tag size."""
SEAL_OVERHEAD: Final = 48
"""Bytes ``crypto_box_seal`` adds: an ephemeral public key (32) and a tag (16)."""
HASH_SIZE: Final = 32
"""SHA-256 output size."""


def system_random(n: int) -> bytes:
    """Return ``n`` bytes from libsodium's CSPRNG (the production ``Random``)."""
    return _sodium.randombytes(n)


def _require(value: bytes, size: int, what: str) -> None:
    if type(value) is not bytes or len(value) != size:
        raise DecodeError(f"{what} must be {size} bytes")


# --- X25519 -----------------------------------------------------------------------------------


def x25519_keypair(random: Random) -> tuple[bytes, bytes]:
    """Generate an X25519 key pair from 32 random bytes; returns ``(private, public)``."""
    private = random(KEY_SIZE)
    return private, _sodium.crypto_scalarmult_base(private)


def x25519_public(private: bytes) -> bytes:
    """Return the X25519 public key of ``private``."""
    return _sodium.crypto_scalarmult_base(private)


def x25519(private: bytes, public: bytes) -> bytes:
    """Diffie-Hellman: the 32-byte shared secret of ``private`` and the peer's ``public``.

    Raises:
        DecodeError: ``public`` is not 32 bytes.
        LowOrderKey: ``public`` is a low-order point (libsodium rejects an all-zero result).
    """
    if len(public) != KEY_SIZE:
        raise DecodeError("an X25519 public key must be 32 bytes")
    try:
        return _sodium.crypto_scalarmult(private, public)
    except _nacl_exc.RuntimeError:
        raise LowOrderKey("the peer's Diffie-Hellman key is a low-order point") from None


# --- Ed25519 ----------------------------------------------------------------------------------


def ed25519_keypair(random: Random) -> tuple[bytes, bytes]:
    """Generate an Ed25519 key pair; returns ``(secret, public)`` with a 64-byte secret."""
    public, secret = _sodium.crypto_sign_seed_keypair(random(KEY_SIZE))
    return secret, public


def ed25519_public(secret: bytes) -> bytes:
    """Return the public key of a 64-byte Ed25519 secret key."""
    return _sodium.crypto_sign_ed25519_sk_to_pk(secret)


def ed25519_sign(secret: bytes, message: bytes) -> bytes:
    """Return the 64-byte Ed25519 signature of ``message`` under ``secret``."""
    return _sodium.crypto_sign(message, secret)[:SIGNATURE_SIZE]


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature.

    Raises:
        BadSignature: the signature is malformed or does not verify under ``public``.
    """
    if len(signature) != SIGNATURE_SIZE or len(public) != KEY_SIZE:
        raise BadSignature("the signature or the key has the wrong length")
    try:
        _sodium.crypto_sign_open(signature + message, public)
    except (_nacl_exc.BadSignatureError, _nacl_exc.ValueError, _nacl_exc.TypeError):
        raise BadSignature("the signature does not verify") from None


def ed25519_public_to_x25519(public: bytes) -> bytes:
    """Convert an Ed25519 public key to its X25519 form (libsodium's birational map).

    Cached: it is a pure function of public data, and a client converts the same few contacts'
    keys for every envelope it seals.

    Raises:
        DecodeError: ``public`` is not 32 bytes or not a valid Ed25519 point (e.g. of small
            order).
    """
    if len(public) != KEY_SIZE:
        raise DecodeError("an Ed25519 public key must be 32 bytes")
    return _ed25519_public_to_x25519(bytes(public))


@functools.lru_cache(maxsize=4096)
def _ed25519_public_to_x25519(public: bytes) -> bytes:
    try:
        return _sodium.crypto_sign_ed25519_pk_to_curve25519(public)
    except (_nacl_exc.RuntimeError, _nacl_exc.ValueError, _nacl_exc.TypeError):
        raise DecodeError("the Ed25519 public key is not a valid point") from None


def ed25519_secret_to_x25519(secret: bytes) -> bytes:
    """Convert a 64-byte Ed25519 secret key to its X25519 private key."""
    return _sodium.crypto_sign_ed25519_sk_to_curve25519(secret)


# --- AEAD: XChaCha20-Poly1305-IETF ------------------------------------------------------------


def aead_encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt and authenticate; returns ``ciphertext ‖ tag`` (no nonce)."""
    return _sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, associated_data, nonce, key
    )


def aead_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
    """Verify and decrypt ``ciphertext ‖ tag``.

    Raises:
        AuthenticationError: the tag does not verify (tampered data, wrong key, nonce or AD).
    """
    if len(ciphertext) < AEAD_TAG_SIZE:
        raise AuthenticationError("the message is shorter than its authentication tag")
    try:
        return _sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            ciphertext, associated_data, nonce, key
        )
    except (_nacl_exc.CryptoError, _nacl_exc.ValueError, _nacl_exc.TypeError):
        raise AuthenticationError("the message could not be authenticated") from None


# --- Sealed boxes -----------------------------------------------------------------------------


def seal(recipient_public: bytes, plaintext: bytes) -> bytes:
    """Anonymously encrypt to an X25519 public key (``crypto_box_seal``).

    ``crypto_box_seal`` draws its ephemeral key from libsodium's own CSPRNG; it is the one
    primitive whose randomness cannot be injected, so sealed outputs are not reproducible.
    """
    return _sodium.crypto_box_seal(plaintext, recipient_public)


def seal_open(recipient_public: bytes, recipient_private: bytes, sealed: bytes) -> bytes:
    """Open a sealed box.

    Raises:
        AuthenticationError: the box is malformed, tampered with, or for another key.
    """
    if len(sealed) < SEAL_OVERHEAD:
        raise AuthenticationError("the sealed box is too short")
    try:
        return _sodium.crypto_box_seal_open(sealed, recipient_public, recipient_private)
    except (_nacl_exc.CryptoError, _nacl_exc.ValueError, _nacl_exc.TypeError):
        raise AuthenticationError("the sealed box could not be opened") from None


# --- HMAC and HKDF (stdlib) -------------------------------------------------------------------


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104)."""
    return hmac.digest(key, data, "sha256")


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869): extract with ``salt``, then expand to ``length`` bytes.

    An empty ``salt`` means HashLen zero bytes (RFC 5869 section 2.2).

    Raises:
        ValueError: ``length`` exceeds 255 * 32 bytes.
    """
    if not 0 <= length <= 255 * HASH_SIZE:
        raise ValueError("HKDF-SHA256 output length must be at most 8160 bytes")
    prk = hmac.digest(salt or bytes(HASH_SIZE), ikm, "sha256")
    okm = b""
    block = b""
    counter = 1
    while len(okm) < length:
        block = hmac.digest(prk, block + info + bytes((counter,)), "sha256")
        okm += block
        counter += 1
    return okm[:length]


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of where they differ."""
    return hmac.compare_digest(a, b)


# --- Hashing and padding (libsodium) ----------------------------------------------------------

SHA512_SIZE: Final = 64
"""SHA-512 output size."""


def sha512(data: bytes) -> bytes:
    """SHA-512 (FIPS 180-4) through libsodium's ``crypto_hash_sha512``."""
    return _sodium.crypto_hash_sha512(data)


def iso7816_pad(data: bytes, block_size: int) -> bytes:
    """Pad to the next multiple of ``block_size`` with ISO/IEC 7816-4 (0x80, then zeros).

    At least one byte is always added, so ``len(data) == block_size`` gives two blocks.

    Raises:
        ValueError: ``block_size`` is not positive.
    """
    if block_size <= 0:
        raise ValueError("the padding block size must be positive")
    return _sodium.sodium_pad(data, block_size)


def iso7816_unpad(padded: bytes, block_size: int) -> bytes:
    """Remove ISO/IEC 7816-4 padding (libsodium's constant-time ``sodium_unpad``).

    Raises:
        DecodeError: the data is empty, not a multiple of ``block_size``, or its last block
            does not end in 0x80 followed by zeros.
    """
    if block_size <= 0 or not padded or len(padded) % block_size:
        raise DecodeError("the padded data has an invalid length")
    try:
        return _sodium.sodium_unpad(padded, block_size)
    except (_nacl_exc.CryptoError, _nacl_exc.ValueError, _nacl_exc.TypeError):
        raise DecodeError("the padding is malformed") from None


def hmac_sha256_pair(key: bytes, first: bytes, second: bytes) -> tuple[bytes, bytes]:
    """Return ``(HMAC-SHA256(key, first), HMAC-SHA256(key, second))``: one KDF chain step.

    Both MACs come from the standard library's HMAC; the project does not hand-write HMAC,
    even though sharing the padded-key blocks would save about 2 µs a step.
    """
    return hmac.digest(key, first, "sha256"), hmac.digest(key, second, "sha256")


# Sanity: the sizes above are libsodium's own.
if (
    _sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES != AEAD_NONCE_SIZE
    or _sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES != AEAD_TAG_SIZE
    or _sodium.crypto_sign_BYTES != SIGNATURE_SIZE
):  # pragma: no cover - would mean an incompatible libsodium
    raise ImportError("libsodium constants differ from the protocol's")
