"""Values carried inside frames, and the exact bytes that get signed.

:func:`auth_message` (what a client signs to authenticate) and :class:`DeletionReceipt` (what
the relay signs when it deletes an account) are fixed binary layouts, not MessagePack, so that
a signature covers exactly one byte string (docs/PROTOCOL.md, "Signed bytes").
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from relay.errors import AuthFailed, Malformed, ProtocolError, error_for_code
from relay.protocol.wire import (
    AUTH_CONTEXT,
    KEY_SIZE,
    MAX_DISPLAY_NAME,
    MAX_MESSAGE,
    MAX_PREKEY_ID,
    NONCE_SIZE,
    RECEIPT_CONTEXT,
    SIGNATURE_SIZE,
    Fields,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedPrekey:
    """An X25519 signed prekey; ``signature`` is Ed25519 by the identity key over ``public_key``."""

    prekey_id: int
    public_key: bytes
    signature: bytes

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.prekey_id, "key": self.public_key, "signature": self.signature}

    @classmethod
    def from_wire(cls, f: Fields) -> SignedPrekey:
        result = cls(
            prekey_id=f.uint("id", MAX_PREKEY_ID),
            public_key=f.binary("key", KEY_SIZE),
            signature=f.binary("signature", SIGNATURE_SIZE),
        )
        f.finish()
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class OneTimePrekey:
    """An X25519 one-time prekey, handed out at most once."""

    prekey_id: int
    public_key: bytes

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.prekey_id, "key": self.public_key}

    @classmethod
    def from_wire(cls, f: Fields) -> OneTimePrekey:
        result = cls(prekey_id=f.uint("id", MAX_PREKEY_ID), public_key=f.binary("key", KEY_SIZE))
        f.finish()
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayLimits:
    """The limits a relay enforces, advertised in its hello reply (0 means "no limit")."""

    max_frame_bytes: int
    max_envelope_bytes: int
    max_recipients: int
    max_ttl_seconds: int
    deposit_rate: int  # tokens per second; a deposit costs one token per recipient
    deposit_burst: int
    blob_max_bytes: int
    blob_chunk_bytes: int
    max_one_time_prekeys: int
    mailbox_max_envelopes: int
    mailbox_max_bytes: int

    def to_wire(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _LIMIT_NAMES}

    @classmethod
    def from_wire(cls, f: Fields) -> RelayLimits:
        values = {name: f.uint(name) for name in _LIMIT_NAMES}
        f.finish(allow_unknown=True)  # a relay may advertise limits newer clients know about
        return cls(**values)


_LIMIT_NAMES: Final = (
    "max_frame_bytes", "max_envelope_bytes", "max_recipients", "max_ttl_seconds",
    "deposit_rate", "deposit_burst", "blob_max_bytes", "blob_chunk_bytes",
    "max_one_time_prekeys", "mailbox_max_envelopes", "mailbox_max_bytes",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DepositOutcome:
    """One recipient's outcome: a stored envelope id, or an error code and message."""

    envelope_id: int | None = None
    code: str | None = None
    message: str | None = None

    def to_wire(self) -> dict[str, Any]:
        if self.envelope_id is not None:
            return {"envelope_id": self.envelope_id}
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_wire(cls, f: Fields) -> DepositOutcome:
        envelope_id = f.opt_uint("envelope_id")
        if envelope_id is not None:
            f.finish()
            return cls(envelope_id=envelope_id)
        result = cls(
            code=f.required_text("code", 64), message=f.required_text("message", MAX_MESSAGE)
        )
        f.finish()
        return result

    def error(self) -> ProtocolError | None:
        """The typed error of a refused recipient, None when the envelope was stored."""
        if self.code is None:
            return None
        return error_for_code(self.code, self.message or "")


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryEntry:
    identity: bytes
    display_name: str

    def to_wire(self) -> dict[str, Any]:
        return {"identity": self.identity, "display_name": self.display_name}

    @classmethod
    def from_wire(cls, f: Fields) -> DirectoryEntry:
        result = cls(
            identity=f.binary("identity", KEY_SIZE),
            display_name=f.required_text("display_name", MAX_DISPLAY_NAME),
        )
        f.finish()
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class DeletionReceipt:
    """What the relay deleted with an account, and when; the relay signs :meth:`to_bytes`."""

    relay_key: bytes
    identity: bytes
    deleted_at: int  # seconds since the epoch
    envelopes: int
    one_time_prekeys: int
    blobs: int
    directory_entry: bool

    _LAYOUT: ClassVar[struct.Struct] = struct.Struct(">32s32sQIIIB")

    def to_bytes(self) -> bytes:
        """The exact signed bytes: context ‖ relay key ‖ identity ‖ u64 time ‖ three u32 ‖ u8."""
        return RECEIPT_CONTEXT + self._LAYOUT.pack(
            self.relay_key, self.identity, self.deleted_at, self.envelopes,
            self.one_time_prekeys, self.blobs, int(self.directory_entry),
        )

    @classmethod
    def from_bytes(cls, data: bytes, request_id: int = 0) -> DeletionReceipt:
        """Parse signed receipt bytes.

        Raises:
            Malformed: wrong context, length or flag value.
        """
        context = len(RECEIPT_CONTEXT)
        if len(data) != context + cls._LAYOUT.size or data[:context] != RECEIPT_CONTEXT:
            raise Malformed("the deletion receipt has the wrong layout", request_id=request_id)
        relay_key, identity, deleted_at, envelopes, opks, blobs, flag = cls._LAYOUT.unpack(
            data[context:]
        )
        if flag > 1:
            raise Malformed("the deletion receipt's flag must be 0 or 1", request_id=request_id)
        return cls(
            relay_key=relay_key, identity=identity, deleted_at=deleted_at, envelopes=envelopes,
            one_time_prekeys=opks, blobs=blobs, directory_entry=bool(flag),
        )


def clean_display_name(text: str) -> str | None:
    """NFC-normalise and trim ``text``; None unless 1..64 characters with no control ones."""
    name = unicodedata.normalize("NFC", text).strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        return None
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in name):
        return None
    return name


def auth_message(relay_key: bytes, nonce: bytes, identity: bytes) -> bytes:
    """The exact bytes a client signs with its identity key to authenticate.

    ``AUTH_CONTEXT ‖ relay_key (32) ‖ nonce (32) ‖ identity (32)``: bound to this relay, this
    connection's challenge and the identity claimed, so a signature is useless anywhere else.

    Raises:
        AuthFailed: a part has the wrong length.
    """
    if len(relay_key) != KEY_SIZE or len(nonce) != NONCE_SIZE or len(identity) != KEY_SIZE:
        raise AuthFailed("the relay key, nonce and identity must be 32 bytes each")
    return AUTH_CONTEXT + relay_key + nonce + identity
