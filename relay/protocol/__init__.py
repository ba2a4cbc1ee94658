"""The one definition of every relay frame, without I/O: bytes in, typed frames out, and back.

A frame is one binary WebSocket message holding one MessagePack map with an ``op`` (string)
and an ``id`` (request id). Clients send requests; the relay answers each with exactly one
``ok`` or ``error`` frame carrying the same id, and pushes ``deliver`` and ``prekeys_low``
frames (id 0) on its own. docs/PROTOCOL.md is the prose version of this module.

Both ends use this module: the relay calls :func:`decode_request` and :func:`encode`; a client
calls :func:`encode` on its requests and :func:`decode_relay_frame` on what arrives, passing the
reply type of each pending request (``type(request).REPLY``). Decoders accept any bytes and only
ever raise :class:`relay.errors.ProtocolError` subclasses.

Fields are checked against protocol-wide bounds here (exact key sizes, integer ranges, list
lengths); a relay's own, usually tighter limits (advertised in the hello reply) are enforced
by the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from relay.errors import Malformed, UnknownOperation
from relay.protocol.replies import (
    AccountDeleted,
    Acked,
    AuthOk,
    BlobCreated,
    BlobData,
    BlobWritten,
    Deliver,
    DeliverMany,
    Deposited,
    DirectoryResults,
    Done,
    ErrorReply,
    HelloOk,
    PrekeyBundle,
    PrekeysLow,
    PrekeysPublished,
    Removed,
)
from relay.protocol.requests import (
    AccountDelete,
    Ack,
    Auth,
    BlobCreate,
    BlobDelete,
    BlobGet,
    BlobPut,
    Deposit,
    DirectoryPublish,
    DirectoryRemove,
    DirectorySearch,
    Hello,
    PrekeysFetch,
    PrekeysPublish,
)
from relay.protocol.values import (
    DeletionReceipt,
    DepositOutcome,
    DirectoryEntry,
    OneTimePrekey,
    RelayLimits,
    SignedPrekey,
    auth_message,
    clean_display_name,
)
from relay.protocol.wire import (
    AUTH_CONTEXT,
    BLOB_ID_SIZE,
    DELIVER_MANY_VERSION,
    KEY_SIZE,
    MAX_DISPLAY_NAME,
    MAX_INVITATION,
    MAX_LIST,
    MAX_ONE_TIME_PREKEYS_PER_FRAME,
    MAX_PREKEY_ID,
    MAX_REQUEST_ID,
    MAX_SEARCH_RESULTS,
    MAX_UINT,
    NONCE_SIZE,
    PROTOCOL_VERSION,
    RECEIPT_CONTEXT,
    SIGNATURE_SIZE,
    SUPPORTED_VERSIONS,
    Fields,
    Push,
    Reply,
    Request,
    header,
    pack,
    unpack,
)

REQUEST_TYPES: Final[Mapping[str, type[Request]]] = {
    cls.OP: cls
    for cls in (
        Hello, Auth, PrekeysPublish, PrekeysFetch, Deposit, Ack, BlobCreate, BlobPut, BlobGet,
        BlobDelete, AccountDelete, DirectoryPublish, DirectoryRemove, DirectorySearch,
    )
}
PUSH_TYPES: Final[Mapping[str, type[Push]]] = {
    cls.OP: cls for cls in (Deliver, DeliverMany, PrekeysLow)
}

RelayFrame = Reply | ErrorReply | Push
"""Anything a relay sends."""




def encode(frame: Request | Reply | ErrorReply | Push) -> bytes:
    """The MessagePack bytes of ``frame`` (one binary WebSocket message)."""
    request_id = 0 if isinstance(frame, Push) else frame.request_id
    body = {"op": frame.OP, "id": request_id}
    body.update(frame._body())
    return pack(body)


_DELIVER_HEAD: Final = b"\x85\xa2op\xa7deliver\xa2id\x00"  # map of 5, then "op" and "id"
_DELIVER_MANY_HEAD: Final = b"\x83\xa2op\xacdeliver_many\xa2id\x00\xaadeliveries"


def encode_delivery(envelope_id: int, envelope: bytes, expires_at: int) -> bytes:
    """One delivery as the 3-field map that :func:`deliver_frame` and
    :func:`deliver_many_frame` put in a push (the hot path: no object is built)."""
    return pack({"envelope_id": envelope_id, "envelope": envelope, "expires_at": expires_at})


def deliver_frame(delivery: bytes) -> bytes:
    """The ``deliver`` push of one :func:`encode_delivery` map: its fields after op and id."""
    return _DELIVER_HEAD + delivery[1:]


def deliver_many_frame(deliveries: Sequence[bytes]) -> bytes:
    """The ``deliver_many`` push (version 2) of 1..MAX_LIST :func:`encode_delivery` maps.

    Raises:
        ValueError: no delivery, or more than MAX_LIST.
    """
    count = len(deliveries)
    if not 1 <= count <= MAX_LIST:
        raise ValueError(f"a deliver_many push holds 1 to {MAX_LIST} deliveries, not {count}")
    array = bytes((0x90 | count,)) if count < 16 else b"\xdc" + count.to_bytes(2, "big")
    return b"".join([_DELIVER_MANY_HEAD, array, *deliveries])


def encode_deliver(envelope_id: int, envelope: bytes, expires_at: int) -> bytes:
    """:func:`encode` of a :class:`Deliver`, without building the object."""
    return deliver_frame(encode_delivery(envelope_id, envelope, expires_at))


def decode_request(data: bytes) -> Request:
    """Parse one client frame.

    Raises:
        Malformed: not a valid frame (``request_id`` set when the id could be read).
        UnknownOperation: the ``op`` is not a request of this protocol version.
        TooLarge: a field is over a protocol bound.
    """
    value = unpack(data)
    op, request_id = header(value, "a request")
    cls = REQUEST_TYPES.get(op)
    if cls is None:
        raise UnknownOperation(f'"{op[:40]}" is not an operation', request_id=request_id)
    if request_id == 0:
        raise Malformed("a request id must be at least 1", request_id=0)
    fields = Fields(value, f"the {op} frame", request_id)
    fields.mark_read("op", "id")
    frame = cls._parse(fields)
    fields.finish()
    return frame


def decode_relay_frame(
    data: bytes, reply_type: Callable[[int], type[Reply] | None] | Mapping[int, type[Reply]]
) -> RelayFrame:
    """Parse one frame from a relay (client side).

    ``reply_type`` gives the reply class expected for a pending request id (e.g. a dict of
    ``request_id -> type(request).REPLY``); an ``ok`` for any other id is malformed.

    Raises:
        Malformed: not a valid frame, or an ``ok`` answering no pending request.
        UnknownOperation: an ``op`` a version 1 relay never sends.
    """
    value = unpack(data)
    op, request_id = header(value, "a relay frame")
    fields = Fields(value, f"the {op} frame", request_id)
    fields.mark_read("op", "id")
    frame: RelayFrame
    if op == "ok":
        lookup = reply_type.get if isinstance(reply_type, Mapping) else reply_type
        cls = lookup(request_id) if request_id else None
        if cls is None:
            raise Malformed("an ok frame answers no pending request", request_id=request_id)
        frame = cls._parse(fields)
    elif op == "error":
        frame = ErrorReply._parse(fields)
    elif op in PUSH_TYPES:
        frame = PUSH_TYPES[op]._parse(fields)
    else:
        raise UnknownOperation(f'"{op[:40]}" is not a relay frame', request_id=request_id)
    fields.finish()
    return frame


__all__ = [
    "AUTH_CONTEXT", "BLOB_ID_SIZE", "DELIVER_MANY_VERSION", "KEY_SIZE", "MAX_DISPLAY_NAME",
    "MAX_INVITATION", "MAX_LIST",
    "MAX_ONE_TIME_PREKEYS_PER_FRAME", "MAX_PREKEY_ID", "MAX_REQUEST_ID", "MAX_SEARCH_RESULTS",
    "MAX_UINT", "NONCE_SIZE",
    "PROTOCOL_VERSION", "PUSH_TYPES", "RECEIPT_CONTEXT", "REQUEST_TYPES", "SIGNATURE_SIZE",
    "SUPPORTED_VERSIONS", "AccountDelete", "AccountDeleted", "Ack", "Acked", "Auth", "AuthOk",
    "BlobCreate", "BlobCreated", "BlobData", "BlobDelete", "BlobGet", "BlobPut", "BlobWritten",
    "DeletionReceipt", "Deliver", "DeliverMany", "Deposit", "DepositOutcome", "Deposited",
    "DirectoryEntry",
    "DirectoryPublish", "DirectoryRemove", "DirectoryResults", "DirectorySearch", "Done",
    "ErrorReply", "Hello", "HelloOk", "OneTimePrekey", "PrekeyBundle", "PrekeysFetch",
    "PrekeysLow", "PrekeysPublish", "PrekeysPublished", "Push", "RelayFrame", "RelayLimits",
    "Removed", "Reply", "Request", "SignedPrekey", "auth_message", "clean_display_name",
    "decode_relay_frame", "decode_request", "deliver_frame", "deliver_many_frame", "encode",
    "encode_deliver", "encode_delivery",
]
