"""The bridge: core events come out as signals on the GUI thread, intents go in as slots.

Two real accounts (real keyring, real SQLCipher) talk through a real relay process.
"""

from __future__ import annotations

from collections.abc import Callable

import qasync

from app.adapters.preferences_file import load_preferences
from app.adapters.store import MessageState
from app.core.attention import AttentionState, Notice
from app.ui.bridge import Bridge
from tests.app.ui.support import introduce, run, wait_until
from tests.integration.conftest import RelayProcess


class Recorder:
    """Collects what a signal emitted."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> None:
        self.calls.append(args)


def test_a_message_reaches_the_peer_as_signals_and_attention(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    added, notices, states = Recorder(), Recorder(), Recorder()
    bob.messageAdded.connect(added)
    bob.noticeRaised.connect(notices)
    alice.messageStateChanged.connect(states)

    sent = run(qloop, alice.sendText(pair.alice_bob, "Budget draft is ready"))
    assert sent is not None and sent.state is MessageState.QUEUED
    run(qloop, wait_until(lambda: len(added.calls) == 1))
    run(qloop, wait_until(lambda: bob.attention_state.unread.get(pair.bob_alice) == 1))

    (message,) = added.calls[0]
    assert message.body == "Budget draft is ready" and not message.outgoing
    (notice,) = notices.calls[0]
    assert isinstance(notice, Notice)
    assert notice.title == "Alice" and notice.body == "Budget draft is ready"
    run(qloop, wait_until(lambda: any(c[2] == "delivered" for c in states.calls)))
    assert states.calls[0][:2] == (pair.alice_bob, sent.message_id)

    run(qloop, bob.markRead(pair.bob_alice))
    run(qloop, wait_until(lambda: bob.attention_state.total == 0))


def test_off_duty_hides_counts_and_notices_but_messages_still_arrive(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    added, notices, attention = Recorder(), Recorder(), Recorder()
    bob.messageAdded.connect(added)
    bob.noticeRaised.connect(notices)
    bob.attentionChanged.connect(attention)

    run(qloop, bob.setOffDuty(True))
    run(qloop, alice.sendText(pair.alice_bob, "After-hours question"))
    run(qloop, wait_until(lambda: len(added.calls) == 1))
    run(qloop, alice.sendText(pair.alice_bob, "Another one"))
    run(qloop, wait_until(lambda: len(added.calls) == 2))
    summaries = run(qloop, bob.conversations())
    assert [s.unread for s in summaries if s.contact.contact_id == pair.bob_alice] == [2]

    assert notices.calls == []
    assert bob.attention_state.total == 0 and dict(bob.attention_state.unread) == {}
    assert all(isinstance(s, AttentionState) and s.total == 0 for (s,) in attention.calls)

    run(qloop, bob.setOffDuty(False))
    run(qloop, wait_until(lambda: bob.attention_state.unread.get(pair.bob_alice) == 2))
    assert notices.calls == []  # coming back shows the counts; it does not replay notifications


def test_a_core_error_becomes_a_readable_error_signal_and_changes_nothing(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    errors, added = Recorder(), Recorder()
    alice.errorOccurred.connect(errors)
    alice.messageAdded.connect(added)

    assert run(qloop, alice.sendText(pair.alice_bob, "   ")) is None
    assert run(qloop, alice.addContact("sourdine://not a link", "")) is None

    assert [title for title, _ in errors.calls] == ["Message not sent", "Contact not added"]
    assert all(message and "Traceback" not in message for _, message in errors.calls)
    assert errors.calls[0][1] == "The message is empty."
    assert added.calls == []
    assert run(qloop, alice.history(pair.alice_bob)) == []


def test_preferences_are_saved_and_applied_to_the_core(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    typing, changed, arrived = Recorder(), Recorder(), Recorder()
    bob.contactTyping.connect(typing)
    bob.messageAdded.connect(arrived)
    alice.preferencesChanged.connect(changed)
    assert not alice.client.typing_indicators and not alice.client.read_receipts

    run(qloop, alice.sendText(pair.alice_bob, "hello"))  # a session exists for typing
    run(qloop, wait_until(lambda: len(arrived.calls) == 1))
    run(qloop, alice.userTyping(pair.alice_bob))  # off by default: nothing reaches Bob
    wanted = alice.preferences.replace(typing_indicators=True, read_receipts=True)
    run(qloop, alice.updatePreferences(wanted))
    run(qloop, alice.userTyping(pair.alice_bob))
    run(qloop, wait_until(lambda: typing.calls == [(pair.bob_alice,)]))

    assert changed.calls == [(wanted,)]
    assert alice.client.typing_indicators and alice.client.read_receipts
    assert load_preferences(alice.client.paths.settings) == wanted


def test_a_draft_is_kept_in_the_encrypted_store(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge]
) -> None:
    alice, bob = bridge_for("Alice", relay), bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    run(qloop, alice.saveDraft(pair.alice_bob, "Half-written reply about the merger"))
    assert run(qloop, alice.draft(pair.alice_bob)) == "Half-written reply about the merger"
    run(qloop, alice.saveDraft(pair.alice_bob, ""))
    assert run(qloop, alice.draft(pair.alice_bob)) == ""
