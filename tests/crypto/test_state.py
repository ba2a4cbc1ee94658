"""crypto.state: the versioned state codec, its bounds, framing and migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import state
from crypto.errors import DecodeError, StateError, UnsupportedVersion
from crypto.state import Reader, StateKind, Writer, frame, register_migration, unframe


class SampleKind(IntEnum):
    """A kind that exists only in these tests (no real StateKind is touched)."""

    NOTE = 250


# --- Writer / Reader ---------------------------------------------------------------------------


def test_writer_layout_is_big_endian_with_u32_length_prefixes() -> None:
    body = (
        Writer()
        .u8(7)
        .u32(0x01020304)
        .u64(0x05060708090A0B0C)
        .fixed(b"ab")
        .var(b"xyz")
        .optional_fixed(None)
        .optional_fixed(b"k")
        .getvalue()
    )
    assert body == bytes.fromhex(
        "07" "01020304" "05060708090a0b0c" "6162" "00000003" "78797a" "00" "01" "6b"
    )
    reader = Reader(body)
    assert reader.u8() == 7
    assert reader.u32() == 0x01020304
    assert reader.u64() == 0x05060708090A0B0C
    assert reader.fixed(2) == b"ab"
    assert reader.var() == b"xyz"
    assert reader.optional_fixed(1) is None
    assert reader.optional_fixed(1) == b"k"
    reader.end()


READS: list[tuple[str, Callable[[Reader], object], bytes]] = [
    ("u8", Reader.u8, b""),
    ("u32", Reader.u32, b"\x00\x00\x01"),
    ("u64", Reader.u64, b"\x00" * 7),
    ("fixed", lambda r: r.fixed(4), b"abc"),
    ("var length", Reader.var, b"\x00\x00"),
    ("var body", Reader.var, b"\x00\x00\x00\x05abcd"),
    ("flag", Reader.flag, b""),
    ("optional body", lambda r: r.optional_fixed(4), b"\x01abc"),
]


@pytest.mark.parametrize(("what", "read", "data"), READS, ids=[r[0] for r in READS])
def test_every_read_past_the_end_is_a_state_error(
    what: str, read: Callable[[Reader], object], data: bytes
) -> None:
    with pytest.raises(StateError, match="truncated"):
        read(Reader(data))


def test_reader_bounds() -> None:
    with pytest.raises(StateError, match="too long"):
        Reader(b"\x00\x00\x00\x05hello").var(limit=4)
    assert Reader(b"\x00\x00\x00\x04abcd").var(limit=4) == b"abcd"
    with pytest.raises(StateError, match="too long"):  # the default cap bounds allocation
        Reader((state.MAX_FIELD + 1).to_bytes(4, "big")).var()
    with pytest.raises(StateError, match="neither 0 nor 1"):
        Reader(b"\x02").flag()
    with pytest.raises(StateError, match="truncated"):
        Reader(b"abc").fixed(-1)
    # count(): a claimed item count must fit in what is left.
    assert Reader(b"\x00\x00\x00\x02" + bytes(6)).count(3) == 2
    with pytest.raises(StateError, match="longer than the state"):
        Reader(b"\x00\x00\x00\x03" + bytes(8)).count(3)
    with pytest.raises(StateError, match="longer than the state"):
        Reader(b"\xff\xff\xff\xff").count(1)
    reader = Reader(b"\x01\x02")
    reader.u8()
    with pytest.raises(StateError, match="trailing"):
        reader.end()


# --- frame / unframe ---------------------------------------------------------------------------


def test_frame_prefixes_kind_and_version() -> None:
    assert frame(StateKind.RATCHET, 1, b"body") == b"\x01\x01body"
    assert unframe(b"\x01\x01body", StateKind.RATCHET, 1) == b"body"
    assert unframe(bytearray(b"\x02\x01x"), StateKind.SENDER_KEY_OWN, 1) == b"x"
    assert unframe(memoryview(b"\x03\x01"), StateKind.SENDER_KEY_PEER, 1) == b""


def test_unframe_rejects_other_kinds_and_unknown_versions() -> None:
    with pytest.raises(StateError, match="not a sender_key_peer state"):
        unframe(b"\x02\x01body", StateKind.SENDER_KEY_PEER, 1)
    for truncated in (b"", b"\x01"):
        with pytest.raises(StateError, match="empty or truncated"):
            unframe(truncated, StateKind.RATCHET, 1)
    with pytest.raises(StateError):
        unframe("\x01\x01", StateKind.RATCHET, 1)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedVersion, match="newer"):
        unframe(b"\x01\x02body", StateKind.RATCHET, 1)
    with pytest.raises(UnsupportedVersion, match="no migration"):
        unframe(b"\x01\x00body", StateKind.RATCHET, 1)


# --- Migrations --------------------------------------------------------------------------------

# A note saved by "release 1": version 1 body = name (var).
FROZEN_NOTE_V1 = bytes.fromhex("fa01" "00000005" "616c696365")
# The same note as "release 3" writes it: name (var) ‖ created u64 ‖ pinned flag.
NOTE_V3 = bytes.fromhex("fa03" "00000005" "616c696365" "0000000000000000" "00")


def note_v1_to_v2(body: bytes) -> bytes:
    """Version 2 added a u32 creation time (unknown for old notes: 0)."""
    reader = Reader(body)
    name = reader.var()
    reader.end()
    return Writer().var(name).u32(0).getvalue()


def note_v2_to_v3(body: bytes) -> bytes:
    """Version 3 widened the creation time to u64 and added a pinned flag."""
    reader = Reader(body)
    name, created = reader.var(), reader.u32()
    reader.end()
    return Writer().var(name).u64(created).u8(0).getvalue()


def read_note_v3(body: bytes) -> tuple[bytes, int, bool]:
    reader = Reader(body)
    note = (reader.var(), reader.u64(), reader.flag())
    reader.end()
    return note


@pytest.fixture
def note_migrations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Register the note migrations in a private registry, restored after the test."""
    monkeypatch.setattr(state, "_migrations", {})
    register_migration(SampleKind.NOTE, 1, note_v1_to_v2)  # type: ignore[arg-type]
    register_migration(SampleKind.NOTE, 2, note_v2_to_v3)  # type: ignore[arg-type]
    yield


