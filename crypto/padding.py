"""Length padding to fixed buckets, so that a sealed envelope reveals only a coarse size.

Buckets are total sizes of what the relay stores:

* powers of two from 256 B to 64 KiB: 256, 512, 1 Ki, 2 Ki, 4 Ki, 8 Ki, 16 Ki, 32 Ki, 64 Ki;
* then every multiple of 64 KiB up to 1 MiB (128 Ki, 192 Ki, ..., 1024 Ki).

Why these: almost every chat message fits the 256 B or 512 B bucket, so text messages of
different lengths look the same; doubling keeps the overhead under 2x (and the number of
distinct sizes small) for mid-sized payloads; above 64 KiB, fixed 64 KiB steps keep the
overhead under 50% at the price of leaking the size to within 64 KiB. 1 MiB is the largest
envelope; files travel as blobs, outside envelopes.

Padding is ISO/IEC 7816-4 (a 0x80 byte, then zeros) through libsodium's ``sodium_pad`` and
constant-time ``sodium_unpad``: at least one byte is always added, and unpadding needs no
length field.
"""

from __future__ import annotations

from typing import Final

from crypto import primitives as _p
from crypto.errors import PayloadTooLarge

_KIB: Final = 1024
BUCKETS: Final[tuple[int, ...]] = tuple(256 << i for i in range(9)) + tuple(
    64 * _KIB * i for i in range(2, 17)
)
"""Every allowed padded size, ascending (256 B .. 1 MiB)."""
MAX_BUCKET: Final = BUCKETS[-1]
"""The largest bucket: 1 MiB."""

_BUCKET_SET: Final = frozenset(BUCKETS)


def is_bucket(size: int) -> bool:
    """Whether ``size`` is one of the :data:`BUCKETS`."""
    return size in _BUCKET_SET


def bucket_for(size: int) -> int:
    """The smallest bucket of at least ``size`` bytes.

    Raises:
        PayloadTooLarge: ``size`` exceeds :data:`MAX_BUCKET`.
    """
    if size > MAX_BUCKET:
        raise PayloadTooLarge(
            f"{size} bytes do not fit in the largest envelope ({MAX_BUCKET} bytes)"
        )
    if size <= 64 * _KIB:
        for bucket in BUCKETS:
            if size <= bucket:
                return bucket
    return -(-size // (64 * _KIB)) * 64 * _KIB


def pad(data: bytes, size: int) -> bytes:
    """Pad ``data`` to exactly ``size`` bytes (ISO/IEC 7816-4).

    Raises:
        PayloadTooLarge: ``data`` needs at least ``len(data) + 1`` bytes, more than ``size``.
    """
    if len(data) >= size:
        raise PayloadTooLarge(f"{len(data)} bytes cannot be padded to {size} bytes")
    return _p.iso7816_pad(data, size)


def unpad(padded: bytes) -> bytes:
    """Remove the padding added by :func:`pad`.

    Raises:
        DecodeError: ``padded`` is empty or does not end in 0x80 followed only by zeros.
    """
    return _p.iso7816_unpad(padded, len(padded) or 1)
