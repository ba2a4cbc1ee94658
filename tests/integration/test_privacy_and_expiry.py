"""What a real relay leaves on disk and in its logs.

Canary strings go into envelopes and blobs; after ack, expiry with purge, blob deletion and
account deletion they must not be found in the database, its WAL or its shared-memory file.
Logs must hold no content, no identity key and no address of a client.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from relay import protocol as p
from tests.integration.conftest import RelayProcess, RelayStarter
from tests.relay.harness import run
from tests.relay.wire_client import Identity, RelayClient

ACKED = b"CANARY-acked-5b1e0c"
EXPIRED = b"CANARY-expired-93d2aa"
BLOB = b"CANARY-blob-0f77e1"
DELETED = b"CANARY-deleted-account-c4e8"
ALICE, BOB = Identity("privacy alice"), Identity("privacy bob")


def files_of(relay: RelayProcess) -> list[Path]:
    base = relay.database
    return [path for path in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if path.exists()]


def found_in_files(relay: RelayProcess, needle: bytes) -> list[str]:
    return [path.name for path in files_of(relay) if needle in path.read_bytes()]


def test_expired_envelopes_are_not_delivered_and_are_purged_from_disk(
    relay_starter: RelayStarter,
) -> None:
    relay = relay_starter("--purge-interval", "0.2")

    async def scenario() -> None:
        async with await RelayClient.open(relay.url) as alice:
            await alice.login(ALICE)
        async with await RelayClient.open(relay.url) as sender:
            await sender.call(p.Hello, versions=(1,))
            await sender.call(p.Deposit, recipients=(ALICE.public,), envelope=EXPIRED * 20, ttl=1)
            await sender.call(p.Deposit, recipients=(ALICE.public,), envelope=b"keep me")
        assert found_in_files(relay, EXPIRED)  # stored (the check below can fail)
        await asyncio.sleep(2.2)
        async with await RelayClient.open(relay.url) as alice:
            await alice.login(ALICE)
            assert [d.envelope for d in await alice.deliveries(1)] == [b"keep me"]
            assert await alice.quiet(0.3) == []

    run(scenario)
    purge = relay.wait_for_event("purged")
    assert purge["envelopes"] >= 1
    assert found_in_files(relay, EXPIRED) == []  # really deleted, WAL included, while running


def test_no_plaintext_canary_or_deleted_account_remains_on_disk_or_in_logs(
    relay_starter: RelayStarter,
) -> None:
    relay = relay_starter("--purge-interval", "0.2")

    async def scenario() -> None:
        async with await RelayClient.open(relay.url) as bob:
            await bob.login(BOB)
            await bob.call(p.DirectoryPublish, display_name="Bob Privacy")
            blob = await bob.call(p.BlobCreate, size=len(BLOB) * 10)
            await bob.call(p.BlobPut, blob_id=blob.blob_id, offset=0, data=BLOB * 10)
        async with await RelayClient.open(relay.url) as alice, \
                await RelayClient.open(relay.url) as sender:
            await alice.login(ALICE)
            await sender.call(p.Hello, versions=(1,))
            for n in range(50):
                await sender.call(p.Deposit, recipients=(ALICE.public,),
                                  envelope=ACKED + b" %03d " % n + b"." * (n * 37))
                await sender.call(p.Deposit, recipients=(BOB.public,), envelope=DELETED * 5)
            delivered = await alice.deliveries(50)
            await alice.call(p.Ack, envelope_ids=tuple(d.envelope_id for d in delivered))
        assert found_in_files(relay, DELETED) and found_in_files(relay, BLOB)
        async with await RelayClient.open(relay.url) as bob:
            await bob.login(BOB)
            await bob.deliveries(50)
            deleted = await bob.call(p.AccountDelete)
            assert deleted.receipt.envelopes == 50 and deleted.receipt.blobs == 1
        # Account deletion returns once nothing of it is left, WAL included.
        for needle in (DELETED, BLOB, BOB.public, b"Bob Privacy"):
            assert found_in_files(relay, needle) == [], needle

    run(scenario)
    assert relay.stop() == 0
    for needle in (ACKED, DELETED, BLOB, BOB.public, b"Bob Privacy"):
        assert found_in_files(relay, needle) == [], needle
    log = relay.log_text()
    for identity in (ALICE.public, BOB.public):
        for form in (identity.hex(), base64.urlsafe_b64encode(identity).decode().rstrip("="),
                     base64.b64encode(identity).decode().rstrip("=")):
            assert form not in log
    for needle in ("CANARY", "Bob Privacy"):
        assert needle not in log
    assert log.count("127.0.0.1") == 1  # the relay's own listening address, no client's
