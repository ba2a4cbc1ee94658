"""The passphrase vault: round trip, wrong passphrase, damaged files, crash safety, no plaintext.

Most tests use libsodium's minimum Argon2id limits to stay fast; one checks that the default
really is MODERATE.
"""

from __future__ import annotations

import base64
import os
import signal
import stat
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import nacl.pwhash.argon2id as argon2id
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.adapters.keystore import (
    AccountSecrets,
    KeyringSecretStore,
    PassphraseRequired,
    VaultError,
    WrongPassphrase,
    open_secret_store,
)
from app.adapters.vault import (
    FILE_SIZE,
    MAGIC,
    PassphraseVault,
    decode_vault,
    encode_vault,
    unseal,
)
from app.config import profile_paths

FAST = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}
CANARY = AccountSecrets(
    identity_secret=b"CANARY-IDENTITY-SECRET-0123456789" + b"abcdefghijklmnopqrstuvwxyz01234",
    database_key=b"CANARY-DATABASE-KEY-0123456789AB",
)
OTHER = AccountSecrets(identity_secret=bytes(range(64)), database_key=bytes(range(100, 132)))
PASSPHRASE = "correct horse battery staple"

# Written once by the version-1 writer (minimum limits); must open forever.
FROZEN_V1 = bytes.fromhex(
    "53444e5641554c5401694605190a96732b924eafbef274da56000000010000000000002000aac29bf541"
    "ce24ab4459518a04096509505816c979d9a06d229c603c1a95363b157006b00e72ddddbd77c6a08b5362"
    "32285c8df9c1b883ff0a0d780efdab7b7811ab471ba618965c7f70c5e86fadfcf370a9c95e9c2573a774"
    "e1d04b9862e08b617983a7e42111c18a2990d3cc1af40baaf03ae7e3f9c9daac16c822a0d4ea5934c848"
    "7ceffd0913"
)
# Byte offsets of the version-1 header fields.
SALT_AT, OPSLIMIT_AT, MEMLIMIT_AT, BOX_AT = 9, 25, 29, 37


def secret_forms(secrets: AccountSecrets) -> list[bytes]:
    """Every form a leaked secret could take in a file: raw, base64, hex, and 16-byte pieces."""
    forms = []
    for secret in (secrets.identity_secret, secrets.database_key):
        forms += [secret, base64.b64encode(secret), secret.hex().encode()]
        forms += [secret.hex().upper().encode()]
        forms += [secret[i : i + 16] for i in range(0, len(secret), 16)]
    return forms


def files_containing_secrets(root: Path, secrets: AccountSecrets) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {form!r}" for form in secret_forms(secrets) if form in data]
    return hits


def test_round_trip_through_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    PassphraseVault(path, PASSPHRASE, **FAST).save(CANARY)
    assert PassphraseVault(path, PASSPHRASE, **FAST).load() == CANARY


def test_a_missing_vault_holds_no_secrets(tmp_path: Path) -> None:
    assert PassphraseVault(tmp_path / "vault.bin", PASSPHRASE, **FAST).load() is None


