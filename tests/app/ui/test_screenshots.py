"""Screenshots of the main window, light and dark, kept under build/screenshots/ for people to
look at (CI uploads them); the same test runs offscreen (make pytest) and under Xvfb with the
xcb platform (make screenshots-xvfb).

Two real profiles (real keyring, real SQLCipher) exchange a few messages through a real relay;
Alice's window shows the conversation. Each picture is checked to show something: the window's
size, many colours, and bubbles on both sides of the transcript (Bob's on the left, Alice's on
the right); the dark one is darker than the light one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.application import apply_appearance
from app.ui.bridge import Bridge
from app.ui.surfaces import install_surfaces
from app.ui.views.main_window import MainWindow
from tests.app.ui.screenshot import Picture, save_screenshot
from tests.app.ui.support import introduce, run, wait_until
from tests.integration.conftest import RelayProcess

CONVERSATION = [
    ("bob", "Hi Alice! Did you get the figures for the quarterly report?"),
    ("alice", "Yes, this morning. The shipping numbers look much better than last quarter."),
    ("bob", "Great. Could you send me the summary before the meeting at 3?"),
    ("alice", "Sure, I will send it within the hour."),
    ("bob", "Thanks! 🙏"),
]


@pytest.fixture
def appearance(qapp: QApplication) -> Iterator[Callable[[str], None]]:
    """Switch the application between light and dark; back to the system's look after."""
    yield lambda choice: apply_appearance(qapp, choice)
    apply_appearance(qapp, "system")


@pytest.fixture
def window(
    qtbot: QtBot, qloop: qasync.QEventLoop, relay: RelayProcess,
    bridge_for: Callable[..., Bridge],
) -> MainWindow:
    """Alice's main window with her conversation with Bob open and read."""
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    received: dict[str, list[str]] = {"alice": [], "bob": []}
    delivered: list[str] = []
    alice.messageAdded.connect(
        lambda m: m.outgoing or received["alice"].append(m.body))
    bob.messageAdded.connect(lambda m: m.outgoing or received["bob"].append(m.body))
    alice.messageStateChanged.connect(lambda *change: delivered.append(change[2]))
    for who, text in CONVERSATION:
        sender, conversation, reader = (
            (bob, pair.bob_alice, "alice") if who == "bob" else (alice, pair.alice_bob, "bob"))
        run(qloop, sender.sendText(conversation, text))
        run(qloop, wait_until(lambda r=reader, t=text: t in received[r]))
    mine = sum(who == "alice" for who, _text in CONVERSATION)
    run(qloop, wait_until(lambda: delivered.count("delivered") >= mine))
    main = MainWindow(alice)
    qtbot.addWidget(main)
    install_surfaces(alice, main)
    main.resize(1100, 680)
    main.show()
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)  # active: opening the conversation marks it read
    run(qloop, main.settle())
    main.open_conversation(pair.alice_bob)
    run(qloop, main.settle())
    run(qloop, wait_until(lambda: alice.attention_state.total == 0))
    return main


def transcript_area(window: MainWindow) -> QRect:
    """Where the transcript's messages are painted, in window coordinates."""
    viewport = window.transcript_view.viewport()
    return QRect(viewport.mapTo(window, QPoint(0, 0)), viewport.size())


def check(path: Path, window: MainWindow) -> Picture:
    picture = Picture.load(path)
    assert (picture.image.width(), picture.image.height()) == (window.width(), window.height())
    assert len(picture.colours(step=3)) > 50, "one flat colour: nothing was painted"
    area = transcript_area(window)
    background = QColor(picture.colours(area).most_common(1)[0][0])
    third = area.width() // 3
    left = QRect(area.left(), area.top(), third, area.height())
    right = QRect(area.right() - third, area.top(), third, area.height())
    # Bubbles: Bob's on the left, Alice's on the right, each covering part of its side.
    assert picture.share_unlike(background, left) > 0.05, "no incoming bubble on the left"
    assert picture.share_unlike(background, right) > 0.05, "no outgoing bubble on the right"
    return picture


def test_main_window_light_and_dark(
    qloop: qasync.QEventLoop, window: MainWindow, appearance: Callable[[str], None],
    screenshots: Path,
) -> None:
    pictures = {}
    for choice in ("light", "dark"):
        appearance(choice)
        run(qloop, window.settle())
        platform = QApplication.platformName()  # offscreen, or xcb under Xvfb
        path = save_screenshot(window, f"main-window-{choice}-{platform}", screenshots)
        pictures[choice] = check(path, window)
    assert pictures["dark"].mean_lightness() + 40 < pictures["light"].mean_lightness()
