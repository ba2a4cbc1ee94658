"""The desktop's side of the session bus, for tests that check what the app tells the desktop.

Run inside ``tests/with-secret-service.sh`` (a private session bus): nothing reaches the
developer's real desktop.

- :class:`NotificationServer` owns ``org.freedesktop.Notifications`` and implements the
  freedesktop notification protocol (1.2) the way a desktop's notification daemon does: it
  records each ``Notify`` with its exact D-Bus types and can "click" a notification
  (``ActionInvoked`` with the ``default`` action, as a daemon does when the user clicks).
- :class:`LauncherEntryListener` records every ``com.canonical.Unity.LauncherEntry.Update``
  signal broadcast on the bus, as a dock does.

Both use dbus-fast on the running asyncio loop (in UI tests, qasync's loop).
"""

# No ``from __future__ import annotations``: dbus-fast reads the D-Bus signatures ("s", "as",
# "a{sv}") from the annotations at class creation, which are not Python names.
# ruff: noqa: F821, F722

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method, signal

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
LAUNCHER_ENTRY = "com.canonical.Unity.LauncherEntry"


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` on the running loop until it holds, or raise TimeoutError."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the condition did not hold in time")
        await asyncio.sleep(0.01)


@dataclass(frozen=True)
class ShownNotification:
    """One ``Notify`` call as the notification daemon received it."""

    id: int
    app_name: str
    app_icon: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, Variant]
    expire_timeout: int


class _NotificationsInterface(ServiceInterface):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(NOTIFICATIONS)
        self.shown: list[ShownNotification] = []
        self.closed: list[int] = []
        self._ids = itertools.count(1)

    @method()
    def Notify(
        self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",
        actions: "as", hints: "a{sv}", expire_timeout: "i",
    ) -> "u":
        number = replaces_id or next(self._ids)
        self.shown.append(ShownNotification(
            number, app_name, app_icon, summary, body, actions, hints, expire_timeout
        ))
        return number

    @method()
    def CloseNotification(self, number: "u") -> None:
        self.closed.append(number)
        self.NotificationClosed(number, 3)

    @method()
    def GetCapabilities(self) -> "as":
        return ["actions", "body"]

    @method()
    def GetServerInformation(self) -> "ssss":
        return ["Sourdine test notification daemon", "sourdine-tests", "1", "1.2"]

    @signal()
    def ActionInvoked(self, number: int, action_key: str) -> "us":
        return [number, action_key]

    @signal()
    def NotificationClosed(self, number: int, reason: int) -> "uu":
        return [number, reason]


class NotificationServer:
    """A notification daemon on the session bus (owns ``org.freedesktop.Notifications``)."""

    def __init__(self) -> None:
        self._interface = _NotificationsInterface()
        self._bus: MessageBus | None = None

    @property
    def shown(self) -> list[ShownNotification]:
        return self._interface.shown

    @property
    def closed(self) -> list[int]:
        return self._interface.closed

    async def start(self) -> None:
        self._bus = await MessageBus(bus_type=BusType.SESSION).connect()
        self._bus.export(NOTIFICATIONS_PATH, self._interface)
        await self._bus.request_name(NOTIFICATIONS)

    def click(self, number: int) -> None:
        """The user clicks notification ``number`` (the daemon invokes its default action)."""
        self._interface.ActionInvoked(number, "default")

    async def stop(self) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            await self._bus.wait_for_disconnect()
            self._bus = None


@dataclass(frozen=True)
class LauncherUpdate:
    """One LauncherEntry ``Update`` signal: the app URI and the properties with their types."""

    app_uri: str
    properties: dict[str, Variant]
    signature: str

    def value(self, key: str) -> Any:
        return self.properties[key].value

    def type_of(self, key: str) -> str:
        return str(self.properties[key].signature)


class LauncherEntryListener:
    """Records the LauncherEntry ``Update`` signals broadcast on the session bus (a dock)."""

    def __init__(self) -> None:
        self.updates: list[LauncherUpdate] = []
        self._bus: MessageBus | None = None

    async def start(self) -> None:
        self._bus = await MessageBus(bus_type=BusType.SESSION).connect()
        self._bus.add_message_handler(self._on_message)
        reply = await self._bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member="AddMatch", signature="s",
            body=[f"type='signal',interface='{LAUNCHER_ENTRY}',member='Update'"],
        ))
        if reply is None or reply.message_type is not MessageType.METHOD_RETURN:
            raise RuntimeError(f"AddMatch failed: {reply}")

    def _on_message(self, message: Message) -> bool:
        if (message.message_type is MessageType.SIGNAL and message.interface == LAUNCHER_ENTRY
                and message.member == "Update"):
            uri, properties = message.body
            self.updates.append(LauncherUpdate(uri, properties, message.signature))
        return False

    async def stop(self) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            await self._bus.wait_for_disconnect()
            self._bus = None
