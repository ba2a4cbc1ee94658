"""Search results: every match across conversations, newest first, latest search wins."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from app.adapters.store.errors import SearchQueryError
from app.ui.bridge import Bridge
from app.ui.models.roles import SearchRole
from app.ui.models.search import SearchResultsModel
from tests.app.ui.models.history import stranger_address
from tests.app.ui.support import introduce, run, wait_until
from tests.integration.conftest import RelayProcess

FATAL = QAbstractItemModelTester.FailureReportingMode.Fatal


def column(model: SearchResultsModel, role: int) -> list[object]:
    return [model.data(model.index(row, 0), role) for row in range(model.rowCount())]


def test_results_span_conversations_and_the_latest_search_wins(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    carol = run(qloop, alice.client.add_contact(stranger_address(relay.url), "Carol"))
    received = []
    alice.messageAdded.connect(lambda m: received.append(m) if not m.outgoing else None)
    run(qloop, bob.sendText(pair.bob_alice, "The budget review moved to Thursday"))
    run(qloop, wait_until(lambda: len(received) == 1))
    run(qloop, alice.sendText(carol.contact_id, "Lunch after the budget meeting?"))
    run(qloop, alice.sendText(pair.alice_bob, "Thanks for lunch"))

    model = SearchResultsModel(alice)
    tester = QAbstractItemModelTester(model, FATAL)
    run(qloop, model.search("budget"))
    assert model.query == "budget"
    assert column(model, Qt.ItemDataRole.DisplayRole) == ["Carol", "Bob"]  # newest first
    assert column(model, SearchRole.ConversationIdRole) == [carol.contact_id, pair.alice_bob]
    assert column(model, SearchRole.SnippetRole) == [
        "Lunch after the budget meeting?", "The budget review moved to Thursday"]
    assert column(model, SearchRole.OutgoingRole) == [True, False]
    seqs = column(model, SearchRole.SeqRole)
    assert seqs[0] > seqs[1]  # type: ignore[operator]
    assert column(model, SearchRole.MessageIdRole)[1] == received[0].message_id
    spoken = column(model, SearchRole.AccessibleTextRole)
    assert spoken[0].startswith("You to Carol, ")  # type: ignore[union-attr]
    assert spoken[1].startswith("Bob, ")  # type: ignore[union-attr]
    assert all(column(model, SearchRole.TimeRole))

    run(qloop, model.search("budget", conversation_id=pair.alice_bob))
    assert column(model, Qt.ItemDataRole.DisplayRole) == ["Bob"]

    real_search = alice.search

    async def slow_budget(text: str, conversation_id: int | None = None,
                          limit: int = 100) -> list:  # type: ignore[type-arg]
        hits = await real_search(text, conversation_id, limit)
        if text == "budget":  # this answer comes back after the next search's
            await asyncio.sleep(0.2)
        return hits

    alice.search = slow_budget  # type: ignore[method-assign]

    async def typed_quickly() -> None:  # "budget" is still being searched when "lunch" starts
        await asyncio.gather(model.search("budget"), model.search("lunch"))

    run(qloop, typed_quickly())
    alice.search = real_search  # type: ignore[method-assign]
    assert model.query == "lunch"
    assert column(model, SearchRole.SnippetRole) == [
        "Thanks for lunch", "Lunch after the budget meeting?"]

    run(qloop, model.search("   "))
    assert model.rowCount() == 0 and model.query == ""
    run(qloop, model.search("lunch"))
    with pytest.raises(SearchQueryError):
        run(qloop, model.search("?!"))
    assert model.rowCount() == 0
    run(qloop, model.search("lunch"))
    model.clear()
    assert model.rowCount() == 0
    del tester
