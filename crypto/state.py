"""Versioned binary serialisation for every saved protocol state, with migrations.

A saved state is ``kind (u8) ‖ version (u8) ‖ body``. Each state type owns a ``kind`` number
and writes its body with :class:`Writer`; it reads it back with :class:`Reader`, which
raises :class:`~crypto.errors.StateError` on any malformed input (never ``IndexError`` or
``struct.error``). When a body layout changes, its version goes up and a migration from the
old version is registered, so states saved by older releases keep loading; frozen samples of
old versions live in the tests.

Integers are unsigned big-endian; variable-length fields carry a u32 length prefix.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from enum import IntEnum
from typing import Final

from crypto.errors import StateError, UnsupportedVersion

_U8: Final = struct.Struct(">B")
_U32: Final = struct.Struct(">I")
_U64: Final = struct.Struct(">Q")

MAX_FIELD: Final = 16 * 1024 * 1024
"""Largest variable-length field a reader accepts (bounds allocation on corrupt input)."""


class StateKind(IntEnum):
    """The first byte of every saved state: which type the body belongs to."""

    RATCHET = 1
    SENDER_KEY_OWN = 2
    SENDER_KEY_PEER = 3
    PREKEYS = 4
    IDENTITY = 5


Migration = Callable[[bytes], bytes]
"""Turns a body of version ``v`` into a body of version ``v + 1``."""

_migrations: dict[tuple[StateKind, int], Migration] = {}


def register_migration(kind: StateKind, from_version: int, migrate: Migration) -> None:
    """Register how to upgrade a ``kind`` body from ``from_version`` to ``from_version + 1``."""
    _migrations[(kind, from_version)] = migrate


def frame(kind: StateKind, version: int, body: bytes) -> bytes:
    """Prefix ``body`` with its kind and version."""
    return bytes((kind, version)) + body


def unframe(data: bytes, kind: StateKind, current_version: int) -> bytes:
    """Check the kind, migrate the body up to ``current_version`` and return it.

    Raises:
        StateError: ``data`` is not a state of ``kind``.
        UnsupportedVersion: the version is newer than ``current_version``, or older with no
            migration path.
    """
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) < 2:
        raise StateError("the saved state is empty or truncated")
    data = bytes(data)
    if data[0] != kind:
        raise StateError(f"the saved state is not a {kind.name.lower()} state")
    version, body = data[1], data[2:]
    if version > current_version:
        raise UnsupportedVersion(
            f"the saved {kind.name.lower()} state is version {version}, newer than this "
            f"release understands ({current_version})"
        )
    while version < current_version:
        migrate = _migrations.get((kind, version))
        if migrate is None:
            raise UnsupportedVersion(
                f"no migration from {kind.name.lower()} state version {version}"
            )
        body = migrate(body)
        version += 1
    return body


class Writer:
    """Appends fields to a body."""

    __slots__ = ("_out",)

    def __init__(self) -> None:
        self._out = bytearray()  # the body written so far

    def u8(self, value: int) -> Writer:
        self._out += _U8.pack(value)
        return self

    def u32(self, value: int) -> Writer:
        self._out += _U32.pack(value)
        return self

    def u64(self, value: int) -> Writer:
        self._out += _U64.pack(value)
        return self

    def fixed(self, value: bytes) -> Writer:
        """Append bytes whose length the reader knows."""
        self._out += value
        return self

    def var(self, value: bytes) -> Writer:
        """Append bytes with a u32 length prefix."""
        self._out += _U32.pack(len(value))
        self._out += value
        return self

    def optional_fixed(self, value: bytes | None) -> Writer:
        """Append a presence byte and, when present, fixed-length bytes."""
        if value is None:
            self._out += b"\x00"
        else:
            self._out += b"\x01"
            self._out += value
        return self

    def getvalue(self) -> bytes:
        return bytes(self._out)


class Reader:
    """Reads fields from a body; every overrun or malformed field raises :class:`StateError`."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data  # the whole body
        self._pos = 0  # offset of the next unread byte; 0 <= _pos <= len(_data)

    def _take(self, n: int) -> bytes:
        end = self._pos + n
        if n < 0 or end > len(self._data):
            raise StateError("the saved state is truncated")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def u8(self) -> int:
        return int(self._take(1)[0])

    def u32(self) -> int:
        return int(_U32.unpack(self._take(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack(self._take(8))[0])

    def fixed(self, n: int) -> bytes:
        return self._take(n)

    def var(self, limit: int = MAX_FIELD) -> bytes:
        n = self.u32()
        if n > limit:
            raise StateError("a field of the saved state is too long")
        return self._take(n)

    def flag(self) -> bool:
        value = self.u8()
        if value > 1:
            raise StateError("a flag of the saved state is neither 0 nor 1")
        return value == 1

    def optional_fixed(self, n: int) -> bytes | None:
        return self._take(n) if self.flag() else None

    def count(self, item_size: int) -> int:
        """Read a u32 item count and check the remaining bytes could hold that many items."""
        n = self.u32()
        if n * item_size > len(self._data) - self._pos:
            raise StateError("a list of the saved state is longer than the state itself")
        return n

    def end(self) -> None:
        """Check that every byte was consumed."""
        if self._pos != len(self._data):
            raise StateError("the saved state has trailing bytes")
