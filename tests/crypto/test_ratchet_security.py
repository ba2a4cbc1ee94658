"""crypto.ratchet: forward secrecy, post-compromise security, and save/restore equivalence.

Double Ratchet specification sections 1.2 and 3.5 (forward secrecy: used message keys and
old chain keys are deleted), 3.1/3.3 (break-in recovery through the DH ratchet), 3.2 (state
variables: a restored state must behave exactly like the live one), 4.4 (deletion of
skipped message keys).
"""

from __future__ import annotations

import random as stdlib_random

import pytest

from crypto.errors import AuthenticationError, CryptoError, DuplicateMessage
from crypto.primitives import x25519_keypair
from crypto.ratchet import RatchetState
from tests.crypto.kat.reference import ReferenceRatchet
from tests.crypto.kat.sessions import NOW, make_pair, restored, unchanged
from tests.support.drbg import DeterministicRandom

SK, AD = bytes(range(32)), bytes(range(100, 164))


class Twin:
    """The production ratchet and the reference ratchet run side by side with identical
    randomness, so the reference tells which message keys the production code used."""

    def __init__(self, seed: str) -> None:
        spk = x25519_keypair(DeterministicRandom(f"{seed}/spk"))
        self.real = {
            "alice": RatchetState.initiator(SK, AD, spk[1], DeterministicRandom(f"{seed}/a")),
            "bob": RatchetState.responder(SK, AD, spk[0], spk[1]),
        }
        self.randoms = {"alice": DeterministicRandom(f"{seed}/a"),
                        "bob": DeterministicRandom(f"{seed}/b")}
        self.ref_randoms = {"alice": DeterministicRandom(f"{seed}/a"),
                            "bob": DeterministicRandom(f"{seed}/b")}
        self.ref = {
            "alice": ReferenceRatchet.init_alice(SK, AD, spk[1], self.ref_randoms["alice"]),
            "bob": ReferenceRatchet.init_bob(SK, AD, spk),
        }
        self.randoms["alice"](32)  # the initiator's first ratchet key came from this stream

    def send(self, sender: str, text: bytes) -> bytes:
        message = self.real[sender].encrypt(text, self.randoms[sender])
        assert self.ref[sender].encrypt(text, self.ref_randoms[sender]) == message
        return message

    def receive(self, receiver: str, message: bytes) -> bytes:
        plaintext = self.real[receiver].decrypt(message, NOW)
        assert self.ref[receiver].decrypt(message, self.ref_randoms[receiver]) == plaintext
        return plaintext

    def decrypted_keys(self) -> list[bytes]:
        return self.ref["alice"].used_message_keys + self.ref["bob"].used_message_keys


def test_saved_states_hold_no_used_message_key_and_cannot_read_the_past() -> None:
    """After every received message k, the receiver's saved state rejects every message
    <= k; neither party's saved bytes contain a message key used to decrypt, and a sender's
    never contain a key it encrypted with. The receiver does keep the keys of messages still
    in flight (which shows the search would find a key that is there)."""
    twin = Twin("forward-secrecy")
    rng = stdlib_random.Random(7)
    received: dict[str, list[bytes]] = {"alice": [], "bob": []}
    in_flight: dict[str, list[bytes]] = {"alice": [], "bob": []}
    sender = "alice"
    for turn in range(12):  # chains of 1-4 messages, each delivered in a shuffled order
        receiver = "bob" if sender == "alice" else "alice"
        batch = [twin.send(sender, b"t%d-%d" % (turn, i)) for i in range(rng.randint(1, 4))]
        rng.shuffle(batch)
        if turn % 5 == 2:  # hold one back: its key must stay stored (and findable)
            in_flight[receiver].append(batch.pop())
        for message in batch:
            twin.receive(receiver, message)
            received[receiver].append(message)
            saved = twin.real[receiver].to_bytes()
            sender_saved = twin.real[sender].to_bytes()
            for used in twin.decrypted_keys():
                assert used not in saved and used not in sender_saved
            for sent in twin.ref[sender].sent_message_keys:  # in flight or not
                assert sent not in sender_saved
            copy = RatchetState.from_bytes(saved)
            for old in received[receiver]:
                with unchanged(copy), pytest.raises(DuplicateMessage):
                    copy.decrypt(old, NOW)
        sender = receiver
    held = [key for ref in twin.ref.values() for key in ref.MKSKIPPED.values()]
    assert len(held) == sum(len(v) for v in in_flight.values()) > 0
    saved_all = twin.real["alice"].to_bytes() + twin.real["bob"].to_bytes()
    assert all(key in saved_all for key in held)
    for receiver, messages in in_flight.items():  # delivering them deletes their keys too
        for message in messages:
            twin.receive(receiver, message)
    saved_all = twin.real["alice"].to_bytes() + twin.real["bob"].to_bytes()
    assert not any(key in saved_all for key in held)


