"""Native notifications as the desktop's notification daemon receives them (private bus)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from app.adapters.notifications import DesktopNotifications
from tests.support.desktop_bus import NotificationServer, wait_until

ICON = Path(__file__).resolve().parents[3] / "resources" / "icons" / "sourdine.svg"


@pytest.fixture(autouse=True)
def private_bus() -> None:
    assert os.environ.get("SOURDINE_SECRET_SERVICE") == os.environ.get(
        "DBUS_SESSION_BUS_ADDRESS"), "run inside tests/with-secret-service.sh (private bus)"


def test_a_notification_reaches_the_daemon_and_a_click_comes_back() -> None:
    async def scenario() -> tuple[NotificationServer, str | None, list[str]]:
        server = NotificationServer()
        await server.start()
        clicks: list[str] = []
        notifications = DesktopNotifications("Sourdine", ICON)
        try:
            identifier = await notifications.show(
                "Alice", "Lunch at noon?", on_clicked=lambda: clicks.append("alice"))
            server.click(server.shown[0].id)
            await wait_until(lambda: clicks == ["alice"])
            await notifications.withdraw(identifier or "")  # clicked: already gone, no error
        finally:
            await notifications.close()
            await server.stop()
        return server, identifier, clicks

    server, identifier, clicks = asyncio.run(scenario())
    assert identifier is not None
    [shown] = server.shown
    assert (shown.app_name, shown.summary, shown.body) == ("Sourdine", "Alice", "Lunch at noon?")
    assert shown.app_icon == ICON.as_uri()
    assert "default" in shown.actions  # clickable
    assert clicks == ["alice"]


def test_withdraw_closes_a_shown_notification() -> None:
    async def scenario() -> NotificationServer:
        server = NotificationServer()
        await server.start()
        notifications = DesktopNotifications("Sourdine")
        try:
            identifier = await notifications.show("Bob", "New message")
            assert identifier is not None
            await notifications.withdraw(identifier)
            await wait_until(lambda: server.closed != [])
        finally:
            await notifications.close()
            await server.stop()
        return server

    server = asyncio.run(scenario())
    assert server.closed == [server.shown[0].id]


def test_without_a_notification_daemon_show_says_so() -> None:
    async def scenario() -> tuple[str | None, str | None]:
        notifications = DesktopNotifications("Sourdine")
        try:
            first = await notifications.show("Alice", "hello")
            server = NotificationServer()  # the daemon starts later: the next one goes through
            await server.start()
            try:
                second = await notifications.show("Alice", "hello again")
            finally:
                await server.stop()
        finally:
            await notifications.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first is None
    assert second is not None


def test_failed_notifications_do_not_leak_bus_connections() -> None:
    async def connections() -> int:
        from dbus_fast import BusType, Message
        from dbus_fast.aio import MessageBus

        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        reply = await bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member="ListNames"))
        bus.disconnect()
        assert reply is not None
        return sum(name.startswith(":") for name in reply.body[0])

    async def scenario() -> tuple[int, int]:
        before = await connections()
        notifications = DesktopNotifications("Sourdine")
        for _ in range(5):
            assert await notifications.show("Alice", "hello") is None
        await asyncio.sleep(0.1)  # let the bus daemon notice the closed sockets
        return before, await connections()

    before, after = asyncio.run(scenario())
    assert after == before
