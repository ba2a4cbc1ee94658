"""relay.protocol: exact bytes, round trips of every frame, strict rejection, fuzzing.

Section names refer to docs/PROTOCOL.md.
"""

from __future__ import annotations

import struct

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.primitives import ed25519_keypair, ed25519_sign
from relay import errors
from relay import protocol as p
from tests.support.drbg import DeterministicRandom

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
SIG = bytes(range(64))


def packed(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


# --- exact bytes (PROTOCOL.md "Encoding", "Authentication", "Deletion receipts") --------------


def test_deposit_frame_has_the_documented_bytes() -> None:
    frame = p.Deposit(request_id=7, recipients=(KEY_A,), envelope=b"sealed", ttl=3600)
    expected = (
        b"\x85"  # map of 5
        + b"\xa2op" + b"\xa7deposit"
        + b"\xa2id" + b"\x07"
        + b"\xa2to" + b"\x91" + b"\xc4\x20" + KEY_A  # array of one bin 32
        + b"\xa8envelope" + b"\xc4\x06sealed"
        + b"\xa3ttl" + b"\xcd\x0e\x10"  # uint16 3600
    )
    assert p.encode(frame) == expected
    assert p.decode_request(expected) == frame


def test_deliver_push_has_id_zero_and_the_documented_bytes() -> None:
    expected = (
        b"\x85" + b"\xa2op" + b"\xa7deliver" + b"\xa2id" + b"\x00"
        + b"\xabenvelope_id" + b"\x09"
        + b"\xa8envelope" + b"\xc4\x06sealed"
        + b"\xaaexpires_at" + b"\xce" + struct.pack(">I", 1_700_000_000)
    )
    assert p.encode_deliver(9, b"sealed", 1_700_000_000) == expected
    assert p.encode(p.Deliver(envelope_id=9, envelope=b"sealed", expires_at=1_700_000_000)) == (
        expected
    )


def test_deliver_many_push_has_the_documented_bytes_and_decodes_to_its_delivers() -> None:
    item = (
        b"\x83" + b"\xabenvelope_id" + b"\x09"
        + b"\xa8envelope" + b"\xc4\x06sealed"
        + b"\xaaexpires_at" + b"\xce" + struct.pack(">I", 1_700_000_000)
    )
    second = item.replace(b"\x09", b"\x0a", 1).replace(b"sealed", b"second")
    expected = (
        b"\x83" + b"\xa2op" + b"\xacdeliver_many" + b"\xa2id" + b"\x00"
        + b"\xaadeliveries" + b"\x92" + item + second
    )
    assert p.encode_delivery(9, b"sealed", 1_700_000_000) == item
    assert p.deliver_many_frame([item, second]) == expected
    frame = p.decode_relay_frame(expected, {})
    assert frame == p.DeliverMany(deliveries=(
        p.Deliver(envelope_id=9, envelope=b"sealed", expires_at=1_700_000_000),
        p.Deliver(envelope_id=10, envelope=b"second", expires_at=1_700_000_000),
    ))
    assert p.encode(frame) == expected
    assert p.deliver_frame(item) == p.encode_deliver(9, b"sealed", 1_700_000_000)


def test_deliver_many_holds_1_to_1000_deliveries_each_a_strict_deliver() -> None:
    item = p.encode_delivery(1, b"x", 2)
    sixteen = p.decode_relay_frame(p.deliver_many_frame([item] * 16), {})  # array 16 header
    assert isinstance(sixteen, p.DeliverMany) and len(sixteen.deliveries) == 16
    for count in (0, p.MAX_LIST + 1):
        with pytest.raises(ValueError):
            p.deliver_many_frame([item] * count)
    too_many = packed({"op": "deliver_many", "id": 0, "deliveries": [
        {"envelope_id": 1, "envelope": b"x", "expires_at": 2}] * (p.MAX_LIST + 1)})
    empty = packed({"op": "deliver_many", "id": 0, "deliveries": []})
    extra = packed({"op": "deliver_many", "id": 0, "deliveries": [
        {"envelope_id": 1, "envelope": b"x", "expires_at": 2, "sender": b"y"}]})
    not_a_map = packed({"op": "deliver_many", "id": 0, "deliveries": [b"x"]})
    with pytest.raises(errors.TooLarge):
        p.decode_relay_frame(too_many, {})
    for bad in (empty, extra, not_a_map):
        with pytest.raises(errors.Malformed):
            p.decode_relay_frame(bad, {})


def test_auth_message_is_context_relay_key_nonce_identity() -> None:
    nonce = b"\x01" * 32
    message = p.auth_message(KEY_A, nonce, KEY_B)
    assert message == b"Sourdine relay auth v1" + KEY_A + nonce + KEY_B
    assert len(message) == 22 + 96
    with pytest.raises(errors.AuthFailed):
        p.auth_message(KEY_A, nonce[:31], KEY_B)


def test_deletion_receipt_bytes_follow_the_fixed_layout() -> None:
    receipt = p.DeletionReceipt(
        relay_key=KEY_A, identity=KEY_B, deleted_at=1_700_000_000, envelopes=3,
        one_time_prekeys=5, blobs=1, directory_entry=True,
    )
    expected = (
        b"Sourdine deletion receipt v1" + KEY_A + KEY_B
        + (1_700_000_000).to_bytes(8, "big") + (3).to_bytes(4, "big")
        + (5).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x01"
    )
    assert receipt.to_bytes() == expected
    assert len(expected) == 113
    assert p.DeletionReceipt.from_bytes(expected) == receipt
    for bad in (expected[:-1], b"X" + expected[1:], expected[:-1] + b"\x02"):
        with pytest.raises(errors.Malformed):
            p.DeletionReceipt.from_bytes(bad)


def test_a_signed_receipt_verifies_and_a_tampered_one_does_not() -> None:
    secret, public = ed25519_keypair(DeterministicRandom("relay key"))
    receipt = p.DeletionReceipt(
        relay_key=public, identity=KEY_B, deleted_at=5, envelopes=0, one_time_prekeys=0,
        blobs=0, directory_entry=False,
    )
    reply = p.AccountDeleted(
        request_id=4, receipt=receipt, signature=ed25519_sign(secret, receipt.to_bytes())
    )
    decoded = p.decode_relay_frame(p.encode(reply), {4: p.AccountDeleted})
    assert isinstance(decoded, p.AccountDeleted)
    decoded.verify(public)
    forged = p.AccountDeleted(
        request_id=4,
        receipt=p.DeletionReceipt(
            relay_key=public, identity=KEY_B, deleted_at=5, envelopes=1, one_time_prekeys=0,
            blobs=0, directory_entry=False,
        ),
        signature=reply.signature,
    )
    with pytest.raises(errors.BadSignature):
        forged.verify(public)
    with pytest.raises(errors.BadSignature):
        decoded.verify(KEY_A)  # another relay's key


# --- round trips ------------------------------------------------------------------------------

SPK = p.SignedPrekey(prekey_id=1, public_key=KEY_A, signature=SIG)
OPK = p.OneTimePrekey(prekey_id=2, public_key=KEY_B)
LIMITS = p.RelayLimits(
    max_frame_bytes=1, max_envelope_bytes=2, max_recipients=3, max_ttl_seconds=4,
    deposit_rate=5, deposit_burst=6, blob_max_bytes=7, blob_chunk_bytes=8,
    max_one_time_prekeys=9, mailbox_max_envelopes=10, mailbox_max_bytes=11,
)

REQUESTS: list[p.Request] = [
    p.Hello(request_id=1, versions=(1, 2)),
    p.Auth(request_id=2, identity=KEY_A, signature=SIG),
    p.Auth(request_id=2, identity=KEY_A, signature=SIG, invitation="ABCD-EFGH"),
    p.PrekeysPublish(request_id=3, signed_prekey=SPK, one_time_prekeys=(OPK,)),
    p.PrekeysPublish(request_id=3),
    p.PrekeysFetch(request_id=4, identity=KEY_B),
    p.Deposit(request_id=5, recipients=(KEY_A, KEY_B), envelope=b"e"),
    p.Ack(request_id=6, envelope_ids=(1, 2, 3)),
    p.Ack(request_id=6, envelope_ids=()),
    p.BlobCreate(request_id=7, size=10, ttl=60),
    p.BlobPut(request_id=8, blob_id=KEY_A, offset=0, data=b"chunk"),
    p.BlobGet(request_id=9, blob_id=KEY_A, offset=5, length=100),
    p.BlobDelete(request_id=10, blob_id=KEY_A),
    p.AccountDelete(request_id=11),
    p.DirectoryPublish(request_id=12, display_name="Zoë Martin"),
    p.DirectoryRemove(request_id=13),
    p.DirectorySearch(request_id=14, query="zoe", limit=5),
]

REPLIES: list[p.Reply] = [
    p.HelloOk(request_id=1, version=1, relay_key=KEY_A, nonce=KEY_B, admission="open",
              limits=LIMITS),
    p.AuthOk(request_id=1, created=True),
    p.PrekeysPublished(request_id=1, one_time_count=7),
    p.PrekeyBundle(request_id=1, identity=KEY_A, signed_prekey=SPK, one_time_prekey=OPK),
    p.PrekeyBundle(request_id=1, identity=KEY_A, signed_prekey=SPK, one_time_prekey=None),
    p.Deposited(request_id=1, results=(
        p.DepositOutcome(envelope_id=4),
        p.DepositOutcome(code="unknown_mailbox", message="no mailbox"),
    )),
    p.Acked(request_id=1, deleted=2),
    p.BlobCreated(request_id=1, blob_id=KEY_B, expires_at=99),
    p.BlobWritten(request_id=1, received=10),
    p.BlobData(request_id=1, data=b"abc"),
    p.Removed(request_id=1, removed=False),
    p.Done(request_id=1),
    p.DirectoryResults(request_id=1, entries=(
        p.DirectoryEntry(identity=KEY_A, display_name="Ana"),
    )),
]


@pytest.mark.parametrize("request_frame", REQUESTS, ids=lambda r: type(r).__name__)
def test_every_request_round_trips(request_frame: p.Request) -> None:
    assert p.decode_request(p.encode(request_frame)) == request_frame


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: type(r).__name__)
def test_every_reply_round_trips_for_its_pending_request(reply: p.Reply) -> None:
    assert p.decode_relay_frame(p.encode(reply), {reply.request_id: type(reply)}) == reply


