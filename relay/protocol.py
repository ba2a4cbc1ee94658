"""The one definition of every relay frame, without I/O: bytes in, typed frames out, and back.

A frame is one binary WebSocket message holding one MessagePack map with an ``op`` (string)
and an ``id`` (request id). Clients send requests; the relay answers each with exactly one
``ok`` or ``error`` frame carrying the same id, and pushes ``deliver`` and ``prekeys_low``
frames (id 0) on its own. docs/PROTOCOL.md is the prose version of this module.

Both ends use this module: the relay calls :func:`decode_request` and :func:`encode`; a client
calls :func:`encode` on its requests and :func:`decode_relay_frame` on what arrives, passing the
reply type of each pending request (``type(request).REPLY``). Decoders accept any bytes and only
ever raise :class:`relay.errors.ProtocolError` subclasses.

Fields are checked against protocol-wide bounds here (exact key sizes, integer ranges, list
lengths); a relay's own, usually tighter limits (advertised in the hello reply) are enforced
by the server.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

import msgpack

from relay.errors import (
    AuthFailed,
    BadSignature,
    Malformed,
    ProtocolError,
    TooLarge,
    UnknownOperation,
    error_for_code,
)

PROTOCOL_VERSION: Final = 1
"""The protocol version this module speaks."""
SUPPORTED_VERSIONS: Final = (1,)

KEY_SIZE: Final = 32
"""Ed25519 and X25519 public keys; a mailbox is named by its owner's Ed25519 key."""
SIGNATURE_SIZE: Final = 64
NONCE_SIZE: Final = 32
BLOB_ID_SIZE: Final = 32

AUTH_CONTEXT: Final = b"Sourdine relay auth v1"
"""Domain separation prefix of the bytes a client signs to authenticate."""
RECEIPT_CONTEXT: Final = b"Sourdine deletion receipt v1"
"""Domain separation prefix of the bytes a relay signs in an account deletion receipt."""

MAX_REQUEST_ID: Final = 2**53 - 1
"""Request ids are 1..2^53-1 (0 marks pushes and errors not tied to a request)."""
MAX_UINT: Final = 2**63 - 1
"""Every other integer field is 0..2^63-1."""
MAX_PREKEY_ID: Final = 2**32 - 1
MAX_LIST: Final = 1000
"""Longest list in any frame (recipients, acked ids, deposit results)."""
MAX_ONE_TIME_PREKEYS_PER_FRAME: Final = 200
MAX_DISPLAY_NAME: Final = 64
"""Characters in a directory display name or search query."""
MAX_INVITATION: Final = 128
MAX_MESSAGE: Final = 1024
"""Characters in an error message."""
MAX_SEARCH_RESULTS: Final = 100
_MAX_MAP: Final = 32


# --- field reading ----------------------------------------------------------------------------


