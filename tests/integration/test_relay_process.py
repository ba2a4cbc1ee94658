"""End to end against one real ``sourdine-relay`` process: every operation a client uses."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.request

import pytest

from crypto.primitives import x25519_keypair
from relay import errors
from relay import protocol as p
from relay.config import OPTIONS
from relay.identity import load_or_create
from tests.integration.conftest import REPO, RelayProcess
from tests.relay.harness import run
from tests.relay.wire_client import Identity, RelayClient
from tests.support.drbg import DeterministicRandom


async def logged_in(relay: RelayProcess, identity: Identity) -> RelayClient:
    client = await RelayClient.open(relay.url)
    await client.login(identity)
    return client


async def anonymous(relay: RelayProcess) -> RelayClient:
    client = await RelayClient.open(relay.url)
    await client.call(p.Hello, versions=(1,))
    return client


def test_help_documents_every_option() -> None:
    shown = subprocess.run([sys.executable, "-m", "relay", "--help"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout
    for option in OPTIONS:
        assert "--" + option.name.replace("_", "-") in shown
    invite = subprocess.run([sys.executable, "-m", "relay", "invite", "--help"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    assert "--uses" in invite and "--count" in invite


def test_health_check_answers_plain_http(shared_relay: RelayProcess) -> None:
    url = f"http://{shared_relay.host}:{shared_relay.port}/healthz"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.read() == b"ok\n"


def test_the_hello_carries_the_key_stored_next_to_the_database(
    shared_relay: RelayProcess,
) -> None:
    stored, created = load_or_create(shared_relay.key_file, DeterministicRandom("unused"))
    assert not created

    async def scenario() -> None:
        async with await anonymous(shared_relay) as client:
            hello = await client.call(p.Hello, versions=(1,))
            assert hello.relay_key == stored.public_key
            assert len(hello.nonce) == 32

    run(scenario)


def test_deposit_backlog_live_delivery_and_ack(shared_relay: RelayProcess) -> None:
    ana, ben = Identity("process ana"), Identity("process ben")

    async def scenario() -> None:
        for identity in (ana, ben):
            await (await logged_in(shared_relay, identity)).close()
        async with await anonymous(shared_relay) as sender:
            both = await sender.call(p.Deposit, recipients=(ana.public, ben.public),
                                     envelope=b"to both")
            assert [r.envelope_id for r in both.results] == [1, 1]
            async with await logged_in(shared_relay, ana) as ana_client:
                assert [d.envelope for d in await ana_client.deliveries(1)] == [b"to both"]
                await sender.call(p.Deposit, recipients=(ana.public,), envelope=b"live")
                live = await ana_client.deliveries(1)
                assert (live[0].envelope_id, live[0].envelope) == (2, b"live")
                assert (await ana_client.call(p.Ack, envelope_ids=(1, 2))).deleted == 2
            async with await logged_in(shared_relay, ana) as ana_client:
                assert await ana_client.quiet(0.3) == []  # acked means gone
            async with await logged_in(shared_relay, ben) as ben_client:
                assert [d.envelope for d in await ben_client.deliveries(1)] == [b"to both"]

    run(scenario)


def test_one_client_cannot_read_or_ack_another_mailbox(shared_relay: RelayProcess) -> None:
    cleo, dan = Identity("process cleo"), Identity("process dan")

    async def scenario() -> None:
        await (await logged_in(shared_relay, cleo)).close()
        async with await anonymous(shared_relay) as sender:
            await sender.call(p.Deposit, recipients=(cleo.public,), envelope=b"private")
        async with await logged_in(shared_relay, dan) as dan_client:
            assert await dan_client.quiet(0.3) == []
            assert (await dan_client.call(p.Ack, envelope_ids=(1,))).deleted == 0
        async with await logged_in(shared_relay, cleo) as cleo_client:
            assert [d.envelope for d in await cleo_client.deliveries(1)] == [b"private"]

    run(scenario)


def test_a_replayed_auth_fails(shared_relay: RelayProcess) -> None:
    eve_target = Identity("process fay")

    async def scenario() -> None:
        async with await RelayClient.open(shared_relay.url) as honest:
            hello = await honest.call(p.Hello, versions=(1,))
            signature = eve_target.sign(
                p.auth_message(hello.relay_key, hello.nonce, eve_target.public)
            )
            await honest.call(p.Auth, identity=eve_target.public, signature=signature)
        async with await anonymous(shared_relay) as replayer:
            with pytest.raises(errors.AuthFailed):
                await replayer.call(p.Auth, identity=eve_target.public, signature=signature)

    run(scenario)


def test_an_unauthenticated_client_can_only_deposit_fetch_bundles_and_download(
    shared_relay: RelayProcess,
) -> None:
    gus = Identity("process gus")

    async def scenario() -> None:
        await (await logged_in(shared_relay, gus)).close()
        async with await anonymous(shared_relay) as stranger:
            deposited = await stranger.call(p.Deposit, recipients=(gus.public,), envelope=b"x")
            assert deposited.results[0].envelope_id is not None
            with pytest.raises(errors.NotFound):
                await stranger.call(p.PrekeysFetch, identity=gus.public)
            for request_type, fields in [
                (p.Ack, {"envelope_ids": (1,)}), (p.PrekeysPublish, {}),
                (p.BlobCreate, {"size": 1}), (p.AccountDelete, {}),
                (p.DirectoryPublish, {"display_name": "x"}), (p.DirectorySearch, {"query": "x"}),
            ]:
                with pytest.raises(errors.Unauthenticated):
                    await stranger.call(request_type, **fields)

    run(scenario)


def test_one_time_prekeys_are_handed_out_once_under_concurrent_fetches(
    shared_relay: RelayProcess,
) -> None:
    hana = Identity("process hana")
    random = DeterministicRandom("process prekeys")
    spk_public = x25519_keypair(random)[1]
    opks = tuple(p.OneTimePrekey(prekey_id=n, public_key=x25519_keypair(random)[1])
                 for n in range(20))

    async def scenario() -> None:
        async with await logged_in(shared_relay, hana) as owner:
            published = await owner.call(
                p.PrekeysPublish,
                signed_prekey=p.SignedPrekey(prekey_id=7, public_key=spk_public,
                                             signature=hana.sign(spk_public)),
                one_time_prekeys=opks,
            )
            assert published.one_time_count == 20
            fetchers = [await anonymous(shared_relay) for _ in range(25)]
            bundles = await asyncio.gather(
                *(f.call(p.PrekeysFetch, identity=hana.public) for f in fetchers)
            )
            handed = sorted(b.one_time_prekey.prekey_id for b in bundles if b.one_time_prekey)
            assert handed == list(range(20))  # each exactly once
            assert sum(b.one_time_prekey is None for b in bundles) == 5
            lows = [x for x in await owner.quiet(0.3) if isinstance(x, p.PrekeysLow)]
            assert lows and lows[-1].one_time_count == 0
            for fetcher in fetchers:
                await fetcher.close()

    run(scenario)


def test_blob_upload_in_chunks_and_download_by_id(shared_relay: RelayProcess) -> None:
    ivy = Identity("process ivy")
    content = DeterministicRandom("attachment")(1_300_000)

    async def scenario() -> None:
        async with await logged_in(shared_relay, ivy) as owner:
            assert owner.hello is not None
            chunk = owner.hello.limits.blob_chunk_bytes
            blob = await owner.call(p.BlobCreate, size=len(content))
            for offset in range(0, len(content), chunk):
                await owner.call(p.BlobPut, blob_id=blob.blob_id, offset=offset,
                                 data=content[offset:offset + chunk])
        async with await anonymous(shared_relay) as reader:
            parts = []
            for offset in range(0, len(content), chunk):
                got = await reader.call(p.BlobGet, blob_id=blob.blob_id, offset=offset,
                                        length=chunk)
                parts.append(got.data)
            assert b"".join(parts) == content

    run(scenario)


def test_account_deletion_returns_a_receipt_signed_by_the_relay(
    shared_relay: RelayProcess,
) -> None:
    jo = Identity("process jo")

    async def scenario() -> None:
        async with await logged_in(shared_relay, jo) as client:
            await client.call(p.DirectoryPublish, display_name="Jo Process")
            async with await anonymous(shared_relay) as sender:
                await sender.call(p.Deposit, recipients=(jo.public,), envelope=b"bye")
            await client.deliveries(1)
            assert client.hello is not None
            deleted = await client.call(p.AccountDelete)
            deleted.verify(client.hello.relay_key)
            assert (deleted.receipt.identity, deleted.receipt.envelopes,
                    deleted.receipt.directory_entry) == (jo.public, 1, True)
        async with await anonymous(shared_relay) as sender:
            refused = await sender.call(p.Deposit, recipients=(jo.public,), envelope=b"again")
            assert isinstance(refused.results[0].error(), errors.UnknownMailbox)

    run(scenario)


def test_directory_publish_search_remove(shared_relay: RelayProcess) -> None:
    kim, lou = Identity("process kim"), Identity("process lou")

    async def scenario() -> None:
        async with await logged_in(shared_relay, kim) as kim_client:
            await kim_client.call(p.DirectoryPublish, display_name="Kim Sørensen")
            async with await logged_in(shared_relay, lou) as lou_client:
                found = await lou_client.call(p.DirectorySearch, query="sØren")
                assert p.DirectoryEntry(identity=kim.public, display_name="Kim Sørensen") in (
                    found.entries
                )
                assert (await kim_client.call(p.DirectoryRemove)).removed is True
                again = await lou_client.call(p.DirectorySearch, query="sØren")
                assert all(e.identity != kim.public for e in again.entries)

    run(scenario)