def test_every_request_names_the_reply_type_a_client_expects() -> None:
    assert {type(r).REPLY for r in REQUESTS} <= {type(r) for r in REPLIES} | {p.AccountDeleted}
    assert set(p.REQUEST_TYPES) == {type(r).OP for r in REQUESTS}


def test_pushes_and_errors_round_trip_without_a_pending_request() -> None:
    for frame in (
        p.Deliver(envelope_id=1, envelope=b"x", expires_at=2),
        p.PrekeysLow(one_time_count=3),
        p.ErrorReply(request_id=5, code="quota_exceeded", message="full"),
        p.ErrorReply(request_id=5, code="rate_limited", message="slow", retry_after_ms=9),
    ):
        assert p.decode_relay_frame(p.encode(frame), {}) == frame


def test_an_error_reply_becomes_the_same_typed_error_on_the_client() -> None:
    sent = errors.RateLimited("slow down", request_id=8, retry_after_ms=120)
    frame = p.decode_relay_frame(p.encode(p.ErrorReply.of(sent)), {})
    assert isinstance(frame, p.ErrorReply)
    received = frame.to_exception()
    assert type(received) is errors.RateLimited
    assert (received.request_id, received.retry_after_ms, str(received)) == (8, 120, "slow down")
    future = p.ErrorReply(request_id=1, code="from_the_future", message="new").to_exception()
    assert isinstance(future, errors.UnknownError)
    assert future.received_code == "from_the_future"


