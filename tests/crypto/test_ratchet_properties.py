"""crypto.ratchet under hypothesis: a state machine of two parties over a hostile network,
and fuzzed decoders (saved states, wire messages).

Double Ratchet specification section 3.5 (out-of-order messages, skipped keys) and 3.2
(MAX_SKIP); "decrypt on a copy": a failed decryption changes nothing.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from crypto.errors import CryptoError, DecodeError
from crypto.ratchet import RatchetConfig, RatchetState
from tests.crypto.kat.sessions import NOW, make_pair, restored
from tests.support.drbg import DeterministicRandom
from tests.support.mutation import EDITS, mutate

PARTIES = st.sampled_from(["alice", "bob"])
INDEX = st.integers(min_value=0, max_value=10_000)


class TwoPartiesOverAHostileNetwork(RuleBasedStateMachine):
    """Alice and Bob send; the network delivers in any order, drops, duplicates and flips
    bits; either side may save and restore at any time.

    Invariants: every message delivered for the first time decrypts to exactly its
    plaintext; every duplicate or corrupted delivery fails and changes nothing; the stored
    skipped keys never exceed the cap.
    """

    config = RatchetConfig()

    @initialize(seed=st.integers(0, 2**32))
    def start(self, seed: int) -> None:
        pair = make_pair(f"machine-{seed}", self.config)
        self.states = {"alice": pair.alice, "bob": pair.bob}
        self.randoms = {"alice": pair.alice_random, "bob": pair.bob_random}
        self.in_flight: dict[str, list[tuple[bytes, bytes]]] = {"alice": [], "bob": []}
        self.delivered: dict[str, list[bytes]] = {"alice": [], "bob": []}
        self.counter = 0
        self.clock = NOW

    def _peer(self, party: str) -> str:
        return "bob" if party == "alice" else "alice"

    def _fails_without_change(self, party: str, message: bytes) -> None:
        state = self.states[party]
        before = state.to_bytes()
        with pytest.raises(CryptoError):
            state.decrypt(message, self.clock)
        assert state.to_bytes() == before

    @rule(party=PARTIES, size=st.integers(0, 64))
    def send(self, party: str, size: int) -> None:
        self.counter += 1
        plaintext = self.counter.to_bytes(4, "big") + bytes(size)
        message = self.states[party].encrypt(plaintext, self.randoms[party])
        self.in_flight[self._peer(party)].append((message, plaintext))

    @rule(party=PARTIES, count=st.integers(2, 20))  # 50 steps x 20 stays within MAX_SKIP
    def send_burst(self, party: str, count: int) -> None:
        for _ in range(count):
            self.send(party, 0)

    @precondition(lambda self: self.in_flight["alice"] or self.in_flight["bob"])
    @rule(party=PARTIES, index=INDEX)
    def deliver(self, party: str, index: int) -> None:
        if not self.in_flight[party]:
            party = self._peer(party)
        message, plaintext = self.in_flight[party].pop(index % len(self.in_flight[party]))
        assert self.states[party].decrypt(message, self.clock) == plaintext
        self.delivered[party].append(message)

    @precondition(lambda self: self.in_flight["alice"] or self.in_flight["bob"])
    @rule(party=PARTIES, index=INDEX)
    def drop(self, party: str, index: int) -> None:
        if not self.in_flight[party]:
            party = self._peer(party)
        self.in_flight[party].pop(index % len(self.in_flight[party]))

    @precondition(lambda self: self.delivered["alice"] or self.delivered["bob"])
    @rule(party=PARTIES, index=INDEX)
    def duplicate(self, party: str, index: int) -> None:
        if not self.delivered[party]:
            party = self._peer(party)
        message = self.delivered[party][index % len(self.delivered[party])]
        self._fails_without_change(party, message)

    @precondition(lambda self: self.in_flight["alice"] or self.in_flight["bob"])
    @rule(party=PARTIES, index=INDEX, bit=st.integers(0, 8 * 200))
    def corrupt(self, party: str, index: int, bit: int) -> None:
        if not self.in_flight[party]:
            party = self._peer(party)
        message, _ = self.in_flight[party][index % len(self.in_flight[party])]
        corrupted = bytearray(message)
        corrupted[(bit // 8) % len(message)] ^= 1 << (bit % 8)
        self._fails_without_change(party, bytes(corrupted))

    @precondition(lambda self: self.in_flight["alice"] or self.in_flight["bob"])
    @rule(party=PARTIES, index=INDEX, cut=st.integers(1, 200))
    def truncate(self, party: str, index: int, cut: int) -> None:
        if not self.in_flight[party]:
            party = self._peer(party)
        message, _ = self.in_flight[party][index % len(self.in_flight[party])]
        self._fails_without_change(party, message[: max(0, len(message) - cut)])

    @rule(party=PARTIES)
    def save_and_restore(self, party: str) -> None:
        saved = self.states[party].to_bytes()
        self.states[party] = RatchetState.from_bytes(saved, self.config)
        assert self.states[party].to_bytes() == saved

    @rule(seconds=st.integers(0, 12 * 3600))
    def time_passes(self, seconds: int) -> None:
        self.clock += seconds  # 50 steps x 12 h stays below the 30-day expiry

    @invariant()
    def skipped_keys_within_the_cap(self) -> None:
        if hasattr(self, "states"):
            for state in self.states.values():
                assert state.skipped_key_count <= self.config.max_skipped_keys


TwoPartiesOverAHostileNetwork.TestCase.settings = settings(
    max_examples=300, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_two_parties_over_a_hostile_network = TwoPartiesOverAHostileNetwork.TestCase


class SmallLimits(TwoPartiesOverAHostileNetwork):
    """The same machine with tiny limits, so eviction runs often. Messages whose key was
    evicted or that skip too far may then legitimately fail, so delivery only requires
    "the right plaintext or a typed error with no state change"."""

    config = RatchetConfig(max_skip=8, max_skipped_keys=12, remembered_chains=2)

    @precondition(lambda self: self.in_flight["alice"] or self.in_flight["bob"])
    @rule(party=PARTIES, index=INDEX)
    def deliver(self, party: str, index: int) -> None:
        if not self.in_flight[party]:
            party = self._peer(party)
        message, plaintext = self.in_flight[party].pop(index % len(self.in_flight[party]))
        state = self.states[party]
        before = state.to_bytes()
        try:
            assert state.decrypt(message, self.clock) == plaintext
        except CryptoError:
            assert state.to_bytes() == before
        else:
            self.delivered[party].append(message)


SmallLimits.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_small_limits_over_a_hostile_network = SmallLimits.TestCase


# --- fuzzing ----------------------------------------------------------------------------------

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sample_states() -> list[bytes]:
    pair = make_pair("fuzz-states")
    late = pair.a2b(b"late")
    pair.bob.decrypt(pair.a2b(b"on time"), NOW)
    pair.alice.decrypt(pair.b2a(b"reply"), NOW)
    assert late
    return [pair.alice.to_bytes(), pair.bob.to_bytes(), restored(pair.bob).to_bytes()]


SAMPLE_STATES = _sample_states()


def _load(data: bytes) -> None:
    try:
        state = RatchetState.from_bytes(data)
    except DecodeError:
        return
    assert state.to_bytes() == data  # whatever loads is canonical
    state.encrypt(b"still usable", DeterministicRandom("fuzz"))


@FUZZ
@given(st.binary(max_size=600))
def test_state_decoder_on_arbitrary_bytes(data: bytes) -> None:
    _load(data)


@FUZZ
@given(
    st.sampled_from(SAMPLE_STATES),
    EDITS,
    st.integers(-40, 40),
)
def test_state_decoder_on_mutated_states(
    valid: bytes, edits: list[tuple[int, int]], resize: int
) -> None:
    _load(mutate(valid, edits, resize))


@FUZZ
@given(st.binary(max_size=300))
def test_decrypting_arbitrary_bytes_only_raises_typed_errors(data: bytes) -> None:
    pair = make_pair("fuzz-messages")
    before = pair.bob.to_bytes()
    with pytest.raises(CryptoError):
        pair.bob.decrypt(data, NOW)
    assert pair.bob.to_bytes() == before


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
    st.booleans(),
)
def test_decrypting_mutated_messages_only_raises_typed_errors(
    edits: list[tuple[int, int]], from_bob: bool
) -> None:
    pair = make_pair("fuzz-mutations")
    message = bytearray(pair.b2a(b"payload") if from_bob else pair.a2b(b"payload"))
    receiver = pair.alice if from_bob else pair.bob
    original = bytes(message)
    for position, value in edits:
        message[position % len(message)] = value
    if bytes(message) == original:
        return
    before = receiver.to_bytes()
    with pytest.raises(CryptoError):
        receiver.decrypt(bytes(message), NOW)
    assert receiver.to_bytes() == before
