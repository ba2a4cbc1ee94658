"""What the relay does for each request: checks, one store call, a typed reply.

:class:`RelayService` knows nothing about sockets. The server hands it a decoded request and
the connection's :class:`~relay.session.Session`; it returns the reply or raises a
:class:`~relay.errors.ProtocolError`. Store errors become protocol errors here, with the
store's readable message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from crypto.errors import BadSignature as CryptoBadSignature
from crypto.primitives import Random, ed25519_verify
from relay import errors
from relay import protocol as p
from relay.admission import AdmissionPolicy
from relay.config import RelayConfig
from relay.identity import RelayIdentity
from relay.logging import log_event
from relay.session import MailboxFeed, Session
from relay.store import base as store_api
from relay.store.base import RelayStore

Handler = Callable[[Session, Any], Awaitable[p.Reply]]


class RelayService:
    """The relay's behaviour, one method per operation (docs/PROTOCOL.md, "Operations").

    ``online`` maps an authenticated identity to its one session: a newer auth of the same
    identity replaces (disconnects) the older session.
    """

    def __init__(
        self,
        config: RelayConfig,
        store: RelayStore,
        identity: RelayIdentity,
        random: Random,
        wall_clock: Callable[[], float],
        monotonic: Callable[[], float],
    ) -> None:
        self.config = config
        self.store = store
        self.identity = identity
        self.policy = AdmissionPolicy(config.admission, config.allow)
        self._random = random
        self._wall_clock = wall_clock  # seconds since the epoch (expiry times, receipts)
        self._monotonic = monotonic  # for challenge lifetimes and rate limits
        self.online: dict[bytes, Session] = {}  # identity -> its authenticated session
        limits = config.limits
        # A backlog is read a page at a time: at most about 4 MiB of envelopes in memory.
        self._page_size = max(4, min(256, 4 * 1024 * 1024 // limits.max_envelope_bytes))
        self.public_limits = p.RelayLimits(
            max_frame_bytes=limits.max_frame_bytes,
            max_envelope_bytes=limits.max_envelope_bytes,
            max_recipients=limits.max_recipients,
            max_ttl_seconds=config.ttl_seconds,
            deposit_rate=limits.deposit_rate,
            deposit_burst=limits.deposit_burst,
            blob_max_bytes=limits.store.blob_max_bytes,
            blob_chunk_bytes=limits.blob_chunk_bytes,
            max_one_time_prekeys=limits.store.max_one_time_prekeys,
            mailbox_max_envelopes=limits.store.mailbox_max_envelopes,
            mailbox_max_bytes=limits.store.mailbox_max_bytes,
        )
        self._handlers: dict[type[p.Request], Handler] = {
            p.Hello: self.hello, p.Auth: self.auth, p.PrekeysPublish: self.prekeys_publish,
            p.PrekeysFetch: self.prekeys_fetch, p.Deposit: self.deposit, p.Ack: self.ack,
            p.BlobCreate: self.blob_create, p.BlobPut: self.blob_put, p.BlobGet: self.blob_get,
            p.BlobDelete: self.blob_delete, p.AccountDelete: self.account_delete,
            p.DirectoryPublish: self.directory_publish,
            p.DirectoryRemove: self.directory_remove,
            p.DirectorySearch: self.directory_search,
        }

    def now(self) -> int:
        return int(self._wall_clock())

    # -- dispatch ---------------------------------------------------------------------------
    def admit_request(self, session: Session, request: p.Request) -> None:
        """Checks done before a request runs, in arrival order (state, auth, size, rate).

        Raises:
            OutOfOrder, Unauthenticated, TooLarge, RateLimited: see docs/PROTOCOL.md.
        """
        if session.version is None and not isinstance(request, p.Hello):
            raise errors.OutOfOrder("send hello first", request_id=request.request_id)
        if request.NEEDS_AUTH and session.identity is None:
            raise errors.Unauthenticated(
                f"{request.OP} needs an authenticated connection (hello, then auth)",
                request_id=request.request_id,
            )
        if isinstance(request, p.Deposit):
            self._check_deposit(session, request)
        elif isinstance(request, p.PrekeysFetch):
            self._charge(session, 1, request.request_id)

    async def handle(self, session: Session, request: p.Request) -> p.Reply:
        """Run ``request`` (already admitted) and return its reply.

        Raises:
            ProtocolError: the request failed; nothing was changed.
        """
        try:
            return await self._handlers[type(request)](session, request)
        except errors.ProtocolError as error:
            if not error.request_id:
                error.request_id = request.request_id
            raise
        except store_api.UnknownMailbox as error:
            raise errors.UnknownMailbox(str(error), request_id=request.request_id) from None
        except store_api.QuotaExceeded as error:
            raise errors.QuotaExceeded(str(error), request_id=request.request_id) from None
        except store_api.UnknownBlob as error:
            raise errors.NotFound(str(error), request_id=request.request_id) from None
        except store_api.StoreError as error:
            log_event("store_error", logging.ERROR, op=request.OP, error=type(error).__name__)
            raise errors.InternalError(str(error), request_id=request.request_id) from None
        except Exception as error:
            log_event("internal_error", logging.ERROR, op=request.OP, error=type(error).__name__)
            raise errors.InternalError(
                "the relay failed to handle this request; nothing was changed",
                request_id=request.request_id,
            ) from None

    def end_session(self, session: Session) -> None:
        """Forget a closed or de-authenticated session (stops its feed)."""
        if session.feed is not None:
            session.feed.stop()
            session.feed = None
        if session.identity is not None and self.online.get(session.identity) is session:
            del self.online[session.identity]

    # -- session ----------------------------------------------------------------------------
    async def hello(self, session: Session, request: p.Hello) -> p.HelloOk:
        if session.identity is not None:
            raise errors.OutOfOrder("this connection is already authenticated")
        common = set(request.versions) & set(p.SUPPORTED_VERSIONS)
        if not common:
            raise errors.UnsupportedVersion(
                "this relay speaks protocol versions "
                + ", ".join(str(v) for v in p.SUPPORTED_VERSIONS)
            )
        session.version = max(common)
        session.nonce = self._random(p.NONCE_SIZE)
        session.nonce_issued = self._monotonic()
        return p.HelloOk(
            request_id=request.request_id, version=session.version,
            relay_key=self.identity.public_key, nonce=session.nonce,
            admission=self.config.admission.value, limits=self.public_limits,
        )

    async def auth(self, session: Session, request: p.Auth) -> p.AuthOk:
        if session.identity is not None:
            raise errors.OutOfOrder("this connection is already authenticated")
        nonce, issued = session.nonce, session.nonce_issued
        session.nonce = None  # single use, whatever happens next
        if nonce is None:
            raise errors.OutOfOrder("each auth needs a fresh challenge: send hello again")
        if self._monotonic() - issued > self.config.auth_window:
            raise errors.AuthFailed("the challenge expired: send hello again for a fresh one")
        message = p.auth_message(self.identity.public_key, nonce, request.identity)
        try:
            ed25519_verify(request.identity, message, request.signature)
        except CryptoBadSignature:
            raise errors.AuthFailed(
                "the signature does not verify for this relay, challenge and identity"
            ) from None
        created = await self.policy.admit(self.store, request.identity, request.invitation)
        if session.outbox.closed:  # the client left while the store was working
            return p.AuthOk(request_id=request.request_id, created=created)
        previous = self.online.get(request.identity)
        if previous is not None:
            self.end_session(previous)
            previous.identity = None
            previous.disconnect(4001, "another connection authenticated as this identity")
        session.identity = request.identity
        self.online[request.identity] = session
        session.feed = MailboxFeed(
            self.store, request.identity, session.outbox, self.now,
            lambda: session.disconnect(1011, "the relay could not read the mailbox"),
            page_size=self._page_size,
        )
        return p.AuthOk(request_id=request.request_id, created=created)

    # -- prekeys ----------------------------------------------------------------------------
    async def prekeys_publish(
        self, session: Session, request: p.PrekeysPublish
    ) -> p.PrekeysPublished:
        identity = _owner(session)
        signed = request.signed_prekey
        if signed is not None:
            try:
                ed25519_verify(identity, signed.public_key, signed.signature)
            except CryptoBadSignature:
                raise errors.BadSignature(
                    "the signed prekey's signature does not verify under your identity key"
                ) from None
        count = await self.store.publish_prekeys(
            identity,
            None if signed is None else store_api.SignedPrekey(
                prekey_id=signed.prekey_id, public_key=signed.public_key,
                signature=signed.signature,
            ),
            [store_api.OneTimePrekey(prekey_id=k.prekey_id, public_key=k.public_key)
             for k in request.one_time_prekeys],
        )
        return p.PrekeysPublished(request_id=request.request_id, one_time_count=count)

    async def prekeys_fetch(self, session: Session, request: p.PrekeysFetch) -> p.PrekeyBundle:
        record = await self.store.take_prekey_bundle(request.identity)
        if record is None:
            if not await self.store.is_registered(request.identity):
                raise errors.UnknownMailbox("this identity has no mailbox on this relay")
            raise errors.NotFound("this identity has published no prekeys")
        if record.one_time_remaining < self.config.limits.prekeys_low_threshold:
            owner = self.online.get(request.identity)
            if owner is not None:
                owner.outbox.offer(p.encode(p.PrekeysLow(one_time_count=record.one_time_remaining)))
        spk, opk = record.signed_prekey, record.one_time_prekey
        return p.PrekeyBundle(
            request_id=request.request_id,
            identity=record.identity,
            signed_prekey=p.SignedPrekey(
                prekey_id=spk.prekey_id, public_key=spk.public_key, signature=spk.signature
            ),
            one_time_prekey=None if opk is None else p.OneTimePrekey(
                prekey_id=opk.prekey_id, public_key=opk.public_key
            ),
        )

    # -- mailboxes --------------------------------------------------------------------------
    def _charge(self, session: Session, cost: int, request_id: int) -> None:
        wait = session.bucket.take(cost, self._monotonic())
        if wait:
            retry_ms = min(int(wait * 1000) + 1, 3_600_000)
            raise errors.RateLimited(
                f"too many deposits on this connection; retry in {retry_ms} ms",
                request_id=request_id, retry_after_ms=retry_ms,
            )

    def _check_deposit(self, session: Session, request: p.Deposit) -> None:
        limits = self.config.limits
        if len(request.envelope) > limits.max_envelope_bytes:
            raise errors.TooLarge(
                f"an envelope may be at most {limits.max_envelope_bytes} bytes",
                request_id=request.request_id,
            )
        if len(request.recipients) > limits.max_recipients:
            raise errors.TooLarge(
                f"a deposit may name at most {limits.max_recipients} mailboxes",
                request_id=request.request_id,
            )
        self._charge(session, len(request.recipients), request.request_id)

    async def deposit(self, session: Session, request: p.Deposit) -> p.Deposited:
        ttl = self.config.ttl_seconds if request.ttl is None else min(request.ttl,
                                                                      self.config.ttl_seconds)
        expires_at = self.now() + ttl
        envelope = request.envelope
        outcomes = await self.store.deposit(request.recipients, envelope, expires_at)
        results = []
        online = self.online
        for outcome in outcomes:
            envelope_id = outcome.envelope_id
            if envelope_id is not None:
                results.append(p.DepositOutcome(envelope_id=envelope_id))
                owner = online.get(outcome.mailbox)
                if owner is not None and owner.feed is not None:
                    owner.feed.offer(envelope_id, envelope, expires_at)
            else:
                error = _store_error(outcome.error)
                results.append(p.DepositOutcome(code=error.code, message=error.message))
        return p.Deposited(request_id=request.request_id, results=tuple(results))

    async def ack(self, session: Session, request: p.Ack) -> p.Acked:
        identity = _owner(session)
        deleted = await self.store.ack(identity, request.envelope_ids)
        if session.feed is not None:
            session.feed.acked(request.envelope_ids)
        return p.Acked(request_id=request.request_id, deleted=deleted)

    # -- blobs ------------------------------------------------------------------------------
    async def blob_create(self, session: Session, request: p.BlobCreate) -> p.BlobCreated:
        identity = _owner(session)
        most = self.config.limits.store.blob_max_bytes
        if request.size > most:
            raise errors.TooLarge(f"a blob may be at most {most} bytes")
        ttl = self.config.ttl_seconds if request.ttl is None else min(request.ttl,
                                                                      self.config.ttl_seconds)
        expires_at = self.now() + ttl
        blob_id = self._random(p.BLOB_ID_SIZE)
        await self.store.create_blob(identity, blob_id, request.size, expires_at)
        return p.BlobCreated(request_id=request.request_id, blob_id=blob_id, expires_at=expires_at)

    async def blob_put(self, session: Session, request: p.BlobPut) -> p.BlobWritten:
        identity = _owner(session)
        self._check_chunk(len(request.data))
        received = await self.store.put_blob_chunk(
            identity, request.blob_id, request.offset, request.data
        )
        return p.BlobWritten(request_id=request.request_id, received=received)

    async def blob_get(self, session: Session, request: p.BlobGet) -> p.BlobData:
        self._check_chunk(request.length)
        data = await self.store.read_blob(request.blob_id, request.offset, request.length,
                                          self.now())
        return p.BlobData(request_id=request.request_id, data=data)

    def _check_chunk(self, size: int) -> None:
        most = self.config.limits.blob_chunk_bytes
        if size > most:
            raise errors.TooLarge(f"a blob chunk may be at most {most} bytes")

    async def blob_delete(self, session: Session, request: p.BlobDelete) -> p.Removed:
        removed = await self.store.delete_blob(_owner(session), request.blob_id)
        return p.Removed(request_id=request.request_id, removed=removed)

    # -- account ----------------------------------------------------------------------------
    async def account_delete(
        self, session: Session, request: p.AccountDelete
    ) -> p.AccountDeleted:
        identity = _owner(session)
        deletion = await self.store.delete_account(identity)
        self.end_session(session)
        session.identity = None
        receipt = p.DeletionReceipt(
            relay_key=self.identity.public_key, identity=identity, deleted_at=self.now(),
            envelopes=min(deletion.envelopes, 2**32 - 1),
            one_time_prekeys=min(deletion.one_time_prekeys, 2**32 - 1),
            blobs=min(deletion.blobs, 2**32 - 1), directory_entry=deletion.directory_entry,
        )
        log_event("account_deleted")
        return p.AccountDeleted(
            request_id=request.request_id, receipt=receipt,
            signature=self.identity.sign(receipt.to_bytes()),
        )

    # -- directory --------------------------------------------------------------------------
    async def directory_publish(self, session: Session, request: p.DirectoryPublish) -> p.Done:
        await self.store.directory_publish(_owner(session), request.display_name)
        return p.Done(request_id=request.request_id)

    async def directory_remove(self, session: Session, request: p.DirectoryRemove) -> p.Removed:
        removed = await self.store.directory_remove(_owner(session))
        return p.Removed(request_id=request.request_id, removed=removed)

    async def directory_search(
        self, session: Session, request: p.DirectorySearch
    ) -> p.DirectoryResults:
        found = await self.store.directory_search(request.query, request.limit)
        return p.DirectoryResults(
            request_id=request.request_id,
            entries=tuple(
                p.DirectoryEntry(identity=e.identity, display_name=e.display_name)
                for e in found[: request.limit]
            ),
        )


def _owner(session: Session) -> bytes:
    if session.identity is None:  # admit_request checked it; the session may have ended since
        raise errors.Unauthenticated("this connection is no longer authenticated")
    return session.identity


def _store_error(error: store_api.StoreError | None) -> errors.ProtocolError:
    if isinstance(error, store_api.UnknownMailbox):
        return errors.UnknownMailbox(str(error))
    if isinstance(error, store_api.QuotaExceeded):
        return errors.QuotaExceeded(str(error))
    return errors.InternalError(str(error) if error else "the envelope was not stored")
