"""The conversation list model: most recent first, one move per change, unread and bold only
from the attention service (nothing while off duty), contacts kept current.

Alice and Bob are real accounts on a real relay; Carol is an address nobody runs (Alice's
messages to her wait in the outbox, which is enough to reorder the list).
"""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from app.core.attention import AttentionState
from app.ui.bridge import Bridge
from app.ui.models.conversations import ConversationListModel
from app.ui.models.roles import ConversationRole
from tests.app.ui.models.history import stranger_address
from tests.app.ui.support import introduce, run, wait_until
from tests.integration.conftest import RelayProcess

FATAL = QAbstractItemModelTester.FailureReportingMode.Fatal


def names(model: ConversationListModel) -> list[str]:
    return [model.data(model.index(r, 0), Qt.ItemDataRole.DisplayRole)
            for r in range(model.rowCount())]


def value(model: ConversationListModel, contact_id: int, role: int) -> object:
    row = model.row_of(contact_id)
    assert row is not None
    return model.data(model.index(row, 0), role)


class Signals:
    """What the model announced: moves, resets and (row, roles) changes."""

    def __init__(self, model: ConversationListModel) -> None:
        self.moves: list[tuple[int, int]] = []
        self.resets = 0
        self.changed: list[tuple[int, list[int]]] = []
        model.rowsMoved.connect(lambda _p, start, _e, _d, row: self.moves.append((start, row)))
        model.modelReset.connect(self._reset)
        model.dataChanged.connect(
            lambda first, _last, roles: self.changed.append((first.row(), list(roles))))

    def _reset(self) -> None:
        self.resets += 1


