"""RelayConnection and RelayPool against real ``sourdine-relay`` processes on 127.0.0.1.

No relay is mocked: every test talks to a relay started with ``python -m relay`` (port 0, a
temporary database). Each test uses its own identities, so tests sharing the module's relay
do not see each other's mailboxes. Every scenario runs under :func:`run`, which also checks
that nothing is left running and that no task exception went unretrieved.
"""

from __future__ import annotations

import asyncio
import gc
import ssl
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from app.adapters.relay_pool import RelayPool, relay_identity
from app.adapters.transport import (
    Backoff,
    ConnectionReplaced,
    ConnectionSettings,
    ConnectionState,
    Delivery,
    IdentityRequired,
    InvalidSettings,
    RelayConnection,
    RelayRefused,
    RelayUnreachable,
    TransportClosed,
)
from crypto.primitives import ed25519_keypair, ed25519_sign, x25519_keypair
from relay import errors as relay_errors
from relay import protocol as p
from relay.identity import load_or_create
from tests.integration.conftest import REPO, RelayProcess, start_relay
from tests.support.drbg import DeterministicRandom

T = TypeVar("T")

FAST_BACKOFF = Backoff(initial=0.05, maximum=0.4, multiplier=2.0, jitter=0.5)
FAST = ConnectionSettings(request_timeout=10.0, open_timeout=5.0, close_timeout=1.0)
OFF, CONNECTING, CONNECTED, AUTHENTICATED = (
    ConnectionState.OFFLINE, ConnectionState.CONNECTING, ConnectionState.CONNECTED,
    ConnectionState.AUTHENTICATED,
)


# -- helpers shared with test_transport_reconnect.py -------------------------------------------
def run(scenario: Callable[[], Awaitable[T]], timeout: float = 60) -> T:
    """Run ``scenario`` on a fresh loop; fail if a task is left or an exception went unseen."""
    problems: list[str] = []

    async def main() -> T:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: problems.append(
            f"{context.get('message')}: {context.get('exception')!r}"
        ))
        result = await asyncio.wait_for(scenario(), timeout)
        await asyncio.sleep(0)
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not leftover, f"tasks still running after the scenario: {leftover}"
        return result

    result = asyncio.run(main())
    gc.collect()  # unretrieved task exceptions are reported when the task is collected
    assert not problems, problems
    return result


def identity(seed: str) -> tuple[bytes, bytes]:
    """A fixed Ed25519 identity: (64-byte secret, public key)."""
    return ed25519_keypair(DeterministicRandom(seed))


async def until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.01)


