"""Sourdine's protocol core: pure, synchronous, deterministic given its randomness.

Nothing in this package performs I/O or reads the clock; randomness (``Random``) and time
(plain integers, seconds since the epoch) are passed in by the caller.
"""

PROTOCOL_VERSION = 1
"""The cryptographic protocol version carried in envelopes and saved states."""
