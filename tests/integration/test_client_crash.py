"""Crash safety (DESIGN.md product rule 5, "nothing is lost"): a client process is killed
with ``kill -9`` in the middle of a burst of 500 messages through a real relay process, then
restarted on the same profile. Every message ends up in the conversation exactly once, in the
sender's order, no notification is ever repeated, and the session goes on working both ways.

The clients are separate processes (tests/integration/client_worker.py) with their keys in
the real OS keyring (the Secret Service of tests/with-secret-service.sh, as ``make test``
runs it). The tests wait on the workers' progress lines, never on sleeps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.client_processes import (
    Line,
    Worker,
    forget_keys,
    keys_in_keyring,
    real_keyring,
)
from tests.integration.conftest import RelayProcess, RelayStarter

BURST = 500


@pytest.fixture
def profiles() -> Iterator[dict[str, str]]:
    """Unique profile names (the keyring is shared by the run); their keys are removed after."""
    with real_keyring():
        stamp = f"{os.getpid()}-{time.monotonic_ns() % 10**8}"
        names = {who: f"{who}-{stamp}" for who in ("alice", "bob")}
        yield names
        for profile in names.values():
            forget_keys(profile)


class Workers:
    """Every worker a test started; the ones still running are killed at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.started: list[Worker] = []

    def create(self, profile: str, name: str, relay: RelayProcess, *args: str) -> Worker:
        return self._spawn(profile, "--create", name, "--relay", relay.url, *args)

    def open(self, profile: str, *args: str) -> Worker:
        return self._spawn(profile, *args)

    def _spawn(self, profile: str, *args: str) -> Worker:
        worker = Worker(self.home, profile, *args)
        self.started.append(worker)
        worker.wait_event("opened", timeout=30)
        return worker


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    made = Workers(tmp_path / "home")
    yield made
    for worker in made.started:
        worker.ensure_dead()


def texts_in(history: Line, *, outgoing: bool) -> list[str]:
    return [m["text"] for m in history["messages"] if m["outgoing"] is outgoing]


def burst(prefix: str, first: int = 0, count: int = BURST) -> list[str]:
    return [f"{prefix} {n:04d}" for n in range(first, first + count)]


def introduce(alice: Worker, bob: Worker) -> None:
    """Each adds the other from the invitation link it printed when it was created."""
    alice.ask("add", "added", link=bob.wait_event("opened")["invitation"], name="Bob")
    bob.ask("add", "added", link=alice.wait_event("opened")["invitation"], name="Alice")


def published(worker: Worker) -> None:
    """Start a new client and wait until its prekeys are on the relay (first contact needs
    them: a bundle fetch before that is refused for good)."""
    worker.started()
    worker.wait_event("prekeys", timeout=30)


def wait_all_delivered(sender: Worker, contact: str, expected: list[str], timeout: float
                       ) -> None:
    """Wait until the sender's history shows each of ``expected`` delivered (receipts)."""
    deadline = time.monotonic() + timeout
    while True:
        since = len(sender.lines)
        history = sender.history(contact)
        states = {m["text"]: m["state"] for m in history["messages"] if m["outgoing"]}
        if all(states.get(text) == "delivered" for text in expected):
            return
        if time.monotonic() > deadline:
            missing = [t for t in expected if states.get(t) != "delivered"]
            raise AssertionError(f"{len(missing)} not delivered, e.g. {missing[:3]}: "
                                 f"{[states.get(t) for t in missing[:3]]}")
        # Receipts arrive as events: wait for the next one rather than polling blindly.
        sender.wait_event("state", timeout=max(1.0, deadline - time.monotonic()),
                          since=since, state="delivered")


def still_talking(alice: Worker, bob: Worker, tag: str) -> None:
    """A few more messages each way after the crash arrive, once each, in order."""
    for sender, receiver, contact in ((bob, alice, "alice"), (alice, bob, "bob")):
        since = len(receiver.lines)
        sender.ask("send", "queued_all", to=contact, prefix=f"{tag} {contact}", count=3)
        for text in burst(f"{tag} {contact}", count=3):
            receiver.wait_event("received", timeout=30, since=since, text=text)
    for worker, contact in ((bob, "alice"), (alice, "bob")):
        history = worker.history(contact)
        assert texts_in(history, outgoing=False)[-3:] == burst(f"{tag} {worker_name(worker)}",
                                                                count=3)


def worker_name(worker: Worker) -> str:
    return worker.profile.split("-", 1)[0]


