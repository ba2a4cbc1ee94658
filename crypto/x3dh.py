"""X3DH key agreement (Signal X3DH specification, sections 2-3) with Sourdine's parameters.

Normative parameters (the design's "Cryptography (normative)" section, protocol version 1):

- An identity is an Ed25519 key pair (IK); Diffie-Hellman uses its X25519 form.
- The signed prekey SPK_B is X25519, signed by IK_B (Ed25519) over its raw 32 bytes.
- DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B), DH4 = DH(EK_A, OPK_B)
  when a one-time prekey was used; SK = HKDF-SHA256(ikm = 32 0xFF bytes ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4],
  salt = 32 zero bytes, info = b"Sourdine X3DH v1", 32 bytes); AD = IK_A ‖ IK_B.

Three things live here: the owner's private side (:class:`Identity`, :class:`PrekeyStore`),
the public prekey bundle (:class:`PrekeyBundle`), and the agreement with its first-message
format (:func:`initiate`, :func:`respond`, :class:`InitialMessage`, and the two session
helpers that wire them to :class:`~crypto.ratchet.RatchetState`). Every wire format starts
with a version byte, so a post-quantum (ML-KEM) extension can be added as version 2.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from crypto.errors import (
    CryptoError,
    DecodeError,
    PrekeyAlreadyUsed,
    StateError,
    UnknownPrekey,
    UnsupportedVersion,
)
from crypto.primitives import (
    ED25519_SECRET_SIZE,
    KEY_SIZE,
    SIGNATURE_SIZE,
    Random,
    constant_time_equal,
    ed25519_keypair,
    ed25519_public_to_x25519,
    ed25519_secret_to_x25519,
    ed25519_sign,
    ed25519_verify,
    hkdf_sha256,
    x25519,
    x25519_keypair,
)
from crypto.ratchet import DEFAULT_CONFIG, MIN_MESSAGE_SIZE, RatchetConfig, RatchetState
from crypto.state import Reader, StateKind, Writer, frame, unframe

X3DH_INFO: Final = b"Sourdine X3DH v1"
"""HKDF info string of the X3DH secret."""
BUNDLE_VERSION: Final = 1
"""First byte of an encoded :class:`PrekeyBundle`."""
INITIAL_MESSAGE_VERSION: Final = 1
"""First byte of an encoded :class:`InitialMessage`."""
IDENTITY_STATE_VERSION: Final = 1
PREKEY_STATE_VERSION: Final = 1
SIGNED_PREKEY_GRACE: Final = 30 * 24 * 3600
"""Seconds a replaced signed prekey still answers first messages (beyond the relay's TTL)."""
MAX_PREKEY_ID: Final = 0xFFFFFFFF

_PADDING: Final = b"\xff" * KEY_SIZE  # X3DH section 2.2: 32 0xFF bytes before the DH outputs
_SALT: Final = bytes(KEY_SIZE)
_U32: Final = struct.Struct(">I")
_BUNDLE_FIXED: Final = 1 + KEY_SIZE + 4 + KEY_SIZE + SIGNATURE_SIZE + 1
_INITIAL_FIXED: Final = 1 + KEY_SIZE + KEY_SIZE + 4 + 1


def _check_bytes(value: object, size: int, what: str) -> bytes:
    if type(value) is not bytes or len(value) != size:
        raise DecodeError(f"{what} must be {size} bytes")
    return value


def _check_id(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_PREKEY_ID:
        raise DecodeError(f"{what} must be an integer from 0 to {MAX_PREKEY_ID}")
    return value


def _identity_dh_key(identity_key: bytes, whose: str) -> bytes:
    """The X25519 form of an Ed25519 identity key.

    Raises:
        DecodeError: the key is not a valid Ed25519 point of prime order (libsodium rejects
            small-order and mixed-order points and non-points).
    """
    try:
        return ed25519_public_to_x25519(identity_key)
    except DecodeError:
        raise DecodeError(
            f"{whose} identity key is not a valid Ed25519 public key (small order or no point)"
        ) from None


def _bytes_input(data: object, what: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise DecodeError(f"{what} must be bytes")


# --- identity ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """An installation's long-term Ed25519 key pair (IK)."""

    secret: bytes = field(repr=False)
    """libsodium's 64-byte Ed25519 secret key (seed ‖ public key). Secret."""
    public: bytes
    """The Ed25519 public key: what peers know, sign-verify and compare (safety numbers)."""

    @classmethod
    def generate(cls, random: Random) -> Identity:
        """Create a new identity from 32 random bytes."""
        secret, public = ed25519_keypair(random)
        return cls(secret, public)

    def dh_private(self) -> bytes:
        """The X25519 private key for Diffie-Hellman (libsodium's conversion). Secret."""
        return ed25519_secret_to_x25519(self.secret)

    def to_bytes(self) -> bytes:
        """Serialise (``StateKind.IDENTITY``, version 1): the 64-byte secret key. Secret."""
        return frame(StateKind.IDENTITY, IDENTITY_STATE_VERSION, self.secret)

    @classmethod
    def from_bytes(cls, data: bytes) -> Identity:
        """Restore an identity saved by :meth:`to_bytes`.

        Raises:
            StateError: the bytes are not an identity, or its public half does not match
                its seed.
            UnsupportedVersion: the state is from a newer release.
        """
        r = Reader(unframe(data, StateKind.IDENTITY, IDENTITY_STATE_VERSION))
        secret = r.fixed(ED25519_SECRET_SIZE)
        r.end()
        seed = secret[:KEY_SIZE]
        expected_secret, public = ed25519_keypair(lambda _n: seed)
        if not constant_time_equal(expected_secret, secret):
            raise StateError("the saved identity's public key does not match its seed")
        return cls(secret, public)


# --- the owner's prekeys ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedPrekey:
    """One signed prekey pair with its signature by the identity key."""

    id: int
    private: bytes = field(repr=False)
    public: bytes
    signature: bytes
    created_at: int
    """Seconds since the epoch when it was generated (drives the rotation schedule)."""
    retired_at: int | None = None
    """When a newer signed prekey replaced it; None for the current one."""


class PrekeyStore:
    """The private side of one identity's prekeys: signed prekeys by id (the current one and
    recently replaced ones) and unused one-time prekeys by id.

    Ids come from counters that only go up, so an id is never issued twice.
    """

    __slots__ = ("_next_one_time_id", "_next_signed_id", "_one_time", "_signed")

    def __init__(self) -> None:
        self._signed: dict[int, SignedPrekey] = {}  # oldest first; the last one is current
        self._one_time: dict[int, tuple[bytes, bytes]] = {}  # id -> (private, public), unused
        self._next_signed_id = 1  # 1 + the highest signed prekey id ever issued
        self._next_one_time_id = 1  # 1 + the highest one-time prekey id ever issued

    @classmethod
    def create(cls, identity: Identity, random: Random, now: int) -> PrekeyStore:
        """A store with a first signed prekey and no one-time prekeys."""
        store = cls()
        store.rotate_signed_prekey(identity, random, now)
        return store

    @property
    def current_signed_prekey(self) -> SignedPrekey:
        """The signed prekey to publish."""
        return next(reversed(self._signed.values()))

    @property
    def signed_prekeys(self) -> list[SignedPrekey]:
        """Every signed prekey still accepted, oldest first (the last one is current)."""
        return list(self._signed.values())

    @property
    def one_time_prekeys(self) -> list[tuple[int, bytes]]:
        """The unused one-time prekeys as ``(id, public key)``, oldest first."""
        return [(key_id, pair[1]) for key_id, pair in self._one_time.items()]

    def rotate_signed_prekey(
        self, identity: Identity, random: Random, now: int, grace: int = SIGNED_PREKEY_GRACE
    ) -> SignedPrekey:
        """Make a new current signed prekey; the previous one stays valid for ``grace``
        seconds, and older ones past their grace are forgotten.

        Raises:
            CryptoError: every signed prekey id has been used.
        """
        if self._next_signed_id > MAX_PREKEY_ID:
            raise CryptoError("no signed prekey ids are left; create a new identity")
        if self._signed:
            current = self.current_signed_prekey
            self._signed[current.id] = SignedPrekey(
                current.id, current.private, current.public, current.signature,
                current.created_at, now,
            )
        private, public = x25519_keypair(random)
        key = SignedPrekey(
            self._next_signed_id, private, public, ed25519_sign(identity.secret, public), now
        )
        self._signed[key.id] = key
        self._next_signed_id += 1
        self.forget_retired_signed_prekeys(now, grace)
        return key

    def forget_retired_signed_prekeys(self, now: int, grace: int = SIGNED_PREKEY_GRACE) -> None:
        """Delete replaced signed prekeys retired at least ``grace`` seconds ago."""
        for key in list(self._signed.values()):
            if key.retired_at is not None and now - key.retired_at >= grace:
                del self._signed[key.id]

    def generate_one_time_prekeys(self, count: int, random: Random) -> list[tuple[int, bytes]]:
        """Create ``count`` new one-time prekeys; returns their ``(id, public key)`` to publish.

        Raises:
            ValueError: ``count`` is negative.
            CryptoError: the one-time prekey ids are exhausted.
        """
        if count < 0:
            raise ValueError("the number of one-time prekeys cannot be negative")
        if self._next_one_time_id + count - 1 > MAX_PREKEY_ID:
            raise CryptoError("no one-time prekey ids are left; create a new identity")
        created = []
        for _ in range(count):
            key_id = self._next_one_time_id
            private, public = x25519_keypair(random)
            self._one_time[key_id] = (private, public)
            self._next_one_time_id = key_id + 1
            created.append((key_id, public))
        return created

    def signed_prekey(self, key_id: int) -> SignedPrekey:
        """The signed prekey with ``key_id``.

        Raises:
            UnknownPrekey: no such signed prekey (never issued, or retired and forgotten).
        """
        key = self._signed.get(key_id)
        if key is None:
            raise UnknownPrekey(f"signed prekey {key_id} is unknown or was retired")
        return key

    def _one_time_pair(self, key_id: int) -> tuple[bytes, bytes]:
        pair = self._one_time.get(key_id)
        if pair is None:
            if isinstance(key_id, int) and 1 <= key_id < self._next_one_time_id:
                raise PrekeyAlreadyUsed(f"one-time prekey {key_id} was already used")
            raise UnknownPrekey(f"one-time prekey {key_id} is unknown")
        return pair

    def consume_one_time_prekey(self, key_id: int) -> None:
        """Delete a one-time prekey after a session was established with it.

        Raises:
            PrekeyAlreadyUsed: it was consumed before.
            UnknownPrekey: it was never issued.
        """
        self._one_time_pair(key_id)
        del self._one_time[key_id]

    def bundle(self, identity_key: bytes, one_time_prekey_id: int | None = None) -> PrekeyBundle:
        """The public bundle for the current signed prekey and, optionally, one one-time
        prekey (the relay builds the same from what was published).

        Raises:
            UnknownPrekey: ``one_time_prekey_id`` is not an unused one-time prekey.
        """
        spk = self.current_signed_prekey
        opk = None if one_time_prekey_id is None else self._one_time_pair(one_time_prekey_id)[1]
        return PrekeyBundle(
            identity_key, spk.id, spk.public, spk.signature, one_time_prekey_id, opk
        )

    def to_bytes(self) -> bytes:
        """Serialise (``StateKind.PREKEYS``, version 1). Holds private keys: secret."""
        w = Writer().u64(self._next_signed_id).u64(self._next_one_time_id)
        w.u32(len(self._signed))
        for key in self._signed.values():
            w.u32(key.id).fixed(key.private).fixed(key.public).fixed(key.signature)
            w.u64(key.created_at).u8(0 if key.retired_at is None else 1)
            w.u64(key.retired_at or 0)
        w.u32(len(self._one_time))
        for key_id, (private, public) in self._one_time.items():
            w.u32(key_id).fixed(private).fixed(public)
        return frame(StateKind.PREKEYS, PREKEY_STATE_VERSION, w.getvalue())

    @classmethod
    def from_bytes(cls, data: bytes) -> PrekeyStore:
        """Restore a store saved by :meth:`to_bytes`.

        Raises:
            StateError: the bytes are not a well-formed prekey store.
            UnsupportedVersion: the state is from a newer release.
        """
        r = Reader(unframe(data, StateKind.PREKEYS, PREKEY_STATE_VERSION))
        store = cls()
        store._next_signed_id, store._next_one_time_id = r.u64(), r.u64()
        for _ in range(r.count(4 + 2 * KEY_SIZE + SIGNATURE_SIZE + 8 + 1 + 8)):
            key_id, private, public = r.u32(), r.fixed(KEY_SIZE), r.fixed(KEY_SIZE)
            signature, created_at = r.fixed(SIGNATURE_SIZE), r.u64()
            retired, retired_at = r.flag(), r.u64()
            if not retired and retired_at:
                raise StateError("the saved prekey store has a retirement time without a flag")
            if key_id in store._signed or key_id >= store._next_signed_id:
                raise StateError("the saved prekey store has an invalid signed prekey id")
            store._signed[key_id] = SignedPrekey(
                key_id, private, public, signature, created_at, retired_at if retired else None
            )
        for _ in range(r.count(4 + 2 * KEY_SIZE)):
            key_id, private, public = r.u32(), r.fixed(KEY_SIZE), r.fixed(KEY_SIZE)
            if key_id in store._one_time or key_id >= store._next_one_time_id:
                raise StateError("the saved prekey store has an invalid one-time prekey id")
            store._one_time[key_id] = (private, public)
        r.end()
        current = [key for key in store._signed.values() if key.retired_at is None]
        if len(current) != 1 or current[0] is not next(reversed(store._signed.values())):
            raise StateError("the saved prekey store must end with exactly one current key")
        return store


# --- the public bundle ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrekeyBundle:
    """What an initiator fetches to start a session with the bundle's owner (X3DH section 3.2).

    Wire format, version 1: ``0x01 ‖ IK (32) ‖ SPK id (u32be) ‖ SPK (32) ‖ signature (64) ‖
    has-OPK (u8: 0 or 1) [‖ OPK id (u32be) ‖ OPK (32)]``.
    """

    identity_key: bytes
    """IK_B, Ed25519 public key."""
    signed_prekey_id: int
    signed_prekey: bytes
    """SPK_B, X25519 public key."""
    signed_prekey_signature: bytes
    """Ed25519 signature by IK_B over the 32 raw bytes of SPK_B."""
    one_time_prekey_id: int | None = None
    one_time_prekey: bytes | None = None
    """OPK_B, X25519 public key, or None when the owner has run out."""

    def to_bytes(self) -> bytes:
        """Encode (version 1).

        Raises:
            DecodeError: a field has the wrong size or type.
        """
        self._check()
        out = (
            bytes((BUNDLE_VERSION,)) + self.identity_key + _U32.pack(self.signed_prekey_id)
            + self.signed_prekey + self.signed_prekey_signature
        )
        if self.one_time_prekey_id is None or self.one_time_prekey is None:
            return out + b"\x00"
        return out + b"\x01" + _U32.pack(self.one_time_prekey_id) + self.one_time_prekey

    def _check(self) -> None:
        _check_bytes(self.identity_key, KEY_SIZE, "the identity key")
        _check_id(self.signed_prekey_id, "the signed prekey id")
        _check_bytes(self.signed_prekey, KEY_SIZE, "the signed prekey")
        _check_bytes(self.signed_prekey_signature, SIGNATURE_SIZE, "the signed prekey signature")
        if (self.one_time_prekey_id is None) != (self.one_time_prekey is None):
            raise DecodeError("a one-time prekey needs both its id and its key")
        if self.one_time_prekey_id is not None:
            _check_id(self.one_time_prekey_id, "the one-time prekey id")
            _check_bytes(self.one_time_prekey, KEY_SIZE, "the one-time prekey")

    @classmethod
    def from_bytes(cls, data: bytes) -> PrekeyBundle:
        """Decode a bundle; strict: exact lengths, a 0/1 flag, no trailing bytes.

        Raises:
            UnsupportedVersion: the version byte is not 1.
            DecodeError: anything else malformed.
        """
        data = _bytes_input(data, "a prekey bundle")
        if not data:
            raise DecodeError("the prekey bundle is empty")
        if data[0] != BUNDLE_VERSION:
            raise UnsupportedVersion(f"prekey bundle version {data[0]} is not supported")
        if len(data) not in (_BUNDLE_FIXED, _BUNDLE_FIXED + 4 + KEY_SIZE):
            raise DecodeError(f"a prekey bundle cannot be {len(data)} bytes long")
        flag = data[_BUNDLE_FIXED - 1]
        if flag > 1 or (flag == 1) != (len(data) > _BUNDLE_FIXED):
            raise DecodeError("the prekey bundle's one-time prekey flag does not match its length")
        offset = 1 + KEY_SIZE
        (spk_id,) = _U32.unpack_from(data, offset)
        spk = data[offset + 4 : offset + 4 + KEY_SIZE]
        signature = data[offset + 4 + KEY_SIZE : _BUNDLE_FIXED - 1]
        opk_id = opk = None
        if flag:
            (opk_id,) = _U32.unpack_from(data, _BUNDLE_FIXED)
            opk = data[_BUNDLE_FIXED + 4 :]
        return cls(data[1 : 1 + KEY_SIZE], spk_id, spk, signature, opk_id, opk)


# --- the agreement ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InitialMessage:
    """The first message(s) of a session: what the responder needs to run X3DH, plus a
    ratchet message (X3DH section 3.3).

    The initiator sends every message in this form until it has received a reply, so the
    responder can set up the session from whichever arrives first; it then routes later ones
    (same ``identity_key`` and ``ephemeral_key``) to that session's ratchet.

    Wire format, version 1: ``0x01 ‖ IK_A (32) ‖ EK_A (32) ‖ SPK id (u32be) ‖ has-OPK (u8)
    [‖ OPK id (u32be)] ‖ ratchet message (the rest)``.
    """

    identity_key: bytes
    """IK_A, Ed25519 public key."""
    ephemeral_key: bytes
    """EK_A, X25519 public key."""
    signed_prekey_id: int
    one_time_prekey_id: int | None
    ratchet_message: bytes

    def to_bytes(self) -> bytes:
        """Encode (version 1).

        Raises:
            DecodeError: a field has the wrong size or type.
        """
        _check_bytes(self.identity_key, KEY_SIZE, "the identity key")
        _check_bytes(self.ephemeral_key, KEY_SIZE, "the ephemeral key")
        _check_id(self.signed_prekey_id, "the signed prekey id")
        if type(self.ratchet_message) is not bytes or len(self.ratchet_message) < MIN_MESSAGE_SIZE:
            raise DecodeError("the ratchet message is missing or too short")
        head = (
            bytes((INITIAL_MESSAGE_VERSION,)) + self.identity_key + self.ephemeral_key
            + _U32.pack(self.signed_prekey_id)
        )
        if self.one_time_prekey_id is None:
            return head + b"\x00" + self.ratchet_message
        _check_id(self.one_time_prekey_id, "the one-time prekey id")
        return head + b"\x01" + _U32.pack(self.one_time_prekey_id) + self.ratchet_message

    @classmethod
    def from_bytes(cls, data: bytes) -> InitialMessage:
        """Decode; strict: a 0/1 flag and a ratchet message of at least its minimum size.

        Raises:
            UnsupportedVersion: the version byte is not 1.
            DecodeError: anything else malformed.
        """
        data = _bytes_input(data, "an initial message")
        if not data:
            raise DecodeError("the initial message is empty")
        if data[0] != INITIAL_MESSAGE_VERSION:
            raise UnsupportedVersion(f"initial message version {data[0]} is not supported")
        if len(data) < _INITIAL_FIXED:
            raise DecodeError("the initial message is truncated")
        flag = data[_INITIAL_FIXED - 1]
        if flag > 1:
            raise DecodeError("the initial message's one-time prekey flag is neither 0 nor 1")
        start = _INITIAL_FIXED + 4 * flag
        if len(data) < start + MIN_MESSAGE_SIZE:
            raise DecodeError("the initial message's ratchet message is missing or too short")
        (spk_id,) = _U32.unpack_from(data, 1 + 2 * KEY_SIZE)
        opk_id = _U32.unpack_from(data, _INITIAL_FIXED)[0] if flag else None
        return cls(
            data[1 : 1 + KEY_SIZE], data[1 + KEY_SIZE : 1 + 2 * KEY_SIZE], spk_id, opk_id,
            data[start:],
        )


@dataclass(frozen=True, slots=True)
class InitiatorAgreement:
    """Alice's result of X3DH (section 3.3): the secret, the AD and what Bob needs."""

    shared_secret: bytes = field(repr=False)
    """SK (32 bytes). Secret; hand it to the ratchet and drop it."""
    associated_data: bytes
    """AD = IK_A ‖ IK_B."""
    identity_key: bytes
    ephemeral_key: bytes
    """EK_A's public key (its private key is already discarded)."""
    signed_prekey_id: int
    signed_prekey: bytes
    """SPK_B: the ratchet's first peer key."""
    one_time_prekey_id: int | None

    def initial_message(self, ratchet_message: bytes) -> InitialMessage:
        """Wrap a ratchet message of this session for the responder."""
        return InitialMessage(
            self.identity_key, self.ephemeral_key, self.signed_prekey_id,
            self.one_time_prekey_id, ratchet_message,
        )


@dataclass(frozen=True, slots=True)
class ResponderAgreement:
    """Bob's result of X3DH (section 3.3)."""

    shared_secret: bytes = field(repr=False)
    associated_data: bytes
    signed_prekey_private: bytes = field(repr=False)
    """SPK_B's private key: the ratchet's first key pair, with :attr:`signed_prekey_public`."""
    signed_prekey_public: bytes
    one_time_prekey_id: int | None
    """The one-time prekey to consume once the first message is authenticated."""


def _secret(dh_outputs: list[bytes]) -> bytes:
    return hkdf_sha256(_PADDING + b"".join(dh_outputs), _SALT, X3DH_INFO, KEY_SIZE)


def initiate(identity: Identity, bundle: PrekeyBundle, random: Random) -> InitiatorAgreement:
    """Alice's side of X3DH against Bob's prekey bundle.

    Raises:
        DecodeError: a bundle field is malformed or IK_B is not a valid Ed25519 key.
        BadSignature: the signed prekey's signature by IK_B does not verify.
        LowOrderKey: SPK_B or OPK_B is a low-order point.
    """
    bundle._check()
    ed25519_verify(bundle.identity_key, bundle.signed_prekey, bundle.signed_prekey_signature)
    peer_identity = _identity_dh_key(bundle.identity_key, "the peer's")
    own_identity = identity.dh_private()
    ephemeral_private, ephemeral_public = x25519_keypair(random)
    outputs = [
        x25519(own_identity, bundle.signed_prekey),
        x25519(ephemeral_private, peer_identity),
        x25519(ephemeral_private, bundle.signed_prekey),
    ]
    if bundle.one_time_prekey is not None:
        outputs.append(x25519(ephemeral_private, bundle.one_time_prekey))
    return InitiatorAgreement(
        _secret(outputs), identity.public + bundle.identity_key, identity.public,
        ephemeral_public, bundle.signed_prekey_id, bundle.signed_prekey,
        bundle.one_time_prekey_id,
    )


def respond(identity: Identity, store: PrekeyStore, message: InitialMessage) -> ResponderAgreement:
    """Bob's side of X3DH for an initiator's first message. Changes nothing: consume the
    one-time prekey (:meth:`PrekeyStore.consume_one_time_prekey`) once the first ratchet
    message is authenticated, as :func:`accept_session` does.

    Raises:
        UnknownPrekey: the signed or one-time prekey id is unknown.
        PrekeyAlreadyUsed: the one-time prekey was already consumed.
        DecodeError: IK_A is not a valid Ed25519 key or a field is malformed.
        LowOrderKey: EK_A is a low-order point.
    """
    _check_bytes(message.identity_key, KEY_SIZE, "the initiator's identity key")
    _check_bytes(message.ephemeral_key, KEY_SIZE, "the ephemeral key")
    spk = store.signed_prekey(message.signed_prekey_id)
    opk_private = None
    if message.one_time_prekey_id is not None:
        opk_private = store._one_time_pair(message.one_time_prekey_id)[0]
    peer_identity = _identity_dh_key(message.identity_key, "the initiator's")
    ephemeral = message.ephemeral_key
    outputs = [
        x25519(spk.private, peer_identity),
        x25519(identity.dh_private(), ephemeral),
        x25519(spk.private, ephemeral),
    ]
    if opk_private is not None:
        outputs.append(x25519(opk_private, ephemeral))
    return ResponderAgreement(
        _secret(outputs), message.identity_key + identity.public, spk.private, spk.public,
        message.one_time_prekey_id,
    )


def start_session(
    identity: Identity, bundle: PrekeyBundle, random: Random, config: RatchetConfig = DEFAULT_CONFIG
) -> tuple[InitiatorAgreement, RatchetState]:
    """X3DH then the initiator's ratchet. Wrap each message with
    ``agreement.initial_message(state.encrypt(...)).to_bytes()`` until ``state.has_received``.

    Raises:
        The errors of :func:`initiate`.
    """
    agreement = initiate(identity, bundle, random)
    state = RatchetState.initiator(
        agreement.shared_secret, agreement.associated_data, agreement.signed_prekey, random, config
    )
    return agreement, state


def accept_session(
    identity: Identity,
    store: PrekeyStore,
    message: InitialMessage,
    now: int,
    config: RatchetConfig = DEFAULT_CONFIG,
) -> tuple[RatchetState, bytes]:
    """X3DH, the responder's ratchet and the first message's plaintext. The one-time prekey
    is consumed only if the message authenticates; on any error nothing changes.

    Raises:
        The errors of :func:`respond` and of :meth:`RatchetState.decrypt`.
    """
    agreement = respond(identity, store, message)
    state = RatchetState.responder(
        agreement.shared_secret, agreement.associated_data, agreement.signed_prekey_private,
        agreement.signed_prekey_public, config,
    )
    plaintext = state.decrypt(message.ratchet_message, now)
    if agreement.one_time_prekey_id is not None:
        store.consume_one_time_prekey(agreement.one_time_prekey_id)
    return state, plaintext

