"""Configuration (flags, TOML, validation), the relay key file, and the in-memory limits."""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path

import pytest

from relay.config import (
    Admission,
    ConfigError,
    build_config,
    parse_identity,
    read_allowlist,
)
from relay.identity import KeyFileError, load_or_create
from relay.limits import ConnectionCounter, TokenBucket
from tests.support.drbg import DeterministicRandom

KEY = bytes(range(32))
KEY_B64 = base64.urlsafe_b64encode(KEY).decode().rstrip("=")


def test_defaults_are_the_documented_ones() -> None:
    config = build_config({})
    assert (config.host, config.port, config.admission) == ("127.0.0.1", 8443, Admission.OPEN)
    assert config.ttl_seconds == 14 * 86_400
    assert config.key_file == Path("sourdine-relay.db.key")
    assert config.limits.store.mailbox_max_envelopes == 10_000


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    toml = tmp_path / "relay.toml"
    toml.write_text(
        'port = 9000\nhost = "0.0.0.0"\ndatabase = "data/relay.db"\nttl_days = 2\n'
        f'admission = "allowlist"\nallow = ["{KEY_B64}"]\nmax-recipients = 50\n',
        encoding="utf-8",
    )
    config = build_config({"config": toml, "port": 9100})
    assert config.port == 9100  # the flag wins
    assert config.host == "0.0.0.0"
    assert config.database == tmp_path / "data" / "relay.db"  # relative to the file
    assert config.key_file == Path(f"{tmp_path / 'data' / 'relay.db'}.key")
    assert config.ttl_seconds == 2 * 86_400
    assert config.allow == frozenset({KEY})
    assert config.limits.max_recipients == 50


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"port": 70000}, "--port"),
        ({"max_frame_bytes": 0}, "--max-frame-bytes"),
        ({"deposit_rate": -1}, "--deposit-rate"),
        ({"max_envelope_bytes": 2_000_000}, "--max-frame-bytes must leave room"),
        ({"deposit_burst": 10}, "--deposit-burst"),
        ({"tls_cert": "cert.pem"}, "--tls-cert and --tls-key"),
        ({"admission": "allowlist"}, "needs --allow"),
        ({"admission": "closed"}, "--admission must be one of"),
        ({"allow": ["not-a-key"]}, "not an identity key"),
    ],
)
def test_invalid_settings_are_refused_with_a_sentence_naming_the_option(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config(settings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("port = [", "not valid TOML"),
        ("colour = 1", 'unknown setting "colour"'),
        ('port = "8443"', "must be of type int"),
        ("allow = 3", "list of strings"),
    ],
)
def test_a_bad_config_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    toml = tmp_path / "relay.toml"
    toml.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        build_config({"config": toml})
    with pytest.raises(ConfigError, match="cannot read"):
        build_config({"config": tmp_path / "missing.toml"})


def test_identity_keys_parse_from_base64url_or_hex_and_allowlist_files(tmp_path: Path) -> None:
    assert parse_identity(KEY_B64) == KEY
    assert parse_identity(KEY.hex()) == KEY
    with pytest.raises(ConfigError):
        parse_identity(KEY_B64[:-2])
    listing = tmp_path / "allow.txt"
    listing.write_text(f"# team\n{KEY_B64}  # ana\n\n{bytes(32).hex()}\n", encoding="utf-8")
    assert read_allowlist(listing) == frozenset({KEY, bytes(32)})
    listing.write_text("oops\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        read_allowlist(listing)


def test_the_relay_key_is_created_private_and_loaded_again(tmp_path: Path) -> None:
    path = tmp_path / "relay.db.key"
    first, created = load_or_create(path, DeterministicRandom("k"))
    assert created
    assert os.stat(path).st_mode & 0o777 == 0o600
    again, created = load_or_create(path, DeterministicRandom("other"))
    assert not created
    assert again.public_key == first.public_key
    assert again.sign(b"m") == first.sign(b"m")


def test_a_readable_or_malformed_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "relay.db.key"
    load_or_create(path, DeterministicRandom("k"))
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create(path, DeterministicRandom("k"))
    os.chmod(path, 0o600)
    path.write_text("sourdine-relay-key v1\nAAAA\n", encoding="ascii")
    with pytest.raises(KeyFileError, match="not a Sourdine relay key"):
        load_or_create(path, DeterministicRandom("k"))


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=20, now=0.0)
    assert bucket.take(20, now=0.0) == 0
    assert bucket.take(1, now=0.0) == pytest.approx(0.1)
    assert bucket.take(1, now=0.05) == pytest.approx(0.05)  # refused: nothing spent
    assert bucket.take(1, now=0.1) == 0
    assert bucket.take(25, now=100.0) == math.inf  # more than the bucket can ever hold
    assert TokenBucket(rate=0, burst=1, now=0).take(10**6, now=0) == 0  # disabled


def test_connection_counter_limits_per_address_and_in_all() -> None:
    counter = ConnectionCounter(per_address=2, total=3)
    assert counter.acquire("a") and counter.acquire("a")
    assert not counter.acquire("a")
    assert counter.acquire("b")
    assert not counter.acquire("c")  # 3 in all
    counter.release("a")
    assert counter.acquire("c")
    for address in ("a", "b", "c"):
        counter.release(address)
    assert counter.total == 0
    unlimited = ConnectionCounter(per_address=0, total=0)
    assert all(unlimited.acquire("x") for _ in range(1000))
