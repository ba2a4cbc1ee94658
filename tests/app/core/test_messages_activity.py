"""Read receipts (kind 3) and typing indicators (kind 4): exact bytes, strict decoding,
fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import messages
from app.core.errors import MessageFormatError
from app.core.messages import ReadReceipt, Typing

ID = bytes(range(16))
READ_RECEIPT = ReadReceipt(ID, 5, (b"\xaa" * 16, b"\xbb" * 16))
READ = messages.encode(READ_RECEIPT)
TYPING = messages.encode(Typing(ID, 6))


def test_read_receipt_layout_is_exact() -> None:
    ids = b"\xaa" * 16 + b"\xbb" * 16
    expected = b"\x01\x03" + ID + (5).to_bytes(8, "big") + b"\x00\x02" + ids
    assert messages.encode(READ_RECEIPT) == expected
    assert messages.decode(READ) == ReadReceipt(ID, 5, (b"\xaa" * 16, b"\xbb" * 16))


def test_typing_layout_is_exact() -> None:
    assert messages.encode(Typing(ID, 6)) == b"\x01\x04" + ID + (6).to_bytes(8, "big")
    assert messages.decode(TYPING) == Typing(ID, 6)


@pytest.mark.parametrize(("data", "why"), [
    (TYPING + b"\x00", "trailing"),
    (TYPING[:-1], "too short"),
    (READ[:26] + b"\x00\x00", "1 to 1000"),
    (READ[:26] + b"\x03\xe9", "1 to 1000"),
    (READ[:-1], "truncated"),
    (READ + b"\x00", "trailing"),
    (READ[:26] + b"\x00\x03" + READ[28:], "truncated"),
    (b"\x01\x05" + TYPING[2:], "Unknown message kind 5"),
])
def test_malformed_receipts_and_typing_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(MessageFormatError, match=why):
        messages.decode(data)


def test_encoding_refuses_out_of_range_fields() -> None:
    with pytest.raises(MessageFormatError, match="1 to 1000"):
        messages.encode(ReadReceipt(ID, 1, ()))
    with pytest.raises(MessageFormatError, match="1 to 1000"):
        messages.encode(ReadReceipt(ID, 1, (ID,) * (messages.MAX_RECEIPT_IDS + 1)))
    with pytest.raises(MessageFormatError, match="16 bytes"):
        messages.encode(ReadReceipt(ID, 1, (b"short",)))
    with pytest.raises(MessageFormatError, match="16 bytes"):
        messages.encode(Typing(b"short", 1))
    with pytest.raises(MessageFormatError, match="out of range"):
        messages.encode(Typing(ID, -1))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 60))
def test_mutated_receipts_and_typing_only_raise_message_format_error(
    tail: bytes, cut: int
) -> None:
    for good in (READ, TYPING):
        for data in (good[:cut] + tail, good[: max(0, len(good) - cut)] + tail):
            with contextlib.suppress(MessageFormatError):
                messages.decode(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 2**64 - 1),
       st.lists(st.binary(min_size=16, max_size=16), min_size=1, max_size=40))
def test_read_receipts_and_typing_round_trip(
    message_id: bytes, ts: int, ids: list[bytes]
) -> None:
    receipt = ReadReceipt(message_id, ts, tuple(ids))
    assert messages.decode(messages.encode(receipt)) == receipt
    typing = Typing(message_id, ts)
    assert messages.decode(messages.encode(typing)) == typing