def test_file_is_small_owner_only_and_starts_with_magic_and_version(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "vault.bin"
    PassphraseVault(path, PASSPHRASE, **FAST).save(CANARY)
    data = path.read_bytes()
    assert len(data) == FILE_SIZE == 173
    assert data[:9] == MAGIC + b"\x01"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["vault.bin"], "no temporary file left"


def test_default_limits_are_argon2id_moderate(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    PassphraseVault(path, PASSPHRASE).save(CANARY)
    sealed = decode_vault(path.read_bytes())
    assert (sealed.opslimit, sealed.memlimit) == (3, 256 * 1024 * 1024)
    assert (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE) == (3, 256 * 1024 * 1024)
    # Loading uses the limits in the file, whatever the instance was built with.
    assert PassphraseVault(path, PASSPHRASE, **FAST).load() == CANARY


def test_every_save_uses_a_fresh_salt_and_nonce(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    vault = PassphraseVault(path, PASSPHRASE, **FAST)
    vault.save(CANARY)
    first = decode_vault(path.read_bytes())
    vault.save(CANARY)
    second = decode_vault(path.read_bytes())
    assert first.salt != second.salt
    assert first.box[:24] != second.box[:24]


def test_saving_again_replaces_the_secrets(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    PassphraseVault(path, PASSPHRASE, **FAST).save(CANARY)
    PassphraseVault(path, PASSPHRASE, **FAST).save(OTHER)
    assert PassphraseVault(path, PASSPHRASE, **FAST).load() == OTHER


def test_wrong_passphrase_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    PassphraseVault(path, PASSPHRASE, **FAST).save(CANARY)
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase, match="Wrong passphrase"):
        PassphraseVault(path, PASSPHRASE + "!", **FAST).load()
    assert path.read_bytes() == before
    assert PassphraseVault(path, PASSPHRASE, **FAST).load() == CANARY


def test_the_same_passphrase_typed_in_another_unicode_form_opens_the_vault(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    composed = unicodedata.normalize("NFC", "crème brûlée")
    decomposed = unicodedata.normalize("NFD", "crème brûlée")
    assert composed != decomposed
    PassphraseVault(path, composed, **FAST).save(CANARY)
    assert PassphraseVault(path, decomposed, **FAST).load() == CANARY


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"passphrase": ""}, "non-empty"),
        ({"opslimit": 0}, "operations limit"),
        ({"opslimit": argon2id.OPSLIMIT_SENSITIVE + 1}, "operations limit"),
        ({"memlimit": argon2id.MEMLIMIT_MIN - 1}, "memory limit"),
        ({"memlimit": argon2id.MEMLIMIT_SENSITIVE + 1}, "memory limit"),
    ],
)
def test_bad_parameters_are_refused(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"path": tmp_path / "v", "passphrase": PASSPHRASE, **FAST}
    arguments.update(kwargs)
    with pytest.raises(VaultError, match=message):
        PassphraseVault(**arguments)  # type: ignore[arg-type]


def test_frozen_version_1_sample_still_opens() -> None:
    sealed = decode_vault(FROZEN_V1)
    assert encode_vault(sealed) == FROZEN_V1
    assert (sealed.opslimit, sealed.memlimit) == (1, 8192)
    assert unseal(sealed, PASSPHRASE) == OTHER


def with_byte(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1 :]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: b"", "not a Sourdine passphrase vault"),
        (lambda d: b"PK\x03\x04" + d[4:], "not a Sourdine passphrase vault"),
        (lambda d: d[:8], "not a Sourdine passphrase vault"),
        (lambda d: with_byte(d, 8, 2), "version 2; this Sourdine reads version 1"),
        (lambda d: d[:-1], "damaged: 172 bytes"),
        (lambda d: d + b"\x00", "damaged: 174 bytes"),
        (lambda d: d[:OPSLIMIT_AT] + b"\x00\x00\x00\x00" + d[MEMLIMIT_AT:], "operations limit 0"),
        (lambda d: d[:MEMLIMIT_AT] + b"\xff" * 8 + d[BOX_AT:], "memory limit"),
    ],
)
def test_damaged_files_give_a_typed_readable_error(
    tmp_path: Path, damage: Callable[[bytes], bytes], message: str
) -> None:
    path = tmp_path / "vault.bin"
    path.write_bytes(damage(FROZEN_V1))
    with pytest.raises(VaultError, match=message) as caught:
        PassphraseVault(path, PASSPHRASE, **FAST).load()
    assert not isinstance(caught.value, WrongPassphrase)


@pytest.mark.parametrize("at", [SALT_AT, SALT_AT + 15, BOX_AT, BOX_AT + 30, FILE_SIZE - 1])
def test_altered_salt_or_box_is_refused_as_wrong_passphrase_or_altered(
    tmp_path: Path, at: int
) -> None:
    path = tmp_path / "vault.bin"
    path.write_bytes(with_byte(FROZEN_V1, at, FROZEN_V1[at] ^ 0x01))
    with pytest.raises(WrongPassphrase, match="altered"):
        PassphraseVault(path, PASSPHRASE, **FAST).load()


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_decoder_arbitrary_bytes_only_raise_vault_error(data: bytes) -> None:
    try:
        sealed = decode_vault(data)
    except VaultError:
        return
    assert encode_vault(sealed) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=FILE_SIZE + 8))