def test_a_frozen_old_sample_is_migrated_to_the_current_version(note_migrations: None) -> None:
    current = unframe(FROZEN_NOTE_V1, SampleKind.NOTE, 3)  # type: ignore[arg-type]
    assert read_note_v3(current) == (b"alice", 0, False)
    assert frame(SampleKind.NOTE, 3, current) == NOTE_V3  # type: ignore[arg-type]
    # A version-2 state takes only the second step; a current one none.
    v2 = frame(SampleKind.NOTE, 2, note_v1_to_v2(FROZEN_NOTE_V1[2:]))  # type: ignore[arg-type]
    assert unframe(v2, SampleKind.NOTE, 3) == current  # type: ignore[arg-type]
    assert unframe(NOTE_V3, SampleKind.NOTE, 3) == current  # type: ignore[arg-type]


def test_a_corrupt_old_sample_fails_inside_its_migration(note_migrations: None) -> None:
    with pytest.raises(StateError, match="truncated"):
        unframe(FROZEN_NOTE_V1[:-1], SampleKind.NOTE, 3)  # type: ignore[arg-type]


def test_the_test_registry_did_not_leak() -> None:
    assert not any(kind == SampleKind.NOTE for kind, _ in state._migrations)


# --- Fuzzing -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.lists(st.sampled_from(READS), max_size=8))
def test_fuzz_reader_only_raises_state_errors(
    data: bytes, reads: list[tuple[str, Callable[[Reader], object], bytes]]
) -> None:
    reader = Reader(data)
    try:
        for _, read, _ in reads:
            read(reader)
        reader.end()
    except StateError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=16))
def test_fuzz_unframe_only_raises_decode_errors(data: bytes) -> None:
    try:
        body = unframe(data, StateKind.RATCHET, 1)
    except DecodeError:
        return
    assert data[:2] == b"\x01\x01" and body == data[2:]