def test_a_stolen_state_stops_working_after_one_round_trip() -> None:
    """Eve copies Alice's whole state. She can read what Bob sends in his current chain,
    but once Alice and Bob complete one round trip with fresh ratchet keys, the copy can
    neither read Bob nor be accepted by Bob."""
    pair = make_pair("pcs")
    pair.alice.decrypt(pair.b2a(b"before"), NOW)
    pair.bob.decrypt(pair.a2b(b"before"), NOW)
    eve = restored(pair.alice)
    eve_random = DeterministicRandom("eve")

    in_current_chain = pair.b2a(b"readable")  # Bob has not stepped since Eve's copy...
    assert eve.decrypt(in_current_chain, NOW) == b"readable"  # ...so the copy reads it
    pair.alice.decrypt(in_current_chain, NOW)

    pair.bob.decrypt(pair.a2b(b"fresh key"), NOW)  # Alice steps: a key Eve does not know
    after_round_trip = [pair.b2a(b"secret %d" % i) for i in range(3)]  # so does Bob
    for message in after_round_trip:
        assert pair.alice.decrypt(message, NOW).startswith(b"secret")
        with unchanged(eve), pytest.raises(AuthenticationError):
            eve.decrypt(message, NOW)
    for _ in range(2):
        forged = eve.encrypt(b"I am Alice", eve_random)
        with unchanged(pair.bob), pytest.raises(CryptoError):
            pair.bob.decrypt(forged, NOW)
    # Later traffic in both directions stays out of reach as well.
    later = pair.a2b(b"later")
    assert pair.bob.decrypt(later, NOW) == b"later"
    reply = pair.b2a(b"reply")
    assert pair.alice.decrypt(reply, NOW) == b"reply"
    with pytest.raises(CryptoError):
        eve.decrypt(reply, NOW)


def _script(seed: int, length: int) -> list[tuple[str, ...]]:
    """Random operations: send, deliver (any in-flight message), replay, tamper."""
    rng = stdlib_random.Random(seed)
    return [
        (rng.choice(["send", "send", "deliver", "deliver", "deliver", "replay", "tamper"]),
         rng.choice(["alice", "bob"]), str(rng.random()))
        for _ in range(length)
    ]


def _run(script: list[tuple[str, ...]], save_restore_every_step: bool) -> list[object]:
    pair = make_pair("equivalence")
    states = {"alice": pair.alice, "bob": pair.bob}
    randoms = {"alice": pair.alice_random, "bob": pair.bob_random}
    in_flight: dict[str, list[bytes]] = {"alice": [], "bob": []}
    delivered: dict[str, list[bytes]] = {"alice": [], "bob": []}
    outputs: list[object] = []
    for step, (operation, party, choice) in enumerate(script):
        pick = float(choice)
        peer = "bob" if party == "alice" else "alice"
        try:
            if operation == "send":
                message = states[party].encrypt(b"step %d" % step, randoms[party])
                in_flight[peer].append(message)
                outputs.append(message)
            elif operation == "deliver" and in_flight[party]:
                message = in_flight[party].pop(int(pick * len(in_flight[party])))
                outputs.append(states[party].decrypt(message, NOW))
                delivered[party].append(message)
            elif operation == "replay" and delivered[party]:
                message = delivered[party][int(pick * len(delivered[party]))]
                outputs.append(states[party].decrypt(message, NOW))
            elif operation == "tamper" and in_flight[party]:
                message = bytearray(in_flight[party][int(pick * len(in_flight[party]))])
                message[int(pick * 1000) % len(message)] ^= 0x10
                outputs.append(states[party].decrypt(bytes(message), NOW))
        except CryptoError as error:
            outputs.append(type(error).__name__)
        if save_restore_every_step:
            states = {name: restored(state) for name, state in states.items()}
    outputs.append(states["alice"].to_bytes())
    outputs.append(states["bob"].to_bytes())
    return outputs


@pytest.mark.parametrize("seed", range(4))
def test_saving_and_restoring_at_every_step_changes_nothing(seed: int) -> None:
    script = _script(seed, 150)
    live = _run(script, save_restore_every_step=False)
    assert _run(script, save_restore_every_step=True) == live
    assert "DuplicateMessage" in live and "AuthenticationError" in live  # failures covered
