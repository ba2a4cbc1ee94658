"""The application plaintext inside the ratchet: exact bytes, strict decoding, fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import messages
from app.core.errors import MessageFormatError
from app.core.messages import DeliveryReceipt, SenderProfile, TextMessage

ID = bytes(range(16))


def test_text_layout_is_exact() -> None:
    sender = SenderProfile("ws://h:1/", "Al")
    data = messages.encode(TextMessage(ID, 0x0102030405060708, "hé", sender))
    assert data == (
        b"\x01\x01" + ID + bytes.fromhex("0102030405060708")
        + b"\x01" + b"\x00\x09ws://h:1/" + b"\x00\x02Al" + b"\x00\x00\x00\x03h\xc3\xa9"
    )
    assert messages.decode(data) == TextMessage(ID, 0x0102030405060708, "hé",
                                                SenderProfile("ws://h:1/", "Al"))


def test_receipt_layout_is_exact() -> None:
    data = messages.encode(DeliveryReceipt(ID, 5, (b"\xaa" * 16, b"\xbb" * 16)))
    ids = b"\xaa" * 16 + b"\xbb" * 16
    assert data == b"\x01\x02" + ID + (5).to_bytes(8, "big") + b"\x00\x02" + ids
    assert messages.decode(data) == DeliveryReceipt(ID, 5, (b"\xaa" * 16, b"\xbb" * 16))


GOOD = messages.encode(TextMessage(ID, 7, "hello"))


@pytest.mark.parametrize(("data", "why"), [
    (b"", "too short"),
    (b"\x02" + GOOD[1:], "version 2"),
    (GOOD[:1] + b"\x09" + GOOD[2:], "Unknown message kind"),
    (GOOD + b"\x00", "trailing"),
    (GOOD[:-1], "truncated"),
    (GOOD[:26] + b"\x02" + GOOD[27:], "sender flag"),
    (GOOD[:-5] + b"\x00\x00\x00\x01\xff", "not valid UTF-8"),
    (b"\x01\x02" + ID + bytes(8) + b"\x00\x00", "1 to 1000"),
    (GOOD[:27] + b"\xff\xff\xff\xff", "longer than"),
])
def test_malformed_plaintext_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(MessageFormatError, match=why):
        messages.decode(data)


def test_encoding_refuses_out_of_range_fields() -> None:
    with pytest.raises(MessageFormatError):
        messages.encode(TextMessage(b"short", 1, "x"))
    with pytest.raises(MessageFormatError):
        messages.encode(TextMessage(ID, 1, "x" * (messages.MAX_TEXT_BYTES + 1)))
    with pytest.raises(MessageFormatError):
        messages.encode(TextMessage(ID, 1, "\ud800"))
    with pytest.raises(MessageFormatError):
        messages.encode(DeliveryReceipt(ID, 1, ()))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_message_format_error(data: bytes) -> None:
    with contextlib.suppress(MessageFormatError):
        messages.decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 40))
def test_mutated_messages_only_raise_message_format_error(tail: bytes, cut: int) -> None:
    for data in (GOOD[:cut] + tail, GOOD[: len(GOOD) - cut] + tail):
        with contextlib.suppress(MessageFormatError):
            messages.decode(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 2**64 - 1), st.text(max_size=300),
       st.none() | st.builds(SenderProfile, st.text(max_size=50), st.text(max_size=50)))
def test_texts_round_trip(
    message_id: bytes, ts: int, text: str, sender: SenderProfile | None
) -> None:
    try:
        message = TextMessage(message_id, ts, text, sender)
        data = messages.encode(message)
    except MessageFormatError:  # lone surrogates cannot be encoded
        return
    assert messages.decode(data) == message
