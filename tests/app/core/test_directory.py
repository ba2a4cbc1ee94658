"""The relay's opt-in directory from the client: publish, remove, search, add a contact from
a search result. Core tests on a real in-process relay; the CLI on a real relay process.
Keys live in an in-memory keyring backend, profiles in real SQLCipher databases."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app import cli
from app.adapters.transport import RelayRefused
from app.core.errors import AccountError, ContactError
from app.core.events import ContactAdded, MessageReceived, PrekeysPublished
from tests.app.core.support import MemoryKeyring, new_client, next_event, run
from tests.integration.conftest import RelayProcess, start_relay
from tests.relay.harness import Relay, running_relay


@contextlib.asynccontextmanager
async def relay_at(tmp_path: Path) -> AsyncIterator[Relay]:
    (tmp_path / "relay").mkdir(exist_ok=True)
    async with running_relay(tmp_path / "relay") as relay:
        yield relay


def test_publish_search_add_talk_and_remove(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            a_events, b_events = alice.subscribe(), bob.subscribe()
            await alice.start()
            await bob.start()
            await next_event(b_events, PrekeysPublished)
            assert await alice.directory_search("bob") == []  # opt-in: nothing by default
            assert await bob.directory_publish() == "Bob"
            (listing,) = await alice.directory_search("bo")
            assert (listing.identity_key, listing.display_name) == (bob.identity_key, "Bob")
            assert listing.relay_url == alice.account.relay_url
            assert (listing.contact_id, listing.own) == (None, False)
            assert str(listing.address) == bob.address
            contact = await alice.add_contact_from_directory(listing)
            added = await next_event(a_events, ContactAdded)
            assert added.contact == contact and added.by_user
            assert (contact.display_name, contact.identity_key, contact.relay_url) == (
                "Bob", bob.identity_key, bob.account.relay_url)
            assert not contact.verified
            (again,) = await alice.directory_search("BOB")  # case ignored
            assert again.contact_id == contact.contact_id
            await alice.add_contact_from_directory(again)  # the same key: nothing new
            assert [c.display_name for c in alice.contacts()] == ["Bob"]
            await alice.send_text("bob", "found you in the directory")
            got = await next_event(b_events, MessageReceived)
            assert got.message.body == "found you in the directory"
            assert alice.safety_number("bob").digits == bob.safety_number("alice").digits
            assert await bob.directory_remove() is True
            assert await alice.directory_search("bob") == []
            assert await bob.directory_remove() is False
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_listed_name_never_takes_over_an_existing_contact(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            bob = await new_client(tmp_path, "Bob", relay.url)
            mallory = await new_client(tmp_path, "Mallory", relay.url)
            for client in (alice, bob, mallory):
                await client.start()
            await alice.add_contact(bob.invitation_link)
            assert await mallory.directory_publish("Bob") == "Bob"
            assert await alice.directory_publish("Alice at Work") == "Alice at Work"
            found = await alice.directory_search("bob")
            assert [(e.identity_key, e.contact_id) for e in found] == [
                (mallory.identity_key, None)]  # the real Bob never published
            with pytest.raises(ContactError, match="already called 'bob'"):
                await alice.add_contact_from_directory(found[0], "bob")  # explicit and taken
            impostor = await alice.add_contact_from_directory(found[0])
            assert impostor.display_name == "Bob (2)"
            real = alice.contact("bob")
            assert real.identity_key == bob.identity_key
            assert real.pending_identity_key is None  # no key change: sending still works
            await alice.send_text("bob", "still you")
            await bob.directory_publish("Bob")
            listed = {e.identity_key: e for e in await alice.directory_search("bob")}
            assert listed[bob.identity_key].contact_id == real.contact_id
            assert listed[mallory.identity_key].contact_id == impostor.contact_id
            (own,) = await alice.directory_search("alice at")
            assert own.own and own.identity_key == alice.identity_key
            with pytest.raises(ContactError, match="your own directory entry"):
                await alice.add_contact_from_directory(own)
            assert len(alice.contacts()) == 2
            for client in (alice, bob, mallory):
                await client.close()

    run(scenario())


def test_bad_names_queries_and_limits_are_typed_errors(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def scenario() -> None:
        async with relay_at(tmp_path) as relay:
            alice = await new_client(tmp_path, "Alice", relay.url)
            await alice.start()
            with pytest.raises(AccountError, match="1 to 64 printable"):
                await alice.directory_publish("bell\x07")
            with pytest.raises(AccountError):
                await alice.directory_publish("x" * 65)
            with pytest.raises(ContactError, match="part of a name"):
                await alice.directory_search("   ")
            for limit in (0, 101):
                with pytest.raises(ContactError, match="1 to 100 entries"):
                    await alice.directory_search("a", limit=limit)
            with pytest.raises(RelayRefused):  # the relay's own rule: no control characters
                await alice.directory_search("a\u0000b")
            assert await alice.directory_remove() is False  # nothing was published
            await alice.close()

    run(scenario())


# --- the CLI on a relay process -----------------------------------------------------------------


@pytest.fixture
def relay_process(tmp_path: Path) -> Iterator[RelayProcess]:
    relay = start_relay(tmp_path / "relay", "--max-connections-per-address", "0")
    yield relay
    relay.kill()


def sourdine(home: Path, profile: str, *args: str) -> list[str]:
    return ["--home", str(home), "--profile", profile, "--json", *args]


def test_cli_directory_publish_search_add_and_send(
    tmp_path: Path, memory_keyring: MemoryKeyring, relay_process: RelayProcess,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"

    def call(profile: str, *args: str) -> tuple[int, list[dict[str, object]], str]:
        code = cli.main(sourdine(home, profile, *args))
        captured = capsys.readouterr()
        return code, [json.loads(line) for line in captured.out.splitlines()], captured.err

    for name in ("Alice", "Bob", "Bobby"):
        assert call(name.lower(), "init", "--name", name, "--relay", relay_process.url)[0] == 0
    assert call("alice", "directory", "search", "bob")[1] == []
    assert call("bob", "directory", "publish")[1] == [{"published": True, "display_name": "Bob"}]
    assert call("bobby", "directory", "publish", "--name", "Bobby T")[0] == 0
    code, rows, _ = call("alice", "directory", "search", "bob")
    assert code == 0 and [r["display_name"] for r in rows] == ["Bob", "Bobby T"]
    bob_key = rows[0]["identity_key"]
    assert isinstance(bob_key, str)
    assert rows[0]["address"] == f"sourdine+ws://127.0.0.1:{relay_process.port}/{bob_key}"

    code, _, err = call("alice", "add-contact", "--from-directory", "bob")
    assert code == 1 and "2 directory entries match 'bob'" in err and "--key" in err
    code, rows, err = call(
        "alice", "add-contact", "--from-directory", "bob", f"--key={bob_key[:8]}"
    )
    assert code == 0 and rows[0]["name"] == "Bob" and rows[0]["identity_key"] == bob_key
    assert "compare safety numbers" in err
    code, _, err = call("alice", "add-contact", "--from-directory", "carol")
    assert code == 1 and "No one in your relay's directory matches 'carol'" in err
    code, _, err = call("alice", "add-contact", "sourdine+ws://h:1/" + bob_key,
                        "--from-directory", "bob")
    assert code == 1 and "either an address or --from-directory" in err

    assert call("alice", "send", "Bob", "hello from the directory")[0] == 0
    code, rows, _ = call("bob", "receive", "--timeout", "20")
    assert code == 0 and [r["text"] for r in rows] == ["hello from the directory"]
    assert rows[0]["contact"] == "Alice"

    code, rows, _ = call("bob", "directory", "remove")
    assert code == 0 and rows == [{"removed": True}]
    code, rows, _ = call("alice", "directory", "search", "bob")
    assert [r["display_name"] for r in rows] == ["Bobby T"]


def test_a_key_prefix_starting_with_a_dash_is_accepted() -> None:
    # Identity keys are base64url: a prefix may start with "-", which argparse would take
    # for an option after "--key "; "--key=PREFIX", as the CLI's help and errors say, works.
    from app.cli import parser

    args = parser().parse_args(["add-contact", "--from-directory", "bob", "--key=-AbC12"])
    assert args.key == "-AbC12"