def test_fuzz_decoder_after_valid_magic_and_version(rest: bytes) -> None:
    data = MAGIC + b"\x01" + rest
    try:
        sealed = decode_vault(data)
    except VaultError:
        return
    assert len(data) == FILE_SIZE
    assert encode_vault(sealed) == data


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([*range(OPSLIMIT_AT), *range(BOX_AT, FILE_SIZE)]),
    st.integers(min_value=1, max_value=255),
)
def test_fuzz_any_altered_byte_outside_the_limits_never_yields_secrets(
    tmp_path: Path, at: int, flip: int
) -> None:
    # Altered limits are covered above; flipping them here could ask for a gigabyte of memory.
    path = tmp_path / "vault.bin"
    path.write_bytes(with_byte(FROZEN_V1, at, FROZEN_V1[at] ^ flip))
    with pytest.raises(VaultError):
        PassphraseVault(path, PASSPHRASE, **FAST).load()


def test_delete_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    vault = PassphraseVault(path, PASSPHRASE, **FAST)
    vault.save(CANARY)
    vault.delete()
    vault.delete()
    assert not path.exists()
    assert vault.load() is None


def test_unwritable_location_gives_a_typed_error_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the directory should be")
    with pytest.raises(VaultError, match="Cannot write the passphrase vault"):
        PassphraseVault(tmp_path / "blocker" / "vault.bin", PASSPHRASE, **FAST).save(CANARY)
    assert files_containing_secrets(tmp_path, CANARY) == []


def test_unreadable_vault_gives_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "vault.bin").mkdir()  # a directory where the file should be
    with pytest.raises(VaultError, match="Cannot read the passphrase vault"):
        PassphraseVault(tmp_path / "vault.bin", PASSPHRASE, **FAST).load()


def test_no_secret_bytes_anywhere_under_the_profile(tmp_path: Path) -> None:
    paths = profile_paths("alice", root=tmp_path)
    paths.create()
    store = PassphraseVault(paths.vault, PASSPHRASE, **FAST)
    store.save(CANARY)
    store.save(CANARY)  # a second save goes through the temporary file again
    assert store.load() == CANARY
    assert files_containing_secrets(tmp_path, CANARY) == []
    assert PASSPHRASE.encode() not in paths.vault.read_bytes()
    # The canary check itself finds secrets when they are there.
    (tmp_path / "leak").write_bytes(b"x" + CANARY.database_key.hex().encode())
    assert len(files_containing_secrets(tmp_path, CANARY)) == 1


WRITER = """
import sys
from pathlib import Path
import nacl.pwhash.argon2id as a
from app.adapters.keystore import AccountSecrets
from app.adapters.vault import PassphraseVault
vault = PassphraseVault(Path(sys.argv[1]), "pw", a.OPSLIMIT_MIN, a.MEMLIMIT_MIN)
versions = [AccountSecrets(bytes([n]) * 64, bytes([n]) * 32) for n in (1, 2)]
vault.save(versions[0])
print("ready", flush=True)
n = 0
while True:
    n += 1
    vault.save(versions[n % 2])
"""


def test_kill_9_during_saves_leaves_the_old_or_the_new_vault(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    expected = {AccountSecrets(bytes([n]) * 64, bytes([n]) * 32) for n in (1, 2)}
    for attempt in range(12):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.005 + 0.007 * attempt)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        assert PassphraseVault(path, "pw", **FAST).load() in expected


def test_a_profile_with_a_vault_needs_its_passphrase(tmp_path: Path) -> None:
    paths = profile_paths("alice", root=tmp_path)
    PassphraseVault(paths.vault, PASSPHRASE, **FAST).save(CANARY)
    with pytest.raises(PassphraseRequired, match="enter its passphrase"):
        open_secret_store(paths)
    store = open_secret_store(paths, passphrase=PASSPHRASE)
    assert store.kind == "vault"
    assert store.load() == CANARY


def test_the_keyring_is_used_unless_the_user_chose_the_vault(tmp_path: Path) -> None:
    paths = profile_paths("alice", root=tmp_path)
    chosen = open_secret_store(paths, passphrase=PASSPHRASE)
    assert isinstance(chosen, PassphraseVault)
    assert chosen.path == paths.vault
    assert not paths.vault.exists(), "choosing the vault writes nothing until a save"
    default = open_secret_store(paths)
    assert isinstance(default, KeyringSecretStore)
    assert (default.kind, default.service) == ("keyring", "Sourdine:alice")
