"""The contact list: alphabetical, flags for verified and pending key changes, live updates."""

from __future__ import annotations

from collections.abc import Callable

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from app.ui.bridge import Bridge
from app.ui.models.contacts import ContactListModel
from app.ui.models.roles import ContactRole
from tests.app.ui.models.history import stranger_address
from tests.app.ui.support import introduce, run, wait_until
from tests.integration.conftest import RelayProcess

FATAL = QAbstractItemModelTester.FailureReportingMode.Fatal


def column(model: ContactListModel, role: int) -> list[object]:
    return [model.data(model.index(row, 0), role) for row in range(model.rowCount())]


def test_contacts_are_sorted_and_follow_adds_renames_verification_and_key_changes(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    run(qloop, alice.addContact(stranger_address(relay.url), "zoé"))
    model = ContactListModel(alice)
    tester = QAbstractItemModelTester(model, FATAL)
    assert column(model, Qt.ItemDataRole.DisplayRole) == ["Bob", "zoé"]
    moves: list[tuple[int, int]] = []
    model.rowsMoved.connect(lambda _p, start, _e, _d, row: moves.append((start, row)))

    carol = run(qloop, alice.addContact(stranger_address(relay.url), "Carol"))
    assert carol is not None
    run(qloop, wait_until(lambda: model.rowCount() == 3))
    assert column(model, Qt.ItemDataRole.DisplayRole) == ["Bob", "Carol", "zoé"]
    assert column(model, ContactRole.RelayUrlRole)[1] == relay.url + "/"  # normalized

    run(qloop, alice.renameContact(pair.alice_bob, "Robert"))  # Bob moves after Carol
    run(qloop, wait_until(lambda: column(model, Qt.ItemDataRole.DisplayRole)
                          == ["Carol", "Robert", "zoé"]))
    assert moves == [(0, 2)]  # Qt counts the destination before the move
    run(qloop, alice.renameContact(pair.alice_bob, "Aaron"))  # and back to the top
    run(qloop, wait_until(lambda: column(model, Qt.ItemDataRole.DisplayRole)
                          == ["Aaron", "Carol", "zoé"]))
    assert moves[-1] == (1, 0)

    run(qloop, alice.setVerified(pair.alice_bob, True))
    run(qloop, wait_until(lambda: column(model, ContactRole.VerifiedRole)[0] is True))
    assert column(model, ContactRole.AccessibleTextRole) == [
        "Aaron, verified", "Carol, not verified", "zoé, not verified"]

    run(qloop, alice.client.add_contact(stranger_address(relay.url), "Carol"))  # a new key
    run(qloop, wait_until(lambda: column(model, ContactRole.KeyChangePendingRole)[1] is True))
    assert column(model, ContactRole.AccessibleTextRole)[1] == "Carol, safety number changed"
    assert column(model, ContactRole.ContactIdRole) == [
        pair.alice_bob, carol.contact_id, model.contact_at(2).contact_id]
    assert column(model, ContactRole.IdentityKeyRole)[1] == carol.identity_key

    model.reload()
    assert column(model, Qt.ItemDataRole.DisplayRole) == ["Aaron", "Carol", "zoé"]
    del tester