def test_a_deposit_outcome_exposes_its_typed_error() -> None:
    refused = p.DepositOutcome(code="quota_exceeded", message="the mailbox is full")
    assert isinstance(refused.error(), errors.QuotaExceeded)
    assert p.DepositOutcome(envelope_id=3).error() is None


def test_an_ok_for_no_pending_request_is_malformed() -> None:
    with pytest.raises(errors.Malformed):
        p.decode_relay_frame(p.encode(p.AuthOk(request_id=3, created=False)), {4: p.AuthOk})


# --- strict rejection ("Frames", "Errors") ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", errors.Malformed),
        (b"\xc1", errors.Malformed),  # never-used MessagePack byte
        (packed([1, 2]), errors.Malformed),  # not a map
        (packed({"op": "ack", "id": 1, "envelope_ids": []}) + b"\x00", errors.Malformed),
        (packed({1: 2}), errors.Malformed),  # integer key
        (packed({b"op": "ack"}), errors.Malformed),  # binary key
        (packed({"id": "1"}), errors.Malformed),  # no op, no usable id
        (packed({"op": "ack"}), errors.Malformed),  # no id
        (packed({"op": "ack", "id": -1, "envelope_ids": []}), errors.Malformed),
        (packed({"op": "ack", "id": 2**53, "envelope_ids": []}), errors.Malformed),
        (packed({"op": "ack", "id": 0, "envelope_ids": []}), errors.Malformed),
        (msgpack.packb(msgpack.ExtType(1, b"x")), errors.Malformed),
    ],
)
def test_broken_frames_raise_a_typed_error_without_a_request_id(
    data: bytes, error: type[errors.ProtocolError]
) -> None:
    with pytest.raises(error) as raised:
        p.decode_request(data)
    assert raised.value.request_id == 0
    assert str(raised.value)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"op": "launch"}, errors.UnknownOperation),
        ({"op": "ok"}, errors.UnknownOperation),  # a reply is not a request
        ({"op": "ack", "envelope_ids": [], "extra": 1}, errors.Malformed),
        ({"op": "ack"}, errors.Malformed),
        ({"op": "ack", "envelope_ids": None}, errors.Malformed),
        ({"op": "ack", "envelope_ids": [True]}, errors.Malformed),  # bool is not an integer
        ({"op": "ack", "envelope_ids": [1.0]}, errors.Malformed),
        ({"op": "ack", "envelope_ids": [-3]}, errors.Malformed),
        ({"op": "ack", "envelope_ids": list(range(1001))}, errors.TooLarge),
        ({"op": "deposit", "to": [], "envelope": b"x"}, errors.Malformed),
        ({"op": "deposit", "to": [KEY_A, KEY_A], "envelope": b"x"}, errors.Malformed),
        ({"op": "deposit", "to": [KEY_A[:31]], "envelope": b"x"}, errors.Malformed),
        ({"op": "deposit", "to": [KEY_A], "envelope": b""}, errors.Malformed),
        ({"op": "deposit", "to": [KEY_A], "envelope": "text"}, errors.Malformed),
        ({"op": "deposit", "to": [KEY_A], "envelope": b"x", "ttl": 0}, errors.Malformed),
        ({"op": "deposit", "to": [KEY_A] * 1001, "envelope": b"x"}, errors.TooLarge),
        ({"op": "hello", "versions": []}, errors.Malformed),
        ({"op": "hello", "versions": [0]}, errors.Malformed),
        ({"op": "auth", "identity": KEY_A, "signature": SIG[:63]}, errors.Malformed),
        ({"op": "auth", "identity": KEY_A, "signature": SIG, "invitation": "x" * 129},
         errors.TooLarge),
        ({"op": "prekeys_publish", "one_time_prekeys": [{"id": 1, "key": KEY_A}] * 2},
         errors.Malformed),  # duplicate prekey id
        ({"op": "prekeys_publish", "one_time_prekeys": [{"id": 2**32, "key": KEY_A}]},
         errors.Malformed),
        ({"op": "prekeys_publish", "signed_prekey": {"id": 1, "key": KEY_A}}, errors.Malformed),
        ({"op": "prekeys_publish", "signed_prekey": [1]}, errors.Malformed),
        ({"op": "prekeys_publish", "signed_prekey": {"id": 1, "key": KEY_A, "signature": SIG,
                                                     "extra": 0}}, errors.Malformed),
        ({"op": "blob_put", "blob_id": KEY_A, "offset": 0, "data": b""}, errors.Malformed),
        ({"op": "blob_get", "blob_id": KEY_A[:16], "offset": 0, "length": 1}, errors.Malformed),
        ({"op": "directory_publish", "display_name": "  "}, errors.Malformed),
        ({"op": "directory_publish", "display_name": "a\u0000b"}, errors.Malformed),
        ({"op": "directory_publish", "display_name": "x" * 65}, errors.Malformed),
        ({"op": "directory_search", "query": "ana", "limit": 101}, errors.Malformed),
    ],
)
def test_invalid_fields_raise_a_typed_error_naming_the_request(
    fields: dict[str, object], error: type[errors.ProtocolError]
) -> None:
    with pytest.raises(error) as raised:
        p.decode_request(packed({**fields, "id": 42}))
    assert type(raised.value) is error
    assert raised.value.request_id == 42
    assert raised.value.message


