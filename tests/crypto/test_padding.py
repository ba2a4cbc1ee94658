"""crypto.padding: bucket sizes and ISO/IEC 7816-4 padding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import DecodeError, PayloadTooLarge
from crypto.padding import BUCKETS, MAX_BUCKET, bucket_for, is_bucket, pad, unpad

KIB = 1024


def test_buckets_are_the_documented_sizes() -> None:
    assert (
        256, 512, 1 * KIB, 2 * KIB, 4 * KIB, 8 * KIB, 16 * KIB, 32 * KIB, 64 * KIB,
        *(64 * KIB * i for i in range(2, 17)),
    ) == BUCKETS
    assert MAX_BUCKET == 1024 * KIB
    assert len(BUCKETS) == 24


def test_bucket_for_picks_the_smallest_bucket_that_fits() -> None:
    previous = 0
    for bucket in BUCKETS:
        assert bucket_for(previous + 1) == bucket
        assert bucket_for(bucket) == bucket
        assert is_bucket(bucket) and not is_bucket(bucket - 1)
        previous = bucket
    assert bucket_for(0) == 256
    with pytest.raises(PayloadTooLarge):
        bucket_for(MAX_BUCKET + 1)


def test_pad_reaches_exactly_the_size_and_unpads_back() -> None:
    assert pad(b"hi", 8) == b"hi\x80\x00\x00\x00\x00\x00"
    for size in (1, 256, 4096):
        for length in sorted({0, size // 2, size - 1}):
            data = bytes([0x80]) * length  # marker-like content must survive
            padded = pad(data, size)
            assert len(padded) == size
            assert unpad(padded) == data


def test_pad_rejects_data_without_room_for_the_marker() -> None:
    with pytest.raises(PayloadTooLarge):
        pad(bytes(256), 256)


@pytest.mark.parametrize("bad", [b"", b"\x00", b"abc", b"abc\x80\x01", b"\x00" * 300])
def test_unpad_rejects_malformed_padding(bad: bytes) -> None:
    with pytest.raises(DecodeError):
        unpad(bad)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_unpad_only_raises_decode_error(data: bytes) -> None:
    try:
        result = unpad(data)
    except DecodeError:
        return
    # Whatever it accepted really was padded: padding the result gives the input back.
    assert pad(result, len(data)) == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.integers(1, 700))
def test_fuzz_pad_unpad_roundtrip(data: bytes, extra: int) -> None:
    padded = pad(data, len(data) + extra)
    assert len(padded) == len(data) + extra
    assert unpad(padded) == data