class _Fields:
    """Typed, bounded access to one decoded map; every accessor raises :class:`Malformed`."""

    __slots__ = ("_map", "_read", "_what", "request_id")

    def __init__(self, mapping: Mapping[str, Any], what: str, request_id: int) -> None:
        self._map = mapping  # the decoded map, keys already checked to be strings
        self._what = what  # how messages name this map, e.g. "the deposit frame"
        self._read: list[str] = []  # keys present and read so far; finish() checks the rest
        self.request_id = request_id  # carried into every error raised from here

    def mark_read(self, *keys: str) -> None:
        """Count keys read elsewhere (the frame header) as known."""
        self._read.extend(key for key in keys if key in self._map)

    def _fail(self, message: str, cls: type[Malformed] = Malformed) -> Malformed:
        return cls(f"{self._what}: {message}", request_id=self.request_id)

    def _get(self, key: str, optional: bool) -> Any:
        if key not in self._map:
            if optional:
                return None
            raise self._fail(f'the field "{key}" is missing')
        self._read.append(key)
        value = self._map[key]
        if value is None and not optional:
            raise self._fail(f'the field "{key}" must not be nil')
        return value

    def uint(self, key: str, maximum: int = MAX_UINT, minimum: int = 0) -> int:
        value = self._get(key, optional=False)
        return self._check_uint(key, value, minimum, maximum)

    def opt_uint(self, key: str, maximum: int = MAX_UINT, minimum: int = 0) -> int | None:
        value = self._get(key, optional=True)
        return None if value is None else self._check_uint(key, value, minimum, maximum)

    def _check_uint(self, key: str, value: Any, minimum: int, maximum: int) -> int:
        if type(value) is not int:
            raise self._fail(f'the field "{key}" must be an integer')
        if not minimum <= value <= maximum:
            raise self._fail(f'the field "{key}" must be between {minimum} and {maximum}')
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key, optional=False)
        if type(value) is not bool:
            raise self._fail(f'the field "{key}" must be true or false')
        return value

    def binary(self, key: str, size: int | None = None, max_size: int | None = None) -> bytes:
        value = self._get(key, optional=False)
        return self._check_binary(key, value, size, max_size)

    def opt_binary(self, key: str, size: int) -> bytes | None:
        value = self._get(key, optional=True)
        return None if value is None else self._check_binary(key, value, size, None)

    def _check_binary(self, key: str, value: Any, size: int | None, max_size: int | None) -> bytes:
        if type(value) is not bytes:
            raise self._fail(f'the field "{key}" must be binary')
        if size is not None and len(value) != size:
            raise self._fail(f'the field "{key}" must be exactly {size} bytes')
        if max_size is not None and len(value) > max_size:
            raise self._fail(f'the field "{key}" is over {max_size} bytes', TooLarge)
        return value

    def text(self, key: str, max_chars: int, *, optional: bool = False) -> str | None:
        value = self._get(key, optional=optional)
        if value is None:
            return None
        if type(value) is not str:
            raise self._fail(f'the field "{key}" must be a string')
        if len(value) > max_chars:
            raise self._fail(f'the field "{key}" is over {max_chars} characters', TooLarge)
        return value

    def required_text(self, key: str, max_chars: int) -> str:
        value = self.text(key, max_chars)
        if value is None:  # pragma: no cover - text() raises for a missing required field
            raise self._fail(f'the field "{key}" is missing')
        return value

    def array(self, key: str, max_items: int, *, optional: bool = False) -> tuple[Any, ...]:
        value = self._get(key, optional=optional)
        if value is None:
            return ()
        if type(value) is not tuple:
            raise self._fail(f'the field "{key}" must be an array')
        if len(value) > max_items:
            raise self._fail(f'the field "{key}" has more than {max_items} items', TooLarge)
        return value

    def nested(self, key: str, what: str) -> _Fields:
        return self.wrap(self._get(key, optional=False), what)

    def opt_nested(self, key: str, what: str) -> _Fields | None:
        value = self._get(key, optional=True)
        return None if value is None else self.wrap(value, what)

    def wrap(self, value: Any, what: str) -> _Fields:
        """Read ``value`` (an item of a list or a nested field) as a map."""
        if not isinstance(value, dict):
            raise self._fail(f"{what} must be a map")
        return _Fields(value, f"{self._what}, {what}", self.request_id)

    def finish(self, *, allow_unknown: bool = False) -> None:
        """Reject keys this version does not define (unless the map is open-ended)."""
        if len(self._read) != len(self._map) and not allow_unknown:
            unknown = sorted(set(self._map) - set(self._read))
            raise self._fail(f'the field "{unknown[0][:40]}" is not defined in this version')


def _unpack(data: bytes) -> dict[str, Any]:
    """MessagePack bytes to one map with string keys, under strict size limits.

    Raises:
        Malformed: not exactly one MessagePack map with string keys.
    """
    if type(data) is not bytes:
        raise Malformed("a frame must be a binary WebSocket message")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=False,
            strict_map_key=True,
            max_bin_len=len(data),
            max_str_len=len(data),  # lists and strings are bounded per field, with the id
            max_array_len=len(data),
            max_map_len=_MAX_MAP,
            max_ext_len=0,
        )
    except Exception:  # msgpack raises many ValueError kinds; all mean "not a valid frame"
        raise Malformed("the frame is not a valid MessagePack value") from None
    if not isinstance(value, dict):
        raise Malformed("a frame must be a MessagePack map")
    if not all(type(key) is str for key in value):
        raise Malformed("every key of a frame must be a string")
    return value


