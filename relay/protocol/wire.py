"""The wire layer of the relay protocol: MessagePack in and out, bounded field reading, and
the base classes of every frame.

Nothing here knows an operation; :mod:`relay.protocol` puts the frames together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

import msgpack

from relay.errors import Malformed, TooLarge

PROTOCOL_VERSION: Final = 2
"""The newest protocol version this module speaks."""
SUPPORTED_VERSIONS: Final = (1, 2)
"""Every version this module speaks: 2 is 1 plus the ``deliver_many`` push."""
DELIVER_MANY_VERSION: Final = 2
"""The first version in which the relay may group deliveries into one ``deliver_many``."""

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


class Fields:
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

    def nested(self, key: str, what: str) -> Fields:
        return self.wrap(self._get(key, optional=False), what)

    def opt_nested(self, key: str, what: str) -> Fields | None:
        value = self._get(key, optional=True)
        return None if value is None else self.wrap(value, what)

    def wrap(self, value: Any, what: str) -> Fields:
        """Read ``value`` (an item of a list or a nested field) as a map."""
        if not isinstance(value, dict):
            raise self._fail(f"{what} must be a map")
        return Fields(value, f"{self._what}, {what}", self.request_id)

    def finish(self, *, allow_unknown: bool = False) -> None:
        """Reject keys this version does not define (unless the map is open-ended)."""
        if len(self._read) != len(self._map) and not allow_unknown:
            unknown = sorted(set(self._map) - set(self._read))
            raise self._fail(f'the field "{unknown[0][:40]}" is not defined in this version')


def unpack(data: bytes) -> dict[str, Any]:
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


def header(value: dict[str, Any], what: str) -> tuple[str, int]:
    """Read ``op`` and ``id`` first, so later errors can name the request they answer."""
    op = value.get("op")
    raw_id = value.get("id")
    request_id = raw_id if type(raw_id) is int and 0 <= raw_id <= MAX_REQUEST_ID else 0
    if type(op) is not str:
        raise Malformed(f'{what} needs an "op" string', request_id=request_id)
    if type(raw_id) is not int or not 0 <= raw_id <= MAX_REQUEST_ID:
        raise Malformed(f'{what} needs an "id" between 0 and {MAX_REQUEST_ID}', request_id=0)
    return op, request_id


def pack(body: dict[str, Any]) -> bytes:
    return msgpack.packb(body, use_bin_type=True)




@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    OP: ClassVar[str]

    def _body(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _parse(cls, f: Fields) -> Self:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply(Frame):
    """A successful answer: ``{"op": "ok", "id": <request id>, ...}``."""

    OP: ClassVar[str] = "ok"
    request_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Frame):
    """A client request; ``REPLY`` is the type of its ``ok`` answer."""

    REPLY: ClassVar[type[Reply]]
    NEEDS_AUTH: ClassVar[bool] = True
    request_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Push(Frame):
    """A frame the relay sends on its own (id 0)."""
