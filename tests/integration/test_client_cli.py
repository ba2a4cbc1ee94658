"""Two and three users with ``sourdine-cli`` (separate processes) through a real relay
process, with their keys in the real OS keyring: the private gnome-keyring Secret Service
that ``make test`` starts (tests/with-secret-service.sh). These tests fail, never skip, when
that keyring is not running.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.SecretService
import pytest

from tests.integration.conftest import RelayProcess, RelayStarter

NEEDS_SECRET_SERVICE = (
    "These tests use the real OS keyring (a gnome-keyring Secret Service on a private D-Bus "
    "session) and it is not running here. Run them via `make test`, or as "
    "`bash tests/with-secret-service.sh .venv/bin/python -m pytest tests/integration`."
)
CLI = [sys.executable, "-m", "app.cli"]


@pytest.fixture
def secret_service() -> Iterator[None]:
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not address or os.environ.get("SOURDINE_SECRET_SERVICE") != address:
        pytest.fail(NEEDS_SECRET_SERVICE, pytrace=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.SecretService.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


@dataclass
class User:
    home: Path
    profile: str

    def run(self, *args: str, check: bool = True, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*CLI, "--home", str(self.home), "--profile", self.profile, *args],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, check=False,
        )
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def json(self, *args: str) -> list[dict[str, Any]]:
        out = self.run("--json", *args).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*CLI, "--home", str(self.home), "--profile", self.profile, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        )

    def forget_keys(self) -> None:
        for entry in ("identity-key", "database-key"):
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(f"Sourdine:{self.profile}", entry)


@pytest.fixture
def users(tmp_path: Path, secret_service: None) -> Iterator[dict[str, User]]:
    stamp = f"{os.getpid()}-{int(time.monotonic() * 1000) % 100000}"
    made = {name: User(tmp_path / "home", f"{name}-{stamp}") for name in ("alice", "bob", "carol")}
    yield made
    for user in made.values():
        user.forget_keys()


def init(user: User, name: str, relay: RelayProcess) -> str:
    (created,) = user.json("init", "--name", name, "--relay", relay.url)
    assert created["published"] is True
    return str(created["invitation"])


def test_two_users_talk_with_keys_in_the_os_keyring(
    relay_starter: RelayStarter, users: dict[str, User]
) -> None:
    relay = relay_starter()
    alice, bob = users["alice"], users["bob"]
    init(alice, "Alice", relay)
    bob_link = init(bob, "Bob", relay)
    (contact,) = alice.json("add-contact", bob_link)
    assert contact["name"] == "Bob" and contact["status"] == "ok"
    listener = bob.start("--json", "listen", "--count", "3", "--timeout", "60")
    try:
        canary = "canary-3c1e-lunch-at-noon"
        for text in (f"{canary} 1", "second", "third"):
            (sent,) = alice.json("send", "bob", text)
            assert sent["state"] in {"sent", "delivered"}
        out, err = listener.communicate(timeout=90)
    finally:
        listener.kill()
    assert listener.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(m["contact"], m["text"]) for m in lines] == [
        ("Alice", f"{canary} 1"), ("Alice", "second"), ("Alice", "third")]
    # Bob answers; Alice fetches her backlog and sees her messages delivered.
    bob.run("send", "alice", "see you there")
    received = alice.json("receive")
    assert [m["text"] for m in received] == ["see you there"]
    history = alice.json("history", "bob")
    assert [m["state"] for m in history if m["direction"] == "out"] == ["delivered"] * 3
    (hit,) = alice.json("search", "lunch")
    assert hit["text"] == f"{canary} 1"
    (conversation,) = alice.json("conversations")
    assert conversation["unread"] == 1
    numbers = {u.profile: u.json("safety-number", name)[0]["safety_number"]
               for u, name in ((alice, "bob"), (bob, "alice"))}
    assert len(set(numbers.values())) == 1
    # The two secrets are in the OS keyring, and nothing secret or plaintext on disk.
    for user in (alice, bob):
        service = f"Sourdine:{user.profile}"
        identity = keyring.get_password(service, "identity-key")
        database = keyring.get_password(service, "database-key")
        assert identity is not None and database is not None
        secrets = [base64.b64decode(identity), base64.b64decode(database)]
        data_dir = user.home / user.profile / "data"
        files = [p for p in (user.home / user.profile).rglob("*") if p.is_file()]
        assert any(p.name == "sourdine.db" for p in files) and data_dir.is_dir()
        for path in files:
            content = path.read_bytes()
            for needle in [*secrets, identity.encode(), database.encode(), canary.encode(),
                           b"see you there", secrets[1].hex().encode()]:
                assert needle not in content, path


def test_a_changed_key_blocks_sending_until_accepted_from_the_cli(
    relay_starter: RelayStarter, users: dict[str, User]
) -> None:
    relay = relay_starter()
    alice, bob, new_bob = users["alice"], users["bob"], users["carol"]
    init(alice, "Alice", relay)
    alice.run("add-contact", init(bob, "Bob", relay))
    alice.run("send", "bob", "hi old bob")
    (changed,) = alice.json("add-contact", init(new_bob, "Bob", relay))  # same name, new key
    assert changed["status"] == "key_change_pending"
    refused = alice.run("send", "bob", "hello?", check=False)
    assert refused.returncode == 1
    assert "identity key changed" in refused.stderr and "accept" in refused.stderr
    (numbers,) = alice.json("safety-number", "bob")
    assert numbers["pending_safety_number"] != numbers["safety_number"]
    alice.run("accept-key", "bob")
    alice.run("send", "bob", "hello new bob")
    assert [m["text"] for m in new_bob.json("receive")] == ["hello new bob"]
    assert [m["text"] for m in bob.json("receive")] == ["hi old bob"]


def test_readable_errors_and_the_passphrase_vault(
    relay_starter: RelayStarter, users: dict[str, User]
) -> None:
    relay = relay_starter()
    alice = users["alice"]
    missing = alice.run("contacts", check=False)
    assert missing.returncode == 1
    assert missing.stderr.startswith("sourdine-cli: error: ") and "init" in missing.stderr
    bad = alice.run("init", "--name", "Alice", "--relay", "http://nope", check=False)
    assert bad.returncode == 1 and "relay URL" in bad.stderr
    vault_env = {"SOURDINE_PASSPHRASE": "correct horse battery staple"}
    created = json.loads(alice.run("--passphrase-vault", "--json", "init", "--name", "Alice",
                                   "--relay", relay.url, env=vault_env).stdout)
    assert created["published"] is True
    assert keyring.get_password(f"Sourdine:{alice.profile}", "identity-key") is None
    assert (alice.home / alice.profile / "data" / "vault.bin").exists()
    shown = alice.run("address", env=vault_env).stdout.strip()
    assert shown.startswith("sourdine+ws://127.0.0.1:")
    wrong = alice.run("address", env={"SOURDINE_PASSPHRASE": "wrong"}, check=False)
    assert wrong.returncode == 1 and "passphrase" in wrong.stderr.lower()
    no_passphrase = alice.run("address", check=False)
    assert no_passphrase.returncode == 1 and "SOURDINE_PASSPHRASE" in no_passphrase.stderr
