"""Frames a client sends: one class per operation, each naming the type of its reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from relay.errors import Malformed
from relay.protocol.replies import (
    AccountDeleted,
    Acked,
    AuthOk,
    BlobCreated,
    BlobData,
    BlobWritten,
    Deposited,
    DirectoryResults,
    Done,
    HelloOk,
    PrekeyBundle,
    PrekeysPublished,
    Removed,
)
from relay.protocol.values import OneTimePrekey, SignedPrekey, clean_display_name
from relay.protocol.wire import (
    BLOB_ID_SIZE,
    KEY_SIZE,
    MAX_DISPLAY_NAME,
    MAX_INVITATION,
    MAX_LIST,
    MAX_ONE_TIME_PREKEYS_PER_FRAME,
    MAX_SEARCH_RESULTS,
    MAX_UINT,
    SIGNATURE_SIZE,
    Fields,
    Reply,
    Request,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(Request):
    OP: ClassVar[str] = "hello"
    REPLY: ClassVar[type[Reply]] = HelloOk
    NEEDS_AUTH: ClassVar[bool] = False
    versions: tuple[int, ...]  # protocol versions the client speaks

    def _body(self) -> dict[str, Any]:
        return {"versions": list(self.versions)}

    @classmethod
    def _parse(cls, f: Fields) -> Hello:
        items = f.array("versions", 16)
        versions = []
        for item in items:
            if type(item) is not int or not 1 <= item <= 0xFFFF:
                raise Malformed('"versions" must list integers 1..65535', request_id=f.request_id)
            versions.append(item)
        if not versions:
            raise Malformed('"versions" must not be empty', request_id=f.request_id)
        return cls(request_id=f.request_id, versions=tuple(versions))


@dataclass(frozen=True, slots=True, kw_only=True)
class Auth(Request):
    OP: ClassVar[str] = "auth"
    REPLY: ClassVar[type[Reply]] = AuthOk
    NEEDS_AUTH: ClassVar[bool] = False
    identity: bytes  # the client's Ed25519 identity key (its mailbox name)
    signature: bytes  # Ed25519 over auth_message(relay_key, nonce, identity)
    invitation: str | None = None  # needed once, to register on an invitation-only relay

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"identity": self.identity, "signature": self.signature}
        if self.invitation is not None:
            body["invitation"] = self.invitation
        return body

    @classmethod
    def _parse(cls, f: Fields) -> Auth:
        return cls(
            request_id=f.request_id,
            identity=f.binary("identity", KEY_SIZE),
            signature=f.binary("signature", SIGNATURE_SIZE),
            invitation=f.text("invitation", MAX_INVITATION, optional=True),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysPublish(Request):
    OP: ClassVar[str] = "prekeys_publish"
    REPLY: ClassVar[type[Reply]] = PrekeysPublished
    signed_prekey: SignedPrekey | None = None  # replaces the stored one when given
    one_time_prekeys: tuple[OneTimePrekey, ...] = ()  # added to the stored ones

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"one_time_prekeys": [k.to_wire() for k in self.one_time_prekeys]}
        if self.signed_prekey is not None:
            body["signed_prekey"] = self.signed_prekey.to_wire()
        return body

    @classmethod
    def _parse(cls, f: Fields) -> PrekeysPublish:
        spk = f.opt_nested("signed_prekey", "the signed prekey")
        items = f.array("one_time_prekeys", MAX_ONE_TIME_PREKEYS_PER_FRAME, optional=True)
        one_time = tuple(OneTimePrekey.from_wire(f.wrap(i, "a one-time prekey")) for i in items)
        if len({k.prekey_id for k in one_time}) != len(one_time):
            raise Malformed("two one-time prekeys share an id", request_id=f.request_id)
        return cls(
            request_id=f.request_id,
            signed_prekey=None if spk is None else SignedPrekey.from_wire(spk),
            one_time_prekeys=one_time,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrekeysFetch(Request):
    OP: ClassVar[str] = "prekeys_fetch"
    REPLY: ClassVar[type[Reply]] = PrekeyBundle
    NEEDS_AUTH: ClassVar[bool] = False
    identity: bytes

    def _body(self) -> dict[str, Any]:
        return {"identity": self.identity}

    @classmethod
    def _parse(cls, f: Fields) -> PrekeysFetch:
        return cls(request_id=f.request_id, identity=f.binary("identity", KEY_SIZE))


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposit(Request):
    OP: ClassVar[str] = "deposit"
    REPLY: ClassVar[type[Reply]] = Deposited
    NEEDS_AUTH: ClassVar[bool] = False
    recipients: tuple[bytes, ...]  # mailboxes (identity keys), distinct
    envelope: bytes  # opaque sealed bytes
    ttl: int | None = None  # seconds; the relay keeps min(ttl, its maximum)

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"to": list(self.recipients), "envelope": self.envelope}
        if self.ttl is not None:
            body["ttl"] = self.ttl
        return body

    @classmethod
    def _parse(cls, f: Fields) -> Deposit:
        items = f.array("to", MAX_LIST)
        if not items:
            raise Malformed('"to" must name at least one mailbox', request_id=f.request_id)
        for item in items:
            if type(item) is not bytes or len(item) != KEY_SIZE:
                raise Malformed('"to" must list 32-byte keys', request_id=f.request_id)
        if len(set(items)) != len(items):
            raise Malformed('"to" names a mailbox twice', request_id=f.request_id)
        envelope = f.binary("envelope")
        if not envelope:
            raise Malformed("the envelope is empty", request_id=f.request_id)
        return cls(
            request_id=f.request_id, recipients=items, envelope=envelope,
            ttl=f.opt_uint("ttl", minimum=1),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack(Request):
    OP: ClassVar[str] = "ack"
    REPLY: ClassVar[type[Reply]] = Acked
    envelope_ids: tuple[int, ...]

    def _body(self) -> dict[str, Any]:
        return {"envelope_ids": list(self.envelope_ids)}

    @classmethod
    def _parse(cls, f: Fields) -> Ack:
        items = f.array("envelope_ids", MAX_LIST)
        for item in items:
            if type(item) is not int or not 0 <= item <= MAX_UINT:
                raise Malformed('"envelope_ids" must list integers', request_id=f.request_id)
        return cls(request_id=f.request_id, envelope_ids=items)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobCreate(Request):
    OP: ClassVar[str] = "blob_create"
    REPLY: ClassVar[type[Reply]] = BlobCreated
    size: int
    ttl: int | None = None

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"size": self.size}
        if self.ttl is not None:
            body["ttl"] = self.ttl
        return body

    @classmethod
    def _parse(cls, f: Fields) -> BlobCreate:
        return cls(
            request_id=f.request_id, size=f.uint("size", minimum=1),
            ttl=f.opt_uint("ttl", minimum=1),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobPut(Request):
    OP: ClassVar[str] = "blob_put"
    REPLY: ClassVar[type[Reply]] = BlobWritten
    blob_id: bytes
    offset: int  # must equal the bytes received so far (chunks arrive in order)
    data: bytes

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id, "offset": self.offset, "data": self.data}

    @classmethod
    def _parse(cls, f: Fields) -> BlobPut:
        result = cls(
            request_id=f.request_id, blob_id=f.binary("blob_id", BLOB_ID_SIZE),
            offset=f.uint("offset"), data=f.binary("data"),
        )
        if not result.data:
            raise Malformed("the chunk is empty", request_id=f.request_id)
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobGet(Request):
    OP: ClassVar[str] = "blob_get"
    REPLY: ClassVar[type[Reply]] = BlobData
    NEEDS_AUTH: ClassVar[bool] = False
    blob_id: bytes
    offset: int
    length: int

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id, "offset": self.offset, "length": self.length}

    @classmethod
    def _parse(cls, f: Fields) -> BlobGet:
        return cls(
            request_id=f.request_id, blob_id=f.binary("blob_id", BLOB_ID_SIZE),
            offset=f.uint("offset"), length=f.uint("length", minimum=1),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobDelete(Request):
    OP: ClassVar[str] = "blob_delete"
    REPLY: ClassVar[type[Reply]] = Removed
    blob_id: bytes

    def _body(self) -> dict[str, Any]:
        return {"blob_id": self.blob_id}

    @classmethod
    def _parse(cls, f: Fields) -> BlobDelete:
        return cls(request_id=f.request_id, blob_id=f.binary("blob_id", BLOB_ID_SIZE))


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDelete(Request):
    OP: ClassVar[str] = "account_delete"
    REPLY: ClassVar[type[Reply]] = AccountDeleted

    @classmethod
    def _parse(cls, f: Fields) -> AccountDelete:
        return cls(request_id=f.request_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryPublish(Request):
    OP: ClassVar[str] = "directory_publish"
    REPLY: ClassVar[type[Reply]] = Done
    display_name: str

    def _body(self) -> dict[str, Any]:
        return {"display_name": self.display_name}

    @classmethod
    def _parse(cls, f: Fields) -> DirectoryPublish:
        name = clean_display_name(f.required_text("display_name", MAX_DISPLAY_NAME * 4))
        if name is None:
            raise Malformed(
                f"a display name is 1 to {MAX_DISPLAY_NAME} printable characters",
                request_id=f.request_id,
            )
        return cls(request_id=f.request_id, display_name=name)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryRemove(Request):
    OP: ClassVar[str] = "directory_remove"
    REPLY: ClassVar[type[Reply]] = Removed

    @classmethod
    def _parse(cls, f: Fields) -> DirectoryRemove:
        return cls(request_id=f.request_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectorySearch(Request):
    OP: ClassVar[str] = "directory_search"
    REPLY: ClassVar[type[Reply]] = DirectoryResults
    query: str
    limit: int = 20

    def _body(self) -> dict[str, Any]:
        return {"query": self.query, "limit": self.limit}

    @classmethod
    def _parse(cls, f: Fields) -> DirectorySearch:
        query = clean_display_name(f.required_text("query", MAX_DISPLAY_NAME * 4))
        if query is None:
            raise Malformed(
                f"a search query is 1 to {MAX_DISPLAY_NAME} printable characters",
                request_id=f.request_id,
            )
        limit = f.opt_uint("limit", MAX_SEARCH_RESULTS, minimum=1)
        return cls(request_id=f.request_id, query=query, limit=20 if limit is None else limit)