def test_optional_fields_may_be_absent_or_nil() -> None:
    bare = p.decode_request(packed({"op": "prekeys_publish", "id": 3}))
    assert bare == p.PrekeysPublish(request_id=3)
    nil = p.decode_request(packed({"op": "deposit", "id": 4, "to": [KEY_A], "envelope": b"e",
                                   "ttl": None}))
    assert nil == p.Deposit(request_id=4, recipients=(KEY_A,), envelope=b"e")


def test_a_frame_without_op_still_names_its_request() -> None:
    with pytest.raises(errors.Malformed) as raised:
        p.decode_request(packed({"id": 9}))
    assert raised.value.request_id == 9


def test_a_text_message_is_not_a_frame() -> None:
    with pytest.raises(errors.Malformed):
        p.decode_request("hello")  # type: ignore[arg-type]


def test_display_names_are_normalised_and_trimmed() -> None:
    decomposed = "Zoe\u0308"  # e + combining diaeresis
    frame = p.decode_request(packed({"op": "directory_publish", "id": 1,
                                     "display_name": f"  {decomposed} "}))
    assert isinstance(frame, p.DirectoryPublish)
    assert frame.display_name == "Zo\u00eb"
    assert p.clean_display_name("\u202eevil") is None  # bidi override is a format character


