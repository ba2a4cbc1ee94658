"""Search across conversations from the main window: results replace the list, Enter on a
result opens its conversation scrolled to the message (paging back as far as needed)."""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.ui.bridge import Bridge
from app.ui.models.roles import SearchRole, TranscriptRole
from app.ui.models.transcript import PAGE_SIZE
from app.ui.views.main_window import MainWindow
from tests.app.ui.support import introduce, run
from tests.app.ui.views.test_main_window import open_window
from tests.integration.conftest import RelayProcess


def search_for(qloop: qasync.QEventLoop, window: MainWindow, text: str) -> list[str]:
    """Type ``text`` in the search field (Ctrl+F first); the snippets of the results."""
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(window.search.field, text)
    run(qloop, window.settle())
    model = window.search.model
    return [str(model.index(r, 0).data(SearchRole.SnippetRole)) for r in range(model.rowCount())]


def test_a_search_finds_an_old_message_and_opens_it_scrolled_to_it(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    alice, bob, carol = (bridge_for(n, relay, start=False) for n in ("Alice", "Bob", "Carol"))
    with_bob = run(qloop, introduce(alice, bob))
    with_carol = run(qloop, introduce(alice, carol))

    async def history() -> None:
        await alice.client.send_text(with_bob.alice_bob, "The quarterly budget is attached")
        for number in range(300):
            await alice.client.send_text(with_bob.alice_bob, f"status update {number}")
        await alice.client.send_text(with_carol.alice_bob, "Budget review on Monday")

    run(qloop, history())
    run(qloop, alice.start())
    window = open_window(qtbot, qloop, alice)
    assert window.current == with_carol.alice_bob  # the most recent one

    found = search_for(qloop, window, "budg")
    assert len(found) == 2 and "Budget review" in found[0] and "quarterly budget" in found[1]
    assert window.search.results.isVisible() and window.conversations.isHidden()
    assert window.search.summary.text() == "Messages found: 2"

    QTest.keyClick(window.search.field, Qt.Key.Key_Down)  # into the results
    assert window.search.results.hasFocus()
    QTest.keyClick(window.search.results, Qt.Key.Key_Down)
    QTest.keyClick(window.search.results, Qt.Key.Key_Return)
    run(qloop, window.settle())
    assert window.current == with_bob.alice_bob
    view, model = window.transcript_view, window.transcript
    assert model is not None and model.rowCount() > PAGE_SIZE  # paged back to it
    current = view.currentIndex()
    assert current.data(TranscriptRole.BodyRole) == "The quarterly budget is attached"
    assert view.viewport().rect().intersects(view.visualRect(current))
    assert view.hasFocus()

    QTest.keyClick(view, Qt.Key.Key_Escape)  # back to writing; the search is cleared
    assert window.search.field.text() == "" and window.conversations.isVisible()
    assert window.composer.editor.hasFocus()


def test_a_search_without_matches_says_so(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    alice, bob = bridge_for("Alice", relay, start=False), bridge_for("Bob", relay, start=False)
    pair = run(qloop, introduce(alice, bob))
    run(qloop, alice.client.send_text(pair.alice_bob, "nothing to see here"))
    run(qloop, alice.start())
    window = open_window(qtbot, qloop, alice)
    assert search_for(qloop, window, "invoice") == []
    assert window.search.summary.isVisible()
    assert window.search.summary.text() == "No message contains these words."
    QTest.keyClick(window.search.field, Qt.Key.Key_Return)  # nothing to open
    run(qloop, window.settle())
    assert window.current == pair.alice_bob
