"""A literal transcription of the Double Ratchet pseudo-code (Signal specification, sections
3.2-3.5) with Sourdine's parameters, for cross-checking :mod:`crypto.ratchet`.

It has none of the production code's limits, decrypt-on-copy or split DH step, and records
every message key it uses, so tests can check forward secrecy of the real saved states. Only
for honest transcripts: it does not validate anything.
"""

from __future__ import annotations

import struct

from crypto import primitives as p

INFO = b"Sourdine ratchet v1"


def kdf_rk(rk: bytes, dh_out: bytes) -> tuple[bytes, bytes]:
    out = p.hkdf_sha256(dh_out, rk, INFO, 64)
    return out[:32], out[32:]


def kdf_ck(ck: bytes) -> tuple[bytes, bytes]:
    return p.hmac_sha256(ck, b"\x02"), p.hmac_sha256(ck, b"\x01")


class ReferenceRatchet:
    """State variables named as in section 3.2."""

    def __init__(self, associated_data: bytes) -> None:
        self.ad = associated_data
        self.DHs: tuple[bytes, bytes] = (b"", b"")
        self.DHr: bytes | None = None
        self.RK = b""
        self.CKs: bytes | None = None
        self.CKr: bytes | None = None
        self.Ns = self.Nr = self.PN = 0
        self.MKSKIPPED: dict[tuple[bytes, int], bytes] = {}
        self.sent_message_keys: list[bytes] = []  # every key this side encrypted with
        self.used_message_keys: list[bytes] = []  # every key this side decrypted with

    @classmethod
    def init_alice(
        cls, sk: bytes, ad: bytes, bob_dh_public: bytes, random: p.Random
    ) -> ReferenceRatchet:
        state = cls(ad)
        state.DHs = p.x25519_keypair(random)
        state.DHr = bob_dh_public
        state.RK, state.CKs = kdf_rk(sk, p.x25519(state.DHs[0], state.DHr))
        return state

    @classmethod
    def init_bob(
        cls, sk: bytes, ad: bytes, bob_dh_key_pair: tuple[bytes, bytes]
    ) -> ReferenceRatchet:
        state = cls(ad)
        state.DHs = bob_dh_key_pair
        state.RK = sk
        return state

    def _aead_ad(self, header: bytes) -> bytes:
        return struct.pack(">I", len(self.ad)) + self.ad + header

    def encrypt(self, plaintext: bytes, random: p.Random) -> bytes:
        assert self.CKs is not None
        self.CKs, mk = kdf_ck(self.CKs)
        header = self.DHs[1] + struct.pack(">II", self.PN, self.Ns)
        self.Ns += 1
        nonce = random(24)
        self.sent_message_keys.append(mk)
        return header + nonce + p.aead_encrypt(mk, nonce, plaintext, self._aead_ad(header))

    def decrypt(self, message: bytes, random: p.Random) -> bytes:
        header, nonce, ciphertext = message[:40], message[40:64], message[64:]
        dh = header[:32]
        pn, n = struct.unpack(">II", header[32:40])
        mk = self.MKSKIPPED.pop((dh, n), None)
        if mk is None:
            if dh != self.DHr:
                self._skip_message_keys(pn)
                self._dh_ratchet(dh, random)
            self._skip_message_keys(n)
            assert self.CKr is not None
            self.CKr, mk = kdf_ck(self.CKr)
            self.Nr += 1
        self.used_message_keys.append(mk)
        return p.aead_decrypt(mk, nonce, ciphertext, self._aead_ad(header))

    def _skip_message_keys(self, until: int) -> None:
        if self.CKr is not None:
            while self.Nr < until:
                self.CKr, mk = kdf_ck(self.CKr)
                assert self.DHr is not None
                self.MKSKIPPED[(self.DHr, self.Nr)] = mk
                self.Nr += 1

    def _dh_ratchet(self, dh: bytes, random: p.Random) -> None:
        self.PN = self.Ns
        self.Ns = 0
        self.Nr = 0
        self.DHr = dh
        self.RK, self.CKr = kdf_rk(self.RK, p.x25519(self.DHs[0], self.DHr))
        self.DHs = p.x25519_keypair(random)
        self.RK, self.CKs = kdf_rk(self.RK, p.x25519(self.DHs[0], self.DHr))