def assert_shown_once(receivers: list[Worker], expected: list[str]) -> None:
    """No text was ever announced (MessageReceived) twice, across every run of the receiver."""
    announced = [line["text"] for w in receivers for line in w.lines
                 if line["event"] == "received"]
    assert len(announced) == len(set(announced)), "a message was announced twice"
    assert set(announced) <= set(expected)


def test_receiver_killed_during_a_burst_shows_every_message_once(
    relay_starter: RelayStarter, workers: Workers, profiles: dict[str, str]
) -> None:
    relay = relay_starter()
    alice = workers.create(profiles["alice"], "Alice", relay)
    bob = workers.create(profiles["bob"], "Bob", relay)
    assert keys_in_keyring(profiles["alice"]) and keys_in_keyring(profiles["bob"])
    introduce(alice, bob)
    for worker in (alice, bob):
        published(worker)
    expected = burst("burst")
    alice.command("send", to="bob", prefix="burst", count=BURST)
    # Kill Bob once he has shown a fifth of the burst: Alice is still sending or depositing,
    # Bob has messages decrypted, committed or not, acknowledged or not.
    received = 0
    index = 0
    while received < BURST // 5:
        index, _ = bob.wait(lambda line: line["event"] == "received", timeout=60, since=index)
        received += 1
        index += 1
    bob.kill()
    shown_before = bob.count("received")
    assert shown_before < BURST, "the burst was over before the receiver was killed"

    restarted = workers.open(profiles["bob"])
    restarted.started()
    alice.ask("wait_outbox", "outbox_empty", timeout=60)
    history: Line = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the rest of the burst, as it arrives
        restarted.ask("sync", "synced", timeout=60)
        history = restarted.history("alice")
        if len(texts_in(history, outgoing=False)) >= BURST:
            break
    assert texts_in(history, outgoing=False) == expected
    assert [m["state"] for m in history["messages"]] == ["received"] * BURST
    assert_shown_once([bob, restarted], expected)
    assert restarted.ask("rejected", "rejected")["reasons"] == []
    # Bob's delivery receipts, committed with the messages, reach Alice for all 500.
    wait_all_delivered(alice, "bob", expected, timeout=60)
    still_talking(alice, restarted, "after the crash")
    for worker in (alice, restarted):
        worker.close()


def test_sender_killed_with_a_full_outbox_delivers_every_message_once(
    relay_starter: RelayStarter, workers: Workers, profiles: dict[str, str]
) -> None:
    relay = relay_starter()
    # Four deposits in flight at most, so that the kill lands while the outbox drains.
    alice = workers.create(profiles["alice"], "Alice", relay, "--window", "4")
    bob = workers.create(profiles["bob"], "Bob", relay)
    introduce(alice, bob)
    published(bob)
    expected = burst("queued")
    # Offline, every message is queued durably: the whole burst waits in the outbox.
    assert alice.ask("send", "queued_all", to="bob", prefix="queued", count=BURST,
                     timeout=60)["outbox"] == BURST
    alice.command("start")
    index = 0
    for _ in range(BURST // 10):  # kill Alice once the relay confirmed a tenth
        index, _line = alice.wait(
            lambda line: line["event"] == "state" and line["state"] == "sent", 60, index)
        index += 1
    alice.kill()
    confirmed = alice.count("state", state="sent")

    restarted = workers.open(profiles["alice"])
    left = restarted.wait_event("opened")["outbox"]
    # Messages confirmed by the relay left the outbox for good; at least the rest is there.
    assert 0 < left <= BURST - confirmed, (left, confirmed)
    restarted.started()
    assert restarted.ask("wait_outbox", "outbox_empty", timeout=60)["ok"] is True
    deadline = time.monotonic() + 60
    history: Line = {}
    while time.monotonic() < deadline:
        bob.ask("sync", "synced", timeout=60)
        history = bob.history("alice")
        if len(texts_in(history, outgoing=False)) >= BURST:
            break
    assert texts_in(history, outgoing=False) == expected
    assert_shown_once([bob], expected)
    assert bob.ask("rejected", "rejected")["reasons"] == []
    sent = restarted.history("bob")
    assert texts_in(sent, outgoing=True) == expected  # nothing lost or doubled on her side
    wait_all_delivered(restarted, "bob", expected, timeout=60)
    still_talking(restarted, bob, "after the crash")
    for worker in (restarted, bob):
        worker.close()
