"""The attention surfaces as the user and the desktop see them.

Two real accounts talk through a real relay; Bob writes to Alice, whose main window has the
surfaces installed. What the desktop receives is read on the private session bus of
tests/with-secret-service.sh: a notification daemon (owns org.freedesktop.Notifications) and
a dock (listens to LauncherEntry signals).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import qasync
from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMainWindow

from app.core.preferences import Preferences
from app.ui.bridge import Bridge
from app.ui.surfaces import Surfaces, install_surfaces
from app.ui.surfaces.icons import tray_icon
from tests.app.ui.support import Pair, introduce, run, wait_until
from tests.integration.conftest import RelayProcess
from tests.support.desktop_bus import LauncherEntryListener, NotificationServer


class Recorder:
    """Collects what a signal emitted."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> None:
        self.calls.append(args)


@dataclass
class Desktop:
    """The desktop's side of the bus: notification daemon and dock."""

    daemon: NotificationServer
    dock: LauncherEntryListener

    def badges(self) -> list[tuple[int, bool]]:
        return [(u.value("count"), u.value("count-visible")) for u in self.dock.updates]

    def bodies(self) -> list[str]:
        return [n.body for n in self.daemon.shown]


@pytest.fixture
def desktop(qloop: qasync.QEventLoop) -> Iterator[Desktop]:
    assert os.environ.get("SOURDINE_SECRET_SERVICE") == os.environ.get(
        "DBUS_SESSION_BUS_ADDRESS"), "run inside tests/with-secret-service.sh (private bus)"
    found = Desktop(NotificationServer(), LauncherEntryListener())
    run(qloop, found.daemon.start())
    run(qloop, found.dock.start())
    yield found
    run(qloop, found.dock.stop())
    run(qloop, found.daemon.stop())


@dataclass
class Scene:
    pair: Pair
    window: QMainWindow
    surfaces: Surfaces

    @property
    def alice(self) -> Bridge:
        return self.pair.alice

    def bob_says(self, qloop: qasync.QEventLoop, *texts: str) -> None:
        """Bob sends ``texts``; returns once Alice's unread count includes them."""
        before = self.alice.attention_state.unread.get(self.pair.alice_bob, 0)
        for text in texts:
            run(qloop, self.pair.bob.sendText(self.pair.bob_alice, text))
        run(qloop, wait_until(
            lambda: self.alice.attention_state.unread.get(self.pair.alice_bob, 0)
            == before + len(texts)))


@pytest.fixture
def scene(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    desktop: Desktop, request: pytest.FixtureRequest,
) -> Iterator[Scene]:
    preferences = getattr(request, "param", None) or Preferences()
    alice = bridge_for("Alice", relay, preferences=preferences)
    bob = bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    window = QMainWindow()
    surfaces = install_surfaces(alice, window)
    yield Scene(pair, window, surfaces)
    run(qloop, surfaces.close())
    # Not deleteLater(): a window deleted by a later test's event loop crashed Qt there
    # (seen with a bare QMainWindow too); Python frees it when the scene goes.
    window.close()


def same_image(a: QImage, b: QImage) -> bool:
    return a.size() == b.size() and a.convertToFormat(QImage.Format.Format_ARGB32) == \
        b.convertToFormat(QImage.Format.Format_ARGB32)


def tray_shows(scene: Scene, key: str) -> bool:
    shown = scene.surfaces.tray.icon.icon().pixmap(32, 32).toImage()
    return same_image(shown, tray_icon(key).pixmap(32, 32).toImage())


