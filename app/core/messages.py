"""The application plaintext carried inside a Double Ratchet message.

Layout, version 1 (integers big-endian)::

    version u8 (1) ‖ kind u8 ‖ message id (16) ‖ timestamp u64 (ms, the author's clock) ‖ body

    kind 1, text:              has-sender u8 (0/1) [‖ relay URL (u16 length ‖ UTF-8)
                               ‖ display name (u16 length ‖ UTF-8)] ‖ text (u32 length ‖ UTF-8)
    kind 2, delivery receipt:  count u16 (1..MAX_RECEIPT_IDS) ‖ the received message ids (16 each)
    kind 3, read receipt:      count u16 (1..MAX_RECEIPT_IDS) ‖ the read message ids (16 each)
    kind 4, typing:            nothing (the author is typing in this conversation now)

Read receipts and typing indicators are opt-in on the author's side and never sent while off
duty (DESIGN, product rule 2); the message id of a receipt or of a typing indicator is random.

The *sender* part of a text tells the recipient where to answer (our relay) and what we call
ourselves; it is authenticated by the ratchet like the rest. The decoder is strict: exact
lengths, strict UTF-8, known kind and version, no trailing bytes.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final

from app.core.errors import MessageFormatError

VERSION: Final = 1
MESSAGE_ID_SIZE: Final = 16
MAX_TEXT_BYTES: Final = 60_000
"""Longest text body in UTF-8 bytes (it must fit the relay's default 64 KiB envelope)."""
MAX_RELAY_URL_BYTES: Final = 512
MAX_NAME_BYTES: Final = 256
MAX_RECEIPT_IDS: Final = 1000

_HEAD: Final = struct.Struct(">BB16sQ")
_U16: Final = struct.Struct(">H")
_U32: Final = struct.Struct(">I")


class MessageKind(enum.IntEnum):
    TEXT = 1
    DELIVERY_RECEIPT = 2
    READ_RECEIPT = 3
    TYPING = 4


@dataclass(frozen=True, slots=True)
class SenderProfile:
    """Where the author can be reached and what they call themselves (self-asserted)."""

    relay_url: str
    display_name: str


@dataclass(frozen=True, slots=True)
class TextMessage:
    message_id: bytes
    timestamp: int  # ms since the epoch, the author's clock
    text: str
    sender: SenderProfile | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """The author stored these messages (by id) of the conversation."""

    message_id: bytes
    timestamp: int
    received: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ReadReceipt:
    """The author's user read these messages (by id) of the conversation."""

    message_id: bytes
    timestamp: int
    read: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Typing:
    """The author is typing in the conversation (the receiver shows it for a few seconds)."""

    message_id: bytes
    timestamp: int


AppMessage = TextMessage | DeliveryReceipt | ReadReceipt | Typing


def _utf8(text: str, limit: int, what: str) -> bytes:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise MessageFormatError(f"The {what} is not valid Unicode text.") from None
    if len(data) > limit:
        raise MessageFormatError(f"The {what} is longer than {limit} bytes.")
    return data


def encode(message: AppMessage) -> bytes:
    """Encode a message (version 1).

    Raises:
        MessageFormatError: a field is out of range (id size, text length, receipt count).
    """
    if type(message.message_id) is not bytes or len(message.message_id) != MESSAGE_ID_SIZE:
        raise MessageFormatError("A message id is 16 bytes.")
    if not 0 <= message.timestamp < 2**64:
        raise MessageFormatError("A message timestamp is out of range.")
    if isinstance(message, TextMessage):
        head = _HEAD.pack(VERSION, MessageKind.TEXT, message.message_id, message.timestamp)
        parts = [head]
        if message.sender is None:
            parts.append(b"\x00")
        else:
            url = _utf8(message.sender.relay_url, MAX_RELAY_URL_BYTES, "relay URL")
            name = _utf8(message.sender.display_name, MAX_NAME_BYTES, "display name")
            parts += [b"\x01", _U16.pack(len(url)), url, _U16.pack(len(name)), name]
        body = _utf8(message.text, MAX_TEXT_BYTES, "message")
        parts += [_U32.pack(len(body)), body]
        return b"".join(parts)
    if isinstance(message, Typing):
        return _HEAD.pack(VERSION, MessageKind.TYPING, message.message_id, message.timestamp)
    if isinstance(message, ReadReceipt):
        kind, ids = MessageKind.READ_RECEIPT, message.read
    else:
        kind, ids = MessageKind.DELIVERY_RECEIPT, message.received
    if not 1 <= len(ids) <= MAX_RECEIPT_IDS:
        raise MessageFormatError(f"A receipt lists 1 to {MAX_RECEIPT_IDS} message ids.")
    if any(type(i) is not bytes or len(i) != MESSAGE_ID_SIZE for i in ids):
        raise MessageFormatError("A message id is 16 bytes.")
    head = _HEAD.pack(VERSION, kind, message.message_id, message.timestamp)
    return head + _U16.pack(len(ids)) + b"".join(ids)


class _Reader:
    __slots__ = ("data", "offset")

    def __init__(self, data: bytes) -> None:
        self.data = data  # the whole plaintext
        self.offset = 0  # bytes consumed so far

    def take(self, n: int) -> bytes:
        if self.offset + n > len(self.data):
            raise MessageFormatError("The message is truncated.")
        chunk = self.data[self.offset : self.offset + n]
        self.offset += n
        return chunk

    def text(self, size: int, limit: int, what: str) -> str:
        if size > limit:
            raise MessageFormatError(f"The {what} is longer than {limit} bytes.")
        try:
            return self.take(size).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise MessageFormatError(f"The {what} is not valid UTF-8.") from None


def decode(data: bytes) -> AppMessage:
    """Decode application plaintext.

    Raises:
        MessageFormatError: anything malformed (version, kind, lengths, UTF-8, trailing bytes).
    """
    if not isinstance(data, bytes):
        raise MessageFormatError("A message must be bytes.")
    if len(data) < _HEAD.size:
        raise MessageFormatError("The message is too short for its header.")
    version, kind, message_id, timestamp = _HEAD.unpack_from(data)
    if version != VERSION:
        raise MessageFormatError(f"Message format version {version} is not supported.")
    r = _Reader(data)
    r.offset = _HEAD.size
    result: AppMessage
    if kind == MessageKind.TEXT:
        flag = r.take(1)[0]
        sender = None
        if flag == 1:
            url = r.text(_U16.unpack(r.take(2))[0], MAX_RELAY_URL_BYTES, "relay URL")
            name = r.text(_U16.unpack(r.take(2))[0], MAX_NAME_BYTES, "display name")
            sender = SenderProfile(url, name)
        elif flag != 0:
            raise MessageFormatError("The message's sender flag is neither 0 nor 1.")
        text = r.text(_U32.unpack(r.take(4))[0], MAX_TEXT_BYTES, "message")
        result = TextMessage(message_id, timestamp, text, sender)
    elif kind in (MessageKind.DELIVERY_RECEIPT, MessageKind.READ_RECEIPT):
        (count,) = _U16.unpack(r.take(2))
        if not 1 <= count <= MAX_RECEIPT_IDS:
            raise MessageFormatError(f"A receipt lists 1 to {MAX_RECEIPT_IDS} message ids.")
        block = r.take(count * MESSAGE_ID_SIZE)
        ids = tuple(block[i : i + MESSAGE_ID_SIZE] for i in range(0, len(block), MESSAGE_ID_SIZE))
        if kind == MessageKind.READ_RECEIPT:
            result = ReadReceipt(message_id, timestamp, ids)
        else:
            result = DeliveryReceipt(message_id, timestamp, ids)
    elif kind == MessageKind.TYPING:
        result = Typing(message_id, timestamp)
    else:
        raise MessageFormatError(f"Unknown message kind {kind}.")
    if r.offset != len(data):
        raise MessageFormatError("The message has trailing bytes.")
    return result
