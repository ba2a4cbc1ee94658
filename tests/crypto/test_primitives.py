"""crypto.primitives: RFC 5869 vectors, RFC 4231 HMAC vector, typed errors on bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import primitives as p
from crypto.errors import AuthenticationError, BadSignature, DecodeError, LowOrderKey
from tests.support.drbg import DeterministicRandom

# RFC 5869, appendix A, test cases 1-3 (SHA-256).
HKDF_VECTORS = [
    (
        bytes([0x0B] * 22),
        bytes(range(0x00, 0x0D)),
        bytes(range(0xF0, 0xFA)),
        42,
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        "34007208d5b887185865",
    ),
    (
        bytes(range(0x00, 0x50)),
        bytes(range(0x60, 0xB0)),
        bytes(range(0xB0, 0x100)),
        82,
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (
        bytes([0x0B] * 22),
        b"",
        b"",
        42,
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        "9d201395faa4b61a96c8",
    ),
]


@pytest.mark.parametrize(("ikm", "salt", "info", "length", "okm"), HKDF_VECTORS)
def test_hkdf_rfc5869_vectors(ikm: bytes, salt: bytes, info: bytes, length: int, okm: str) -> None:
    assert p.hkdf_sha256(ikm, salt, info, length).hex() == okm


def test_hkdf_rejects_oversized_output() -> None:
    with pytest.raises(ValueError):
        p.hkdf_sha256(b"k", b"", b"", 255 * 32 + 1)


def test_hmac_rfc4231_case_2() -> None:
    assert (
        p.hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex()
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_x25519_agreement_and_low_order_rejection() -> None:
    rng = DeterministicRandom("x25519")
    a_priv, a_pub = p.x25519_keypair(rng)
    b_priv, b_pub = p.x25519_keypair(rng)
    assert p.x25519(a_priv, b_pub) == p.x25519(b_priv, a_pub)
    with pytest.raises(LowOrderKey):
        p.x25519(a_priv, bytes(32))
    with pytest.raises(LowOrderKey):  # the order-1 point
        p.x25519(a_priv, (1).to_bytes(32, "little"))
    with pytest.raises(DecodeError):
        p.x25519(a_priv, b_pub[:31])


def test_ed25519_sign_verify_and_conversion() -> None:
    rng = DeterministicRandom("ed25519")
    secret, public = p.ed25519_keypair(rng)
    assert p.ed25519_public(secret) == public
    sig = p.ed25519_sign(secret, b"hello")
    p.ed25519_verify(public, b"hello", sig)
    with pytest.raises(BadSignature):
        p.ed25519_verify(public, b"hellO", sig)
    with pytest.raises(BadSignature):
        p.ed25519_verify(public, b"hello", sig[:-1])
    # The X25519 forms agree with each other.
    x_priv = p.ed25519_secret_to_x25519(secret)
    assert p.x25519_public(x_priv) == p.ed25519_public_to_x25519(public)
    with pytest.raises(DecodeError):
        p.ed25519_public_to_x25519(bytes(32))


def test_aead_roundtrip_and_tamper() -> None:
    key, nonce = bytes(range(32)), bytes(24)
    ct = p.aead_encrypt(key, nonce, b"secret", b"ad")
    assert len(ct) == len(b"secret") + p.AEAD_TAG_SIZE
    assert p.aead_decrypt(key, nonce, ct, b"ad") == b"secret"
    for bad in (ct[:-1], bytes([ct[0] ^ 1]) + ct[1:], b""):
        with pytest.raises(AuthenticationError):
            p.aead_decrypt(key, nonce, bad, b"ad")
    with pytest.raises(AuthenticationError):
        p.aead_decrypt(key, nonce, ct, b"other ad")


def test_seal_roundtrip_and_tamper() -> None:
    priv, pub = p.x25519_keypair(DeterministicRandom("seal"))
    sealed = p.seal(pub, b"payload")
    assert len(sealed) == len(b"payload") + p.SEAL_OVERHEAD
    assert p.seal_open(pub, priv, sealed) == b"payload"
    with pytest.raises(AuthenticationError):
        p.seal_open(pub, priv, sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with pytest.raises(AuthenticationError):
        p.seal_open(pub, priv, b"short")


def test_constant_time_equal() -> None:
    assert p.constant_time_equal(b"abc", b"abc")
    assert not p.constant_time_equal(b"abc", b"abd")


def test_sha512_fips_180_2_abc_vector() -> None:
    # FIPS 180-2, appendix C.1: SHA-512("abc").
    assert p.sha512(b"abc").hex() == (
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    )


def test_iso7816_padding_roundtrip_and_exact_bytes() -> None:
    assert p.iso7816_pad(b"abc", 8) == b"abc\x80\x00\x00\x00\x00"
    assert p.iso7816_pad(b"", 4) == b"\x80\x00\x00\x00"
    assert len(p.iso7816_pad(bytes(8), 8)) == 16  # always at least one padding byte
    for n in range(0, 40):
        data = bytes(range(n))
        assert p.iso7816_unpad(p.iso7816_pad(data, 13), 13) == data


@pytest.mark.parametrize(
    ("padded", "block"),
    [
        (b"", 4),  # empty
        (b"abc\x80\x00", 4),  # not a multiple of the block size
        (b"abc\x00", 4),  # no 0x80 marker
        (b"ab\x80\x01", 4),  # a non-zero byte after the marker
        (b"\x00\x00\x00\x00", 4),  # all zeros
        (b"abcd", 0),  # invalid block size
    ],
)
def test_iso7816_unpad_rejects_malformed_padding(padded: bytes, block: int) -> None:
    with pytest.raises(DecodeError):
        p.iso7816_unpad(padded, block)


def test_iso7816_pad_rejects_invalid_block_size() -> None:
    with pytest.raises(ValueError):
        p.iso7816_pad(b"abc", 0)


def test_hmac_sha256_pair_rfc4231_case_2() -> None:
    mac, other = p.hmac_sha256_pair(b"Jefe", b"what do ya want for nothing?", b"")
    assert mac.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert other == p.hmac_sha256(b"Jefe", b"")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), block=st.integers(min_value=-2, max_value=300))
def test_unpad_fuzz_raises_only_decode_error(data: bytes, block: int) -> None:
    try:
        out = p.iso7816_unpad(data, block)
    except DecodeError:
        return
    assert len(out) < len(data)


_FUZZ_PRIV, _FUZZ_PUB = p.x25519_keypair(DeterministicRandom("fuzz"))


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_opening_arbitrary_bytes_raises_only_authentication_error(data: bytes) -> None:
    with pytest.raises(AuthenticationError):
        p.seal_open(_FUZZ_PUB, _FUZZ_PRIV, data)
    with pytest.raises(AuthenticationError):
        p.aead_decrypt(bytes(32), bytes(24), data, b"")


def test_public_key_conversion_accepts_any_bytes_like_and_keeps_typed_errors() -> None:
    _, public = p.ed25519_keypair(DeterministicRandom("convert"))
    expected = p.ed25519_public_to_x25519(public)
    assert p.ed25519_public_to_x25519(bytearray(public)) == expected  # unhashable input
    for bad in (bytearray(32), bytes(31)):
        with pytest.raises(DecodeError):
            p.ed25519_public_to_x25519(bad)