def _header(value: dict[str, Any], what: str) -> tuple[str, int]:
    """Read ``op`` and ``id`` first, so later errors can name the request they answer."""
    op = value.get("op")
    raw_id = value.get("id")
    request_id = raw_id if type(raw_id) is int and 0 <= raw_id <= MAX_REQUEST_ID else 0
    if type(op) is not str:
        raise Malformed(f'{what} needs an "op" string', request_id=request_id)
    if type(raw_id) is not int or not 0 <= raw_id <= MAX_REQUEST_ID:
        raise Malformed(f'{what} needs an "id" between 0 and {MAX_REQUEST_ID}', request_id=0)
    return op, request_id


def _pack(body: dict[str, Any]) -> bytes:
    return msgpack.packb(body, use_bin_type=True)


# --- shared structures ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedPrekey:
    """An X25519 signed prekey; ``signature`` is Ed25519 by the identity key over ``public_key``."""

    prekey_id: int
    public_key: bytes
    signature: bytes

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.prekey_id, "key": self.public_key, "signature": self.signature}

    @classmethod
    def from_wire(cls, f: _Fields) -> SignedPrekey:
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
    def from_wire(cls, f: _Fields) -> OneTimePrekey:
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
    def from_wire(cls, f: _Fields) -> RelayLimits:
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
    def from_wire(cls, f: _Fields) -> DepositOutcome:
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
    def from_wire(cls, f: _Fields) -> DirectoryEntry:
        result = cls(
            identity=f.binary("identity", KEY_SIZE),
            display_name=f.required_text("display_name", MAX_DISPLAY_NAME),
        )
        f.finish()
        return result


