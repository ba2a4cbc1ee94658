"""Native desktop notifications through desktop-notifier.

Linux: ``org.freedesktop.Notifications`` on the session bus (dbus-fast, on the running
asyncio loop, which in the app is qasync's Qt loop); Windows: WinRT toasts [read, not run
here]. A click on a notification calls back into the app while it runs.

desktop-notifier's ``send()`` never raises: a failure (no bus, no notification server, a
server that refuses) is only logged by the library. Its ``on_dispatched`` callback runs only
when the server accepted the notification, so :meth:`DesktopNotifications.show` uses it to
tell success from failure and returns ``None`` on failure. A server that does not answer is
given :data:`SEND_TIMEOUT` seconds. desktop-notifier is imported and set up at the first
notification, not at start-up (its D-Bus backend costs tens of milliseconds before the
window could paint). Calls are serialised: desktop-notifier opens its bus
connection on first use and two concurrent first sends would open two (and could be shown out
of order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from desktop_notifier import DesktopNotifier

_log = logging.getLogger(__name__)

SEND_TIMEOUT: Final = 5.0
"""Seconds a notification server gets to take a notification."""


class DesktopNotifications:
    """Shows and withdraws the app's native notifications; never raises."""

    def __init__(
        self, app_name: str, icon: Path | None = None, notifier: DesktopNotifier | None = None,
    ) -> None:
        self._app_name = app_name
        self._icon = icon  # shown beside each notification, when the file exists
        self._created: DesktopNotifier | None = notifier  # None until the first notification
        self._failure_logged = False  # log the first failure, not one per message
        self._lock: asyncio.Lock | None = None  # one call at a time (created on the loop)

    def _notifier(self) -> DesktopNotifier:
        if self._created is None:
            from desktop_notifier import DesktopNotifier, Icon

            icon = self._icon
            app_icon = Icon(path=icon) if icon is not None and icon.exists() else None
            self._created = DesktopNotifier(app_name=self._app_name, app_icon=app_icon)
        return self._created

    def prepare(self) -> None:
        """Load desktop-notifier now (call it once the window is up, so the first
        notification does not pay for it)."""
        self._notifier()

    def _serial(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def show(
        self, title: str, body: str, on_clicked: Callable[[], None] | None = None,
        thread: str | None = None,
    ) -> str | None:
        """Show a notification and return its identifier, or ``None`` if no notification
        server took it. ``on_clicked`` runs (on this loop) when the user clicks it, if the
        platform reports clicks; ``thread`` groups the notifications of one conversation.
        """
        dispatched = False

        def mark_dispatched() -> None:
            nonlocal dispatched
            dispatched = True

        async with self._serial():
            try:
                identifier = await asyncio.wait_for(
                    self._notifier().send(
                        title, body, on_clicked=on_clicked, on_dispatched=mark_dispatched,
                        thread=thread,
                    ),
                    SEND_TIMEOUT,
                )
            except (TimeoutError, OSError) as error:
                await self._failed(type(error).__name__)
                return None
            if not dispatched:
                await self._failed("refused or no notification server (desktop-notifier "
                                   "logged why)")
                return None
        self._failure_logged = False
        return identifier

    async def withdraw(self, identifier: str) -> None:
        """Remove a notification that is still shown (gone already: nothing happens)."""
        # desktop-notifier raises KeyError for a notification the server already closed, and
        # the bus library its own errors: none of them matters here.
        async with self._serial():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._notifier().clear(identifier), SEND_TIMEOUT)

    async def close(self) -> None:
        """Disconnect from the notification server (a later :meth:`show` connects again)."""
        backend = getattr(self._created, "_backend", None)
        bus = getattr(backend, "bus", None)  # the Linux backend's dbus-fast connection
        if bus is not None and hasattr(bus, "disconnect"):
            bus.disconnect()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bus.wait_for_disconnect(), SEND_TIMEOUT)
            backend.interface = None  # type: ignore[union-attr]
            backend.bus = None  # type: ignore[union-attr]

    async def _failed(self, reason: str) -> None:
        if not self._failure_logged:
            _log.info("notification not shown: %s", reason)
            self._failure_logged = True
        # desktop-notifier keeps the bus connection it opened before failing and opens another
        # on the next try: close it, or every message would leak one.
        await self.close()
