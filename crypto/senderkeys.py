"""Sender keys for groups: one signed symmetric chain per member, per group.

Each member owns, per group, a random 32-byte chain key and an Ed25519 signing key (an
:class:`OwnSenderKey`). It hands both to every other member as a *distribution message*
over the pairwise (Double Ratchet) sessions; each receiver keeps a :class:`PeerSenderKey`
per (group, sender). A group message is then encrypted once and sent to every member.

Usage::

    alice = OwnSenderKey.create(group_id, alice_identity_public, system_random)
    dist = alice.distribution()                   # send to Bob over the pairwise session
    bob_view = PeerSenderKey.from_distribution(dist, group_id, alice_identity_public)
    wire = alice.encrypt(b"hello", system_random)
    assert bob_view.decrypt(wire, now) == b"hello"
    saved = bob_view.save(); bob_view = PeerSenderKey.restore(saved)
    alice = alice.rotate(system_random)           # when any member leaves or is removed

Chain (DESIGN.md, normative): message key ``mk = HMAC-SHA256(ck, 0x01)``, next
``ck = HMAC-SHA256(ck, 0x02)``. ``mk`` is used directly as the XChaCha20-Poly1305 key (as
the Double Ratchet uses its message keys): it is already a uniform 32-byte key used for one
message only, and skipping an HKDF step keeps the hot path short. The 24-byte nonce is
random and sent with the message, so a sender whose state was rolled back (restored from an
older save, then used again) never reuses a (key, nonce) pair; receivers reject the second
message of that iteration as a duplicate anyway.

Message wire format (version 1)::

    header    = version u8 ‖ group id (16) ‖ key id u32be ‖ iteration u32be     (25 bytes)
    body      = header ‖ nonce (24) ‖ ciphertext ‖ tag (16)
    message   = body ‖ Ed25519 signature (64) over (sender identity key ‖ body)

The AEAD associated data is ``sender identity key ‖ header``. Covering the sender's identity
key with the signature means a member who re-distributes someone else's chain and signing
key under their own name cannot get that person's messages attributed to themselves.

Distribution message (version 1, 89 bytes)::

    version u8 ‖ group id (16) ‖ key id u32be ‖ iteration u32be ‖ chain key (32)
    ‖ signing public key (32)

Security notes: every member holds the chain key, so the signature, not the AEAD tag, is what
authenticates the sender; the signature also makes group messages non-deniable. A leaked
chain key exposes every later message of that key until it is rotated (no post-compromise
security inside one sender key). See docs/THREAT_MODEL.md.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from crypto import primitives as _p
from crypto.errors import (
    DecodeError,
    DuplicateMessage,
    ExpiredKey,
    PredatesSenderKey,
    SenderKeyExhausted,
    SenderKeyMismatch,
    StateError,
    TooManySkipped,
    UnsupportedVersion,
)
from crypto.state import Reader, StateKind, Writer, frame, unframe

VERSION: Final = 1
"""Version byte of sender-key messages and distribution messages."""
STATE_VERSION: Final = 1
"""Body version of saved :class:`OwnSenderKey` and :class:`PeerSenderKey` states."""

GROUP_ID_SIZE: Final = 16
"""A group id is 16 opaque bytes (the app draws them at random)."""
MAX_FORWARD: Final = 2000
"""A message may be at most this many iterations ahead of the next expected one."""
MAX_SKIPPED_KEYS: Final = 2000
"""At most this many skipped message keys are kept per sender key (oldest dropped first)."""
SKIPPED_KEY_TTL: Final = 30 * 24 * 3600
"""Seconds a skipped message key is kept (longer than the relay's 14-day message TTL)."""
MAX_ITERATION: Final = 0xFFFF_FFFE
"""The last iteration a sender key may use; the next message needs a rotation."""

HEADER_SIZE: Final = 1 + GROUP_ID_SIZE + 4 + 4
MESSAGE_OVERHEAD: Final = HEADER_SIZE + _p.AEAD_NONCE_SIZE + _p.AEAD_TAG_SIZE + _p.SIGNATURE_SIZE
"""Bytes a sender-key message adds to its plaintext (129)."""
DISTRIBUTION_SIZE: Final = 1 + GROUP_ID_SIZE + 4 + 4 + _p.KEY_SIZE + _p.KEY_SIZE

_MESSAGE_KEY: Final = b"\x01"
_CHAIN_KEY: Final = b"\x02"
_U32: Final = struct.Struct(">I")
_NONCE_END: Final = HEADER_SIZE + _p.AEAD_NONCE_SIZE
_SIG: Final = _p.SIGNATURE_SIZE
# Hot-path aliases (one attribute lookup less per call).
_chain_step = _p.hmac_sha256_pair  # (mk, next ck) = (HMAC(ck, 0x01), HMAC(ck, 0x02))
_encrypt = _p.aead_encrypt
_decrypt = _p.aead_decrypt
_sign = _p.ed25519_sign
_verify = _p.ed25519_verify


class MessageHeader(NamedTuple):
    """The routing fields of a sender-key message (unauthenticated until decrypted)."""

    group_id: bytes
    key_id: int
    iteration: int


def read_header(message: bytes) -> MessageHeader:
    """Return the group id, key id and iteration of a message, to find the state to use.

    Raises:
        DecodeError: ``message`` is too short to be a sender-key message.
        UnsupportedVersion: the version byte is not :data:`VERSION`.
    """
    _check_message_shape(message)
    key_id, iteration = struct.unpack_from(">II", message, 1 + GROUP_ID_SIZE)
    return MessageHeader(bytes(message[1 : 1 + GROUP_ID_SIZE]), key_id, iteration)


def _check_message_shape(message: bytes) -> None:
    if type(message) is not bytes:
        raise DecodeError("a sender-key message must be bytes")
    if len(message) < MESSAGE_OVERHEAD:
        raise DecodeError("the sender-key message is truncated")
    if message[0] != VERSION:
        raise UnsupportedVersion(f"sender-key message version {message[0]} is not supported")


def _check_group_id(group_id: bytes) -> None:
    if type(group_id) is not bytes or len(group_id) != GROUP_ID_SIZE:
        raise DecodeError(f"a group id must be {GROUP_ID_SIZE} bytes")


def _check_identity(identity: bytes) -> None:
    if type(identity) is not bytes or len(identity) != _p.KEY_SIZE:
        raise DecodeError("an identity key must be 32 bytes")


class OwnSenderKey:
    """The sending half: our chain and signing key for one group.

    Not thread-safe; callers serialise access and save the state after each encryption.
    """

    __slots__ = (
        "_chain_key",
        "_group_id",
        "_header_prefix",
        "_identity",
        "_iteration",
        "_key_id",
        "_signing_public",
        "_signing_secret",
    )

    def __init__(
        self,
        group_id: bytes,
        identity: bytes,
        key_id: int,
        iteration: int,
        chain_key: bytes,
        signing_secret: bytes,
    ) -> None:
        """Build from known fields; use :meth:`create` or :meth:`restore` instead."""
        self._group_id = group_id  # GROUP_ID_SIZE bytes, fixed for the state's life
        self._identity = identity  # our Ed25519 identity public key (signed with every message)
        self._key_id = key_id  # u32, identifies this chain among our rotations
        self._iteration = iteration  # iteration of the next message; <= MAX_ITERATION + 1
        self._chain_key = chain_key  # 32 bytes: chain key for `_iteration`
        self._signing_secret = signing_secret  # 64-byte Ed25519 secret key of this chain
        self._signing_public = _p.ed25519_public(signing_secret)  # its public key
        self._header_prefix = bytes((VERSION,)) + group_id + _U32.pack(key_id)  # header start

    @classmethod
    def create(cls, group_id: bytes, identity: bytes, random: _p.Random) -> OwnSenderKey:
        """Start a fresh sender key for ``group_id``, signed for our ``identity`` public key.

        Raises:
            DecodeError: ``group_id`` or ``identity`` has the wrong size.
        """
        _check_group_id(group_id)
        _check_identity(identity)
        return cls._fresh(group_id, identity, None, random)

    @classmethod
    def _fresh(
        cls, group_id: bytes, identity: bytes, previous_key_id: int | None, random: _p.Random
    ) -> OwnSenderKey:
        key_id = _U32.unpack(random(4))[0]
        while key_id == previous_key_id:
            key_id = _U32.unpack(random(4))[0]
        chain_key = random(_p.KEY_SIZE)
        signing_secret, _ = _p.ed25519_keypair(random)
        return cls(group_id, identity, key_id, 0, chain_key, signing_secret)

    @property
    def group_id(self) -> bytes:
        return self._group_id

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def iteration(self) -> int:
        """The iteration the next message will carry."""
        return self._iteration

    def encrypt(self, plaintext: bytes, random: _p.Random) -> bytes:
        """Encrypt and sign one group message, then advance the chain.

        Raises:
            SenderKeyExhausted: the chain has no iteration left; :meth:`rotate` first.
        """
        iteration = self._iteration
        if iteration > MAX_ITERATION:
            raise SenderKeyExhausted("this sender key is used up; rotate it")
        key, next_chain_key = _chain_step(self._chain_key, _MESSAGE_KEY, _CHAIN_KEY)
        header = self._header_prefix + _U32.pack(iteration)
        nonce = random(_p.AEAD_NONCE_SIZE)
        body = header + nonce + _encrypt(key, nonce, plaintext, self._identity + header)
        signature = _sign(self._signing_secret, self._identity + body)
        self._chain_key = next_chain_key
        self._iteration = iteration + 1
        return body + signature

    def distribution(self) -> bytes:
        """The distribution message that lets a member read our messages from now on.

        It carries the *current* chain key: a member given it cannot read earlier messages.
        Send it only over an authenticated pairwise session. Receivers refuse the
        distribution of a used-up key (iteration past :data:`MAX_ITERATION`): rotate first.
        """
        return (
            bytes((VERSION,))
            + self._group_id
            + _U32.pack(self._key_id)
            + _U32.pack(self._iteration)
            + self._chain_key
            + self._signing_public
        )

    def rotate(self, random: _p.Random) -> OwnSenderKey:
        """Return a new, independent sender key for the same group (new key id, chain, signer).

        Call it whenever a member leaves or is removed, then distribute the new key to the
        remaining members only; drop this object.
        """
        return self._fresh(self._group_id, self._identity, self._key_id, random)

    def save(self) -> bytes:
        """Serialise to a :class:`~crypto.state.StateKind.SENDER_KEY_OWN` state."""
        body = (
            Writer()
            .fixed(self._group_id)
            .fixed(self._identity)
            .u32(self._key_id)
            .u32(self._iteration)
            .fixed(self._chain_key)
            .fixed(self._signing_secret)
            .getvalue()
        )
        return frame(StateKind.SENDER_KEY_OWN, STATE_VERSION, body)

    @classmethod
    def restore(cls, data: bytes) -> OwnSenderKey:
        """Load a state written by :meth:`save`.

        Raises:
            StateError: the data is not a valid own sender-key state.
            UnsupportedVersion: the state's version is unknown.
        """
        reader = Reader(unframe(data, StateKind.SENDER_KEY_OWN, STATE_VERSION))
        group_id = reader.fixed(GROUP_ID_SIZE)
        identity = reader.fixed(_p.KEY_SIZE)
        key_id = reader.u32()
        iteration = reader.u32()
        chain_key = reader.fixed(_p.KEY_SIZE)
        signing_secret = reader.fixed(_p.ED25519_SECRET_SIZE)
        reader.end()
        return cls(group_id, identity, key_id, iteration, chain_key, signing_secret)


class PeerSenderKey:
    """The receiving half: one member's sender key as seen by us, for one group.

    Decryption works on local copies and commits only after the signature and the AEAD tag
    verified, so a failed :meth:`decrypt` leaves the state exactly as it was.
    """

    __slots__ = (
        "_chain_key",
        "_first_iteration",
        "_group_id",
        "_identity",
        "_iteration",
        "_key_id",
        "_prefix",
        "_signing_public",
        "_skipped",
        "_soonest_expiry",
    )

    def __init__(
        self,
        group_id: bytes,
        identity: bytes,
        key_id: int,
        signing_public: bytes,
        first_iteration: int,
        iteration: int,
        chain_key: bytes,
        skipped: dict[int, tuple[bytes, int]],
    ) -> None:
        """Build from known fields; use :meth:`from_distribution` or :meth:`restore`."""
        self._group_id = group_id  # GROUP_ID_SIZE bytes
        self._identity = identity  # the sender's Ed25519 identity key, as given by the caller
        self._key_id = key_id  # u32 key id of the distribution this state came from
        self._signing_public = signing_public  # 32-byte Ed25519 key every message must verify
        self._first_iteration = first_iteration  # iteration of the distribution; never changes
        self._iteration = iteration  # next expected iteration; >= _first_iteration
        self._chain_key = chain_key  # 32 bytes: chain key for `_iteration`
        # iteration -> (message key, expiry second); every key in
        # [_first_iteration, _iteration), ascending, at most MAX_SKIPPED_KEYS entries
        self._skipped = skipped
        self._soonest_expiry = min((e for _, e in skipped.values()), default=0)  # 0 if empty
        self._prefix = bytes((VERSION,)) + group_id + _U32.pack(key_id)  # expected header start

    @classmethod
    def from_distribution(
        cls, distribution: bytes, group_id: bytes, sender_identity: bytes
    ) -> PeerSenderKey:
        """Accept a member's distribution message for ``group_id``.

        ``sender_identity`` is the identity key of the pairwise session the distribution
        arrived on: the state is bound to it, and every message must be signed for it. If a
        state with the same key id already exists, keep the existing one (a re-sent
        distribution would rewind it and re-open decrypted iterations to replays).

        Raises:
            DecodeError: the distribution is malformed, or its signing key is not a valid point.
            UnsupportedVersion: its version byte is unknown.
            SenderKeyMismatch: it is for another group.
        """
        _check_group_id(group_id)
        _check_identity(sender_identity)
        if type(distribution) is not bytes or len(distribution) != DISTRIBUTION_SIZE:
            raise DecodeError(f"a sender-key distribution must be {DISTRIBUTION_SIZE} bytes")
        if distribution[0] != VERSION:
            raise UnsupportedVersion(
                f"sender-key distribution version {distribution[0]} is not supported"
            )
        offset = 1 + GROUP_ID_SIZE
        if not _p.constant_time_equal(distribution[1:offset], group_id):
            raise SenderKeyMismatch("the sender-key distribution is for another group")
        key_id, iteration = struct.unpack_from(">II", distribution, offset)
        offset += 8
        chain_key = distribution[offset : offset + _p.KEY_SIZE]
        signing_public = distribution[offset + _p.KEY_SIZE :]
        if iteration > MAX_ITERATION:
            raise DecodeError("the sender-key distribution's iteration is out of range")
        _p.ed25519_public_to_x25519(signing_public)  # rejects invalid and small-order points
        return cls(
            group_id, sender_identity, key_id, signing_public, iteration, iteration, chain_key, {}
        )

    @property
    def group_id(self) -> bytes:
        return self._group_id

    @property
    def sender_identity(self) -> bytes:
        return self._identity

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def iteration(self) -> int:
        """The next iteration expected in order."""
        return self._iteration

    @property
    def skipped_count(self) -> int:
        """How many skipped message keys are stored."""
        return len(self._skipped)

    def decrypt(self, message: bytes, now: int) -> bytes:
        """Verify, decrypt and accept one group message; ``now`` is seconds since the epoch.

        Raises:
            DecodeError: the message is malformed or truncated.
            UnsupportedVersion: its version byte is unknown.
            SenderKeyMismatch: it belongs to another group or key id than this state.
            BadSignature: the signature does not verify (forged or tampered).
            AuthenticationError: the signature verified but the AEAD tag did not.
            DuplicateMessage: this iteration was already decrypted (or its key was dropped).
            PredatesSenderKey: it was sent before the distribution this state started from.
            ExpiredKey: its skipped message key has expired.
            TooManySkipped: it is more than :data:`MAX_FORWARD` iterations ahead.
        """
        _check_message_shape(message)
        prefix = self._prefix
        if message[: len(prefix)] != prefix:
            if message[1 : 1 + GROUP_ID_SIZE] != self._group_id:
                raise SenderKeyMismatch("the group message is for another group")
            raise SenderKeyMismatch("the group message uses another sender key (key id)")
        iteration = _U32.unpack_from(message, HEADER_SIZE - 4)[0]
        if iteration > MAX_ITERATION:
            raise DecodeError("the group message's iteration is out of range")
        body = message[:-_SIG]
        _verify(self._signing_public, self._identity + body, message[-_SIG:])
        header = body[:HEADER_SIZE]
        nonce = body[HEADER_SIZE:_NONCE_END]
        ciphertext = body[_NONCE_END:]
        associated_data = self._identity + header
        expected = self._iteration
        skipped = self._skipped

        if iteration == expected:  # the common case: in order
            message_key, next_chain_key = _chain_step(self._chain_key, _MESSAGE_KEY, _CHAIN_KEY)
            plaintext = _decrypt(message_key, nonce, ciphertext, associated_data)
            self._chain_key = next_chain_key
            self._iteration = expected + 1
            if skipped and now >= self._soonest_expiry:
                self._set_skipped(skipped, now)
            return plaintext

        if iteration < expected:  # late: needs a stored skipped key
            entry = skipped.get(iteration)
            if entry is None:
                if iteration < self._first_iteration:
                    raise PredatesSenderKey(
                        "the group message was sent before we received this sender key"
                    )
                raise DuplicateMessage(
                    "the group message was already decrypted, or its key was dropped"
                )
            message_key, expiry = entry
            if now >= expiry:
                raise ExpiredKey("the group message arrived after its skipped key expired")
            plaintext = _decrypt(message_key, nonce, ciphertext, associated_data)
            remaining = dict(skipped)
            del remaining[iteration]
            self._set_skipped(remaining, now)
            return plaintext

        # early: skip the keys in between (on copies), then commit
        if iteration - expected > MAX_FORWARD:
            raise TooManySkipped(
                f"the group message is {iteration - expected} iterations ahead "
                f"(at most {MAX_FORWARD} allowed)"
            )
        chain_key = self._chain_key
        expiry = now + SKIPPED_KEY_TTL
        new_keys: dict[int, tuple[bytes, int]] = {}
        for skipped_iteration in range(expected, iteration):
            message_key, chain_key = _chain_step(chain_key, _MESSAGE_KEY, _CHAIN_KEY)
            new_keys[skipped_iteration] = (message_key, expiry)
        message_key, next_chain_key = _chain_step(chain_key, _MESSAGE_KEY, _CHAIN_KEY)
        plaintext = _decrypt(message_key, nonce, ciphertext, associated_data)
        merged = {i: entry for i, entry in skipped.items() if entry[1] > now}
        merged.update(new_keys)
        excess = len(merged) - MAX_SKIPPED_KEYS
        if excess > 0:  # drop the oldest iterations first (dicts keep insertion order)
            for old in list(merged)[:excess]:
                del merged[old]
        self._chain_key = next_chain_key
        self._iteration = iteration + 1
        self._set_skipped(merged, now)
        return plaintext

    def _set_skipped(self, skipped: dict[int, tuple[bytes, int]], now: int) -> None:
        """Commit a new skipped-key store, without the keys that expired by ``now``."""
        live = {i: entry for i, entry in skipped.items() if entry[1] > now}
        self._skipped = live
        self._soonest_expiry = min((e for _, e in live.values()), default=0)

    def save(self) -> bytes:
        """Serialise to a :class:`~crypto.state.StateKind.SENDER_KEY_PEER` state."""
        writer = (
            Writer()
            .fixed(self._group_id)
            .fixed(self._identity)
            .u32(self._key_id)
            .fixed(self._signing_public)
            .u32(self._first_iteration)
            .u32(self._iteration)
            .fixed(self._chain_key)
            .u32(len(self._skipped))
        )
        for iteration, (message_key, expiry) in self._skipped.items():
            writer.u32(iteration).fixed(message_key).u64(expiry)
        return frame(StateKind.SENDER_KEY_PEER, STATE_VERSION, writer.getvalue())

    @classmethod
    def restore(cls, data: bytes) -> PeerSenderKey:
        """Load a state written by :meth:`save`.

        Raises:
            StateError: the data is not a valid peer sender-key state.
            UnsupportedVersion: the state's version is unknown.
        """
        reader = Reader(unframe(data, StateKind.SENDER_KEY_PEER, STATE_VERSION))
        group_id = reader.fixed(GROUP_ID_SIZE)
        identity = reader.fixed(_p.KEY_SIZE)
        key_id = reader.u32()
        signing_public = reader.fixed(_p.KEY_SIZE)
        first_iteration = reader.u32()
        iteration = reader.u32()
        chain_key = reader.fixed(_p.KEY_SIZE)
        count = reader.count(4 + _p.KEY_SIZE + 8)
        if count > MAX_SKIPPED_KEYS or first_iteration > iteration:
            raise StateError("the saved sender key's counters are inconsistent")
        skipped: dict[int, tuple[bytes, int]] = {}
        previous = first_iteration - 1
        for _ in range(count):
            skipped_iteration = reader.u32()
            message_key = reader.fixed(_p.KEY_SIZE)
            expiry = reader.u64()
            if not previous < skipped_iteration < iteration:
                raise StateError("the saved sender key's skipped keys are out of order")
            skipped[skipped_iteration] = (message_key, expiry)
            previous = skipped_iteration
        reader.end()
        return cls(
            group_id,
            identity,
            key_id,
            signing_public,
            first_iteration,
            iteration,
            chain_key,
            skipped,
        )
