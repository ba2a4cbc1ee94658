"""The send pipeline: outbox items are encrypted, sealed and deposited until a relay confirms.

An item enters the outbox in the same transaction as the message it carries (state queued).
It is encrypted with the contact's active session as soon as there is one, in order per
recipient; without a session, the contact's prekey bundle is fetched first (X3DH). The sealed
envelope and the ratchet state that produced it are committed together *before* the deposit,
so a crash can neither reuse a message key nor lose the envelope: after a restart the same
envelope is deposited again (the recipient drops the copy). The item leaves the outbox only
when the relay confirmed the durable store (state sent), or when the relay refused it for good
(state failed, with the reason). Transient failures are retried with a jittered backoff.
Deposits are pipelined (up to ``window`` in flight).

A contact who has not set up yet (their relay has no mailbox or no prekeys for them: they
never connected, or have not published) is *waited for*: their messages stay queued, the
bundle is asked for again later and at every reconnect (:meth:`Outbox.retry_waiting`), and
only a message that waited too long fails (:mod:`app.core.recipient_setup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as _random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from app.adapters.relay_pool import RelayPool
from app.adapters.store import (
    Applied,
    MessageState,
    NewOutboxItem,
    OutboxRecord,
    PayloadKind,
    StateChange,
)
from app.adapters.transport import InvalidSettings, RelayRefused, TransportError
from app.core.events import Event, MessageStateChanged
from app.core.journal import Journal
from app.core.recipient_setup import NOT_YET_BUNDLE_CODES, RecipientSetupWait, WaitingItem
from app.core.sessions import SessionBook
from crypto.envelope import EnvelopeKind, seal_envelope
from crypto.errors import CryptoError
from crypto.x3dh import PrekeyBundle

_log = logging.getLogger(__name__)

PERMANENT_BUNDLE_CODES: Final = frozenset({"malformed"})
TYPING_TTL: Final = 30
"""Seconds a relay keeps a typing indicator: a late one is worse than none."""
RETRY_CODES: Final = frozenset({"rate_limited", "internal", "quota_exceeded"})
_JITTER: Final = _random.SystemRandom().random


@dataclass(slots=True)
class OutboxItem:
    """An outbox item in memory (the database row plus delivery bookkeeping)."""

    seq: int
    recipient: bytes
    relay_url: str
    kind: PayloadKind
    message_id: bytes | None
    conversation_id: int
    plaintext: bytes | None
    envelope: bytes | None
    queued_at: int  # seconds: when it entered the outbox (a message waits so long at most)
    durable: bool = True  # the envelope (if any) is committed
    in_flight: bool = False  # a deposit is running
    attempts: int = 0  # failed deposits so far
    not_before: float = 0.0  # loop time before which no new deposit is tried


def _backoff(attempts: int) -> float:
    base = min(30.0, 0.5 * 2 ** min(attempts, 10))
    return float(base * (1 - 0.5 * _JITTER()))


class Outbox:
    """Queue, encrypt, deposit, retry. Create, :meth:`load`, :meth:`start`, :meth:`close`."""

    def __init__(
        self, own_identity: bytes, sessions: SessionBook, journal: Journal, pool: RelayPool,
        emit: Callable[[Event], None], now: Callable[[], int], *,
        setup_wait: RecipientSetupWait, window: int = 32, ttl_seconds: int | None = None,
    ) -> None:
        self._own = own_identity
        self._sessions = sessions
        self._journal = journal
        self._pool = pool
        self._emit = emit
        self._now = now  # wall-clock seconds (session creation times)
        self._window = window  # deposits in flight at most
        self._ttl = ttl_seconds  # asked of the relay for each deposit (None: its maximum)
        self._items: dict[int, OutboxItem] = {}  # by seq, in order
        # recipient -> its items without an envelope yet (uncommitted ones included)
        self._unencrypted: dict[bytes, int] = {}
        self._fetching: dict[bytes, asyncio.Task[None]] = {}  # bundle fetches by recipient
        self._setup_wait = setup_wait  # the recipients not set up yet
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._task: asyncio.Task[None] | None = None
        self._deposits: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------------

    def load(self, records: list[OutboxRecord]) -> None:
        """Take over the stored items; typing indicators of an earlier run are dropped (they
        would be stale)."""
        stale = [r.seq for r in records if r.kind is PayloadKind.TYPING]
        if stale:
            self._journal.changes.outbox_done.extend(stale)
            self._journal.request()
        for r in records:
            if r.kind is not PayloadKind.TYPING:
                self._track(OutboxItem(r.seq, r.recipient, r.relay_url, r.kind, r.message_id,
                                       r.conversation_id, r.plaintext, r.envelope,
                                       queued_at=r.created_at))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox")

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._deposits, *self._fetching.values()) if t]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._task = None

    def wake(self) -> None:
        self._wake.set()

    def retry_waiting(self) -> None:
        """Ask again now for the bundles of contacts who had not set up yet (on reconnect)."""
        self._setup_wait.ask_again_now()
        self._wake.set()

    def __len__(self) -> int:
        return len(self._items)

    async def wait_empty(self, timeout: float) -> bool:
        """Wait until the outbox is empty; False on timeout."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _track(self, item: OutboxItem) -> None:
        self._items[item.seq] = item
        if item.envelope is None and item.plaintext is not None:
            self._unencrypted[item.recipient] = self._unencrypted.get(item.recipient, 0) + 1
        self._empty.clear()
        self._wake.set()

    def _untrack(self, item: OutboxItem) -> None:
        self._items.pop(item.seq, None)
        if not self._items:
            self._empty.set()

    # --- enqueueing (synchronous, into the journal's open batch) -------------------------------

    def enqueue(
        self, recipient: bytes, relay_url: str, kind: PayloadKind, plaintext: bytes,
        message_id: bytes | None, conversation_id: int,
    ) -> None:
        """Add an item to the open batch, encrypted now when the recipient has a session and
        nothing older waits for one; it is deposited once the batch is committed.

        Raises:
            JournalFailed: the database can no longer be written.
        """
        envelope = None
        if not self._unencrypted.get(recipient) and self._sessions.can_encrypt(recipient):
            envelope = self._seal(recipient, kind, plaintext)
        changes = self._journal.changes
        index = len(changes.outbox)
        queued_at = self._now()
        changes.outbox.append(NewOutboxItem(
            recipient, relay_url, kind, message_id, conversation_id,
            None if envelope is not None else plaintext, envelope, queued_at,
        ))
        if envelope is None:
            self._unencrypted[recipient] = self._unencrypted.get(recipient, 0) + 1

        def committed(applied: Applied) -> None:
            item = OutboxItem(applied.outbox_seqs[index], recipient, relay_url, kind, message_id,
                              conversation_id, None if envelope is not None else plaintext,
                              envelope, queued_at=queued_at)
            self._items[item.seq] = item
            self._empty.clear()
            self._wake.set()

        self._journal.after_commit(committed)

    def _seal(self, recipient: bytes, kind: PayloadKind, plaintext: bytes) -> bytes:
        envelope_kind, payload = self._sessions.encrypt(recipient, plaintext)
        if kind is PayloadKind.RECEIPT and envelope_kind is EnvelopeKind.RATCHET_MESSAGE:
            envelope_kind = EnvelopeKind.RECEIPT
        return seal_envelope(recipient, self._own, envelope_kind, payload)

    # --- the worker ---------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            delay = self._pump(loop.time())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _pump(self, now: float) -> float | None:
        """Encrypt what can be, start deposits; returns seconds until the next retry."""
        blocked: set[bytes] = set()
        encrypted = False
        next_retry: float | None = None
        for item in list(self._items.values()):
            if item.envelope is None:
                if item.recipient in blocked:
                    continue
                if not self._sessions.can_encrypt(item.recipient):
                    blocked.add(item.recipient)
                    next_retry = self._ensure_session(item, now, next_retry)
                    continue
                self._setup_wait.end(item.recipient)
                self._encrypt_stored(item)
                encrypted = True
            if not item.durable or item.in_flight:
                continue
            if item.not_before > now:
                wait = item.not_before - now
                next_retry = wait if next_retry is None else min(next_retry, wait)
                continue
            if self._in_flight >= self._window:
                break
            self._start_deposit(item)
        if encrypted:
            self._journal.request()
        return next_retry

    def _encrypt_stored(self, item: OutboxItem) -> None:
        plaintext = item.plaintext
        if plaintext is None:
            return
        item.envelope = self._seal(item.recipient, item.kind, plaintext)
        item.plaintext = None
        item.durable = False
        self._forget_unencrypted(item.recipient)
        self._journal.changes.outbox_encrypted.append((item.seq, item.envelope))

        def committed(_: Applied) -> None:
            item.durable = True
            self._wake.set()

        self._journal.after_commit(committed)

    def _ensure_session(self, item: OutboxItem, now: float, next_retry: float | None
                        ) -> float | None:
        """Start fetching the recipient's bundle (the fetch retries by itself)."""
        recipient = item.recipient
        if recipient in self._fetching:
            return next_retry
        next_ask = self._setup_wait.next_ask(recipient)
        if next_ask > now:
            wait = next_ask - now
            return wait if next_retry is None else min(next_retry, wait)
        task = asyncio.get_running_loop().create_task(
            self._fetch_bundle(recipient, item.relay_url), name="bundle fetch"
        )
        self._fetching[recipient] = task
        return next_retry

    async def _fetch_bundle(self, recipient: bytes, relay_url: str) -> None:
        attempts = 0
        try:
            while True:
                try:
                    reply = await self._pool.for_url(relay_url).fetch_bundle(recipient)
                    if self._sessions.can_encrypt(recipient):
                        return  # they started a session with us meanwhile
                    opk = reply.one_time_prekey
                    bundle = PrekeyBundle(
                        reply.identity, reply.signed_prekey.prekey_id,
                        reply.signed_prekey.public_key, reply.signed_prekey.signature,
                        None if opk is None else opk.prekey_id,
                        None if opk is None else opk.public_key,
                    )
                    self._sessions.start(bundle, self._now())
                    self._setup_wait.end(recipient)
                    return
                except RelayRefused as refused:
                    if refused.code in NOT_YET_BUNDLE_CODES:
                        self._wait_for(recipient, refused)
                        return
                    if refused.code in PERMANENT_BUNDLE_CODES:
                        self._fail_unencrypted(
                            recipient, f"The contact's relay has no keys for them: "
                            f"{refused.message} ({refused.code})."
                        )
                        return
                except InvalidSettings as error:
                    self._fail_unencrypted(
                        recipient, f"The contact's relay URL is invalid: {error}"
                    )
                    return
                except CryptoError as error:
                    self._fail_unencrypted(
                        recipient, f"The contact's prekey bundle is not valid: {error}."
                    )
                    return
                except TransportError as error:
                    _log.info("bundle fetch failed, retrying: %s", error)
                attempts += 1
                await asyncio.sleep(_backoff(attempts))
        finally:
            self._fetching.pop(recipient, None)
            self._wake.set()

    def _wait_for(self, recipient: bytes, refused: RelayRefused) -> None:
        """The contact has not set up yet: keep their messages queued and ask again later,
        except those that waited too long (they fail)."""
        waiting = [item for item in self._items.values()
                   if item.recipient == recipient and item.envelope is None]
        delay, expired = self._setup_wait.refused(
            recipient,
            [WaitingItem(i.seq, i.conversation_id, i.message_id, i.queued_at) for i in waiting],
            asyncio.get_running_loop().time(),
        )
        _log.info("the contact has not set up yet (%s); asking again in %.0f s",
                  refused.code, delay)
        by_seq = {item.seq: item for item in waiting}
        for gone, reason in expired:
            self._forget_unencrypted(recipient)
            self._finish(by_seq[gone.seq], MessageState.FAILED, reason)

    def _forget_unencrypted(self, recipient: bytes) -> None:
        left = self._unencrypted.get(recipient, 1) - 1
        if left:
            self._unencrypted[recipient] = left
        else:
            self._unencrypted.pop(recipient, None)

    def _fail_unencrypted(self, recipient: bytes, reason: str) -> None:
        for item in list(self._items.values()):
            if item.recipient == recipient and item.envelope is None:
                self._unencrypted.pop(recipient, None)
                self._finish(item, MessageState.FAILED, reason)

    def _start_deposit(self, item: OutboxItem) -> None:
        item.in_flight = True
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._deposit(item), name="deposit")
        self._deposits.add(task)
        task.add_done_callback(self._deposits.discard)

    async def _deposit(self, item: OutboxItem) -> None:
        envelope = item.envelope
        if envelope is None:
            return
        retry: float | None = None
        try:
            connection = self._pool.for_url(item.relay_url)
            ttl = self._ttl
            if item.kind is PayloadKind.TYPING:
                ttl = TYPING_TTL if ttl is None else min(TYPING_TTL, ttl)
            (outcome,) = await connection.deposit([item.recipient], envelope, ttl)
            if outcome.envelope_id is not None:
                self._finish(item, MessageState.SENT, None)
            elif outcome.code in RETRY_CODES:
                retry = _backoff(item.attempts)
            else:
                self._finish(item, MessageState.FAILED,
                             f"The relay refused the message: {outcome.message} ({outcome.code}).")
        except RelayRefused as refused:
            if refused.code == "rate_limited" and refused.retry_after_ms:
                retry = refused.retry_after_ms / 1000
            elif refused.code in RETRY_CODES:
                retry = _backoff(item.attempts)
            else:
                self._finish(item, MessageState.FAILED,
                             f"The relay refused the message: {refused.message} ({refused.code}).")
        except InvalidSettings as error:
            self._finish(item, MessageState.FAILED, f"The contact's relay URL is invalid: {error}")
        except TransportError as error:
            _log.info("deposit failed, retrying: %s", error)
            retry = _backoff(item.attempts)
        finally:
            item.in_flight = False
            self._in_flight -= 1
            if retry is not None:
                item.attempts += 1
                item.not_before = asyncio.get_running_loop().time() + retry
            self._wake.set()

    def _finish(self, item: OutboxItem, state: MessageState, reason: str | None) -> None:
        """The item leaves the outbox: sent (relay confirmed) or failed for good."""
        self._untrack(item)
        changes = self._journal.changes
        changes.outbox_done.append(item.seq)
        if item.message_id is None:
            if state is MessageState.FAILED:
                _log.info("a receipt could not be sent: %s", reason)
            self._journal.request()
            return
        index = len(changes.states)
        at = self._now() * 1000
        changes.states.append(StateChange(item.conversation_id, item.message_id, state, at, reason))
        message_id, conversation_id = item.message_id, item.conversation_id

        def committed(applied: Applied) -> None:
            if applied.states_changed[index]:
                self._emit(MessageStateChanged(conversation_id, message_id, state, reason))

        self._journal.after_commit(committed)
        self._journal.request()