def test_the_list_orders_by_latest_message_and_moves_one_row_per_change(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    carol = run(qloop, alice.client.add_contact(stranger_address(relay.url), "Carol"))
    model = ConversationListModel(alice)
    tester = QAbstractItemModelTester(model, FATAL)
    run(qloop, model.load())
    assert sorted(names(model)) == ["Bob", "Carol"]
    assert value(model, carol.contact_id, ConversationRole.LastMessageRole) == ""
    assert value(model, carol.contact_id, ConversationRole.TimeRole) == ""
    assert value(model, carol.contact_id, ConversationRole.AccessibleTextRole) == \
        "Carol, no messages yet"
    signals = Signals(model)

    run(qloop, alice.sendText(carol.contact_id, "Are you joining on Friday?"))
    run(qloop, wait_until(lambda: model.row_of(carol.contact_id) == 0
                          and model.rowCount() == 2
                          and value(model, carol.contact_id, ConversationRole.LastMessageRole)
                          == "You: Are you joining on Friday?"))
    run(qloop, model.settle())
    assert value(model, carol.contact_id, ConversationRole.LastOutgoingRole) is True
    assert value(model, carol.contact_id, ConversationRole.TimeRole) != ""

    run(qloop, bob.sendText(pair.bob_alice, "Lunch at noon?\nI booked a table"))
    run(qloop, wait_until(lambda: names(model) == ["Bob", "Carol"]
                          and value(model, pair.alice_bob, ConversationRole.UnreadRole) == 1))
    run(qloop, model.settle())
    assert value(model, pair.alice_bob, ConversationRole.LastMessageRole) == \
        "Lunch at noon? I booked a table"
    assert value(model, pair.alice_bob, ConversationRole.BoldRole) is True
    assert value(model, pair.alice_bob, Qt.ItemDataRole.FontRole).bold()
    assert value(model, carol.contact_id, Qt.ItemDataRole.FontRole) is None
    spoken = value(model, pair.alice_bob, ConversationRole.AccessibleTextRole)
    assert isinstance(spoken, str)
    assert spoken.startswith("Bob, 1 unread, last message: Lunch at noon? I booked a table, ")
    # At most one move per change, never a reset after the first load.
    assert signals.resets == 0
    assert 1 <= len(signals.moves) <= 2 and all(row == 0 for _s, row in signals.moves)

    signals.changed.clear()
    model.refresh_times()  # at midnight: "14:02" becomes "Mon" on every row
    assert [(row, ConversationRole.TimeRole in roles) for row, roles in signals.changed] == [
        (0, True)]

    run(qloop, alice.markRead(pair.alice_bob))
    run(qloop, wait_until(lambda: value(model, pair.alice_bob, ConversationRole.UnreadRole) == 0))
    assert value(model, pair.alice_bob, ConversationRole.BoldRole) is False
    del tester


def test_off_duty_shows_no_count_and_no_bold_row_and_restores_them_after(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    carol = run(qloop, alice.client.add_contact(stranger_address(relay.url), "Carol"))
    model = ConversationListModel(alice)
    tester = QAbstractItemModelTester(model, FATAL)
    run(qloop, model.load())
    run(qloop, bob.sendText(pair.bob_alice, "Invoice 2024-117 is overdue"))
    run(qloop, bob.sendText(pair.bob_alice, "Can you check it?"))
    run(qloop, wait_until(lambda: value(model, pair.alice_bob, ConversationRole.UnreadRole) == 2))
    run(qloop, model.settle())
    signals = Signals(model)

    run(qloop, alice.setOffDuty(True))
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        assert index.data(ConversationRole.UnreadRole) == 0
        assert index.data(ConversationRole.BoldRole) is False
        assert index.data(Qt.ItemDataRole.FontRole) is None
        assert "unread" not in index.data(ConversationRole.AccessibleTextRole)
    bob_row = model.row_of(pair.alice_bob)
    assert (bob_row, ) in {(row,) for row, roles in signals.changed
                           if ConversationRole.UnreadRole in roles
                           and ConversationRole.BoldRole in roles}
    assert all(row == bob_row for row, _ in signals.changed)  # Carol's row was not touched
    # The store still counts them: the summary knows, the list does not show it.
    summaries = run(qloop, alice.conversations())
    assert [s.unread for s in summaries if s.contact.contact_id == pair.alice_bob] == [2]

    run(qloop, bob.sendText(pair.bob_alice, "Still there?"))
    run(qloop, wait_until(lambda: value(model, pair.alice_bob, ConversationRole.LastMessageRole)
                          == "Still there?"))
    assert value(model, pair.alice_bob, ConversationRole.UnreadRole) == 0

    run(qloop, alice.setOffDuty(False))
    run(qloop, wait_until(lambda: value(model, pair.alice_bob, ConversationRole.UnreadRole) == 3))
    assert value(model, pair.alice_bob, ConversationRole.BoldRole) is True
    assert value(model, carol.contact_id, ConversationRole.UnreadRole) == 0
    del tester


def test_contacts_added_renamed_verified_or_with_a_new_key_update_their_row(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    model = ConversationListModel(alice)
    tester = QAbstractItemModelTester(model, FATAL)
    run(qloop, model.load())
    assert names(model) == ["Bob"]
    signals = Signals(model)

    dave = run(qloop, alice.addContact(stranger_address(relay.url), "Dave"))
    assert dave is not None
    run(qloop, wait_until(lambda: model.rowCount() == 2))
    assert sorted(names(model)) == ["Bob", "Dave"]

    run(qloop, alice.renameContact(pair.alice_bob, "Robert"))
    run(qloop, wait_until(lambda: "Robert" in names(model)))
    run(qloop, alice.setVerified(pair.alice_bob, True))
    run(qloop, wait_until(lambda: value(model, pair.alice_bob, ConversationRole.VerifiedRole)))
    row = model.row_of(pair.alice_bob)
    assert any(changed_row == row for changed_row, _ in signals.changed)

    # Someone announces a different key under Dave's name: a pending key change.
    run(qloop, alice.client.add_contact(stranger_address(relay.url), "Dave"))
    run(qloop, wait_until(
        lambda: value(model, dave.contact_id, ConversationRole.KeyChangePendingRole) is True))
    spoken = value(model, dave.contact_id, ConversationRole.AccessibleTextRole)
    assert isinstance(spoken, str) and spoken.endswith(
        "Safety number changed: check it before sending.")
    assert value(model, dave.contact_id, ConversationRole.ContactIdRole) == dave.contact_id
    assert signals.resets == 0
    del tester


def test_a_burst_of_changes_is_read_in_few_queries(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    model = ConversationListModel(alice)
    run(qloop, model.load())
    reads: list[int] = []
    real = alice.conversations

    async def counted(include_empty: bool = True) -> list:  # type: ignore[type-arg]
        reads.append(1)
        return await real(include_empty)

    alice.conversations = counted  # type: ignore[method-assign]
    for _ in range(50):  # fifty changes arrive before the loop runs again
        alice.conversationChanged.emit(pair.alice_bob)
    run(qloop, model.settle())
    assert 1 <= len(reads) <= 2
    assert model.rowCount() == 1 and not model.canFetchMore(QModelIndex())


def test_the_attention_state_is_the_only_source_of_counts(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    model = ConversationListModel(alice)
    tester = QAbstractItemModelTester(model, FATAL)
    run(qloop, model.load())
    run(qloop, bob.sendText(pair.bob_alice, "ping"))
    run(qloop, wait_until(lambda: value(model, pair.alice_bob, ConversationRole.UnreadRole) == 1))
    # The attention service decides to show 5 (it is the authority, whatever the store says).
    alice.attention.update_unread(pair.alice_bob, 5)
    assert isinstance(alice.attention_state, AttentionState)
    assert value(model, pair.alice_bob, ConversationRole.UnreadRole) == 5
    del tester
