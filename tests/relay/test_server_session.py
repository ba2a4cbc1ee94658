"""The session rules of docs/PROTOCOL.md ("Session", "Authentication") on an in-process relay."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from relay import errors
from relay import protocol as p
from tests.relay.harness import run, running_relay
from tests.relay.wire_client import Identity

ALICE = Identity("alice")
BOB = Identity("bob")


def test_nothing_but_hello_is_accepted_first(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay, await relay.client() as client:
            with pytest.raises(errors.OutOfOrder):
                await client.call(p.Deposit, recipients=(ALICE.public,), envelope=b"x")
            with pytest.raises(errors.UnsupportedVersion):
                await client.call(p.Hello, versions=(3, 4))
            hello = await client.call(p.Hello, versions=(1, 7))
            assert hello.version == 1
            assert hello.relay_key == relay.identity.public_key
            assert hello.admission == "open"
            assert hello.limits.max_envelope_bytes == relay.config.limits.max_envelope_bytes

    run(scenario)


def test_auth_registers_once_and_then_finds_the_mailbox(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            async with await relay.client() as first:
                assert (await first.login(ALICE)).created is True
            async with await relay.client() as second:
                assert (await second.login(ALICE)).created is False
                with pytest.raises(errors.OutOfOrder):  # one identity per connection
                    await second.call(p.Hello, versions=(1,))

    run(scenario)


def test_a_replayed_signature_fails_on_the_same_and_on_another_connection(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            async with await relay.client() as victim, await relay.client() as attacker:
                hello = await victim.call(p.Hello, versions=(1,))
                message = p.auth_message(hello.relay_key, hello.nonce, ALICE.public)
                signature = ALICE.sign(message)
                # The attacker replays the observed signature on its own connection.
                await attacker.call(p.Hello, versions=(1,))
                with pytest.raises(errors.AuthFailed):
                    await attacker.call(p.Auth, identity=ALICE.public, signature=signature)
                # Its nonce is spent: the same frame again is refused without a new hello.
                with pytest.raises(errors.OutOfOrder):
                    await attacker.call(p.Auth, identity=ALICE.public, signature=signature)
                await victim.call(p.Auth, identity=ALICE.public, signature=signature)
            async with await relay.client() as later:
                # A later connection gets a fresh challenge: the old signature is useless.
                await later.call(p.Hello, versions=(1,))
                with pytest.raises(errors.AuthFailed):
                    await later.call(p.Auth, identity=ALICE.public, signature=signature)

    run(scenario)


def test_a_signature_for_another_relay_or_identity_fails(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay, await relay.client() as client:
            hello = await client.call(p.Hello, versions=(1,))
            other_relay = bytes(32)
            signature = ALICE.sign(p.auth_message(other_relay, hello.nonce, ALICE.public))
            with pytest.raises(errors.AuthFailed):
                await client.call(p.Auth, identity=ALICE.public, signature=signature)
            hello = await client.call(p.Hello, versions=(1,))
            signature = BOB.sign(p.auth_message(hello.relay_key, hello.nonce, ALICE.public))
            with pytest.raises(errors.AuthFailed):
                await client.call(p.Auth, identity=ALICE.public, signature=signature)

    run(scenario)


def test_a_stale_challenge_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            running_relay(tmp_path, auth_window=30.0) as relay,
            await relay.client() as client,
        ):
            hello = await client.call(p.Hello, versions=(1,))
            signature = ALICE.sign(p.auth_message(hello.relay_key, hello.nonce, ALICE.public))
            relay.clock.advance(31)
            with pytest.raises(errors.AuthFailed, match="expired"):
                await client.call(p.Auth, identity=ALICE.public, signature=signature)
            assert (await client.login(ALICE)).created is True

    run(scenario)


@pytest.mark.parametrize(
    ("request_type", "fields"),
    [
        (p.PrekeysPublish, {}),
        (p.Ack, {"envelope_ids": (1,)}),
        (p.BlobCreate, {"size": 10}),
        (p.BlobPut, {"blob_id": bytes(32), "offset": 0, "data": b"x"}),
        (p.BlobDelete, {"blob_id": bytes(32)}),
        (p.AccountDelete, {}),
        (p.DirectoryPublish, {"display_name": "Eve"}),
        (p.DirectoryRemove, {}),
        (p.DirectorySearch, {"query": "a"}),
    ],
    ids=lambda value: getattr(value, "OP", ""),
)
def test_an_unauthenticated_client_cannot_touch_a_mailbox(
    tmp_path: Path, request_type: type[p.Request], fields: dict[str, object]
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay, await relay.client() as client:
            await client.call(p.Hello, versions=(1,))
            with pytest.raises(errors.Unauthenticated):
                await client.call(request_type, **fields)

    run(scenario)


def test_an_unauthenticated_client_may_deposit_fetch_bundles_and_download(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            async with await relay.client() as owner:
                await owner.login(ALICE)
            async with await relay.client() as stranger:
                await stranger.call(p.Hello, versions=(1,))
                deposited = await stranger.call(
                    p.Deposit, recipients=(ALICE.public,), envelope=b"sealed"
                )
                assert deposited.results[0].envelope_id == 1
                with pytest.raises(errors.NotFound):  # allowed, but nothing published
                    await stranger.call(p.PrekeysFetch, identity=ALICE.public)
                with pytest.raises(errors.NotFound):
                    await stranger.call(p.BlobGet, blob_id=bytes(32), offset=0, length=10)

    run(scenario)


def test_a_newer_auth_of_the_same_identity_replaces_the_older_connection(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay:
            older = await relay.client()
            await older.login(ALICE)
            async with await relay.client() as newer:
                await newer.login(ALICE)
                await older.connection.wait_closed()
                assert older.connection.close_code == 4001
                async with await relay.client() as sender:
                    await sender.call(p.Hello, versions=(1,))
                    await sender.call(p.Deposit, recipients=(ALICE.public,), envelope=b"hi")
                delivered = await newer.deliveries(1)
                assert delivered[0].envelope == b"hi"
            await older.close()

    run(scenario)


def test_text_and_garbage_frames_get_errors_and_the_connection_stays_usable(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_relay(tmp_path) as relay, await relay.client() as client:
            await client.send_raw("not binary")
            await client.send_raw(b"\xc1\xc1")
            for _ in range(2):
                orphan = await client.orphans.get()
                assert isinstance(orphan, p.ErrorReply)
                assert (orphan.code, orphan.request_id) == ("malformed", 0)
            assert (await client.login(ALICE)).created is True

    run(scenario)


def test_a_frame_over_the_size_limit_closes_the_connection_with_1009(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_relay(
            tmp_path, max_frame_bytes=64 * 1024, max_envelope_bytes=1024, max_recipients=10,
            blob_chunk_bytes=1024, deposit_burst=10,
        ) as relay:
            client = await relay.client()
            await client.call(p.Hello, versions=(1,))
            await client.send_raw(b"\x00" * (64 * 1024 + 1))
            await client.connection.wait_closed()
            assert client.connection.close_code == 1009
            with pytest.raises(ConnectionClosed):
                await client.send_raw(p.encode(p.Hello(request_id=9, versions=(1,))))
            await client.close()
            async with await relay.client() as other:  # the relay is fine
                await other.login(ALICE)

    run(scenario)
