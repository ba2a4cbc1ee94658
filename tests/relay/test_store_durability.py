"""What the SQLite relay store committed survives a restart and a ``kill -9``.

The kill test runs this module as a program (``python -m tests.relay.test_store_durability
DB``): it deposits as fast as it can from many tasks and prints a line for each deposit only
after ``deposit`` returned. Whatever it printed must be in the database after the kill.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from relay.store.base import OneTimePrekey, SignedPrekey, StoreLimits
from relay.store.sqlite import SQLiteRelayStore

ROOT = Path(__file__).resolve().parents[2]
ALICE = bytes([1]) * 32
BOB = bytes([2]) * 32
NOW = 1_700_000_000
LATER = NOW + 14 * 86_400
WRITERS = 64  # deposit tasks in flight at any time in the killed process
REPORTED_BEFORE_KILL = 3_000


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


@run_async
async def test_everything_committed_is_there_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "relay.db"
    store = SQLiteRelayStore(path)
    await store.open()
    await store.register(ALICE)
    await store.register(BOB)
    for n in range(3):
        await store.deposit([ALICE], b"envelope %d" % n, LATER)
    await store.ack(ALICE, [1])
    spk = SignedPrekey(prekey_id=5, public_key=b"p" * 32, signature=b"s" * 64)
    opk = OneTimePrekey(prekey_id=6, public_key=b"o" * 32)
    await store.publish_prekeys(BOB, spk, [opk])
    await store.add_invitation(b"i" * 32, 1)
    await store.create_blob(BOB, b"blob", 3, LATER)
    await store.put_blob_chunk(BOB, b"blob", 0, b"abc")
    await store.create_blob(BOB, b"half", 4, LATER)
    await store.put_blob_chunk(BOB, b"half", 0, b"ab")
    await store.directory_publish(BOB, "Bob")
    await store.close()

    store = SQLiteRelayStore(path, StoreLimits())
    await store.open()
    assert await store.is_registered(ALICE)
    stored = await store.fetch(ALICE, 0, 10, NOW)
    assert [(e.envelope_id, e.envelope) for e in stored] == [
        (2, b"envelope 1"),
        (3, b"envelope 2"),
    ]
    (outcome,) = await store.deposit([ALICE], b"after restart", LATER)
    assert outcome.envelope_id == 4  # ids go on from where they were
    bundle = await store.take_prekey_bundle(BOB)
    assert bundle is not None and (bundle.signed_prekey, bundle.one_time_prekey) == (spk, opk)
    assert await store.redeem_invitation(b"i" * 32) is True
    assert await store.read_blob(b"blob", 0, 3, NOW) == b"abc"
    assert await store.put_blob_chunk(BOB, b"half", 2, b"cd") == 4  # the upload resumes
    assert [e.display_name for e in await store.directory_search("bob", 5)] == ["Bob"]
    await store.close()


def test_every_reported_deposit_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "relay.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.relay.test_store_durability", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    reported: dict[int, int] = {}  # deposit number -> envelope id
    try:
        for line in process.stdout:
            if line.startswith(b"committed "):
                _, number, envelope_id = line.split()
                reported[int(number)] = int(envelope_id)
            if len(reported) >= REPORTED_BEFORE_KILL:
                break
        os.kill(process.pid, signal.SIGKILL)  # deposits are in flight right now
        rest = process.stdout.read()  # lines written before the kill are committed too
    finally:
        process.kill()
        process.wait()
    for line in rest.splitlines(keepends=True):
        if line.startswith(b"committed ") and line.endswith(b"\n"):
            _, number, envelope_id = line.split()
            reported[int(number)] = int(envelope_id)
    assert process.returncode == -signal.SIGKILL
    assert len(reported) >= REPORTED_BEFORE_KILL

    stored = asyncio.run(_everything_in(path, ALICE))

    by_payload = {envelope: envelope_id for envelope_id, envelope in stored}
    assert len(by_payload) == len(stored)  # no deposit stored twice
    missing = [
        n for n, envelope_id in reported.items() if by_payload.get(_payload(n)) != envelope_id
    ]
    assert not missing, f"{len(missing)} reported deposits were lost, e.g. {missing[:5]}"
    ids = [envelope_id for envelope_id, _ in stored]
    assert ids == sorted(set(ids))


async def _everything_in(path: Path, mailbox: bytes) -> list[tuple[int, bytes]]:
    store = SQLiteRelayStore(path)
    await store.open()
    stored = await store.fetch(mailbox, 0, 1_000_000, NOW)
    await store.close()
    return [(e.envelope_id, e.envelope) for e in stored]


def _payload(number: int) -> bytes:
    return b"deposit %08d " % number + bytes(1000)


async def _deposit_forever(path: Path) -> None:
    store = SQLiteRelayStore(path, StoreLimits(mailbox_max_envelopes=10_000_000))
    await store.open()
    await store.register(ALICE)
    counter = iter(range(10**9))

    async def depositor() -> None:
        while True:
            number = next(counter)
            (outcome,) = await store.deposit([ALICE], _payload(number), LATER)
            os.write(1, b"committed %d %d\n" % (number, outcome.envelope_id or 0))

    await asyncio.gather(*(depositor() for _ in range(WRITERS)))


if __name__ == "__main__":
    asyncio.run(_deposit_forever(Path(sys.argv[1])))
