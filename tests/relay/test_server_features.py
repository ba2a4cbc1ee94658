"""Prekeys, blobs, account deletion, directory and admission on an in-process relay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from crypto.primitives import x25519_keypair
from relay import errors
from relay import protocol as p
from relay.admission import code_hash, new_invitation_code, normalize_code
from tests.relay.harness import run, running_relay
from tests.relay.wire_client import Identity, RelayClient
from tests.support.drbg import DeterministicRandom

ALICE = Identity("alice")
BOB = Identity("bob")


def signed_prekey(identity: Identity, prekey_id: int = 1) -> p.SignedPrekey:
    _, public = x25519_keypair(DeterministicRandom(f"spk {prekey_id}"))
    return p.SignedPrekey(prekey_id=prekey_id, public_key=public, signature=identity.sign(public))


def one_time_prekeys(count: int) -> tuple[p.OneTimePrekey, ...]:
    random = DeterministicRandom("opk")
    return tuple(
        p.OneTimePrekey(prekey_id=100 + n, public_key=x25519_keypair(random)[1])
        for n in range(count)
    )


def test_prekeys_publish_checks_the_signature_and_counts(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay, await relay.client() as alice:
            await alice.login(ALICE)
            forged = p.SignedPrekey(prekey_id=1, public_key=signed_prekey(ALICE).public_key,
                                    signature=BOB.sign(signed_prekey(ALICE).public_key))
            with pytest.raises(errors.BadSignature):
                await alice.call(p.PrekeysPublish, signed_prekey=forged)
            published = await alice.call(p.PrekeysPublish, signed_prekey=signed_prekey(ALICE),
                                          one_time_prekeys=one_time_prekeys(3))
            assert published.one_time_count == 3
            status = await alice.call(p.PrekeysPublish)  # nothing new: just the count
            assert status.one_time_count == 3

    run(scenario)


def test_each_one_time_prekey_is_handed_out_once_under_concurrent_fetches(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, prekeys_low_threshold=3) as relay:
            alice = await relay.client()
            await alice.login(ALICE)
            opks = one_time_prekeys(10)
            await alice.call(p.PrekeysPublish, signed_prekey=signed_prekey(ALICE),
                             one_time_prekeys=opks)
            fetchers = [await RelayClient.open(relay.url) for _ in range(15)]
            for fetcher in fetchers:
                await fetcher.call(p.Hello, versions=(1,))
            bundles = await asyncio.gather(
                *(f.call(p.PrekeysFetch, identity=ALICE.public) for f in fetchers)
            )
            handed = [b.one_time_prekey for b in bundles if b.one_time_prekey is not None]
            assert sorted(k.prekey_id for k in handed) == [k.prekey_id for k in opks]
            assert sum(b.one_time_prekey is None for b in bundles) == 5
            assert all(b.signed_prekey == signed_prekey(ALICE) for b in bundles)
            lows = [push for push in await alice.quiet() if isinstance(push, p.PrekeysLow)]
            assert lows and lows[-1].one_time_count == 0
            for client in [*fetchers, alice]:
                await client.close()

    run(scenario)


def test_fetching_a_bundle_names_what_is_missing(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay, await relay.client() as client:
            await client.login(ALICE)
            with pytest.raises(errors.UnknownMailbox):
                await client.call(p.PrekeysFetch, identity=BOB.public)
            with pytest.raises(errors.NotFound):
                await client.call(p.PrekeysFetch, identity=ALICE.public)

    run(scenario)


def test_blobs_upload_in_chunks_download_without_auth_and_respect_limits(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, blob_max_bytes=10_000, blob_chunk_bytes=4096,
                                 blob_quota_bytes=15_000) as relay:
            content = bytes(range(256)) * 39  # 9,984 bytes
            async with await relay.client() as alice:
                await alice.login(ALICE)
                with pytest.raises(errors.TooLarge):
                    await alice.call(p.BlobCreate, size=10_001)
                created = await alice.call(p.BlobCreate, size=len(content), ttl=3600)
                assert created.expires_at == int(relay.clock.wall) + 3600
                with pytest.raises(errors.QuotaExceeded):  # 9,984 + 9,984 > 15,000
                    await alice.call(p.BlobCreate, size=len(content))
                blob_id = created.blob_id
                with pytest.raises(errors.TooLarge):
                    await alice.call(p.BlobPut, blob_id=blob_id, offset=0, data=content[:4097])
                with pytest.raises(errors.NotFound, match="order"):
                    await alice.call(p.BlobPut, blob_id=blob_id, offset=10, data=b"x")
                for offset in range(0, len(content), 4096):
                    written = await alice.call(p.BlobPut, blob_id=blob_id, offset=offset,
                                               data=content[offset:offset + 4096])
                assert written.received == len(content)
            async with await relay.client() as anyone:
                await anyone.call(p.Hello, versions=(1,))
                parts = [
                    (await anyone.call(p.BlobGet, blob_id=blob_id, offset=o, length=4096)).data
                    for o in range(0, len(content), 4096)
                ]
                assert b"".join(parts) == content
                with pytest.raises(errors.NotFound):
                    await anyone.call(p.BlobGet, blob_id=bytes(32), offset=0, length=10)
                relay.clock.advance(3601)
                with pytest.raises(errors.NotFound):  # expired
                    await anyone.call(p.BlobGet, blob_id=blob_id, offset=0, length=10)

    run(scenario)


def test_blob_delete_only_deletes_the_owners_blob(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            running_relay(tmp_path) as relay,
            await relay.client() as alice,
            await relay.client() as bob,
        ):
            await alice.login(ALICE)
            await bob.login(BOB)
            blob_id = (await alice.call(p.BlobCreate, size=3)).blob_id
            await alice.call(p.BlobPut, blob_id=blob_id, offset=0, data=b"abc")
            assert (await bob.call(p.BlobDelete, blob_id=blob_id)).removed is False
            fetched = await bob.call(p.BlobGet, blob_id=blob_id, offset=0, length=3)
            assert fetched.data == b"abc"
            assert (await alice.call(p.BlobDelete, blob_id=blob_id)).removed is True
            with pytest.raises(errors.NotFound):
                await bob.call(p.BlobGet, blob_id=blob_id, offset=0, length=3)

    run(scenario)


def test_account_deletion_removes_everything_and_returns_a_signed_receipt(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            async with await relay.client() as alice:
                await alice.login(ALICE)
                await alice.call(p.PrekeysPublish, signed_prekey=signed_prekey(ALICE),
                                 one_time_prekeys=one_time_prekeys(4))
                blob_id = (await alice.call(p.BlobCreate, size=2)).blob_id
                await alice.call(p.BlobPut, blob_id=blob_id, offset=0, data=b"hi")
                await alice.call(p.DirectoryPublish, display_name="Alice Martin")
                async with await relay.client() as depositor:
                    await depositor.call(p.Hello, versions=(1,))
                    for _ in range(2):
                        await depositor.call(p.Deposit, recipients=(ALICE.public,), envelope=b"m")
                await alice.deliveries(2)
                assert alice.hello is not None
                relay_key = alice.hello.relay_key
                deleted = await alice.call(p.AccountDelete)
                deleted.verify(relay_key)
                receipt = deleted.receipt
                assert (receipt.identity, receipt.envelopes, receipt.one_time_prekeys,
                        receipt.blobs, receipt.directory_entry) == (ALICE.public, 2, 4, 1, True)
                assert receipt.deleted_at == int(relay.clock.wall)
                with pytest.raises(errors.Unauthenticated):  # the session ended with it
                    await alice.call(p.Ack, envelope_ids=(1,))
                with pytest.raises(errors.UnknownMailbox):
                    await alice.call(p.PrekeysFetch, identity=ALICE.public)
                with pytest.raises(errors.NotFound):
                    await alice.call(p.BlobGet, blob_id=blob_id, offset=0, length=2)
                refused = await alice.call(p.Deposit, recipients=(ALICE.public,), envelope=b"m")
                assert isinstance(refused.results[0].error(), errors.UnknownMailbox)
            async with await relay.client() as bob:
                await bob.login(BOB)
                assert (await bob.call(p.DirectorySearch, query="alice")).entries == ()

    run(scenario)


def test_directory_is_opt_in_searchable_by_members_and_removable(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            running_relay(tmp_path) as relay,
            await relay.client() as alice,
            await relay.client() as bob,
        ):
            await alice.login(ALICE)
            await bob.login(BOB)
            assert (await bob.call(p.DirectorySearch, query="Zo")).entries == ()
            await alice.call(p.DirectoryPublish, display_name="Zoë Martin")
            found = await bob.call(p.DirectorySearch, query="zoë")
            assert found.entries == (
                p.DirectoryEntry(identity=ALICE.public, display_name="Zoë Martin"),
            )
            assert (await alice.call(p.DirectoryRemove)).removed is True
            assert (await alice.call(p.DirectoryRemove)).removed is False
            assert (await bob.call(p.DirectorySearch, query="zo")).entries == ()

    run(scenario)


def test_invitation_mode_admits_a_code_once_and_members_after(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, admission="invite") as relay:
            code = new_invitation_code(DeterministicRandom("invite"))
            normalized = normalize_code(code)
            assert normalized is not None
            await relay.store.add_invitation(code_hash(normalized), 1)
            async with await relay.client() as client:
                with pytest.raises(errors.InvitationRequired):
                    await client.login(ALICE)
            async with await relay.client() as client:
                with pytest.raises(errors.InvitationInvalid):
                    await client.login(ALICE, invitation="AAAA-BBBB")
            async with await relay.client() as client:  # typed loosely: lower case, spaces
                typed = code.lower().replace("-", " ")
                assert (await client.login(ALICE, invitation=typed)).created is True
            async with await relay.client() as client:  # a member needs no code any more
                assert (await client.login(ALICE)).created is False
            async with await relay.client() as client:  # the code was for one registration
                with pytest.raises(errors.InvitationInvalid):
                    await client.login(BOB, invitation=code)
            async with await relay.client() as client:  # depositing needs no admission
                await client.call(p.Hello, versions=(1,))
                reply = await client.call(p.Deposit, recipients=(ALICE.public,), envelope=b"x")
                assert reply.results[0].envelope_id == 1

    run(scenario)


def test_allowlist_mode_admits_only_listed_keys(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path, admission="allowlist",
                                 allow=[ALICE.public.hex()]) as relay:
            async with await relay.client() as client:
                assert (await client.login(ALICE)).created is True
            async with await relay.client() as client:
                with pytest.raises(errors.Forbidden):
                    await client.login(BOB)

    run(scenario)
