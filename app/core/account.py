"""The profile's account: create it (identity, database key, prekeys) or open it.

The identity's private key and the database key go to the profile's :class:`SecretStore`
(the OS keyring, or a passphrase vault the user chose) and nowhere else; everything else,
including the private prekeys, lives in the encrypted database. Secret-store calls are
synchronous (``keyring`` is) and run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from app.adapters.keystore import AccountSecrets, SecretStore
from app.adapters.store import AccountRecord, Changes, ClientStore, NoDatabase
from app.config import ProfilePaths
from app.core.address import normalize_relay_url
from app.core.errors import AccountError
from crypto.primitives import Random, constant_time_equal, ed25519_keypair
from crypto.x3dh import Identity, PrekeyStore

MAX_DISPLAY_NAME = 64


@dataclass(frozen=True)
class OpenedAccount:
    """An unlocked profile: its secrets' identity, its database and what it holds."""

    identity: Identity
    store: ClientStore
    account: AccountRecord
    prekeys: PrekeyStore


def identity_from_secret(secret: bytes) -> Identity:
    """Rebuild the identity from its 64-byte secret, checking the public half.

    Raises:
        AccountError: the secret is damaged.
    """
    seed = secret[:32]
    expected, public = ed25519_keypair(lambda _n: seed)
    if len(secret) != 64 or not constant_time_equal(expected, secret):
        raise AccountError("The stored identity key is damaged.")
    return Identity(secret, public)


def clean_display_name(name: str) -> str:
    """Raises: AccountError: empty, too long or not printable."""
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= MAX_DISPLAY_NAME or not cleaned.isprintable():
        raise AccountError(f"A display name has 1 to {MAX_DISPLAY_NAME} printable characters.")
    return cleaned


async def create_account(
    paths: ProfilePaths, secrets: SecretStore, display_name: str, relay_url: str, *,
    random: Random, now: int, one_time_prekeys: int,
) -> OpenedAccount:
    """Create the profile's account: a new identity and database key in ``secrets``, a new
    encrypted database with the account and fresh prekeys (published at the first connection).

    Raises:
        AccountError: the profile already has an account, or a bad name.
        AddressError: a bad relay URL.
        KeystoreError: the secret store cannot be written (e.g. no usable keyring).
        StoreError: the database cannot be created.
        ProfileError: the profile's directories cannot be created.
    """
    name = clean_display_name(display_name)
    relay = normalize_relay_url(relay_url)
    paths.create()
    if paths.database.exists():
        existing = await asyncio.to_thread(secrets.load)
        if existing is not None:
            try:
                store = await ClientStore.open(paths.database, existing.database_key)
            except NoDatabase:
                store = None
            if store is not None:
                account = await store.account()
                await store.close()
                if account is not None:
                    raise AccountError(
                        f"Profile {paths.name!r} already has an account; use another --profile."
                    )
        # A database without its keys or without an account is what an interrupted
        # creation leaves: it holds nothing, so it is replaced.
        for leftover in (paths.database, paths.database.with_name(paths.database.name + "-wal"),
                         paths.database.with_name(paths.database.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    identity = Identity.generate(random)
    database_key = random(32)
    await asyncio.to_thread(secrets.save, AccountSecrets(identity.secret, database_key))
    store = await ClientStore.open(paths.database, database_key, create=True)
    try:
        prekeys = PrekeyStore.create(identity, random, now)
        prekeys.generate_one_time_prekeys(one_time_prekeys, random)
        account = AccountRecord(identity.public, relay, name, now)
        await store.apply(Changes(account=account, prekeys=prekeys.to_bytes()))
    except BaseException:
        await store.close()
        raise
    return OpenedAccount(identity, store, account, prekeys)


async def open_account(paths: ProfilePaths, secrets: SecretStore) -> OpenedAccount:
    """Unlock the profile: secrets from ``secrets``, then the database.

    Raises:
        AccountError: the profile has no account (run init first) or its keys are damaged.
        KeystoreError: the secret store cannot be read (locked keyring, wrong passphrase, ...).
        StoreError: the database cannot be opened (wrong key, newer version, ...).
    """
    loaded = await asyncio.to_thread(secrets.load)
    if loaded is None:
        raise AccountError(f"Profile {paths.name!r} has no account yet: create one with init.")
    identity = identity_from_secret(loaded.identity_secret)
    try:
        store = await ClientStore.open(paths.database, loaded.database_key)
    except NoDatabase:
        raise AccountError(
            f"Profile {paths.name!r} has keys but no database at {paths.database}."
        ) from None
    try:
        account = await store.account()
        prekey_bytes = await store.prekeys()
        if account is None or prekey_bytes is None:
            raise AccountError(f"Profile {paths.name!r} has no account yet: run init again.")
        if account.identity_key != identity.public:
            raise AccountError("The database belongs to another identity than the stored key.")
        prekeys = PrekeyStore.from_bytes(prekey_bytes)
    except BaseException:
        await store.close()
        raise
    return OpenedAccount(identity, store, account, prekeys)
