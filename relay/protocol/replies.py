"""Frames a relay sends: the ``ok`` reply of each request, ``error``, and the pushes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from relay.errors import BadSignature, Malformed, ProtocolError, error_for_code
from relay.protocol.values import (
    DeletionReceipt,
    DepositOutcome,
    DirectoryEntry,
    OneTimePrekey,
    RelayLimits,
    SignedPrekey,
)
from relay.protocol.wire import (
    BLOB_ID_SIZE,
    KEY_SIZE,
    MAX_LIST,
    MAX_MESSAGE,
    MAX_SEARCH_RESULTS,
    NONCE_SIZE,
    SIGNATURE_SIZE,
    Fields,
    Frame,
    Push,
    Reply,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HelloOk(Reply):
    version: int
    relay_key: bytes
    nonce: bytes
    admission: str
    limits: RelayLimits

    def _body(self) -> dict[str, Any]:
        return {
            "version": self.version, "relay_key": self.relay_key, "nonce": self.nonce,
            "admission": self.admission, "limits": self.limits.to_wire(),
        }

    @classmethod
    def _parse(cls, f: Fields) -> HelloOk:
        limits = f.nested("limits", "the limits")
        return cls(
            request_id=f.request_id,
            version=f.uint("version"),
            relay_key=f.binary("relay_key", KEY_SIZE),
            nonce=f.binary("nonce", NONCE_SIZE),
            admission=f.required_text("admission", 32),
            limits=RelayLimits.from_wire(limits),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthOk(Reply):
    created: bool  # the mailbox was created by this auth (first use of the relay)

    def _body(self) -> dict[str, Any]:
        return {"created": self.created}

    @classmethod
    def _parse(cls, f: Fields) -> AuthOk:
        return cls(request_id=f.request_id, created=f.boolean("created"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysPublished(Reply):
    one_time_count: int  # one-time prekeys now stored

    def _body(self) -> dict[str, Any]:
        return {"one_time_count": self.one_time_count}

    @classmethod
    def _parse(cls, f: Fields) -> PrekeysPublished:
        return cls(request_id=f.request_id, one_time_count=f.uint("one_time_count"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeyBundle(Reply):
    identity: bytes
    signed_prekey: SignedPrekey
    one_time_prekey: OneTimePrekey | None

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "identity": self.identity, "signed_prekey": self.signed_prekey.to_wire()
        }
        if self.one_time_prekey is not None:
            body["one_time_prekey"] = self.one_time_prekey.to_wire()
        return body

    @classmethod
    def _parse(cls, f: Fields) -> PrekeyBundle:
        identity = f.binary("identity", KEY_SIZE)
        spk = f.nested("signed_prekey", "the signed prekey")
        opk = f.opt_nested("one_time_prekey", "the one-time prekey")
        return cls(
            request_id=f.request_id,
            identity=identity,
            signed_prekey=SignedPrekey.from_wire(spk),
            one_time_prekey=None if opk is None else OneTimePrekey.from_wire(opk),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposited(Reply):
    results: tuple[DepositOutcome, ...]  # one per recipient, in the request's order

    def _body(self) -> dict[str, Any]:
        return {"results": [outcome.to_wire() for outcome in self.results]}

    @classmethod
    def _parse(cls, f: Fields) -> Deposited:
        items = f.array("results", MAX_LIST)
        return cls(
            request_id=f.request_id,
            results=tuple(DepositOutcome.from_wire(f.wrap(item, "a result")) for item in items),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Acked(Reply):
    deleted: int  # envelopes deleted now (ids already gone are not counted)

    def _body(self) -> dict[str, Any]:
        return {"deleted": self.deleted}

    @classmethod
    def _parse(cls, f: Fields) -> Acked:
        return cls(request_id=f.request_id, deleted=f.uint("deleted"))


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobCreated(Reply):
    blob_id: bytes
    expires_at: int

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id, "expires_at": self.expires_at}

    @classmethod
    def _parse(cls, f: Fields) -> BlobCreated:
        return cls(
            request_id=f.request_id,
            blob_id=f.binary("blob_id", BLOB_ID_SIZE),
            expires_at=f.uint("expires_at"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobWritten(Reply):
    received: int  # bytes of the blob stored so far

    def _body(self) -> dict[str, Any]:
        return {"received": self.received}

    @classmethod
    def _parse(cls, f: Fields) -> BlobWritten:
        return cls(request_id=f.request_id, received=f.uint("received"))


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobData(Reply):
    data: bytes  # shorter than asked only at the end of the blob

    def _body(self) -> dict[str, Any]:
        return {"data": self.data}

    @classmethod
    def _parse(cls, f: Fields) -> BlobData:
        return cls(request_id=f.request_id, data=f.binary("data"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Removed(Reply):
    """Answer to blob_delete and directory_remove: whether there was something to remove."""

    removed: bool

    def _body(self) -> dict[str, Any]:
        return {"removed": self.removed}

    @classmethod
    def _parse(cls, f: Fields) -> Removed:
        return cls(request_id=f.request_id, removed=f.boolean("removed"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Done(Reply):
    """An ``ok`` with no fields (directory_publish)."""

    @classmethod
    def _parse(cls, f: Fields) -> Done:
        return cls(request_id=f.request_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDeleted(Reply):
    receipt: DeletionReceipt
    signature: bytes  # Ed25519 by the relay key over receipt.to_bytes()

    def _body(self) -> dict[str, Any]:
        return {"receipt": self.receipt.to_bytes(), "signature": self.signature}

    @classmethod
    def _parse(cls, f: Fields) -> AccountDeleted:
        return cls(
            request_id=f.request_id,
            receipt=DeletionReceipt.from_bytes(f.binary("receipt", max_size=256), f.request_id),
            signature=f.binary("signature", SIGNATURE_SIZE),
        )

    def verify(self, relay_key: bytes) -> None:
        """Check the receipt was signed by ``relay_key`` (the key from the hello reply).

        Raises:
            BadSignature: the signature does not verify or names another relay.
        """
        from crypto.errors import BadSignature as CryptoBadSignature
        from crypto.primitives import ed25519_verify

        if self.receipt.relay_key != relay_key:
            raise BadSignature("the receipt names another relay", request_id=self.request_id)
        try:
            ed25519_verify(relay_key, self.receipt.to_bytes(), self.signature)
        except CryptoBadSignature:
            raise BadSignature(
                "the receipt's signature does not verify", request_id=self.request_id
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryResults(Reply):
    entries: tuple[DirectoryEntry, ...]

    def _body(self) -> dict[str, Any]:
        return {"entries": [entry.to_wire() for entry in self.entries]}

    @classmethod
    def _parse(cls, f: Fields) -> DirectoryResults:
        items = f.array("entries", MAX_SEARCH_RESULTS)
        return cls(
            request_id=f.request_id,
            entries=tuple(DirectoryEntry.from_wire(f.wrap(item, "an entry")) for item in items),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorReply(Frame):
    """``{"op": "error", "id": ..., "code": ..., "message": ...}`` answering one request."""

    OP: ClassVar[str] = "error"
    request_id: int
    code: str
    message: str
    retry_after_ms: int | None = None  # only with code "rate_limited"

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.retry_after_ms is not None:
            body["retry_after_ms"] = self.retry_after_ms
        return body

    @classmethod
    def _parse(cls, f: Fields) -> ErrorReply:
        return cls(
            request_id=f.request_id,
            code=f.required_text("code", 64),
            message=f.required_text("message", MAX_MESSAGE),
            retry_after_ms=f.opt_uint("retry_after_ms"),
        )

    @classmethod
    def of(cls, error: ProtocolError) -> ErrorReply:
        """The reply carrying ``error`` (its code, message and request id)."""
        retry = getattr(error, "retry_after_ms", None)
        return cls(
            request_id=error.request_id, code=error.code, message=error.message[:MAX_MESSAGE],
            retry_after_ms=retry,
        )

    def to_exception(self) -> ProtocolError:
        """The typed error the relay reported."""
        return error_for_code(
            self.code, self.message, request_id=self.request_id,
            retry_after_ms=self.retry_after_ms or 0,
        )




@dataclass(frozen=True, slots=True, kw_only=True)
class Deliver(Push):
    """A stored envelope pushed to its authenticated owner; ack it to delete it."""

    OP: ClassVar[str] = "deliver"
    envelope_id: int
    envelope: bytes
    expires_at: int

    def _body(self) -> dict[str, Any]:
        return {"envelope_id": self.envelope_id, "envelope": self.envelope,
                "expires_at": self.expires_at}

    @classmethod
    def _parse(cls, f: Fields) -> Deliver:
        return cls(
            envelope_id=f.uint("envelope_id"),
            envelope=f.binary("envelope"),
            expires_at=f.uint("expires_at"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysLow(Push):
    """The owner's one-time prekeys fell below the relay's threshold: publish more."""

    OP: ClassVar[str] = "prekeys_low"
    one_time_count: int

    def _body(self) -> dict[str, Any]:
        return {"one_time_count": self.one_time_count}

    @classmethod
    def _parse(cls, f: Fields) -> PrekeysLow:
        return cls(one_time_count=f.uint("one_time_count"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverMany(Push):
    """Several stored envelopes in one push (protocol version 2), to be handled in order.

    Exactly as if each were its own :class:`Deliver` push, one after the other.
    """

    OP: ClassVar[str] = "deliver_many"
    deliveries: tuple[Deliver, ...]  # 1..MAX_LIST, in the order the relay queued them

    def _body(self) -> dict[str, Any]:
        return {"deliveries": [delivery._body() for delivery in self.deliveries]}

    @classmethod
    def _parse(cls, f: Fields) -> DeliverMany:
        items = f.array("deliveries", MAX_LIST)
        if not items:
            raise Malformed('"deliveries" must not be empty', request_id=f.request_id)
        deliveries = []
        for item in items:
            fields = f.wrap(item, "a delivery")
            deliveries.append(Deliver._parse(fields))
            fields.finish()
        return cls(deliveries=tuple(deliveries))