# --- frames -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Frame:
    OP: ClassVar[str]

    def _body(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply(_Frame):
    """A successful answer: ``{"op": "ok", "id": <request id>, ...}``."""

    OP: ClassVar[str] = "ok"
    request_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(_Frame):
    """A client request; ``REPLY`` is the type of its ``ok`` answer."""

    REPLY: ClassVar[type[Reply]]
    NEEDS_AUTH: ClassVar[bool] = True
    request_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Push(_Frame):
    """A frame the relay sends on its own (id 0)."""


# -- replies --


@dataclass(frozen=True, slots=True, kw_only=True)
class HelloOk(Reply):
    version: int
    relay_key: bytes
    nonce: bytes
    admission: str
    limits: RelayLimits

    def _body(self) -> dict[str, Any]:
        return {
            "version": self.version, "relay_key": self.relay_key, "nonce": self.nonce,
            "admission": self.admission, "limits": self.limits.to_wire(),
        }

    @classmethod
    def _parse(cls, f: _Fields) -> HelloOk:
        limits = f.nested("limits", "the limits")
        return cls(
            request_id=f.request_id,
            version=f.uint("version"),
            relay_key=f.binary("relay_key", KEY_SIZE),
            nonce=f.binary("nonce", NONCE_SIZE),
            admission=f.required_text("admission", 32),
            limits=RelayLimits.from_wire(limits),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthOk(Reply):
    created: bool  # the mailbox was created by this auth (first use of the relay)

    def _body(self) -> dict[str, Any]:
        return {"created": self.created}

    @classmethod
    def _parse(cls, f: _Fields) -> AuthOk:
        return cls(request_id=f.request_id, created=f.boolean("created"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysPublished(Reply):
    one_time_count: int  # one-time prekeys now stored

    def _body(self) -> dict[str, Any]:
        return {"one_time_count": self.one_time_count}

    @classmethod
    def _parse(cls, f: _Fields) -> PrekeysPublished:
        return cls(request_id=f.request_id, one_time_count=f.uint("one_time_count"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeyBundle(Reply):
    identity: bytes
    signed_prekey: SignedPrekey
    one_time_prekey: OneTimePrekey | None

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "identity": self.identity, "signed_prekey": self.signed_prekey.to_wire()
        }
        if self.one_time_prekey is not None:
            body["one_time_prekey"] = self.one_time_prekey.to_wire()
        return body

    @classmethod
    def _parse(cls, f: _Fields) -> PrekeyBundle:
        identity = f.binary("identity", KEY_SIZE)
        spk = f.nested("signed_prekey", "the signed prekey")
        opk = f.opt_nested("one_time_prekey", "the one-time prekey")
        return cls(
            request_id=f.request_id,
            identity=identity,
            signed_prekey=SignedPrekey.from_wire(spk),
            one_time_prekey=None if opk is None else OneTimePrekey.from_wire(opk),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposited(Reply):
    results: tuple[DepositOutcome, ...]  # one per recipient, in the request's order

    def _body(self) -> dict[str, Any]:
        return {"results": [outcome.to_wire() for outcome in self.results]}

    @classmethod
    def _parse(cls, f: _Fields) -> Deposited:
        items = f.array("results", MAX_LIST)
        return cls(
            request_id=f.request_id,
            results=tuple(DepositOutcome.from_wire(f.wrap(item, "a result")) for item in items),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Acked(Reply):
    deleted: int  # envelopes deleted now (ids already gone are not counted)

    def _body(self) -> dict[str, Any]:
        return {"deleted": self.deleted}

    @classmethod
    def _parse(cls, f: _Fields) -> Acked:
        return cls(request_id=f.request_id, deleted=f.uint("deleted"))


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobCreated(Reply):
    blob_id: bytes
    expires_at: int

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id, "expires_at": self.expires_at}

    @classmethod
    def _parse(cls, f: _Fields) -> BlobCreated:
        return cls(
            request_id=f.request_id,
            blob_id=f.binary("blob_id", BLOB_ID_SIZE),
            expires_at=f.uint("expires_at"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobWritten(Reply):
    received: int  # bytes of the blob stored so far

    def _body(self) -> dict[str, Any]:
        return {"received": self.received}

    @classmethod
    def _parse(cls, f: _Fields) -> BlobWritten:
        return cls(request_id=f.request_id, received=f.uint("received"))


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobData(Reply):
    data: bytes  # shorter than asked only at the end of the blob

    def _body(self) -> dict[str, Any]:
        return {"data": self.data}

    @classmethod
    def _parse(cls, f: _Fields) -> BlobData:
        return cls(request_id=f.request_id, data=f.binary("data"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Removed(Reply):
    """Answer to blob_delete and directory_remove: whether there was something to remove."""

    removed: bool

    def _body(self) -> dict[str, Any]:
        return {"removed": self.removed}

    @classmethod
    def _parse(cls, f: _Fields) -> Removed:
        return cls(request_id=f.request_id, removed=f.boolean("removed"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Done(Reply):
    """An ``ok`` with no fields (directory_publish)."""

    @classmethod
    def _parse(cls, f: _Fields) -> Done:
        return cls(request_id=f.request_id)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDeleted(Reply):
    receipt: DeletionReceipt
    signature: bytes  # Ed25519 by the relay key over receipt.to_bytes()

    def _body(self) -> dict[str, Any]:
        return {"receipt": self.receipt.to_bytes(), "signature": self.signature}

    @classmethod
    def _parse(cls, f: _Fields) -> AccountDeleted:
        return cls(
            request_id=f.request_id,
            receipt=DeletionReceipt.from_bytes(f.binary("receipt", max_size=256), f.request_id),
            signature=f.binary("signature", SIGNATURE_SIZE),
        )

    def verify(self, relay_key: bytes) -> None:
        """Check the receipt was signed by ``relay_key`` (the key from the hello reply).

        Raises:
            BadSignature: the signature does not verify or names another relay.
        """
        from crypto.errors import BadSignature as CryptoBadSignature
        from crypto.primitives import ed25519_verify

        if self.receipt.relay_key != relay_key:
            raise BadSignature("the receipt names another relay", request_id=self.request_id)
        try:
            ed25519_verify(relay_key, self.receipt.to_bytes(), self.signature)
        except CryptoBadSignature:
            raise BadSignature(
                "the receipt's signature does not verify", request_id=self.request_id
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryResults(Reply):
    entries: tuple[DirectoryEntry, ...]

    def _body(self) -> dict[str, Any]:
        return {"entries": [entry.to_wire() for entry in self.entries]}

    @classmethod
    def _parse(cls, f: _Fields) -> DirectoryResults:
        items = f.array("entries", MAX_SEARCH_RESULTS)
        return cls(
            request_id=f.request_id,
            entries=tuple(DirectoryEntry.from_wire(f.wrap(item, "an entry")) for item in items),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorReply(_Frame):
    """``{"op": "error", "id": ..., "code": ..., "message": ...}`` answering one request."""

    OP: ClassVar[str] = "error"
    request_id: int
    code: str
    message: str
    retry_after_ms: int | None = None  # only with code "rate_limited"

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.retry_after_ms is not None:
            body["retry_after_ms"] = self.retry_after_ms
        return body

    @classmethod
    def _parse(cls, f: _Fields) -> ErrorReply:
        return cls(
            request_id=f.request_id,
            code=f.required_text("code", 64),
            message=f.required_text("message", MAX_MESSAGE),
            retry_after_ms=f.opt_uint("retry_after_ms"),
        )

    @classmethod
    def of(cls, error: ProtocolError) -> ErrorReply:
        """The reply carrying ``error`` (its code, message and request id)."""
        retry = getattr(error, "retry_after_ms", None)
        return cls(
            request_id=error.request_id, code=error.code, message=error.message[:MAX_MESSAGE],
            retry_after_ms=retry,
        )

    def to_exception(self) -> ProtocolError:
        """The typed error the relay reported."""
        return error_for_code(
            self.code, self.message, request_id=self.request_id,
            retry_after_ms=self.retry_after_ms or 0,
        )


# -- pushes --


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliver(Push):
    """A stored envelope pushed to its authenticated owner; ack it to delete it."""

    OP: ClassVar[str] = "deliver"
    envelope_id: int
    envelope: bytes
    expires_at: int

    def _body(self) -> dict[str, Any]:
        return {"envelope_id": self.envelope_id, "envelope": self.envelope,
                "expires_at": self.expires_at}

    @classmethod
    def _parse(cls, f: _Fields) -> Deliver:
        return cls(
            envelope_id=f.uint("envelope_id"),
            envelope=f.binary("envelope"),
            expires_at=f.uint("expires_at"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysLow(Push):
    """The owner's one-time prekeys fell below the relay's threshold: publish more."""

    OP: ClassVar[str] = "prekeys_low"
    one_time_count: int

    def _body(self) -> dict[str, Any]:
        return {"one_time_count": self.one_time_count}

    @classmethod
    def _parse(cls, f: _Fields) -> PrekeysLow:
        return cls(one_time_count=f.uint("one_time_count"))


# -- requests --


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(Request):
    OP: ClassVar[str] = "hello"
    REPLY: ClassVar[type[Reply]] = HelloOk
    NEEDS_AUTH: ClassVar[bool] = False
    versions: tuple[int, ...]  # protocol versions the client speaks

    def _body(self) -> dict[str, Any]:
        return {"versions": list(self.versions)}

    @classmethod
    def _parse(cls, f: _Fields) -> Hello:
        items = f.array("versions", 16)
        versions = []
        for item in items:
            if type(item) is not int or not 1 <= item <= 0xFFFF:
                raise Malformed('"versions" must list integers 1..65535', request_id=f.request_id)
            versions.append(item)
        if not versions:
            raise Malformed('"versions" must not be empty', request_id=f.request_id)
        return cls(request_id=f.request_id, versions=tuple(versions))


@dataclass(frozen=True, slots=True, kw_only=True)
class Auth(Request):
    OP: ClassVar[str] = "auth"
    REPLY: ClassVar[type[Reply]] = AuthOk
    NEEDS_AUTH: ClassVar[bool] = False
    identity: bytes  # the client's Ed25519 identity key (its mailbox name)
    signature: bytes  # Ed25519 over auth_message(relay_key, nonce, identity)
    invitation: str | None = None  # needed once, to register on an invitation-only relay

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"identity": self.identity, "signature": self.signature}
        if self.invitation is not None:
            body["invitation"] = self.invitation
        return body

    @classmethod
    def _parse(cls, f: _Fields) -> Auth:
        return cls(
            request_id=f.request_id,
            identity=f.binary("identity", KEY_SIZE),
            signature=f.binary("signature", SIGNATURE_SIZE),
            invitation=f.text("invitation", MAX_INVITATION, optional=True),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysPublish(Request):
    OP: ClassVar[str] = "prekeys_publish"
    REPLY: ClassVar[type[Reply]] = PrekeysPublished
    signed_prekey: SignedPrekey | None = None  # replaces the stored one when given
    one_time_prekeys: tuple[OneTimePrekey, ...] = ()  # added to the stored ones

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"one_time_prekeys": [k.to_wire() for k in self.one_time_prekeys]}
        if self.signed_prekey is not None:
            body["signed_prekey"] = self.signed_prekey.to_wire()
        return body

    @classmethod
    def _parse(cls, f: _Fields) -> PrekeysPublish:
        spk = f.opt_nested("signed_prekey", "the signed prekey")
        items = f.array("one_time_prekeys", MAX_ONE_TIME_PREKEYS_PER_FRAME)
        one_time = tuple(OneTimePrekey.from_wire(f.wrap(i, "a one-time prekey")) for i in items)
        if len({k.prekey_id for k in one_time}) != len(one_time):
            raise Malformed("two one-time prekeys share an id", request_id=f.request_id)
        return cls(
            request_id=f.request_id,
            signed_prekey=None if spk is None else SignedPrekey.from_wire(spk),
            one_time_prekeys=one_time,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysFetch(Request):
    OP: ClassVar[str] = "prekeys_fetch"
    REPLY: ClassVar[type[Reply]] = PrekeyBundle
    NEEDS_AUTH: ClassVar[bool] = False
    identity: bytes

    def _body(self) -> dict[str, Any]:
        return {"identity": self.identity}

    @classmethod
    def _parse(cls, f: _Fields) -> PrekeysFetch:
        return cls(request_id=f.request_id, identity=f.binary("identity", KEY_SIZE))


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposit(Request):
    OP: ClassVar[str] = "deposit"
    REPLY: ClassVar[type[Reply]] = Deposited
    NEEDS_AUTH: ClassVar[bool] = False
    recipients: tuple[bytes, ...]  # mailboxes (identity keys), distinct
    envelope: bytes  # opaque sealed bytes
    ttl: int | None = None  # seconds; the relay keeps min(ttl, its maximum)

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"to": list(self.recipients), "envelope": self.envelope}
        if self.ttl is not None:
            body["ttl"] = self.ttl
        return body

    @classmethod
    def _parse(cls, f: _Fields) -> Deposit:
        items = f.array("to", MAX_LIST)
        if not items:
            raise Malformed('"to" must name at least one mailbox', request_id=f.request_id)
        for item in items:
            if type(item) is not bytes or len(item) != KEY_SIZE:
                raise Malformed('"to" must list 32-byte keys', request_id=f.request_id)
        if len(set(items)) != len(items):
            raise Malformed('"to" names a mailbox twice', request_id=f.request_id)
        envelope = f.binary("envelope")
        if not envelope:
            raise Malformed("the envelope is empty", request_id=f.request_id)
        return cls(
            request_id=f.request_id, recipients=items, envelope=envelope,
            ttl=f.opt_uint("ttl", minimum=1),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack(Request):
    OP: ClassVar[str] = "ack"
    REPLY: ClassVar[type[Reply]] = Acked
    envelope_ids: tuple[int, ...]

    def _body(self) -> dict[str, Any]:
        return {"envelope_ids": list(self.envelope_ids)}

    @classmethod
    def _parse(cls, f: _Fields) -> Ack:
        items = f.array("envelope_ids", MAX_LIST)
        for item in items:
            if type(item) is not int or not 0 <= item <= MAX_UINT:
                raise Malformed('"envelope_ids" must list integers', request_id=f.request_id)
        return cls(request_id=f.request_id, envelope_ids=items)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobCreate(Request):
    OP: ClassVar[str] = "blob_create"
    REPLY: ClassVar[type[Reply]] = BlobCreated
    size: int
    ttl: int | None = None

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"size": self.size}
        if self.ttl is not None:
            body["ttl"] = self.ttl
        return body

    @classmethod
    def _parse(cls, f: _Fields) -> BlobCreate:
        return cls(
            request_id=f.request_id, size=f.uint("size", minimum=1),
            ttl=f.opt_uint("ttl", minimum=1),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobPut(Request):
    OP: ClassVar[str] = "blob_put"
    REPLY: ClassVar[type[Reply]] = BlobWritten
    blob_id: bytes
    offset: int  # must equal the bytes received so far (chunks arrive in order)
    data: bytes

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id, "offset": self.offset, "data": self.data}

    @classmethod
    def _parse(cls, f: _Fields) -> BlobPut:
        result = cls(
            request_id=f.request_id, blob_id=f.binary("blob_id", BLOB_ID_SIZE),
            offset=f.uint("offset"), data=f.binary("data"),
        )
        if not result.data:
            raise Malformed("the chunk is empty", request_id=f.request_id)
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobGet(Request):
    OP: ClassVar[str] = "blob_get"
    REPLY: ClassVar[type[Reply]] = BlobData
    NEEDS_AUTH: ClassVar[bool] = False
    blob_id: bytes
    offset: int
    length: int

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id, "offset": self.offset, "length": self.length}

    @classmethod
    def _parse(cls, f: _Fields) -> BlobGet:
        return cls(
            request_id=f.request_id, blob_id=f.binary("blob_id", BLOB_ID_SIZE),
            offset=f.uint("offset"), length=f.uint("length", minimum=1),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobDelete(Request):
    OP: ClassVar[str] = "blob_delete"
    REPLY: ClassVar[type[Reply]] = Removed
    blob_id: bytes

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id}

    @classmethod
    def _parse(cls, f: _Fields) -> BlobDelete:
        return cls(request_id=f.request_id, blob_id=f.binary("blob_id", BLOB_ID_SIZE))


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDelete(Request):
    OP: ClassVar[str] = "account_delete"
    REPLY: ClassVar[type[Reply]] = AccountDeleted

    @classmethod
    def _parse(cls, f: _Fields) -> AccountDelete:
        return cls(request_id=f.request_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryPublish(Request):
    OP: ClassVar[str] = "directory_publish"
    REPLY: ClassVar[type[Reply]] = Done
    display_name: str

    def _body(self) -> dict[str, Any]:
        return {"display_name": self.display_name}

    @classmethod
    def _parse(cls, f: _Fields) -> DirectoryPublish:
        name = clean_display_name(f.required_text("display_name", MAX_DISPLAY_NAME * 4))
        if name is None:
            raise Malformed(
                f"a display name is 1 to {MAX_DISPLAY_NAME} printable characters",
                request_id=f.request_id,
            )
        return cls(request_id=f.request_id, display_name=name)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryRemove(Request):
    OP: ClassVar[str] = "directory_remove"
    REPLY: ClassVar[type[Reply]] = Removed

    @classmethod
    def _parse(cls, f: _Fields) -> DirectoryRemove:
        return cls(request_id=f.request_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectorySearch(Request):
    OP: ClassVar[str] = "directory_search"
    REPLY: ClassVar[type[Reply]] = DirectoryResults
    query: str
    limit: int = 20

    def _body(self) -> dict[str, Any]:
        return {"query": self.query, "limit": self.limit}

    @classmethod
    def _parse(cls, f: _Fields) -> DirectorySearch:
        query = clean_display_name(f.required_text("query", MAX_DISPLAY_NAME * 4))
        if query is None:
            raise Malformed(
                f"a search query is 1 to {MAX_DISPLAY_NAME} printable characters",
                request_id=f.request_id,
            )
        limit = f.opt_uint("limit", MAX_SEARCH_RESULTS, minimum=1)
        return cls(request_id=f.request_id, query=query, limit=20 if limit is None else limit)


def clean_display_name(text: str) -> str | None:
    """NFC-normalise and trim ``text``; None unless 1..64 characters with no control ones."""
    name = unicodedata.normalize("NFC", text).strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        return None
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in name):
        return None
    return name


REQUEST_TYPES: Final[Mapping[str, type[Request]]] = {
    cls.OP: cls
    for cls in (
        Hello, Auth, PrekeysPublish, PrekeysFetch, Deposit, Ack, BlobCreate, BlobPut, BlobGet,
        BlobDelete, AccountDelete, DirectoryPublish, DirectoryRemove, DirectorySearch,
    )
}
PUSH_TYPES: Final[Mapping[str, type[Push]]] = {cls.OP: cls for cls in (Deliver, PrekeysLow)}

RelayFrame = Reply | ErrorReply | Push
"""Anything a relay sends."""


# --- entry points -----------------------------------------------------------------------------


def encode(frame: Request | Reply | ErrorReply | Push) -> bytes:
    """The MessagePack bytes of ``frame`` (one binary WebSocket message)."""
    request_id = 0 if isinstance(frame, Push) else frame.request_id
    body = {"op": frame.OP, "id": request_id}
    body.update(frame._body())
    return _pack(body)


def encode_deliver(envelope_id: int, envelope: bytes, expires_at: int) -> bytes:
    """:func:`encode` of a :class:`Deliver`, without building the object (the hot path)."""
    return _pack({"op": "deliver", "id": 0, "envelope_id": envelope_id, "envelope": envelope,
                  "expires_at": expires_at})


def decode_request(data: bytes) -> Request:
    """Parse one client frame.

    Raises:
        Malformed: not a valid frame (``request_id`` set when the id could be read).
        UnknownOperation: the ``op`` is not a request of this protocol version.
        TooLarge: a field is over a protocol bound.
    """
    value = _unpack(data)
    op, request_id = _header(value, "a request")
    cls = REQUEST_TYPES.get(op)
    if cls is None:
        raise UnknownOperation(f'"{op[:40]}" is not an operation', request_id=request_id)
    if request_id == 0:
        raise Malformed("a request id must be at least 1", request_id=0)
    fields = _Fields(value, f"the {op} frame", request_id)
    fields.mark_read("op", "id")
    frame = cls._parse(fields)
    fields.finish()
    return frame


def decode_relay_frame(
    data: bytes, reply_type: Callable[[int], type[Reply] | None] | Mapping[int, type[Reply]]
) -> RelayFrame:
    """Parse one frame from a relay (client side).

    ``reply_type`` gives the reply class expected for a pending request id (e.g. a dict of
    ``request_id -> type(request).REPLY``); an ``ok`` for any other id is malformed.

    Raises:
        Malformed: not a valid frame, or an ``ok`` answering no pending request.
        UnknownOperation: an ``op`` a version 1 relay never sends.
    """
    value = _unpack(data)
    op, request_id = _header(value, "a relay frame")
    fields = _Fields(value, f"the {op} frame", request_id)
    fields.mark_read("op", "id")
    frame: RelayFrame
    if op == "ok":
        lookup = reply_type.get if isinstance(reply_type, Mapping) else reply_type
        cls = lookup(request_id) if request_id else None
        if cls is None:
            raise Malformed("an ok frame answers no pending request", request_id=request_id)
        frame = cls._parse(fields)
    elif op == "error":
        frame = ErrorReply._parse(fields)
    elif op in PUSH_TYPES:
        frame = PUSH_TYPES[op]._parse(fields)
    else:
        raise UnknownOperation(f'"{op[:40]}" is not a relay frame', request_id=request_id)
    fields.finish()
    return frame


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


__all__ = [
    "AUTH_CONTEXT", "BLOB_ID_SIZE", "KEY_SIZE", "NONCE_SIZE", "PROTOCOL_VERSION",
    "RECEIPT_CONTEXT", "REQUEST_TYPES", "SIGNATURE_SIZE", "SUPPORTED_VERSIONS", "AccountDelete",
    "AccountDeleted", "Ack", "Acked", "Auth", "AuthOk", "BlobCreate", "BlobCreated", "BlobData",
    "BlobDelete", "BlobGet", "BlobPut", "BlobWritten", "DeletionReceipt", "Deliver", "Deposit",
    "DepositOutcome", "Deposited", "DirectoryEntry", "DirectoryPublish", "DirectoryRemove",
    "DirectoryResults", "DirectorySearch", "Done", "ErrorReply", "Hello", "HelloOk",
    "OneTimePrekey", "PrekeyBundle", "PrekeysFetch", "PrekeysLow", "PrekeysPublish",
    "PrekeysPublished", "Push", "RelayFrame", "RelayLimits", "Removed", "Reply", "Request",
    "SignedPrekey", "auth_message", "clean_display_name", "decode_relay_frame", "decode_request",
    "encode", "encode_deliver",
]
