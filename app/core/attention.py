"""The one place that decides what deserves the user's attention.

Unread counters, bold rows, notifications, the tray, the window title, the taskbar badge and
the alert all read :class:`AttentionState` and :class:`Notice` from an
:class:`AttentionService`; none of them computes unread counts or filters notifications itself.
That is what lets off duty (DESIGN: "off duty means quiet") hide every count and every notice
at once, and show the counts again when the user comes back.

The service is pure and synchronous: no Qt, no I/O, no clock. The Qt bridge feeds it the
counts read from the store, the incoming messages and the window focus, and re-emits what it
publishes as signals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from app.core.errors import ClientError


class AttentionError(ClientError, ValueError):
    """A count or conversation id the attention service cannot accept (negative)."""


_Listener = TypeVar("_Listener")

_EMPTY: Mapping[int, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AttentionState:
    """What the surfaces show right now.

    ``unread`` maps a conversation id to the count to show: it is empty while off duty and
    never holds a zero entry, so ``bool(state.unread.get(cid))`` is "bold row".
    """

    off_duty: bool
    unread: Mapping[int, int]

    @property
    def total(self) -> int:
        """The sum of the shown counts (0 when off duty): title, badge and tray use it."""
        return sum(self.unread.values())


@dataclass(frozen=True, slots=True)
class Notice:
    """One new message worth telling the user about (already filtered by the service).

    ``body`` is the preview text, or ``None`` when previews are off: surfaces then say
    "New message" and never show the text.
    """

    conversation_id: int
    title: str
    body: str | None
    seq: int


class AttentionService:
    """Decides unread counts to show and which incoming messages raise a notice.

    Listeners of :meth:`subscribe` are called with the new state after every change of the
    shown state (never for a call that changes nothing visible); listeners of
    :meth:`on_notice` are called once per notice.
    """

    def __init__(self, *, notifications: bool = True, previews: bool = True) -> None:
        self._counts: dict[int, int] = {}  # conversation id -> unread in the store; no zeros
        self._off_duty = False  # manual switch; while True nothing is shown or notified
        self._focus: int | None = None  # the conversation on screen, None when none is open
        self._window_active = False  # the main window has the keyboard focus
        self._notifications = notifications  # the user allows notifications at all
        self._previews = previews  # notifications may show the message text
        self._state = self._compute()  # always equal to _compute(); compared on every change
        self._listeners: list[Callable[[AttentionState], None]] = []
        self._notice_listeners: list[Callable[[Notice], None]] = []

    @property
    def state(self) -> AttentionState:
        """The state every surface shows now."""
        return self._state

    @property
    def off_duty(self) -> bool:
        """Whether the user is off duty (nothing shown, nothing notified)."""
        return self._off_duty

    @property
    def focus(self) -> int | None:
        """The conversation on screen, or ``None``."""
        return self._focus

    @property
    def window_active(self) -> bool:
        """Whether the main window is the active window."""
        return self._window_active

    def subscribe(self, listener: Callable[[AttentionState], None]) -> Callable[[], None]:
        """Call ``listener(state)`` after each change of the shown state.

        Returns a function that unsubscribes (calling it twice is harmless).
        """
        self._listeners.append(listener)
        return _remover(self._listeners, listener)

    def on_notice(self, listener: Callable[[Notice], None]) -> Callable[[], None]:
        """Call ``listener(notice)`` for each notice; returns a function that unsubscribes."""
        self._notice_listeners.append(listener)
        return _remover(self._notice_listeners, listener)

    def set_unread(self, counts: Mapping[int, int]) -> None:
        """Replace every unread count (a full refresh from the store); zeros are dropped.

        Raises:
            AttentionError: a count is negative; nothing changes.
        """
        for conversation_id, count in counts.items():
            _check_count(conversation_id, count)
        self._counts = {cid: count for cid, count in counts.items() if count}
        self._publish()

    def update_unread(self, conversation_id: int, count: int) -> None:
        """Set one conversation's unread count (0 clears it).

        Raises:
            AttentionError: the count is negative; nothing changes.
        """
        _check_count(conversation_id, count)
        if count:
            self._counts[conversation_id] = count
        else:
            self._counts.pop(conversation_id, None)
        self._publish()

    def message_arrived(self, conversation_id: int, title: str, text: str, seq: int) -> None:
        """An incoming message was stored: raise a :class:`Notice` if it deserves one.

        No notice while off duty, when notifications are disabled, or when the user is
        looking at that conversation (it has the focus and the window is active). The text
        is left out when previews are off. Counts are not changed here: the bridge refreshes
        them from the store with :meth:`update_unread`.
        """
        if self._off_duty or not self._notifications:
            return
        if self._window_active and self._focus == conversation_id:
            return
        notice = Notice(
            conversation_id=conversation_id,
            title=title,
            body=text if self._previews else None,
            seq=seq,
        )
        for listener in list(self._notice_listeners):
            listener(notice)

    def set_focus(self, conversation_id: int | None, window_active: bool) -> None:
        """Record which conversation is on screen and whether the window is active."""
        self._focus = conversation_id
        self._window_active = window_active

    def set_off_duty(self, off_duty: bool) -> None:
        """Go off duty (hide every count, raise no notice) or come back (show them again)."""
        self._off_duty = off_duty
        self._publish()

    def set_notifications(self, enabled: bool, previews: bool) -> None:
        """Apply the user's notification preferences to the next notices."""
        self._notifications = enabled
        self._previews = previews

    def _compute(self) -> AttentionState:
        if self._off_duty:
            return AttentionState(off_duty=True, unread=_EMPTY)
        return AttentionState(off_duty=False, unread=MappingProxyType(dict(self._counts)))

    def _publish(self) -> None:
        state = self._compute()
        previous = self._state
        if state.off_duty == previous.off_duty and dict(state.unread) == dict(previous.unread):
            return
        self._state = state
        for listener in list(self._listeners):
            listener(state)


def _check_count(conversation_id: int, count: int) -> None:
    if count < 0:
        raise AttentionError(
            f"The unread count of conversation {conversation_id} cannot be negative ({count})."
        )


def _remover(listeners: list[_Listener], listener: _Listener) -> Callable[[], None]:
    """A function that removes ``listener`` from ``listeners`` once (harmless when repeated)."""

    def unsubscribe() -> None:
        if listener in listeners:
            listeners.remove(listener)

    return unsubscribe