def test_relay_limits_accept_limits_newer_than_the_client() -> None:
    body = p.encode(p.HelloOk(request_id=1, version=1, relay_key=KEY_A, nonce=KEY_B,
                              admission="open", limits=LIMITS))
    value = msgpack.unpackb(body)
    value["limits"]["max_future_thing"] = 5
    frame = p.decode_relay_frame(packed(value), {1: p.HelloOk})
    assert isinstance(frame, p.HelloOk)
    assert frame.limits == LIMITS


# --- fuzzing ----------------------------------------------------------------------------------

FUZZ = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_protocol_errors(data: bytes) -> None:
    for decode in (p.decode_request, lambda d: p.decode_relay_frame(d, {1: p.HelloOk})):
        try:
            decode(data)
        except errors.ProtocolError as error:
            assert error.message


_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True) | st.text(max_size=20) | st.binary(max_size=40)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12,
)
_field_names = st.sampled_from([
    "id", "versions", "identity", "signature", "invitation", "signed_prekey",
    "one_time_prekeys", "to", "envelope", "ttl", "envelope_ids", "size", "blob_id", "offset",
    "data", "length", "display_name", "query", "limit", "key", "results", "entries", "limits",
    "nonce", "relay_key", "version", "admission", "code", "message", "receipt", "deliveries",
    "envelope_id", "expires_at",
])


@FUZZ
@given(
    op=st.sampled_from([*p.REQUEST_TYPES, "ok", "error", *p.PUSH_TYPES, "nope"]),
    request_id=st.integers(min_value=-1, max_value=3),
    fields=st.dictionaries(_field_names, _values, max_size=6),
)
def test_structured_garbage_only_raises_protocol_errors(
    op: str, request_id: int, fields: dict[str, object]
) -> None:
    data = packed({"op": op, "id": request_id, **fields})
    reply_types = {i: cls for i, cls in enumerate((p.HelloOk, p.Deposited, p.PrekeyBundle,
                                                   p.AccountDeleted), start=0)}
    for decode in (p.decode_request, lambda d: p.decode_relay_frame(d, reply_types)):
        try:
            decode(data)
        except errors.ProtocolError as error:
            assert error.message
