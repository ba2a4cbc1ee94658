"""Mutating valid encodings for decoder fuzzing: overwrite some bytes, then cut or extend."""

from __future__ import annotations

from hypothesis import strategies as st

EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4)
"""Up to four ``(position, new byte)`` edits; positions wrap around the data."""


def mutate(valid: bytes, edits: list[tuple[int, int]], resize: int) -> bytes:
    """Apply ``edits``, then drop ``-resize`` trailing bytes or append ``resize`` zero bytes."""
    data = bytearray(valid)
    for position, value in edits:
        data[position % len(data)] = value
    data = data[:resize] if resize < 0 else data + bytes(resize)
    return bytes(data)
