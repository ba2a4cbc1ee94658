"""The OS keyring, for real: gnome-keyring's Secret Service on a private D-Bus session.

``make test`` runs pytest through ``tests/with-secret-service.sh``, which starts an unlocked
gnome-keyring on a throwaway bus and home. Tests that use that keyring fail (never skip) when
it is not there. Missing and locked keyrings are produced for real in subprocesses: a bus
address that leads nowhere, and a second keyring daemon started with the wrong password.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.SecretService
import pytest

from app.adapters.keystore import (
    AccountSecrets,
    KeyringSecretStore,
    KeystoreError,
    encode_entry,
)
from app.config import profile_paths
from tests.app.adapters.test_keystore_vault import CANARY, OTHER, files_containing_secrets

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "tests" / "with-secret-service.sh"
NEEDS_SECRET_SERVICE = (
    "These tests use the real OS keyring (a gnome-keyring Secret Service on a private D-Bus "
    "session) and it is not running here. Run them via `make test`, or as "
    "`bash tests/with-secret-service.sh .venv/bin/python -m pytest tests/app/adapters`."
)
UNAVAILABLE_ADVICE = "or choose to keep this profile's keys in a passphrase-protected vault"


@pytest.fixture
def secret_service() -> Iterator[Path]:
    """The private Secret Service of tests/with-secret-service.sh; returns its XDG_DATA_HOME."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not address or os.environ.get("SOURDINE_SECRET_SERVICE") != address:
        pytest.fail(NEEDS_SECRET_SERVICE, pytrace=False)
    previous = keyring.get_keyring()
    # Whatever another test set in this process, these tests talk to the Secret Service.
    keyring.set_keyring(keyring.backends.SecretService.Keyring())  # type: ignore[no-untyped-call]
    yield Path(os.environ["XDG_DATA_HOME"])
    keyring.set_keyring(previous)


@pytest.fixture
def new_profile(secret_service: Path) -> Iterator[Callable[[], str]]:
    """Fresh profile names (unique per test); their keyring entries are removed afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(f"t-{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make
    for name in made:
        KeyringSecretStore(name).delete()


def run_driver(
    actions: list[dict[str, Any]], env: dict[str, str], *, via_script: bool = False
) -> list[dict[str, Any]]:
    """Run keystore ``actions`` in a fresh Python process; return one result per action."""
    command = [sys.executable, "-c", DRIVER, json.dumps(actions)]
    if via_script:
        command = ["bash", str(SCRIPT), *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"driver failed ({done.returncode}):\n{done.stderr}"
    results: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


DRIVER = r"""
import json, sys
from pathlib import Path
from app.adapters.keystore import AccountSecrets, KeyringSecretStore, KeystoreError
from app.adapters.keystore import open_secret_store
from app.config import profile_paths

results = []
for action in json.loads(sys.argv[1]):
    try:
        if action["store"] == "keyring":
            store = KeyringSecretStore(action["profile"])
        else:
            paths = profile_paths(action["profile"], root=Path(action["root"]))
            store = open_secret_store(paths, passphrase=action["passphrase"])
        result = None
        if action["op"] == "save":
            secrets = [bytes.fromhex(action[k]) for k in ("identity", "database")]
            store.save(AccountSecrets(*secrets))
        elif action["op"] == "load":
            loaded = store.load()
            if loaded is not None:
                result = [loaded.identity_secret.hex(), loaded.database_key.hex()]
        else:
            store.delete()
        results.append({"ok": True, "kind": store.kind, "result": result})
    except KeystoreError as exc:
        results.append({"ok": False, "error": type(exc).__name__, "message": str(exc)})
