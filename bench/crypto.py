"""Protocol-core benchmark: Double Ratchet and sender keys against raw AEAD and vodozemac.

    python -m bench.crypto [--json] [--repetitions 7] [--seconds 0.2]

Every figure is messages per second for 200-byte plaintexts, where one message means one
encryption *and* its decryption, measured in this process in this run:

- ``aead_xchacha20poly1305``: raw XChaCha20-Poly1305 encrypt + decrypt through
  ``crypto.primitives`` (no key derivation, fixed nonce): the symmetric floor.
- ``ratchet_burst``: Alice sends, Bob decrypts, one direction (no DH step after the first).
- ``ratchet_pingpong``: the direction alternates every message, so every message costs a
  full DH ratchet step (three X25519 operations: one key generation, two DH).
- ``*_saved``: the same, with both states saved and restored (``to_bytes`` +
  ``from_bytes``) after every message, as the client does before acknowledging.
- ``senderkey``: a group message encrypted and signed by its sender, verified and
  decrypted by one member (``crypto.senderkeys``).
- ``vodozemac_olm_burst`` / ``vodozemac_olm_pingpong`` / ``vodozemac_megolm``: the same
  patterns with vodozemac (Rust Olm/Megolm). Their messages go through their byte encoding
  and back, as ours do. ``vodozemac_olm_pingpong_pickled`` pickles and unpickles both
  sessions after every message (vodozemac pickles are encrypted, ours are not: the client's
  database is).
- ``x25519_base`` / ``x25519_dh`` (operations per second) and
  ``ratchet_pingpong_x25519_floor``: the ping-pong rate if nothing but its three X25519
  operations cost time; ``ratchet_pingpong_x25519_share`` is the fraction of a ping-pong
  message spent in them. ``ed25519_sign_verify`` (one signature made and checked per
  second) and ``senderkey_ed25519_share`` do the same for a sender-key message, whose
  floor is its Ed25519 signature.

Each figure: a warm-up, then ``--repetitions`` timed runs of about ``--seconds`` each, taken
round-robin across all figures (so load changes hit every figure alike) with the garbage
collector paused; the median is reported. Ratios are ours / baseline.
Targets: ratchet_pingpong_vs_vodozemac >= 0.8, ratchet_burst_vs_vodozemac >= 0.5,
senderkey_vs_megolm >= 0.7.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable

from crypto import primitives
from crypto.ratchet import RatchetState
from crypto.senderkeys import OwnSenderKey, PeerSenderKey
from crypto.x3dh import Identity, PrekeyStore, accept_session, start_session

MESSAGE = bytes(range(200))
NOW = 1_700_000_000
Run = Callable[[int], None]
"""Processes ``n`` messages (encrypt + decrypt each)."""

TARGETS = {
    "ratchet_pingpong_vs_vodozemac": 0.8,
    "ratchet_burst_vs_vodozemac": 0.5,
    "senderkey_vs_megolm": 0.7,
}


def calibrate(run: Run, seconds: float) -> int:
    """Warm ``run`` up and return how many messages take about ``seconds``."""
    run(20)
    n = 50
    while True:
        start = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4:
            return max(10, int(n * seconds / elapsed))
        n *= 4


def measure_interleaved(
    runs: dict[str, Run], repetitions: int, seconds: float
) -> dict[str, float]:
    """Median rate (per second) of every run. Repetitions go round-robin over all runs, so
    a change in machine load during the benchmark hits ours and the baselines alike."""
    sizes = {name: calibrate(run, seconds) for name, run in runs.items()}
    rates: dict[str, list[float]] = {name: [] for name in runs}
    gc.disable()
    try:
        for _ in range(repetitions):
            for name, run in runs.items():
                start = time.perf_counter()
                run(sizes[name])
                rates[name].append(sizes[name] / (time.perf_counter() - start))
    finally:
        gc.enable()
    return {name: statistics.median(values) for name, values in rates.items()}


# --- ours -------------------------------------------------------------------------------------


def _ratchet_pair() -> tuple[RatchetState, RatchetState]:
    random = primitives.system_random
    alice_identity, bob_identity = Identity.generate(random), Identity.generate(random)
    store = PrekeyStore.create(bob_identity, random, NOW)
    (opk_id, _), = store.generate_one_time_prekeys(1, random)
    agreement, alice = start_session(alice_identity, store.bundle(bob_identity.public, opk_id),
                                     random)
    first = agreement.initial_message(alice.encrypt(MESSAGE, random))
    bob, _ = accept_session(bob_identity, store, first, NOW)
    alice.decrypt(bob.encrypt(MESSAGE, random), NOW)  # both sides established
    return alice, bob


def aead_run() -> Run:
    key, nonce = primitives.system_random(32), primitives.system_random(24)
    associated = bytes(108)  # the ratchet's AD size: u32 ‖ IK_A ‖ IK_B ‖ header
    encrypt, decrypt = primitives.aead_encrypt, primitives.aead_decrypt

    def run(n: int) -> None:
        for _ in range(n):
            decrypt(key, nonce, encrypt(key, nonce, MESSAGE, associated), associated)

    return run


def ratchet_burst_run(saved: bool = False) -> Run:
    alice, bob = _ratchet_pair()
    random = primitives.system_random
    restore = RatchetState.from_bytes

    def run(n: int) -> None:
        nonlocal alice, bob
        for _ in range(n):
            message = alice.encrypt(MESSAGE, random)
            if bob.decrypt(message, NOW) != MESSAGE:
                raise AssertionError("ratchet round trip failed")
            if saved:
                alice, bob = restore(alice.to_bytes()), restore(bob.to_bytes())

    return run


def ratchet_pingpong_run(saved: bool = False) -> Run:
    alice, bob = _ratchet_pair()
    random = primitives.system_random
    restore = RatchetState.from_bytes

    def run(n: int) -> None:
        nonlocal alice, bob
        for i in range(n):
            sender, receiver = (alice, bob) if i % 2 == 0 else (bob, alice)
            if receiver.decrypt(sender.encrypt(MESSAGE, random), NOW) != MESSAGE:
                raise AssertionError("ratchet round trip failed")
            if saved:
                alice, bob = restore(alice.to_bytes()), restore(bob.to_bytes())

    return run


def senderkey_run() -> Run:
    random = primitives.system_random
    group_id = random(16)
    identity = Identity.generate(random).public
    own = OwnSenderKey.create(group_id, identity, random)
    peer = PeerSenderKey.from_distribution(own.distribution(), group_id, identity)

    def run(n: int) -> None:
        for _ in range(n):
            if peer.decrypt(own.encrypt(MESSAGE, random), NOW) != MESSAGE:
                raise AssertionError("sender-key round trip failed")

    return run


def x25519_base_run() -> Run:
    private = primitives.system_random(32)

    def run(n: int) -> None:
        for _ in range(n):
            primitives.x25519_public(private)

    return run


def ed25519_sign_verify_run() -> Run:
    secret, public = primitives.ed25519_keypair(primitives.system_random)
    body = bytes(300)  # about a signed 200-byte group message

    def run(n: int) -> None:
        for _ in range(n):
            primitives.ed25519_verify(public, body, primitives.ed25519_sign(secret, body))

    return run


def x25519_dh_run() -> Run:
    private = primitives.system_random(32)
    public = primitives.x25519_public(primitives.system_random(32))

    def run(n: int) -> None:
        for _ in range(n):
            primitives.x25519(private, public)

    return run


# --- vodozemac ----------------------------------------------------------------------------------


def _olm_pair() -> tuple[object, object]:
    import vodozemac

    alice, bob = vodozemac.Account(), vodozemac.Account()
    bob.generate_one_time_keys(1)
    one_time_key = next(iter(bob.one_time_keys.values()))
    outbound = alice.create_outbound_session(bob.curve25519_key, one_time_key)
    first = outbound.encrypt(MESSAGE)
    inbound, _ = bob.create_inbound_session(alice.curve25519_key, first.to_pre_key())
    outbound.decrypt(inbound.encrypt(MESSAGE))  # both sides established
    return outbound, inbound


def olm_burst_run() -> Run:
    from vodozemac import AnyOlmMessage

    alice, bob = _olm_pair()

    def run(n: int) -> None:
        for _ in range(n):
            kind, body = alice.encrypt(MESSAGE).to_parts()  # type: ignore[attr-defined]
            if bob.decrypt(AnyOlmMessage.from_parts(kind, body)) != MESSAGE:  # type: ignore[attr-defined]
                raise AssertionError("Olm round trip failed")

    return run


def olm_pingpong_run(pickled: bool = False) -> Run:
    from vodozemac import AnyOlmMessage, Session

    alice, bob = _olm_pair()
    pickle_key = bytes(32)

    def run(n: int) -> None:
        nonlocal alice, bob
        for i in range(n):
            sender, receiver = (alice, bob) if i % 2 == 0 else (bob, alice)
            kind, body = sender.encrypt(MESSAGE).to_parts()  # type: ignore[attr-defined]
            if receiver.decrypt(AnyOlmMessage.from_parts(kind, body)) != MESSAGE:  # type: ignore[attr-defined]
                raise AssertionError("Olm round trip failed")
            if pickled:
                alice = Session.from_pickle(alice.pickle(pickle_key), pickle_key)  # type: ignore[attr-defined]
                bob = Session.from_pickle(bob.pickle(pickle_key), pickle_key)  # type: ignore[attr-defined]

    return run


def megolm_run() -> Run:
    from vodozemac import GroupSession, InboundGroupSession, MegolmMessage

    outbound = GroupSession()
    inbound = InboundGroupSession(outbound.session_key)

    def run(n: int) -> None:
        for _ in range(n):
            wire = outbound.encrypt(MESSAGE).to_bytes()
            if inbound.decrypt(MegolmMessage.from_bytes(wire)).plaintext != MESSAGE:
                raise AssertionError("Megolm round trip failed")

    return run


# --- report -------------------------------------------------------------------------------------


FIGURES: list[tuple[str, Callable[[], Run], str]] = [
    ("aead_xchacha20poly1305", aead_run, "msg/s"),
    ("x25519_base", x25519_base_run, "op/s"),
    ("x25519_dh", x25519_dh_run, "op/s"),
    ("ed25519_sign_verify", ed25519_sign_verify_run, "op/s"),
    ("ratchet_burst", ratchet_burst_run, "msg/s"),
    ("ratchet_pingpong", ratchet_pingpong_run, "msg/s"),
    ("ratchet_burst_saved", lambda: ratchet_burst_run(saved=True), "msg/s"),
    ("ratchet_pingpong_saved", lambda: ratchet_pingpong_run(saved=True), "msg/s"),
    ("senderkey", senderkey_run, "msg/s"),
    ("vodozemac_olm_burst", olm_burst_run, "msg/s"),
    ("vodozemac_olm_pingpong", olm_pingpong_run, "msg/s"),
    ("vodozemac_olm_pingpong_pickled", lambda: olm_pingpong_run(pickled=True), "msg/s"),
    ("vodozemac_megolm", megolm_run, "msg/s"),
]

RATIOS = [
    ("ratchet_pingpong_vs_vodozemac", "ratchet_pingpong", "vodozemac_olm_pingpong"),
    ("ratchet_burst_vs_vodozemac", "ratchet_burst", "vodozemac_olm_burst"),
    ("senderkey_vs_megolm", "senderkey", "vodozemac_megolm"),
    ("ratchet_pingpong_saved_vs_vodozemac_pickled", "ratchet_pingpong_saved",
     "vodozemac_olm_pingpong_pickled"),
    ("ratchet_burst_vs_aead", "ratchet_burst", "aead_xchacha20poly1305"),
    ("ratchet_pingpong_x25519_share", "ratchet_pingpong", "ratchet_pingpong_x25519_floor"),
    ("senderkey_ed25519_share", "senderkey", "ed25519_sign_verify"),
]


def run_all(repetitions: int, seconds: float) -> tuple[dict[str, float], dict[str, str]]:
    figures = measure_interleaved({name: make() for name, make, _ in FIGURES}, repetitions,
                                  seconds)
    units = {name: unit for name, _, unit in FIGURES}
    floor_seconds = 1 / figures["x25519_base"] + 2 / figures["x25519_dh"]
    figures["ratchet_pingpong_x25519_floor"] = 1 / floor_seconds
    units["ratchet_pingpong_x25519_floor"] = "msg/s"
    return figures, units


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.crypto", description=summary)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repetitions", type=int, default=7, help="timed runs per figure")
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one timed run")
    args = parser.parse_args(argv)
    try:
        import vodozemac  # noqa: F401
    except ImportError:
        print("vodozemac is missing: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    figures, units = run_all(args.repetitions, args.seconds)
    ratios = {name: figures[ours] / figures[base] for name, ours, base in RATIOS}
    if args.json:
        report: dict[str, object] = {**figures, **ratios}
        report["units"] = units
        report["message_size"] = len(MESSAGE)
        report["repetitions"] = args.repetitions
        report["targets"] = TARGETS
        report["targets_met"] = all(ratios[name] >= goal for name, goal in TARGETS.items())
        print(json.dumps(report, indent=1))
        return 0
    for name, value in figures.items():
        print(f"{name}: {value:.0f} {units[name]}")
    for name, value in ratios.items():
        goal = TARGETS.get(name)
        verdict = "met" if goal is not None and value >= goal else "MISSED"
        note = "" if goal is None else f" (target >= {goal}: {verdict})"
        print(f"{name}: {value:.2f} x{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
