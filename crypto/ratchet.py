"""The Double Ratchet (Signal specification, sections 3 and 5.2) with Sourdine's parameters.

Normative parameters (the design's "Cryptography (normative)" section, protocol version 1):

- KDF_RK(rk, dh_out) = HKDF-SHA256(ikm=dh_out, salt=rk, info=b"Sourdine ratchet v1", 64)
  -> new root key (first 32 bytes) ‖ chain key (last 32).
- KDF_CK(ck): message key = HMAC-SHA256(ck, 0x01), next chain key = HMAC-SHA256(ck, 0x02).
- Header = ratchet public key (32) ‖ PN (u32be) ‖ N (u32be).
- ENCRYPT = XChaCha20-Poly1305-IETF with the message key, a random 24-byte nonce and
  associated data u32be(len(AD)) ‖ AD ‖ header; wire = header ‖ nonce ‖ ciphertext ‖ tag.
- The initiator (Alice) performs the first DH ratchet step against the responder's signed
  prekey; the responder's (Bob's) first ratchet key pair is that signed prekey.

Two deliberate implementation choices, both invisible on the wire:

- The DH ratchet step of section 3.5 is split in its two halves. The receiving half runs in
  :meth:`RatchetState.decrypt`; the sending half (new key pair, new sending chain) runs at the
  next :meth:`RatchetState.encrypt`. No message is sent in between, so the headers, keys and
  ciphertexts are exactly the specification's, and decryption needs no randomness.
- Decryption works on local copies of the few fields it changes and commits them only after
  the AEAD tag verifies (python-doubleratchet's "decrypt on a copy"): a failed decryption, of
  any kind, leaves the state byte-for-byte unchanged.

Skipped message keys (section 3.2, "MAX_SKIP") are bounded per chain (the previous chain's
length PN included), in total (oldest evicted first) and in time (``now`` is passed in).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import islice
from typing import Final

from crypto.errors import (
    AuthenticationError,
    DecodeError,
    DuplicateMessage,
    ExpiredKey,
    SendingChainUnavailable,
    StateError,
    TooManySkipped,
)
from crypto.primitives import (
    AEAD_NONCE_SIZE,
    AEAD_TAG_SIZE,
    KEY_SIZE,
    Random,
    aead_decrypt,
    aead_encrypt,
    hkdf_sha256,
    hmac_sha256_pair,
    x25519,
    x25519_keypair,
)
from crypto.state import Reader, StateKind, frame, unframe

RATCHET_INFO: Final = b"Sourdine ratchet v1"
"""HKDF info string of KDF_RK."""
HEADER_SIZE: Final = KEY_SIZE + 8
"""Ratchet public key (32) ‖ PN (u32be) ‖ N (u32be)."""
MIN_MESSAGE_SIZE: Final = HEADER_SIZE + AEAD_NONCE_SIZE + AEAD_TAG_SIZE
"""The shortest well-formed message: header, nonce and tag around an empty plaintext."""
STATE_VERSION: Final = 1
"""Layout version of :meth:`RatchetState.to_bytes`."""
MAX_ASSOCIATED_DATA: Final = 1024
"""Largest associated data accepted (X3DH gives 64 bytes)."""

_kdf_ck: Final = hmac_sha256_pair
"""KDF_CK(ck) = (HMAC(ck, 0x01), HMAC(ck, 0x02)), both MACs sharing the padded-key blocks."""
_MESSAGE_KEY_CONSTANT: Final = b"\x01"
_CHAIN_KEY_CONSTANT: Final = b"\x02"
_HEADER: Final = struct.Struct(">32sII")
_COUNTERS: Final = struct.Struct(">II")
_U32: Final = struct.Struct(">I")
_U32_MAX: Final = 0xFFFFFFFF
_STATE_HEAD: Final = struct.Struct(">B32s32s32s32s32s32sQQQ")
_SKIPPED_ITEM: Final = struct.Struct(">32sI32sQ")
_ABSENT: Final = bytes(KEY_SIZE)


@dataclass(frozen=True, slots=True)
class RatchetConfig:
    """Limits of one session; defaults are the protocol's (MAX_SKIP and its companions).

    Raises:
        ValueError: a limit is not a positive integer, or one chain's skips could exceed the
            total cap.
    """

    max_skip: int = 1000
    """Most message keys one message may skip in one chain (section 3.2 MAX_SKIP; PN too)."""
    max_skipped_keys: int = 2000
    """Most skipped message keys kept in all; the oldest are evicted beyond it."""
    skipped_key_ttl: int = 30 * 24 * 3600
    """Seconds a skipped message key is kept (longer than the relay's 14-day time-to-live)."""
    remembered_chains: int = 32
    """Previous receiving ratchet keys kept so that replays from them read as duplicates."""

    def __post_init__(self) -> None:
        for name in ("max_skip", "max_skipped_keys", "skipped_key_ttl", "remembered_chains"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"RatchetConfig.{name} must be a positive integer")
        if self.max_skip > self.max_skipped_keys:
            raise ValueError("RatchetConfig.max_skip cannot exceed max_skipped_keys")


DEFAULT_CONFIG: Final = RatchetConfig()


def kdf_rk(root_key: bytes, dh_output: bytes) -> tuple[bytes, bytes]:
    """KDF_RK (section 3.1 and 5.2): returns ``(new root key, new chain key)``."""
    out = hkdf_sha256(dh_output, root_key, RATCHET_INFO, 2 * KEY_SIZE)
    return out[:KEY_SIZE], out[KEY_SIZE:]


def _check_key(value: bytes, what: str) -> bytes:
    if type(value) is not bytes or len(value) != KEY_SIZE:
        raise DecodeError(f"{what} must be {KEY_SIZE} bytes")
    return value


def _ad_prefix(associated_data: bytes) -> bytes:
    if type(associated_data) is not bytes or len(associated_data) > MAX_ASSOCIATED_DATA:
        raise DecodeError(f"the associated data must be at most {MAX_ASSOCIATED_DATA} bytes")
    return _U32.pack(len(associated_data)) + associated_data


_Skipped = list[tuple[bytes, int, bytes]]
"""Message keys derived while skipping, as ``(ratchet key, message number, message key)``."""


def _skip(chain_key: bytes, start: int, until: int, ratchet_key: bytes, out: _Skipped) -> bytes:
    """Derive the message keys ``start .. until-1`` of a chain into ``out``; return its new CK."""
    for number in range(start, until):
        message_key, chain_key = _kdf_ck(chain_key, _MESSAGE_KEY_CONSTANT, _CHAIN_KEY_CONSTANT)
        out.append((ratchet_key, number, message_key))
    return chain_key


class RatchetState:
    """One party's Double Ratchet session state (section 3.2 "State variables").

    Create it with :meth:`initiator` or :meth:`responder` from an X3DH agreement, or restore
    it with :meth:`from_bytes`. Not thread-safe; one object per session.
    """

    __slots__ = (
        "_ad_prefix",
        "_ckr",
        "_cks",
        "_config",
        "_dhr",
        "_dhs_private",
        "_dhs_public",
        "_nr",
        "_ns",
        "_pending_step",
        "_pn",
        "_previous",
        "_rk",
        "_skipped",
    )

    def __init__(
        self,
        config: RatchetConfig,
        associated_data: bytes,
        dhs: tuple[bytes, bytes],
        dhr: bytes | None,
        root_key: bytes,
    ) -> None:
        self._config = config  # the limits; never changes
        self._ad_prefix = _ad_prefix(associated_data)  # u32be(len(AD)) ‖ AD
        self._dhs_private, self._dhs_public = dhs  # our current ratchet key pair (DHs)
        self._dhr: bytes | None = dhr  # the peer's current ratchet key (DHr); None until heard
        self._rk = root_key  # root key (RK)
        self._cks: bytes | None = None  # sending chain key (CKs); None until we may send
        self._ckr: bytes | None = None  # receiving chain key (CKr); None until we received
        self._ns = 0  # messages sent in the sending chain (Ns); <= 2**32 - 1
        self._nr = 0  # next message number expected in the receiving chain (Nr)
        self._pn = 0  # messages in our previous sending chain (PN); <= 2**32 - 1
        self._pending_step = False  # a new DHr arrived: the sending half-step is still due
        self._previous: list[bytes] = []  # former DHr values, oldest first, bounded by config
        # (DHr, N) -> (message key, time stored); insertion order is age order
        self._skipped: dict[tuple[bytes, int], tuple[bytes, int]] = {}

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def initiator(
        cls,
        shared_secret: bytes,
        associated_data: bytes,
        peer_signed_prekey: bytes,
        random: Random,
        config: RatchetConfig = DEFAULT_CONFIG,
    ) -> RatchetState:
        """Alice's state (section 3.3 RatchetInitAlice): a first DH step against SPK_B.

        Raises:
            DecodeError: a key has the wrong size or the associated data is too long.
            LowOrderKey: ``peer_signed_prekey`` is a low-order point.
        """
        _check_key(shared_secret, "the shared secret")
        _check_key(peer_signed_prekey, "the signed prekey")
        private, public = x25519_keypair(random)
        root_key, chain_key = kdf_rk(shared_secret, x25519(private, peer_signed_prekey))
        state = cls(config, associated_data, (private, public), peer_signed_prekey, root_key)
        state._cks = chain_key
        return state

    @classmethod
    def responder(
        cls,
        shared_secret: bytes,
        associated_data: bytes,
        signed_prekey_private: bytes,
        signed_prekey_public: bytes,
        config: RatchetConfig = DEFAULT_CONFIG,
    ) -> RatchetState:
        """Bob's state (section 3.3 RatchetInitBob): SPK_B is the first ratchet key pair.

        Bob cannot encrypt until he has decrypted Alice's first message.

        Raises:
            DecodeError: a key has the wrong size or the associated data is too long.
        """
        _check_key(shared_secret, "the shared secret")
        _check_key(signed_prekey_private, "the signed prekey's private key")
        _check_key(signed_prekey_public, "the signed prekey")
        keys = (signed_prekey_private, signed_prekey_public)
        return cls(config, associated_data, keys, None, shared_secret)

    # --- observers ----------------------------------------------------------------------------

    @property
    def associated_data(self) -> bytes:
        """The session's associated data (IK_A ‖ IK_B from X3DH)."""
        return self._ad_prefix[4:]

    @property
    def skipped_key_count(self) -> int:
        """How many skipped message keys are stored (never above ``max_skipped_keys``)."""
        return len(self._skipped)

    @property
    def has_received(self) -> bool:
        """Whether any message from the peer was decrypted (the initiator's X3DH is answered)."""
        return self._ckr is not None

    # --- encryption (section 3.4 RatchetEncrypt) ------------------------------------------------

    def encrypt(self, plaintext: bytes, random: Random) -> bytes:
        """Encrypt ``plaintext``; returns the wire message ``header ‖ nonce ‖ ct ‖ tag``.

        Raises:
            DecodeError: ``plaintext`` is not bytes.
            SendingChainUnavailable: the responder has not received a message yet, or the
                sending chain has used all 2**32 - 1 message numbers.
        """
        if type(plaintext) is not bytes:
            raise DecodeError("a plaintext must be bytes")
        if self._pending_step:
            self._sending_half_step(random)
        chain_key = self._cks
        if chain_key is None:
            raise SendingChainUnavailable(
                "this session cannot send before it has received the initiator's first message"
            )
        number = self._ns
        if number >= _U32_MAX:
            raise SendingChainUnavailable("this sending chain has no message numbers left")
        header = _HEADER.pack(self._dhs_public, self._pn, number)
        nonce = random(AEAD_NONCE_SIZE)
        message_key, next_chain_key = _kdf_ck(chain_key, _MESSAGE_KEY_CONSTANT, _CHAIN_KEY_CONSTANT)
        sealed = aead_encrypt(message_key, nonce, plaintext, self._ad_prefix + header)
        self._cks = next_chain_key
        self._ns = number + 1
        return header + nonce + sealed

    def _sending_half_step(self, random: Random) -> None:
        """Second half of DHRatchet (section 3.5): new DHs, then KDF_RK for the sending chain."""
        private, public = x25519_keypair(random)
        peer = self._dhr
        if peer is None:  # excluded by the state invariants; kept for a readable failure
            raise SendingChainUnavailable("the session has no peer ratchet key")
        root_key, chain_key = kdf_rk(self._rk, x25519(private, peer))
        self._dhs_private, self._dhs_public = private, public
        self._rk = root_key
        self._cks = chain_key
        self._pn = self._ns
        self._ns = 0
        self._pending_step = False

    # --- decryption (section 3.5 RatchetDecrypt) ------------------------------------------------

    def decrypt(self, message: bytes, now: int) -> bytes:
        """Authenticate and decrypt a wire message; ``now`` is seconds since the epoch.

        The state changes only when this returns; on any error it is exactly as before.

        Raises:
            DecodeError: the message is not bytes or is shorter than a header, nonce and tag.
            DuplicateMessage: the message was already decrypted (or its key is no longer kept).
            ExpiredKey: the message's skipped key is older than ``skipped_key_ttl``.
            TooManySkipped: accepting it would skip more than ``max_skip`` keys in a chain.
            LowOrderKey: the header's ratchet key is a low-order point.
            AuthenticationError: the message was tampered with or is not for this session.
        """
        if type(message) is not bytes:
            if not isinstance(message, bytearray | memoryview):
                raise DecodeError("a ratchet message must be bytes")
            message = bytes(message)
        if len(message) < MIN_MESSAGE_SIZE:
            raise DecodeError(
                f"a ratchet message is at least {MIN_MESSAGE_SIZE} bytes, got {len(message)}"
            )
        ratchet_key = message[:KEY_SIZE]
        previous_count, number = _COUNTERS.unpack_from(message, KEY_SIZE)
        nonce = message[HEADER_SIZE : HEADER_SIZE + AEAD_NONCE_SIZE]
        sealed = message[HEADER_SIZE + AEAD_NONCE_SIZE :]
        associated = self._ad_prefix + message[:HEADER_SIZE]

        skipped = self._skipped
        if skipped:
            entry = skipped.get((ratchet_key, number))
            if entry is not None:
                key, stored_at = entry
                if now - stored_at >= self._config.skipped_key_ttl:
                    raise ExpiredKey("the key of this delayed message has expired")
                plaintext = aead_decrypt(key, nonce, sealed, associated)
                del skipped[(ratchet_key, number)]
                self._expire(now)
                return plaintext

        if ratchet_key == self._dhr:
            return self._decrypt_current(ratchet_key, number, nonce, sealed, associated, now)
        if ratchet_key in self._previous:
            raise DuplicateMessage(
                "this message was already decrypted, or its key is no longer kept"
            )
        return self._decrypt_new_chain(
            ratchet_key, previous_count, number, nonce, sealed, associated, now
        )

    def _decrypt_current(
        self,
        ratchet_key: bytes,
        number: int,
        nonce: bytes,
        sealed: bytes,
        associated: bytes,
        now: int,
    ) -> bytes:
        """A message in the current receiving chain (``ratchet_key`` is DHr)."""
        chain_key = self._ckr
        if chain_key is None:
            raise AuthenticationError("no message can use the peer's signed prekey as its key")
        expected = self._nr
        if number < expected:
            raise DuplicateMessage(
                "this message was already decrypted, or its key is no longer kept"
            )
        if number == expected:  # the common case: in order, nothing skipped
            message_key, chain_key = _kdf_ck(chain_key, _MESSAGE_KEY_CONSTANT, _CHAIN_KEY_CONSTANT)
            plaintext = aead_decrypt(message_key, nonce, sealed, associated)
            self._ckr = chain_key
            self._nr = number + 1
            if self._skipped:
                self._expire(now)
            return plaintext
        if number - expected > self._config.max_skip:
            raise TooManySkipped(
                f"the message would skip {number - expected} keys "
                f"(at most {self._config.max_skip} allowed)"
            )
        new_skipped: _Skipped = []
        chain_key = _skip(chain_key, expected, number, ratchet_key, new_skipped)
        message_key, chain_key = _kdf_ck(chain_key, _MESSAGE_KEY_CONSTANT, _CHAIN_KEY_CONSTANT)
        plaintext = aead_decrypt(message_key, nonce, sealed, associated)
        self._ckr = chain_key
        self._nr = number + 1
        self._store_skipped(new_skipped, now)
        return plaintext

    def _decrypt_new_chain(
        self,
        ratchet_key: bytes,
        previous_count: int,
        number: int,
        nonce: bytes,
        sealed: bytes,
        associated: bytes,
        now: int,
    ) -> bytes:
        """A message with a new ratchet key: skip the old chain to PN, then the receiving
        half of DHRatchet (section 3.5), all on local copies."""
        max_skip = self._config.max_skip
        old_chain_key = self._ckr
        expected = self._nr
        if old_chain_key is not None and previous_count - expected > max_skip:
            raise TooManySkipped(
                f"the message would skip {previous_count - expected} keys of the previous "
                f"chain (at most {max_skip} allowed)"
            )
        if number > max_skip:
            raise TooManySkipped(
                f"the message would skip {number} keys (at most {max_skip} allowed)"
            )
        new_skipped: _Skipped = []
        old_dhr = self._dhr
        if old_chain_key is not None and old_dhr is not None and previous_count > expected:
            _skip(old_chain_key, expected, previous_count, old_dhr, new_skipped)
        root_key, chain_key = kdf_rk(self._rk, x25519(self._dhs_private, ratchet_key))
        if number:
            chain_key = _skip(chain_key, 0, number, ratchet_key, new_skipped)
        message_key, chain_key = _kdf_ck(chain_key, _MESSAGE_KEY_CONSTANT, _CHAIN_KEY_CONSTANT)
        plaintext = aead_decrypt(message_key, nonce, sealed, associated)
        # Authenticated: commit.
        if old_dhr is not None:
            previous = self._previous
            previous.append(old_dhr)
            if len(previous) > self._config.remembered_chains:
                del previous[0]
        self._dhr = ratchet_key
        self._rk = root_key
        self._ckr = chain_key
        self._nr = number + 1
        self._pending_step = True
        self._store_skipped(new_skipped, now)
        return plaintext

    # --- skipped keys -------------------------------------------------------------------------

    def _store_skipped(self, new_skipped: _Skipped, now: int) -> None:
        skipped = self._skipped
        stamp = max(0, int(now))
        for ratchet_key, number, key in new_skipped:
            skipped[(ratchet_key, number)] = (key, stamp)
        self._expire(now)
        self._evict()

    def _expire(self, now: int) -> None:
        """Delete skipped keys ``skipped_key_ttl`` old or more, oldest first, up to a fresh one."""
        limit = now - self._config.skipped_key_ttl
        expired = []
        for position, (_, stored_at) in self._skipped.items():
            if stored_at > limit:
                break
            expired.append(position)
        for position in expired:
            del self._skipped[position]

    def _evict(self) -> None:
        excess = len(self._skipped) - self._config.max_skipped_keys
        if excess > 0:
            for position in list(islice(self._skipped, excess)):
                del self._skipped[position]

    def expire_skipped(self, now: int) -> None:
        """Delete expired skipped keys now (decryption also does it as it goes)."""
        self._expire(now)

    # --- persistence ----------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Serialise the state (``StateKind.RATCHET``, version 1).

        Body layout: flags (u8: bit 0 DHr, bit 1 CKs, bit 2 CKr present, bit 3 sending
        half-step due) ‖ DHs private ‖ DHs public ‖ DHr ‖ RK ‖ CKs ‖ CKr (32 bytes each, zeros
        when absent) ‖ Ns ‖ Nr ‖ PN (u64) ‖ AD (u32 length ‖ bytes) ‖ remembered former DHr
        keys (u32 count ‖ 32 each, oldest first) ‖ skipped keys (u32 count ‖ (DHr (32) ‖ N
        (u32) ‖ message key (32) ‖ stored at (u64)) each, oldest first).

        The bytes hold no message key that was used: only current chain keys and unused
        skipped keys. Treat them as secret.
        """
        dhr, cks, ckr = self._dhr, self._cks, self._ckr
        flags = (
            (dhr is not None)
            | (cks is not None) << 1
            | (ckr is not None) << 2
            | self._pending_step << 3
        )
        previous, skipped = self._previous, self._skipped
        body = b"".join((
            _STATE_HEAD.pack(
                flags, self._dhs_private, self._dhs_public, dhr or _ABSENT, self._rk,
                cks or _ABSENT, ckr or _ABSENT, self._ns, self._nr, self._pn,
            ),
            self._ad_prefix,
            _U32.pack(len(previous)),
            *previous,
            _U32.pack(len(skipped)),
            *[
                _SKIPPED_ITEM.pack(ratchet_key, number, key, stored_at)
                for (ratchet_key, number), (key, stored_at) in skipped.items()
            ],
        ))
        return frame(StateKind.RATCHET, STATE_VERSION, body)

    @classmethod
    def from_bytes(cls, data: bytes, config: RatchetConfig = DEFAULT_CONFIG) -> RatchetState:
        """Restore a state saved by :meth:`to_bytes` (older versions are migrated).

        Stored skipped keys and remembered chains beyond ``config``'s limits are dropped,
        oldest first.

        Raises:
            StateError: the bytes are not a well-formed ratchet state.
            UnsupportedVersion: the state is from a newer release.
        """
        r = Reader(unframe(data, StateKind.RATCHET, STATE_VERSION))
        flags, dhs_private, dhs_public, dhr, root_key, cks, ckr, ns, nr, pn = (
            _STATE_HEAD.unpack(r.fixed(_STATE_HEAD.size))
        )
        associated_data = r.var(MAX_ASSOCIATED_DATA)
        previous_block = r.fixed(KEY_SIZE * r.count(KEY_SIZE))
        skipped_block = r.fixed(_SKIPPED_ITEM.size * r.count(_SKIPPED_ITEM.size))
        r.end()
        has_dhr, has_cks, has_ckr, pending = (flags & 1, flags & 2, flags & 4, flags & 8 != 0)
        if (
            flags > 0b1111
            or (not has_dhr and dhr != _ABSENT)
            or (not has_cks and cks != _ABSENT)
            or (not has_ckr and ckr != _ABSENT)
        ):
            raise StateError("the saved ratchet state has unknown flags or data in absent keys")
        if ns > _U32_MAX or pn > _U32_MAX or nr > _U32_MAX + 1:
            raise StateError("a message counter of the saved ratchet state is out of range")
        if (pending or has_ckr) and not has_dhr:
            raise StateError("the saved ratchet state has a receiving chain but no peer key")
        if has_dhr and not has_cks and not pending:
            raise StateError("the saved ratchet state can neither send nor start a chain")
        skipped: dict[tuple[bytes, int], tuple[bytes, int]] = {}
        for ratchet_key, number, key, stored_at in _SKIPPED_ITEM.iter_unpack(skipped_block):
            if (ratchet_key, number) in skipped:
                raise StateError("the saved ratchet state lists a skipped key twice")
            skipped[(ratchet_key, number)] = (key, stored_at)
        state = cls(
            config, associated_data, (dhs_private, dhs_public), dhr if has_dhr else None,
            root_key,
        )
        state._cks = cks if has_cks else None
        state._ckr = ckr if has_ckr else None
        state._ns, state._nr, state._pn = ns, nr, pn
        state._pending_step = pending
        previous = [
            previous_block[i : i + KEY_SIZE] for i in range(0, len(previous_block), KEY_SIZE)
        ]
        state._previous = previous[-config.remembered_chains :]
        state._skipped = skipped
        state._evict()
        return state
