"""The transcript view: one page on opening, older pages at the top without moving what is on
screen, new messages keep it at the bottom only if it was there, a click retries a failed
message. Real profiles (real keyring, real SQLCipher); a real relay where messages travel."""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.ui.bridge import Bridge
from app.ui.models.roles import TranscriptRole
from app.ui.models.transcript import PAGE_SIZE
from app.ui.views.main_window import MainWindow
from app.ui.views.transcript import TranscriptView
from tests.app.ui.support import introduce, run, wait_until
from tests.app.ui.views.test_main_window import (  # noqa: F401 (own_relay is a fixture)
    open_window,
    own_relay,
    ready,
    state_of,
    type_and_send,
)
from tests.integration.conftest import RelayProcess

HISTORY = 250


async def write_history(alice: Bridge, conversation_id: int, count: int) -> None:
    """``count`` messages from Alice, numbered from 1 (stored and queued)."""
    for number in range(1, count + 1):
        await alice.client.send_text(conversation_id, f"message {number}")


def top_visible(view: TranscriptView) -> tuple[str, int]:
    """The text of the first bubble on screen and its y position in the viewport."""
    index = view.indexAt(QPoint(view.viewport().width() // 2, 1))
    return str(index.data(TranscriptRole.BodyRole)), view.visualRect(index).top()


def offline_window(
    qtbot: QtBot, qloop: qasync.QEventLoop, relay: RelayProcess,
    bridge_for: Callable[..., Bridge],
) -> tuple[MainWindow, Bridge, int]:
    alice = bridge_for("Alice", relay, start=False)
    bob = bridge_for("Bob", relay, start=False)
    pair = run(qloop, introduce(alice, bob))
    run(qloop, write_history(alice, pair.alice_bob, HISTORY))
    run(qloop, alice.start())  # Bob never connects: Alice's messages wait in her outbox
    return open_window(qtbot, qloop, alice), alice, pair.alice_bob


def test_a_long_conversation_opens_at_its_newest_page_and_pages_in_at_the_top(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    window, _alice, _cid = offline_window(qtbot, qloop, relay, bridge_for)
    view, model = window.transcript_view, window.transcript
    assert model is not None
    for _ in range(5):  # Qt's own "fetch more at the bottom" must not read older pages
        qtbot.wait(20)
        run(qloop, window.settle())
    assert model.rowCount() == PAGE_SIZE
    assert model.index(PAGE_SIZE - 1, 0).data(TranscriptRole.BodyRole) == f"message {HISTORY}"
    assert view.is_at_bottom()
    last = view.visualRect(view.model().index(PAGE_SIZE - 1, 0))
    assert view.viewport().rect().contains(last.center())

    view.verticalScrollBar().setValue(view.viewport().height())  # just below the top
    view.verticalScrollBar().setValue(0)  # the top: the page before is read
    before = top_visible(view)
    run(qloop, window.settle())
    assert model.rowCount() == 2 * PAGE_SIZE
    assert top_visible(view) == before  # the same bubble at the same place on screen
    assert not view.is_at_bottom()

    while not model.at_start:
        view.verticalScrollBar().setValue(0)
        run(qloop, window.settle())
    assert model.rowCount() == HISTORY
    assert model.index(0, 0).data(TranscriptRole.BodyRole) == "message 1"


def test_new_messages_keep_the_view_at_the_bottom_only_when_it_was_there(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    window, alice, cid = offline_window(qtbot, qloop, relay, bridge_for)
    view = window.transcript_view
    model = window.transcript
    assert model is not None and view.is_at_bottom()

    type_and_send(window, "one more at the bottom")
    run(qloop, wait_until(lambda: model.rowCount() == PAGE_SIZE + 1))
    run(qloop, window.settle())
    qtbot.waitUntil(view.is_at_bottom)
    newest = view.visualRect(view.model().index(model.rowCount() - 1, 0))
    assert view.viewport().rect().contains(newest.center())

    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # the user reads older messages
    where = bar.value()
    seen = top_visible(view)
    run(qloop, alice.client.send_text(cid, "arrives while reading"))
    run(qloop, wait_until(lambda: model.rowCount() == PAGE_SIZE + 2))
    qtbot.wait(50)
    assert bar.value() == where and top_visible(view) == seen
    assert not view.is_at_bottom()


def test_a_click_on_a_failed_message_retries_it(
    qloop: qasync.QEventLoop, own_relay: Callable[..., RelayProcess],  # noqa: F811
    bridge_for: Callable[..., Bridge], qtbot: QtBot,
) -> None:
    relay = own_relay("--max-envelope-bytes", "2048")
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    run(qloop, introduce(alice, bob))
    ready(qloop, bob)
    window = open_window(qtbot, qloop, alice)
    long_text = "Too long for this relay. " * 200
    type_and_send(window, long_text, paste=True)
    run(qloop, wait_until(lambda: state_of(window, long_text) == "failed"))
    states: list[str] = []
    alice.messageStateChanged.connect(lambda _c, _m, state, _r: states.append(state))

    view = window.transcript_view
    index = view.model().index(0, 0)
    bubble = view.bubbles.layout_for(index, view.viewport().width(), view.font()).bubble_rect
    inside = view.visualRect(index).topLeft() + bubble.center().toPoint()
    outside = view.visualRect(index).topLeft() + QPoint(2, int(bubble.center().y()))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=outside)
    run(qloop, window.settle())
    assert states == []  # beside the bubble: nothing happens
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=inside)
    run(qloop, wait_until(lambda: states[-2:] == ["queued", "failed"]))
    # The relay still refuses it: the message is failed again, with the relay's reason.
    assert state_of(window, long_text) == "failed"
    assert "too_large" in str(view.model().index(0, 0).data(TranscriptRole.ReasonRole))