def test_incoming_messages_show_everywhere_and_reading_clears_them(
    qloop: qasync.QEventLoop, scene: Scene, desktop: Desktop
) -> None:
    tray = scene.surfaces.tray.icon
    assert (scene.window.windowTitle(), tray.toolTip()) == ("Sourdine", "Sourdine")
    assert tray_shows(scene, "normal") and not tray_shows(scene, "unread")

    scene.bob_says(qloop, "Lunch at noon?", "The usual place", "Bring the slides")
    assert scene.window.windowTitle() == "(3) Sourdine"
    assert tray.toolTip() == "Sourdine — 3 unread"
    assert scene.surfaces.tray.icon_key == "unread" and tray_shows(scene, "unread")
    run(qloop, wait_until(lambda: desktop.badges()[-1:] == [(3, True)]))
    assert desktop.dock.updates[0].app_uri == "application://sourdine.desktop"
    assert desktop.dock.updates[-1].type_of("count") == "x"
    assert desktop.badges()[0] == (0, False)  # a stale badge is cleared at start
    run(qloop, scene.surfaces.notifications.settle())
    # In order, ending with the newest: those that came in one delivery were merged into it.
    sent = ["Lunch at noon?", "The usual place", "Bring the slides"]
    bodies = desktop.bodies()
    assert bodies[-1] == "Bring the slides"
    assert [sent.index(b) for b in bodies] == sorted(sent.index(b) for b in bodies)
    assert {n.summary for n in desktop.daemon.shown} == {"Bob"}
    assert {n.app_name for n in desktop.daemon.shown} == {"Sourdine"}

    run(qloop, scene.alice.markRead(scene.pair.alice_bob))
    run(qloop, wait_until(lambda: scene.alice.attention_state.total == 0))
    assert (scene.window.windowTitle(), tray.toolTip()) == ("Sourdine", "Sourdine")
    assert tray_shows(scene, "normal")
    run(qloop, wait_until(lambda: desktop.badges()[-1] == (0, False)))
    # Read here: the three notifications are withdrawn from the desktop.
    run(qloop, wait_until(lambda: len(desktop.daemon.closed) == len(desktop.daemon.shown)))
    assert sorted(desktop.daemon.closed) == sorted(n.id for n in desktop.daemon.shown)


def test_off_duty_shows_and_sends_nothing_and_coming_back_restores(
    qloop: qasync.QEventLoop, scene: Scene, desktop: Desktop
) -> None:
    alerts = Recorder()
    scene.surfaces.alert.alerted.connect(alerts)
    scene.bob_says(qloop, "Before you leave")
    run(qloop, scene.surfaces.notifications.settle())
    assert desktop.bodies() == ["Before you leave"] and len(alerts.calls) == 1

    scene.surfaces.tray.off_duty_action.trigger()  # the tray menu's check box
    run(qloop, wait_until(lambda: scene.alice.attention_state.off_duty))
    tray = scene.surfaces.tray.icon
    assert tray.toolTip() == "Sourdine — off duty"
    assert scene.window.windowTitle() == "Sourdine" and tray_shows(scene, "normal")
    run(qloop, wait_until(lambda: desktop.daemon.closed == [desktop.daemon.shown[0].id]))
    run(qloop, wait_until(lambda: desktop.badges()[-1] == (0, False)))
    badges_off_duty = len(desktop.badges())

    # Messages still arrive off duty, quietly.
    added = Recorder()
    scene.alice.messageAdded.connect(added)
    for text in ("Sorry, one more thing", "Call me tomorrow"):
        run(qloop, scene.pair.bob.sendText(scene.pair.bob_alice, text))
    run(qloop, wait_until(lambda: len(added.calls) == 2))
    run(qloop, scene.surfaces.notifications.settle())
    assert tray.toolTip() == "Sourdine — off duty" and scene.window.windowTitle() == "Sourdine"
    assert scene.surfaces.tray.off_duty_action.isChecked()
    assert len(alerts.calls) == 1

    scene.surfaces.tray.off_duty_action.trigger()  # back on duty: the counts come back
    run(qloop, wait_until(lambda: scene.alice.attention_state.total == 3))
    assert scene.window.windowTitle() == "(3) Sourdine"
    assert tray.toolTip() == "Sourdine — 3 unread" and tray_shows(scene, "unread")
    run(qloop, wait_until(lambda: desktop.badges()[-1] == (3, True)))
    # Off duty, the dock got nothing after the "hidden" badge: every later signal (same
    # connection, so in order) shows a count, i.e. was sent after coming back.
    assert all(visible for _count, visible in desktop.badges()[badges_off_duty:])

    scene.bob_says(qloop, "Good morning")
    run(qloop, scene.surfaces.notifications.settle())
    # Only the on-duty messages were notified: nothing sent off duty, nothing sent late.
    assert desktop.bodies() == ["Before you leave", "Good morning"]
    assert len(alerts.calls) == 2