class Inbox:
    """Records what a connection hands over: deliveries, prekeys_low counts, states."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.prekeys_low: list[int] = []
        self.states: list[ConnectionState] = []

    async def on_delivery(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)

    async def on_prekeys_low(self, count: int) -> None:
        self.prekeys_low.append(count)

    def on_state(self, state: ConnectionState) -> None:
        self.states.append(state)

    @property
    def envelopes(self) -> list[bytes]:
        return [d.envelope for d in self.deliveries]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        await until(lambda: len(self.deliveries) >= count, timeout, f"{count} deliveries")
        return self.deliveries[:count]


def owner(url: str, secret: bytes, inbox: Inbox, **kwargs: object) -> RelayConnection:
    """An authenticated connection whose callbacks record into ``inbox``."""
    return RelayConnection(
        url, identity_secret=secret, on_delivery=inbox.on_delivery,
        on_prekeys_low=inbox.on_prekeys_low, on_state=inbox.on_state,
        backoff=FAST_BACKOFF, settings=FAST, **kwargs,  # type: ignore[arg-type]
    )


def anonymous(url: str, **kwargs: object) -> RelayConnection:
    """An unauthenticated connection (a sender depositing on a contact's relay)."""
    return RelayConnection(url, backoff=FAST_BACKOFF, settings=FAST, **kwargs)  # type: ignore[arg-type]


async def register(url: str, secret: bytes) -> None:
    """Create the mailbox of ``secret``'s identity (first auth), then disconnect."""
    connection = owner(url, secret, Inbox())
    try:
        await connection.wait_authenticated(10)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    process = start_relay(
        tmp_path_factory.mktemp("transport"), "--max-connections-per-address", "0",
        "--prekeys-low-threshold", "3",
    )
    yield process
    assert process.stop() == 0, process.log_text()


# -- settings ----------------------------------------------------------------------------------
def test_backoff_grows_by_the_multiplier_up_to_the_maximum_minus_the_jitter() -> None:
    backoff = Backoff(initial=0.5, maximum=30.0, multiplier=2.0, jitter=0.5)
    assert [backoff.delay(n, lambda: 0.0) for n in range(8)] == [
        0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0
    ]
    assert backoff.delay(3, lambda: 0.5) == 3.0  # 4 s less a quarter
    assert backoff.delay(10**6, lambda: 0.999) == pytest.approx(15.015)  # no overflow
    full = Backoff(initial=1.0, maximum=8.0, jitter=1.0)
    assert full.delay(2, lambda: 0.75) == 1.0


@pytest.mark.parametrize(("fields", "words"), [
    ({"initial": 0.0}, "initial"), ({"initial": 5.0, "maximum": 1.0}, "maximum"),
    ({"maximum": float("inf")}, "finite"), ({"multiplier": 0.5}, "multiplier"),
    ({"jitter": 1.5}, "jitter"), ({"initial": float("nan")}, "initial"),
])
def test_impossible_backoffs_are_refused_with_a_readable_error(
    fields: dict[str, float], words: str
) -> None:
    with pytest.raises(InvalidSettings, match=words):
        Backoff(**fields)


def test_bad_urls_keys_and_settings_are_refused_before_any_connection() -> None:
    secret, _ = identity("settings")
    for url in ("http://127.0.0.1:1/", "ws://", "sourdine://h:1/x", "ws://h:99999/", "ws://h:0"):
        with pytest.raises(InvalidSettings):
            RelayConnection(url)
    with pytest.raises(InvalidSettings, match="wss://"):
        RelayConnection("ws://127.0.0.1:1/", ssl=ssl.create_default_context())
    with pytest.raises(InvalidSettings, match="64-byte"):
        RelayConnection("ws://127.0.0.1:1/", identity_secret=secret[:32])
    with pytest.raises(InvalidSettings, match="request_timeout"):
        ConnectionSettings(request_timeout=0)


def test_requests_that_need_an_identity_fail_at_once_on_an_anonymous_connection() -> None:
    async def scenario() -> None:
        connection = RelayConnection("ws://127.0.0.1:9/")
        with pytest.raises(IdentityRequired):
            await connection.ack([1])
        with pytest.raises(IdentityRequired):
            await connection.directory_search("x")
        with pytest.raises(IdentityRequired):
            await connection.wait_authenticated(1)
        assert connection.state is OFF  # nothing was started for them
        await connection.close()

    run(scenario)


# -- authentication and delivery -----------------------------------------------------------------
def test_an_identity_authenticates_and_each_state_is_reported(relay: RelayProcess) -> None:
    secret, public = identity("auth ana")
    relay_key = load_or_create(relay.key_file, DeterministicRandom("unused"))[0].public_key

    async def scenario() -> None:
        inbox = Inbox()
        connection = owner(relay.url, secret, inbox)
        await connection.start()
        await connection.wait_authenticated(10)
        assert connection.state is AUTHENTICATED
        assert inbox.states == [CONNECTING, CONNECTED, AUTHENTICATED]
        assert connection.identity == public
        assert connection.relay_key == relay_key
        assert connection.limits is not None and connection.limits.max_envelope_bytes == 65536
        await connection.close()
        assert inbox.states[-1] is OFF and connection.state is OFF

    run(scenario)


def test_an_anonymous_connection_stops_at_connected(relay: RelayProcess) -> None:
    async def scenario() -> None:
        states: list[ConnectionState] = []
        connection = RelayConnection(relay.url, on_state=states.append, settings=FAST)
        await connection.wait_ready(10)
        assert states == [CONNECTING, CONNECTED]
        await connection.close()

    run(scenario)


def test_deposits_from_an_anonymous_sender_reach_the_owner_live_in_order(
    relay: RelayProcess,
) -> None:
    secret, public = identity("live ana")

    async def scenario() -> None:
        inbox = Inbox()
        ana = owner(relay.url, secret, inbox)
        sender = anonymous(relay.url)
        await ana.wait_authenticated(10)
        stored = []
        for number in range(5):
            outcomes = await sender.deposit([public], b"envelope %d" % number)
            assert outcomes[0].code is None and outcomes[0].envelope_id is not None
            stored.append(outcomes[0].envelope_id)
        delivered = await inbox.wait_for(5)
        assert [d.envelope for d in delivered] == [b"envelope %d" % n for n in range(5)]
        assert [d.envelope_id for d in delivered] == stored
        assert all(d.expires_at > 0 for d in delivered)
        await asyncio.gather(ana.close(), sender.close())

    run(scenario)


def test_the_backlog_comes_first_on_connect_then_live_deposits(relay: RelayProcess) -> None:
    secret, public = identity("backlog ana")

    async def scenario() -> None:
        await register(relay.url, secret)
        sender = anonymous(relay.url)
        for number in range(3):
            await sender.deposit([public], b"while away %d" % number)
        inbox = Inbox()
        ana = owner(relay.url, secret, inbox)
        await ana.start()
        await inbox.wait_for(3)
        await sender.deposit([public], b"live")
        await inbox.wait_for(4)
        assert inbox.envelopes == [b"while away 0", b"while away 1", b"while away 2", b"live"]
        await asyncio.gather(ana.close(), sender.close())

    run(scenario)


def test_a_backlog_grouped_into_one_push_is_handed_over_one_delivery_at_a_time(
    relay: RelayProcess,
) -> None:
    secret, public = identity("grouped ana")

    async def scenario() -> None:
        await register(relay.url, secret)
        sender = anonymous(relay.url)
        for number in range(12):  # a version 2 relay sends these as one deliver_many push
            await sender.deposit([public], b"grouped %02d" % number)
        handled: list[bytes] = []
        busy = most_busy = 0

        async def one_at_a_time(delivery: Delivery) -> None:
            nonlocal busy, most_busy
            busy += 1
            most_busy = max(most_busy, busy)
            await asyncio.sleep(0.002)
            handled.append(delivery.envelope)
            busy -= 1

        ana = RelayConnection(relay.url, identity_secret=secret, on_delivery=one_at_a_time,
                              backoff=FAST_BACKOFF, settings=FAST)
        await ana.start()
        await until(lambda: len(handled) == 12, what="12 handled deliveries")
        assert handled == [b"grouped %02d" % n for n in range(12)]
        assert most_busy == 1
        await asyncio.gather(ana.close(), sender.close())

    run(scenario)


def test_each_recipient_gets_its_own_outcome(relay: RelayProcess) -> None:
    ana_secret, ana = identity("outcome ana")
    _, nobody = identity("outcome nobody")

    async def scenario() -> None:
        await register(relay.url, ana_secret)
        sender = anonymous(relay.url)
        first, second = await sender.deposit([ana, nobody], b"to both", ttl_seconds=60)
        assert first.envelope_id is not None and first.code is None
        assert second.envelope_id is None and second.code == "unknown_mailbox"
        await sender.close()

    run(scenario)


def test_acked_envelopes_are_gone_and_unacked_ones_come_back_on_the_next_connection(
    relay: RelayProcess,
) -> None:
    secret, public = identity("ack ana")

    async def scenario() -> None:
        first_inbox = Inbox()
        ana = owner(relay.url, secret, first_inbox)
        sender = anonymous(relay.url)
        await ana.wait_authenticated(10)
        for name in (b"one", b"two", b"three"):
            await sender.deposit([public], name)
        one, two, _ = await first_inbox.wait_for(3)
        assert await ana.ack([one.envelope_id, two.envelope_id]) == 2
        assert await ana.ack([one.envelope_id]) == 0  # already gone: harmless
        await ana.close()

        second_inbox = Inbox()
        again = owner(relay.url, secret, second_inbox)
        await again.start()
        await second_inbox.wait_for(1)
        await asyncio.sleep(0.2)  # nothing else may follow
        assert second_inbox.envelopes == [b"three"]
        await asyncio.gather(again.close(), sender.close())

    run(scenario)


def test_deliveries_are_handed_over_one_at_a_time_and_the_handler_may_ack_inside(
    relay: RelayProcess,
) -> None:
    secret, public = identity("serial ana")

    async def scenario() -> None:
        busy = 0
        most_busy = 0
        handled: list[int] = []
        holder: list[RelayConnection] = []

        async def slow_commit_then_ack(delivery: Delivery) -> None:
            nonlocal busy, most_busy
            busy += 1
            most_busy = max(most_busy, busy)
            await asyncio.sleep(0.01)  # the core's durable commit
            handled.append(delivery.envelope_id)
            await holder[0].ack([delivery.envelope_id])
            busy -= 1

        ana = RelayConnection(relay.url, identity_secret=secret, on_delivery=slow_commit_then_ack,
                              backoff=FAST_BACKOFF, settings=FAST)
        holder.append(ana)
        sender = anonymous(relay.url)
        await ana.wait_authenticated(10)
        await asyncio.gather(*(sender.deposit([public], b"%02d" % n) for n in range(20)))
        await until(lambda: len(handled) == 20, what="20 handled deliveries")
        assert most_busy == 1
        assert handled == sorted(set(handled))  # each once, in the relay's (commit) order
        await ana.close()

        check = Inbox()
        after = owner(relay.url, secret, check)
        await after.wait_authenticated(10)
        await asyncio.sleep(0.2)
        assert check.deliveries == []  # every one was acked from inside the handler
        await asyncio.gather(after.close(), sender.close())

    run(scenario)


def test_a_failing_handler_does_not_stop_later_deliveries(relay: RelayProcess) -> None:
    secret, public = identity("failing ana")

    async def scenario() -> None:
        seen: list[bytes] = []

        async def fails_on_the_first(delivery: Delivery) -> None:
            seen.append(delivery.envelope)
            if delivery.envelope == b"first":
                raise RuntimeError("the store is full")

        ana = RelayConnection(relay.url, identity_secret=secret, on_delivery=fails_on_the_first,
                              backoff=FAST_BACKOFF, settings=FAST)
        sender = anonymous(relay.url)
        await ana.wait_authenticated(10)
        await sender.deposit([public], b"first")
        await sender.deposit([public], b"second")
        await until(lambda: seen == [b"first", b"second"], what="both deliveries")
        await ana.close()
        inbox = Inbox()
        again = owner(relay.url, secret, inbox)
        await again.start()
        await inbox.wait_for(2)  # neither was acked: both come back
        assert inbox.envelopes == [b"first", b"second"]
        await asyncio.gather(again.close(), sender.close())

    run(scenario)


# -- other operations and error replies ---------------------------------------------------------
def signed_prekey(secret: bytes, seed: str, prekey_id: int = 1) -> p.SignedPrekey:
    _, public = x25519_keypair(DeterministicRandom(seed))
    return p.SignedPrekey(prekey_id=prekey_id, public_key=public,
                          signature=ed25519_sign(secret, public))


def one_time_prekeys(seed: str, count: int) -> list[p.OneTimePrekey]:
    random = DeterministicRandom(seed)
    return [p.OneTimePrekey(prekey_id=n, public_key=x25519_keypair(random)[1])
            for n in range(count)]


def test_prekeys_are_published_fetched_once_each_and_low_stock_is_signalled(
    relay: RelayProcess,
) -> None:
    secret, public = identity("prekeys ana")

    async def scenario() -> None:
        inbox = Inbox()
        ana = owner(relay.url, secret, inbox)
        spk = signed_prekey(secret, "prekeys spk")
        opks = one_time_prekeys("prekeys opk", 4)
        assert await ana.publish_prekeys(spk, opks) == 4
        assert await ana.publish_prekeys(None) == 4  # a publish of nothing reads the count
        fetcher = anonymous(relay.url)
        first = await fetcher.fetch_bundle(public)
        second = await fetcher.fetch_bundle(public)
        assert first.signed_prekey == spk and second.signed_prekey == spk
        assert first.one_time_prekey is not None and second.one_time_prekey is not None
        assert {first.one_time_prekey, second.one_time_prekey} <= set(opks)
        assert first.one_time_prekey != second.one_time_prekey
        await until(lambda: inbox.prekeys_low == [2], what="prekeys_low with 2 left")
        await asyncio.gather(ana.close(), fetcher.close())

    run(scenario)


def test_more_one_time_prekeys_than_one_frame_holds_are_sent_in_several(
    relay: RelayProcess,
) -> None:
    secret, public = identity("many prekeys ana")

    async def scenario() -> None:
        ana = owner(relay.url, secret, Inbox())
        spk = signed_prekey(secret, "many spk")
        assert await ana.publish_prekeys(spk, one_time_prekeys("many opk", 450)) == 450
        bundle = await ana.fetch_bundle(public)
        assert bundle.signed_prekey == spk
        await ana.close()

    run(scenario)


def test_error_replies_become_relay_refused_with_the_relays_code(relay: RelayProcess) -> None:
    secret, public = identity("errors ana")
    _, stranger = identity("errors stranger")

    async def scenario() -> None:
        ana = owner(relay.url, secret, Inbox())
        await ana.wait_authenticated(10)
        with pytest.raises(RelayRefused) as unknown:
            await ana.fetch_bundle(stranger)
        assert unknown.value.code == "unknown_mailbox"
        assert isinstance(unknown.value.error, relay_errors.UnknownMailbox)
        with pytest.raises(RelayRefused) as nothing:
            await ana.fetch_bundle(public)  # registered, nothing published
        assert nothing.value.code == "not_found"
        forged = p.SignedPrekey(prekey_id=1, public_key=bytes(32), signature=bytes(64))
        with pytest.raises(RelayRefused) as forged_error:
            await ana.publish_prekeys(forged)
        assert forged_error.value.code == "bad_signature"
        assert "signature" in str(forged_error.value)
        with pytest.raises(RelayRefused) as big:
            await ana.deposit([public], bytes(65537))
        assert big.value.code == "too_large"
        # The connection is still usable after refusals.
        assert (await ana.deposit([public], b"fine"))[0].envelope_id is not None
        await ana.close()

    run(scenario)


def test_directory_publish_search_and_remove(relay: RelayProcess) -> None:
    secret, public = identity("directory ana")

    async def scenario() -> None:
        ana = owner(relay.url, secret, Inbox())
        await ana.directory_publish("Ana Directorytest")
        found = await ana.directory_search("directorytest")
        assert [(e.identity, e.display_name) for e in found] == [(public, "Ana Directorytest")]
        assert await ana.directory_remove() is True
        assert await ana.directory_remove() is False
        assert await ana.directory_search("directorytest") == []
        with pytest.raises(RelayRefused) as bad:
            await ana.directory_publish("\x00")
        assert bad.value.code == "malformed"
        await ana.close()

    run(scenario)


def test_a_blob_larger_than_a_chunk_uploads_and_downloads_whole(tmp_path: Path) -> None:
    relay = start_relay(tmp_path / "blobs", "--blob-chunk-bytes", "1000")
    secret, _ = identity("blob ana")
    data = DeterministicRandom("blob data")(3500)

    async def scenario() -> None:
        ana = owner(relay.url, secret, Inbox())
        created = await ana.upload_blob(data, ttl_seconds=600)
        reader = anonymous(relay.url)
        assert await reader.download_blob(created.blob_id, max_bytes=10_000) == data
        assert await reader.blob_get(created.blob_id, 3000, 1000) == data[3000:]
        assert await ana.blob_delete(created.blob_id) is True
        with pytest.raises(RelayRefused) as gone:
            await reader.download_blob(created.blob_id, max_bytes=10_000)
        assert gone.value.code == "not_found"
        await asyncio.gather(ana.close(), reader.close())

    try:
        run(scenario)
    finally:
        relay.kill()


def test_account_deletion_returns_a_verified_receipt_and_never_reconnects(
    relay: RelayProcess,
) -> None:
    secret, public = identity("delete ana")
    relay_key = load_or_create(relay.key_file, DeterministicRandom("unused"))[0].public_key

    async def scenario() -> None:
        inbox = Inbox()
        ana = owner(relay.url, secret, inbox)
        sender = anonymous(relay.url)
        await ana.wait_authenticated(10)
        await sender.deposit([public], b"pending")
        await inbox.wait_for(1)
        deleted = await ana.delete_account(pinned_relay_key=relay_key)
        assert deleted.receipt.identity == public
        assert deleted.receipt.relay_key == relay_key
        assert deleted.receipt.envelopes == 1
        assert ana.closed and ana.state is OFF
        with pytest.raises(TransportClosed):
            await ana.deposit([public], b"after")
        await asyncio.sleep(0.3)  # a reconnect would register the identity again
        (outcome,) = await sender.deposit([public], b"after deletion")
        assert outcome.code == "unknown_mailbox"
        await sender.close()

    run(scenario)


def test_a_newer_connection_of_the_same_identity_replaces_the_older_for_good(
    relay: RelayProcess,
) -> None:
    secret, public = identity("twice ana")

    async def scenario() -> None:
        old_inbox, new_inbox = Inbox(), Inbox()
        old = owner(relay.url, secret, old_inbox)
        await old.wait_authenticated(10)
        new = owner(relay.url, secret, new_inbox)
        await new.wait_authenticated(10)
        await until(lambda: old.state is OFF, what="the old connection to stop")
        with pytest.raises(ConnectionReplaced):
            await old.ack([1])
        assert isinstance(old.last_error, ConnectionReplaced)
        await asyncio.sleep(0.3)  # no fight: the old one does not come back
        assert old.state is OFF and new.state is AUTHENTICATED
        sender = anonymous(relay.url)
        await sender.deposit([public], b"for the new one")
        await new_inbox.wait_for(1)
        assert old_inbox.deliveries == []
        await asyncio.gather(old.close(), new.close(), sender.close())

    run(scenario)


def test_an_invitation_relay_refuses_for_good_without_a_code_and_admits_with_one(
    tmp_path: Path,
) -> None:
    relay = start_relay(tmp_path / "invite", "--admission", "invite")
    code = subprocess.run(
        [sys.executable, "-m", "relay", "invite", "--database", str(relay.database)],
        cwd=REPO, check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()
    secret, _ = identity("invited ana")

    async def scenario() -> None:
        watcher = Inbox()
        uninvited = owner(relay.url, secret, watcher)
        with pytest.raises(RelayRefused) as refused:
            await uninvited.wait_authenticated(10)
        assert refused.value.code == "invitation_required"
        assert isinstance(refused.value.error, relay_errors.InvitationRequired)
        states_seen = len(watcher.states)
        await asyncio.sleep(0.3)  # with a 50 ms backoff, a retry would have happened by now
        assert uninvited.state is OFF and len(watcher.states) == states_seen
        with pytest.raises(RelayRefused):  # every request gets the same answer, at once
            await uninvited.deposit([bytes(32)], b"x", timeout=0.1)
        await uninvited.close()

        invited = owner(relay.url, secret, Inbox(), invitation=code)
        await invited.wait_authenticated(10)
        await invited.close()
        again = owner(relay.url, secret, Inbox())  # registered: no code needed any more
        await again.wait_authenticated(10)
        await again.close()

    try:
        run(scenario)
    finally:
        relay.kill()


def test_wss_with_a_trusted_certificate_works_and_an_untrusted_one_does_not(
    tmp_path: Path,
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    relay = start_relay(tmp_path / "tls", "--tls-cert", str(cert), "--tls-key", str(key))
    url = f"wss://127.0.0.1:{relay.port}/"
    secret, _ = identity("tls ana")

    async def scenario() -> None:
        trusted = owner(url, secret, Inbox(), ssl=ssl.create_default_context(cafile=str(cert)))
        await trusted.wait_authenticated(10)
        await trusted.close()
        untrusted = anonymous(url)  # the system's CAs do not know this certificate
        with pytest.raises(RelayUnreachable, match="certificate"):
            await untrusted.wait_ready(1.0)
        await untrusted.close()

    try:
        run(scenario)
    finally:
        relay.kill()


# -- the pool ------------------------------------------------------------------------------------
def test_relay_identity_ignores_spelling_differences() -> None:
    assert relay_identity("ws://Relay.Example:80/") == relay_identity("ws://relay.example")
    assert relay_identity("wss://relay.example/") == ("wss", "relay.example", 443)
    assert relay_identity("ws://relay.example:8443") != relay_identity("wss://relay.example:8443")


def test_the_pool_authenticates_on_its_own_relay_and_deposits_anonymously_elsewhere(
    relay: RelayProcess, tmp_path: Path,
) -> None:
    other = start_relay(tmp_path / "other")
    ana_secret, ana = identity("pool ana")
    ben_secret, ben = identity("pool ben")

    async def scenario() -> None:
        await register(other.url, ben_secret)  # ben lives on the other relay
        inbox = Inbox()
        pool = RelayPool(relay.url, ana_secret, on_delivery=inbox.on_delivery,
                         on_state=inbox.on_state, backoff=FAST_BACKOFF, settings=FAST)
        await pool.start()
        await pool.own().wait_authenticated(10)
        assert pool.for_url(relay.url + "/") is pool.own()
        foreign = pool.for_url(other.url)
        assert pool.for_url(other.url + "/") is foreign
        assert foreign.identity is None
        (outcome,) = await foreign.deposit([ben], b"to ben, elsewhere")
        assert outcome.envelope_id is not None
        assert foreign.state is CONNECTED

        ben_inbox = Inbox()
        ben_connection = owner(other.url, ben_secret, ben_inbox)
        await ben_connection.start()
        (delivered,) = await ben_inbox.wait_for(1)
        assert delivered.envelope == b"to ben, elsewhere"
        await anonymous_deposit(relay.url, ana, b"to ana, at home")
        await inbox.wait_for(1)
        assert inbox.envelopes == [b"to ana, at home"]

        await pool.close()
        assert pool.own().closed and foreign.closed
        with pytest.raises(TransportClosed):
            pool.for_url("ws://127.0.0.1:9/")
        await ben_connection.close()

    try:
        run(scenario)
    finally:
        other.kill()


async def anonymous_deposit(url: str, mailbox: bytes, envelope: bytes) -> None:
    sender = anonymous(url)
    try:
        await sender.deposit([mailbox], envelope)
    finally:
        await sender.close()
