"""The two secrets and their keyring text form: sizes, strict decoding, no secrets in reprs."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.adapters.keystore import (
    DATABASE_KEY_SIZE,
    IDENTITY_SECRET_SIZE,
    AccountSecrets,
    KeyringSecretStore,
    KeystoreError,
    decode_entry,
    encode_entry,
)
from app.config import ProfileError

IDENTITY = bytes(range(64))
DATABASE = bytes(range(200, 232))


def test_entries_are_standard_base64_well_under_the_windows_limit() -> None:
    assert encode_entry(DATABASE) == base64.b64encode(DATABASE).decode()
    assert len(encode_entry(IDENTITY)) == 88
    assert decode_entry(encode_entry(IDENTITY), IDENTITY_SECRET_SIZE, "x") == IDENTITY


@pytest.mark.parametrize(
    ("identity", "database"),
    [(IDENTITY[:63], DATABASE), (IDENTITY, DATABASE + b"\x00"), (bytearray(IDENTITY), DATABASE),
     ("text" * 16, DATABASE)],
    ids=["short-identity", "long-database-key", "bytearray", "str"],
)
def test_secrets_of_the_wrong_size_or_type_are_refused(identity: object, database: object) -> None:
    with pytest.raises(KeystoreError, match="must be"):
        AccountSecrets(identity, database)  # type: ignore[arg-type]


def test_secrets_never_show_in_repr_or_str() -> None:
    secrets = AccountSecrets(IDENTITY, DATABASE)
    for text in (repr(secrets), str(secrets)):
        assert IDENTITY.hex() not in text and repr(IDENTITY) not in text
        assert repr(DATABASE) not in text


@pytest.mark.parametrize(
    "text",
    ["", "AAAA", encode_entry(DATABASE) + "\n", " " + encode_entry(DATABASE),
     encode_entry(DATABASE).replace("=", ""), encode_entry(DATABASE)[:-1] + "!", "é" * 44, 42],
)
def test_only_the_exact_encoding_decodes(text: object) -> None:
    with pytest.raises(KeystoreError, match="Sourdine:p/database-key is damaged"):
        decode_entry(text, DATABASE_KEY_SIZE, "Sourdine:p/database-key")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120), st.sampled_from([IDENTITY_SECRET_SIZE, DATABASE_KEY_SIZE]))
def test_fuzz_entry_decoder_only_raises_keystore_error(text: str, size: int) -> None:
    try:
        secret = decode_entry(text, size, "entry")
    except KeystoreError:
        return
    assert len(secret) == size
    assert encode_entry(secret) == text


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=DATABASE_KEY_SIZE, max_size=DATABASE_KEY_SIZE))
def test_fuzz_entry_round_trip(secret: bytes) -> None:
    assert decode_entry(encode_entry(secret), DATABASE_KEY_SIZE, "entry") == secret


def test_keyring_store_names_its_service_after_the_profile_and_checks_the_name() -> None:
    assert KeyringSecretStore("work").service == "Sourdine:work"
    with pytest.raises(ProfileError):
        KeyringSecretStore("../etc")