@pytest.mark.parametrize("scene", [Preferences(message_previews=False)], indirect=True)
def test_without_previews_the_text_never_reaches_the_desktop(
    qloop: qasync.QEventLoop, scene: Scene, desktop: Desktop
) -> None:
    scene.bob_says(qloop, "The door code is 4711")
    run(qloop, scene.surfaces.notifications.settle())
    [shown] = desktop.daemon.shown
    assert (shown.summary, shown.body) == ("Bob", "New message")


def test_clicking_a_notification_opens_its_conversation(
    qloop: qasync.QEventLoop, scene: Scene, desktop: Desktop
) -> None:
    opened = Recorder()
    scene.surfaces.openConversation.connect(opened)
    scene.bob_says(qloop, "Have a look at this")
    run(qloop, scene.surfaces.notifications.settle())
    assert not scene.window.isVisible()

    desktop.daemon.click(desktop.daemon.shown[0].id)
    run(qloop, wait_until(lambda: opened.calls != []))
    assert opened.calls == [(scene.pair.alice_bob,)]
    assert scene.window.isVisible()


def test_the_tray_menu_opens_the_window_switches_off_duty_and_asks_to_quit(
    qloop: qasync.QEventLoop, scene: Scene, qapp: object
) -> None:
    quits = Recorder()
    scene.surfaces.quitRequested.connect(quits)
    tray = scene.surfaces.tray
    assert [a.text() for a in tray.menu.actions() if not a.isSeparator()] == [
        "Open Sourdine", "Off duty", "Quit"]

    tray.open_action.trigger()
    assert scene.window.isVisible()
    tray.quit_action.trigger()
    assert quits.calls == [()]  # asked, not done: the app is still running the test
    # Going off duty elsewhere (settings, schedule) ticks the box, without a second request.
    run(qloop, scene.alice.setOffDuty(True))
    assert tray.off_duty_action.isChecked() and scene.alice.attention_state.off_duty
    run(qloop, scene.alice.setOffDuty(False))
    assert not tray.off_duty_action.isChecked()


def test_no_alert_while_the_window_is_active(
    qloop: qasync.QEventLoop, scene: Scene, qtbot: object
) -> None:
    alerts = Recorder()
    scene.surfaces.alert.alerted.connect(alerts)
    scene.window.show()
    scene.window.activateWindow()
    qtbot.waitActive(scene.window)  # type: ignore[attr-defined]
    scene.bob_says(qloop, "You are here")
    assert alerts.calls == []


def test_a_burst_becomes_one_notification_per_conversation(
    qloop: qasync.QEventLoop, scene: Scene, desktop: Desktop
) -> None:
    # The attention service raises 200 notices before the loop runs again (what a burst of
    # deliveries does): the desktop gets the newest only, not a queue of 200.
    conversation = scene.pair.alice_bob
    for seq in range(200):
        scene.alice.attention.message_arrived(conversation, "Bob", f"line {seq}", seq)
    run(qloop, scene.surfaces.notifications.settle())
    assert desktop.bodies() == ["line 199"]


def test_a_dock_that_starts_later_gets_the_count_again(
    qloop: qasync.QEventLoop, scene: Scene, desktop: Desktop
) -> None:
    scene.bob_says(qloop, "Are you there?")
    run(qloop, wait_until(lambda: desktop.badges()[-1:] == [(1, True)]))
    sent = len(desktop.badges())

    async def dock_starts() -> MessageBus:
        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        await bus.request_name("com.canonical.Unity")
        return bus

    dock = run(qloop, dock_starts())
    try:
        run(qloop, wait_until(lambda: len(desktop.badges()) > sent))
        assert desktop.badges()[sent:] == [(1, True)]
    finally:
        dock.disconnect()
