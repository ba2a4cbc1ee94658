"""Waiting for a contact who has not set up Sourdine yet: ask again, say so, give up in time.

The contact's relay answers ``unknown_mailbox`` (they never connected) or ``not_found`` (no
prekeys published yet) when asked for their prekey bundle: they have not opened Sourdine at
this address yet. Their messages stay queued and the bundle is asked for again with a slow
backoff, and at once after every reconnect of ours.

The user is told, once per message and wait, why it has not left: the message's state is
announced again as queued with a reason (:func:`waiting_reason`). A message still waiting
``timeout`` seconds after it was queued (its ``sent_at``; a retry queues it anew) fails with a
readable reason (:func:`gave_up_reason`): by then the relay would have dropped it anyway (its
default envelope time-to-live is the default timeout, 14 days). The reasons are events only:
the store keeps a queued message's reason empty.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from app.adapters.store import MessageState
from app.adapters.transport import Backoff
from app.core.events import Event, MessageStateChanged

NOT_YET_BUNDLE_CODES: Final = frozenset({"unknown_mailbox", "not_found"})
"""The contact's relay has no mailbox or no prekeys for them *yet*: wait, do not fail."""
DEFAULT_RECIPIENT_BACKOFF: Final = Backoff(initial=5.0, maximum=300.0, jitter=0.2)
"""Delays between two asks for the bundle of a contact who has not set up yet."""
RECIPIENT_SETUP_TIMEOUT: Final = 14 * 24 * 3600
"""Seconds a message waits for its recipient to set up (a relay's default envelope TTL)."""
_JITTER: Final = _random.SystemRandom().random


def waiting_reason(name: str) -> str:
    """What the user reads under a message waiting for ``name`` to set up."""
    return f"Waiting for {name} to open Sourdine for the first time."


def gave_up_reason(name: str) -> str:
    """What the user reads under a message that waited too long for ``name``."""
    return f"{name} has not set up Sourdine at this address; check the address and retry."


@dataclass(frozen=True, slots=True)
class WaitingItem:
    """An outbox item that cannot be encrypted until its recipient sets up."""

    seq: int  # the outbox item
    conversation_id: int
    message_id: bytes | None  # None: a receipt or typing indicator (nothing to announce)
    queued_at: int  # seconds: when it entered the outbox


@dataclass(slots=True)
class _Wait:
    asks: int = 0  # refused asks so far (the backoff grows with them)
    next_ask: float = 0.0  # loop time before which no ask is made
    announced: frozenset[int] = frozenset()  # outbox seqs whose waiting reason was emitted


class RecipientSetupWait:
    """The recipients being waited for, when to ask for their bundles again, and what their
    waiting messages show. The outbox asks :meth:`next_ask` before fetching a bundle and
    reports each refusal to :meth:`refused`."""

    def __init__(
        self, *, backoff: Backoff, timeout: int, name_of: Callable[[int], str],
        emit: Callable[[Event], None], now: Callable[[], int],
    ) -> None:
        self._backoff = backoff  # between two asks for the same recipient
        self._timeout = timeout  # seconds a message waits at most, from when it was queued
        self._name_of = name_of  # conversation id -> the contact's display name
        self._emit = emit
        self._now = now  # wall-clock seconds (the injectable clock)
        self._waits: dict[bytes, _Wait] = {}  # recipient identity key -> its wait

    def next_ask(self, recipient: bytes) -> float:
        """Loop time before which the recipient's bundle is not asked for (0.0: now)."""
        wait = self._waits.get(recipient)
        return 0.0 if wait is None else wait.next_ask

    def ask_again_now(self) -> None:
        """Ask at once for every waited-for bundle (we reconnected: they may have set up)."""
        for wait in self._waits.values():
            wait.next_ask = 0.0

    def end(self, recipient: bytes) -> None:
        """The recipient has a session now, or nothing waits for them: end the wait (the next
        message to them asks at once and is announced anew)."""
        self._waits.pop(recipient, None)

    def refused(
        self, recipient: bytes, items: Iterable[WaitingItem], loop_now: float
    ) -> tuple[float, list[tuple[WaitingItem, str]]]:
        """The relay said the recipient has not set up yet. Schedules the next ask, announces
        the waiting messages not announced yet in this wait, and returns the delay until the
        next ask with the items to fail (waited too long), each with its reason."""
        wait = self._waits.setdefault(recipient, _Wait())
        delay = self._backoff.delay(wait.asks, _JITTER)
        wait.asks += 1
        wait.next_ask = loop_now + delay
        now = self._now()
        expired: list[tuple[WaitingItem, str]] = []
        announced: set[int] = set()
        for item in items:
            name = self._name_of(item.conversation_id)
            if now - item.queued_at >= self._timeout:
                expired.append((item, gave_up_reason(name)))
                continue
            announced.add(item.seq)
            if item.message_id is not None and item.seq not in wait.announced:
                self._emit(MessageStateChanged(item.conversation_id, item.message_id,
                                               MessageState.QUEUED, waiting_reason(name)))
        wait.announced = frozenset(announced)
        if not announced:
            self.end(recipient)  # nothing waits any more: a retry starts a new wait
        return delay, expired
