"""A seeded deterministic byte generator for tests: same seed, same bytes, every run."""

from __future__ import annotations

import hashlib


class DeterministicRandom:
    """A ``crypto.primitives.Random`` whose output is SHAKE-256(seed ‖ counter) blocks.

    Only for tests and known-answer transcripts: never use a predictable generator for keys.
    """

    def __init__(self, seed: bytes | str) -> None:
        self._seed = seed.encode() if isinstance(seed, str) else seed
        self._counter = 0  # number of calls served so far

    def __call__(self, n: int) -> bytes:
        self._counter += 1
        return hashlib.shake_256(self._seed + self._counter.to_bytes(8, "big")).digest(n)
