"""The transcript model: opens on the newest page, pages older messages in, follows the
conversation live; a 100,000-message history opens as fast as a short one.

Every model here runs under ``QAbstractItemModelTester`` in Fatal mode: any inconsistency in
what the model announces (inserts, changes) aborts the test run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem

from app.adapters.store import MessageState
from app.ui.bridge import Bridge
from app.ui.delegates.bubble import BubbleDelegate
from app.ui.models.roles import TranscriptRole
from app.ui.models.transcript import PAGE_SIZE, TranscriptModel
from tests.app.ui.models.history import (
    History,
    Line,
    forget,
    numbered,
    open_bridge,
    stranger_address,
    write_history,
)
from tests.app.ui.support import introduce, run, wait_until
from tests.integration.conftest import RelayProcess

FATAL = QAbstractItemModelTester.FailureReportingMode.Fatal
BIG = 100_000


def column(model: TranscriptModel, role: int) -> list[object]:
    return [model.data(model.index(row, 0), role) for row in range(model.rowCount())]


class Changes:
    """Records the rows and roles ``dataChanged`` announced."""

    def __init__(self, model: TranscriptModel) -> None:
        self.seen: list[tuple[int, int, list[int]]] = []
        model.dataChanged.connect(
            lambda first, last, roles: self.seen.append((first.row(), last.row(), list(roles)))
        )


@pytest.fixture(scope="module")
def big_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """A profile with one 100,000-message conversation (one transaction per 10,000)."""
    root = tmp_path_factory.mktemp("big")
    history = asyncio.run(write_history(root, "reader", numbered(BIG, datetime(2024, 1, 1))))
    yield history
    forget(history)


@pytest.fixture
def opened(qloop: qasync.QEventLoop) -> Iterator[Callable[[History], Bridge]]:
    """Opens a written history behind a bridge; closed after the test."""
    bridges: list[Bridge] = []

    def open_(history: History) -> Bridge:
        bridge = run(qloop, open_bridge(history))
        bridges.append(bridge)
        return bridge

    yield open_
    for bridge in bridges:
        run(qloop, bridge.close())


def test_a_100k_conversation_opens_with_one_page_and_pages_in_as_you_scroll_up(
    qloop: qasync.QEventLoop, big_history: History, opened: Callable[[History], Bridge]
) -> None:
    assert big_history.count == BIG
    bridge = opened(big_history)
    model = TranscriptModel(bridge, big_history.contact_id)
    tester = QAbstractItemModelTester(model, FATAL)
    tester.setUseFetchMore(False)  # the tester would page in by itself; the user does here
    started = time.perf_counter()
    run(qloop, model.load())
    elapsed = time.perf_counter() - started
    assert model.rowCount() == PAGE_SIZE == 100
    assert elapsed < 0.5, f"the newest page took {elapsed * 1000:.0f} ms"
    assert column(model, Qt.ItemDataRole.DisplayRole)[-1] == f"message {BIG - 1}"
    assert column(model, Qt.ItemDataRole.DisplayRole)[0] == f"message {BIG - 100}"

    # What a view does with the page: lay every row out with the real delegate.
    delegate = BubbleDelegate()
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 420, 0)
    option.font = QApplication.font()
    heights = [delegate.sizeHint(option, model.index(r, 0)).height() for r in range(100)]
    assert min(heights) > 0
    assert model.canFetchMore(QModelIndex())

    for pages in range(2, 6):  # the user scrolls to the top four times
        model.fetchMore(QModelIndex())  # what the transcript view does at the top
        model.fetchMore(QModelIndex())  # a second request while one is in flight: ignored
        assert not model.canFetchMore(QModelIndex())
        run(qloop, model.settle())
        assert model.rowCount() == pages * PAGE_SIZE
    seqs = column(model, TranscriptRole.SeqRole)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert column(model, Qt.ItemDataRole.DisplayRole)[0] == f"message {BIG - 500}"
    del tester


def test_a_search_hit_far_back_is_paged_in_and_found(
    qloop: qasync.QEventLoop, big_history: History, opened: Callable[[History], Bridge]
) -> None:
    bridge = opened(big_history)
    model = TranscriptModel(bridge, big_history.contact_id)
    tester = QAbstractItemModelTester(model, FATAL)
    run(qloop, model.load())
    hits = run(qloop, bridge.search("message 97468"))
    target = next(h.message for h in hits if h.message.body == "message 97468")
    row = run(qloop, model.reveal(target.seq))
    assert row is not None
    assert model.data(model.index(row, 0), Qt.ItemDataRole.DisplayRole) == "message 97468"
    assert PAGE_SIZE < model.rowCount() <= BIG - 97468 + 1000  # not the whole history
    assert run(qloop, model.reveal(-5)) is None
    del tester


@pytest.fixture
def days_history(qloop: qasync.QEventLoop, tmp_path: Path) -> Iterator[History]:
    """Five messages over three days: 1 May twice, 2 May twice, 3 May once."""
    lines = [
        Line(False, "d1 morning", datetime(2024, 5, 1, 10)),
        Line(True, "d1 noon", datetime(2024, 5, 1, 12)),
        Line(False, "d2 morning", datetime(2024, 5, 2, 9)),
        Line(True, "d2 late", datetime(2024, 5, 2, 23, 30)),
        Line(False, "d3 early", datetime(2024, 5, 3, 0, 15)),
    ]
    history = run(qloop, write_history(tmp_path, "days", lines))
    yield history
    forget(history)


def test_date_separators_mark_each_new_day_and_move_when_older_pages_arrive(
    qloop: qasync.QEventLoop, days_history: History, opened: Callable[[History], Bridge]
) -> None:
    model = TranscriptModel(opened(days_history), days_history.contact_id, page_size=2)
    tester = QAbstractItemModelTester(model, FATAL)
    tester.setUseFetchMore(False)  # the test pages in step by step (the tester still checks)
    changes = Changes(model)
    run(qloop, model.load())
    assert column(model, Qt.ItemDataRole.DisplayRole) == ["d2 late", "d3 early"]
    assert column(model, TranscriptRole.DateSeparatorRole) == [True, True]

    model.fetchMore(QModelIndex())
    run(qloop, model.settle())
    assert column(model, Qt.ItemDataRole.DisplayRole) == [
        "d1 noon", "d2 morning", "d2 late", "d3 early"]
    assert column(model, TranscriptRole.DateSeparatorRole) == [True, True, False, True]
    # "d2 late" (row 2 now) lost its separator, and the view was told.
    assert any(first <= 2 <= last and TranscriptRole.DateSeparatorRole in roles
               for first, last, roles in changes.seen)

    model.fetchMore(QModelIndex())
    run(qloop, model.settle())
    assert column(model, TranscriptRole.DateSeparatorRole) == [True, False, True, False, True]
    assert model.at_start and not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # nothing older: no read, no change
    assert not model.fetching and model.rowCount() == 5
    dates = column(model, TranscriptRole.DateRole)
    assert dates[0] == dates[1] != dates[2] == dates[3] != dates[4]
    changes.seen.clear()
    model.refresh_times()  # at midnight: "Today" becomes "Yesterday" everywhere
    assert changes.seen == [(0, 4, [TranscriptRole.DateRole])]
    assert column(model, TranscriptRole.OutgoingRole) == [False, True, False, True, False]
    del tester


def test_messages_of_the_conversation_are_appended_and_follow_their_state(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    model = TranscriptModel(alice, pair.alice_bob, page_size=5)
    tester = QAbstractItemModelTester(model, FATAL)
    changes = Changes(model)
    run(qloop, model.load())
    assert model.rowCount() == 0 and model.at_start

    sent = run(qloop, alice.sendText(pair.alice_bob, "Minutes of Tuesday attached"))
    assert sent is not None
    run(qloop, wait_until(lambda: model.rowCount() == 1))
    row = model.row_of(sent.message_id)
    assert row == 0
    index = model.index(0, 0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "Minutes of Tuesday attached"
    assert index.data(TranscriptRole.OutgoingRole) is True
    assert index.data(TranscriptRole.DateSeparatorRole) is True
    run(qloop, wait_until(lambda: index.data(TranscriptRole.StateRole) == "delivered"))
    assert index.data(TranscriptRole.StateSymbolRole) == "✓✓"
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "Delivered"
    assert index.data(TranscriptRole.AccessibleTextRole).startswith("You, ")
    assert index.data(TranscriptRole.AccessibleTextRole).endswith(
        ": Minutes of Tuesday attached Delivered")
    state_changes = [c for c in changes.seen if TranscriptRole.StateRole in c[2]]
    assert state_changes and all(first == last == 0 for first, last, _ in state_changes)

    run(qloop, bob.sendText(pair.bob_alice, "Thanks, reading now"))
    run(qloop, wait_until(lambda: model.rowCount() == 2))
    reply = model.index(1, 0)
    assert reply.data(Qt.ItemDataRole.DisplayRole) == "Thanks, reading now"
    assert reply.data(TranscriptRole.OutgoingRole) is False
    assert reply.data(TranscriptRole.StateRole) == "received"
    assert reply.data(TranscriptRole.DateSeparatorRole) is False  # same day as the first
    assert reply.data(TranscriptRole.AccessibleTextRole).startswith("Bob, ")

    # Messages of other conversations do not appear here.
    carol = run(qloop, alice.client.add_contact(stranger_address(relay.url), "Carol"))
    run(qloop, alice.sendText(carol.contact_id, "Hello Carol"))
    run(qloop, asyncio.sleep(0.2))
    assert model.rowCount() == 2

    # A message that could not be sent: the bridge reports it; the row offers a retry.
    alice.messageStateChanged.emit(pair.alice_bob, sent.message_id, "failed",
                                   "The relay refused the message: full (quota).")
    assert index.data(TranscriptRole.FailedRole) is True
    assert index.data(Qt.ItemDataRole.ToolTipRole) == \
        "Not sent: The relay refused the message: full (quota)."
    assert index.data(TranscriptRole.AccessibleTextRole).endswith(
        "Not sent — press Enter or click to retry")
    del tester


def test_a_transcript_does_not_lose_messages_that_arrive_while_it_opens(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    first = run(qloop, alice.sendText(pair.alice_bob, "one"))
    assert first is not None
    model = TranscriptModel(alice, pair.alice_bob)
    tester = QAbstractItemModelTester(model, FATAL)

    async def open_while_sending() -> None:
        loading = asyncio.ensure_future(model.load())
        await alice.sendText(pair.alice_bob, "two")
        await loading

    run(qloop, open_while_sending())
    run(qloop, wait_until(lambda: model.rowCount() == 2))
    assert column(model, Qt.ItemDataRole.DisplayRole) == ["one", "two"]
    del tester


def test_undecryptable_messages_explain_themselves(
    qloop: qasync.QEventLoop, tmp_path: Path, opened: Callable[[History], Bridge]
) -> None:
    now = datetime.now()
    earlier = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0, second=1))
    history = run(qloop, write_history(tmp_path, "gaps", [
        Line(False, "", earlier, MessageState.UNDECRYPTABLE, "no session with this sender"),
        Line(False, "readable", earlier),
    ]))
    try:
        model = TranscriptModel(opened(history), history.contact_id)
        tester = QAbstractItemModelTester(model, FATAL)
        run(qloop, model.load())
        assert column(model, Qt.ItemDataRole.DisplayRole) == [
            "This message could not be read (no session with this sender).", "readable"]
        assert column(model, TranscriptRole.StateRole) == ["undecryptable", "received"]
        assert column(model, TranscriptRole.ReasonRole) == ["no session with this sender", None]
        assert column(model, TranscriptRole.DateRole) == ["Today", "Today"]
        assert column(model, TranscriptRole.StateSymbolRole) == ["", ""]
        assert column(model, Qt.ItemDataRole.ToolTipRole) == [None, None]
        assert column(model, TranscriptRole.AccessibleTextRole)[0].startswith("Writer, ")
        del tester
    finally:
        forget(history)