print(json.dumps(results))
"""


def save(profile: str, secrets: AccountSecrets, **where: str) -> dict[str, Any]:
    return {"op": "save", "profile": profile, "store": "keyring", **where,
            "identity": secrets.identity_secret.hex(), "database": secrets.database_key.hex()}


def load(profile: str, **where: str) -> dict[str, Any]:
    return {"op": "load", "profile": profile, "store": "keyring", **where}


def delete(profile: str) -> dict[str, Any]:
    return {"op": "delete", "profile": profile, "store": "keyring"}


def hexes(secrets: AccountSecrets) -> list[str]:
    return [secrets.identity_secret.hex(), secrets.database_key.hex()]


def secret_tool_lookup(profile: str, entry: str) -> str:
    done = subprocess.run(
        ["secret-tool", "lookup", "service", f"Sourdine:{profile}", "username", entry],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


# --- the real Secret Service ------------------------------------------------------------------


def test_keyring_selects_the_secret_service_in_a_fresh_process(secret_service: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import keyring; print(type(keyring.get_keyring()).__module__)"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert done.stdout.strip() == "keyring.backends.SecretService"


def test_two_profiles_side_by_side_round_trip(new_profile: Callable[[], str]) -> None:
    alice, bob = new_profile(), new_profile()
    KeyringSecretStore(alice).save(CANARY)
    KeyringSecretStore(bob).save(OTHER)
    assert KeyringSecretStore(alice).load() == CANARY
    assert KeyringSecretStore(bob).load() == OTHER


def test_a_profile_without_secrets_loads_none(new_profile: Callable[[], str]) -> None:
    assert KeyringSecretStore(new_profile()).load() is None


def test_saving_again_replaces_both_secrets(new_profile: Callable[[], str]) -> None:
    alice = new_profile()
    KeyringSecretStore(alice).save(CANARY)
    KeyringSecretStore(alice).save(OTHER)
    assert KeyringSecretStore(alice).load() == OTHER


def test_delete_removes_one_profile_only_and_is_idempotent(new_profile: Callable[[], str]) -> None:
    alice, bob = new_profile(), new_profile()
    KeyringSecretStore(alice).save(CANARY)
    KeyringSecretStore(bob).save(OTHER)
    KeyringSecretStore(alice).delete()
    KeyringSecretStore(alice).delete()
    assert KeyringSecretStore(alice).load() is None
    assert secret_tool_lookup(alice, "identity-key") == ""
    assert KeyringSecretStore(bob).load() == OTHER


def test_the_secrets_really_are_in_the_secret_service(new_profile: Callable[[], str]) -> None:
    alice = new_profile()
    KeyringSecretStore(alice).save(CANARY)
    # libsecret's own client sees exactly two base64 entries under the profile's service name.
    identity = secret_tool_lookup(alice, "identity-key")
    database = secret_tool_lookup(alice, "database-key")
    assert base64.b64decode(identity, validate=True) == CANARY.identity_secret
    assert base64.b64decode(database, validate=True) == CANARY.database_key
    assert len(identity) <= 1280, "Windows Credential Manager keeps at most 1,280 characters"
    # Another process finds them too.
    assert run_driver([load(alice)], dict(os.environ)) == [
        {"ok": True, "kind": "keyring", "result": hexes(CANARY)}
    ]


def test_no_key_material_under_the_profile_or_in_plain_in_the_keyring_files(
    new_profile: Callable[[], str], secret_service: Path, tmp_path: Path
) -> None:
    paths = profile_paths(new_profile(), root=tmp_path)
    paths.create()
    KeyringSecretStore(paths.name).save(CANARY)
    assert KeyringSecretStore(paths.name).load() == CANARY
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [], "the keyring path writes no file"
    keyring_files = [p for p in (secret_service / "keyrings").iterdir() if p.is_file()]
    assert keyring_files, "gnome-keyring keeps its collection under XDG_DATA_HOME"
    assert files_containing_secrets(secret_service, CANARY) == []


def test_only_one_of_the_two_entries_is_a_typed_error(new_profile: Callable[[], str]) -> None:
    alice = new_profile()
    keyring.set_password(f"Sourdine:{alice}", "identity-key", encode_entry(CANARY.identity_secret))
    with pytest.raises(KeystoreError, match="only one of the two keys"):
        KeyringSecretStore(alice).load()


@pytest.mark.parametrize(
    "text",
    ["not base64!", encode_entry(b"short"), encode_entry(CANARY.identity_secret) + "=="],
    ids=["not-base64", "too-short", "extra-padding"],
)
def test_a_damaged_entry_is_a_typed_error(new_profile: Callable[[], str], text: str) -> None:
    alice = new_profile()
    KeyringSecretStore(alice).save(CANARY)
    keyring.set_password(f"Sourdine:{alice}", "identity-key", text)
    with pytest.raises(KeystoreError, match="identity-key is damaged"):
        KeyringSecretStore(alice).load()


# --- a missing keyring ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bus", ["unix:path=/nonexistent/sourdine-test-bus", None], ids=["bus-leads-nowhere", "no-bus"]
)
def test_without_a_keyring_every_call_is_keyring_unavailable_and_the_vault_works(
    tmp_path: Path, bus: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    if bus is not None:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus
    vault = {"store": "vault", "root": str(tmp_path), "passphrase": "pass phrase"}
    results = run_driver(
        [
            save("alice", CANARY), load("alice"), delete("alice"),
            save("alice", CANARY, **vault), load("alice", **vault),
        ],
        env,
    )
    for result in results[:3]:
        assert result["ok"] is False
        assert result["error"] == "KeyringUnavailable"
        assert "No usable system keyring" in result["message"]
        assert UNAVAILABLE_ADVICE in result["message"]
    assert results[3:] == [
        {"ok": True, "kind": "vault", "result": None},
        {"ok": True, "kind": "vault", "result": hexes(CANARY)},
    ]
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["vault.bin"]
    assert files_containing_secrets(tmp_path, CANARY) == []


def test_a_keyring_backend_that_keeps_nothing_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    results = run_driver([save("alice", CANARY), load("alice")], env)
    for result in results:
        assert result["error"] == "KeyringUnavailable"
        assert "keyring.backends.null.Keyring, cannot keep secrets safely" in result["message"]


# --- a locked keyring, and the test script itself ----------------------------------------------


def script_env(keyring_dir: Path, password: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "SOURDINE_KEYRING_DIR": str(keyring_dir),
            "SOURDINE_KEYRING_PASSWORD": password, **extra}


def test_a_locked_keyring_is_keyring_locked_keeps_its_secrets_and_the_vault_works(
    tmp_path: Path,
) -> None:
    keyring_dir, profile_root = tmp_path / "keyring", tmp_path / "profiles"
    # A keyring created with one password...
    first = run_driver([save("alice", CANARY)], script_env(keyring_dir, "first"), via_script=True)
    assert first == [{"ok": True, "kind": "keyring", "result": None}]
    # ...then the daemon is started with another: the collection stays locked, and with no
    # display the unlock prompt cannot be shown.
    vault = {"store": "vault", "root": str(profile_root), "passphrase": "pass phrase"}
    locked = run_driver(
        [load("alice"), save("alice", OTHER), delete("alice"),
         save("alice", OTHER, **vault), load("alice", **vault)],
        script_env(keyring_dir, "second", SOURDINE_KEYRING_ALLOW_LOCKED="1"),
        via_script=True,
    )
    for result in locked[:3]:
        assert result["error"] == "KeyringLocked"
        assert result["message"].startswith("The system keyring is locked")
        assert "Unlock your keyring" in result["message"]
    assert locked[3:] == [
        {"ok": True, "kind": "vault", "result": None},
        {"ok": True, "kind": "vault", "result": hexes(OTHER)},
    ]
    assert files_containing_secrets(profile_root, OTHER) == []
    # Unlocked again with the right password, the first secrets are all still there.
    again = run_driver([load("alice")], script_env(keyring_dir, "first"), via_script=True)
    assert again == [{"ok": True, "kind": "keyring", "result": hexes(CANARY)}]


def test_script_refuses_to_run_the_command_with_a_locked_keyring(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    run_driver([], script_env(tmp_path / "k", "first"), via_script=True)  # creates the keyring
    done = subprocess.run(
        ["bash", str(SCRIPT), "touch", str(marker)], env=script_env(tmp_path / "k", "second"),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 70
    assert "the default keyring collection is not unlocked" in done.stderr
    assert not marker.exists()


def test_script_keeps_the_exit_status_and_cleans_up(tmp_path: Path) -> None:
    report = tmp_path / "report"
    done = subprocess.run(
        ["bash", str(SCRIPT), "sh", "-c",
         f'echo "$XDG_DATA_HOME $SOURDINE_KEYRING_DAEMON_PID" > {report}; exit 7'],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 7, done.stderr
    data_home, daemon_pid = report.read_text().split()
    assert "sourdine-keyring." in data_home
    assert not Path(data_home).exists(), "the throwaway directory is removed"
    assert not Path(f"/proc/{daemon_pid}").exists(), "the keyring daemon is stopped"


def test_script_fails_loudly_when_the_daemon_cannot_start(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "gnome-keyring-daemon"
    fake.write_text("#!/bin/sh\necho 'cannot start: simulated failure' >&2\nexit 1\n")
    fake.chmod(0o755)
    marker = tmp_path / "ran"
    done = subprocess.run(
        ["bash", str(SCRIPT), "touch", str(marker)],
        env={**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 70
    assert "did not provide org.freedesktop.secrets" in done.stderr
    assert "simulated failure" in done.stderr
    assert not marker.exists()
