"""Where a profile's two secrets live: the OS keyring, or a passphrase vault the user chose.

The OS keyring (through ``keyring``: the Secret Service on Linux, Credential Manager on
Windows, the Keychain on macOS) holds exactly two entries per profile, under the service
``Sourdine:<profile>``: ``identity-key`` (the 64-byte Ed25519 secret) and ``database-key`` (the
32-byte SQLCipher key), both as base64 text. Nothing is ever written in plaintext: with no
usable keyring the caller gets :class:`KeyringUnavailable` and may offer the passphrase vault
(:mod:`app.adapters.vault`), which the user must choose explicitly.

All calls are synchronous (``keyring`` is); the core runs them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

import keyring
import keyring.backend
import keyring.errors

from app.config import ProfilePaths, validate_profile_name

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    _T = TypeVar("_T")

IDENTITY_SECRET_SIZE: Final = 64
"""An Ed25519 secret key in libsodium's form (seed ‖ public key)."""
DATABASE_KEY_SIZE: Final = 32
"""A raw SQLCipher key."""
IDENTITY_ENTRY: Final = "identity-key"
DATABASE_ENTRY: Final = "database-key"

# Backends that accept secrets without keeping them safely: ``null`` drops them, ``fail``
# refuses everything, and ``keyrings.alt`` stores plaintext or prompts on a terminal.
_REFUSED_BACKEND_MODULES: Final = ("keyring.backends.null", "keyring.backends.fail", "keyrings.alt")

_WHAT_TO_DO_UNAVAILABLE: Final = (
    "Start or install a keyring service (on Linux a Secret Service such as GNOME Keyring or "
    "KWallet, in your desktop session), or choose to keep this profile's keys in a "
    "passphrase-protected vault instead."
)
_WHAT_TO_DO_LOCKED: Final = (
    "Unlock your keyring (for example by logging in to your desktop session or with your "
    "keyring manager, such as Seahorse) and try again, or choose to keep this profile's keys "
    "in a passphrase-protected vault instead."
)


class KeystoreError(Exception):
    """A profile's secrets cannot be read or written; ``str()`` is a sentence for the user."""


class KeyringUnavailable(KeystoreError):
    """No usable OS keyring: none installed, no D-Bus session, or a backend that keeps nothing."""


class KeyringLocked(KeystoreError):
    """The OS keyring is locked and was not unlocked (wrong password, prompt dismissed)."""


class VaultError(KeystoreError):
    """The passphrase vault file cannot be used (damaged, unknown version, unwritable)."""


class WrongPassphrase(VaultError):
    """The passphrase does not open the vault (or the vault's sealed part was altered)."""


class PassphraseRequired(VaultError):
    """The profile keeps its secrets in a passphrase vault and no passphrase was given."""


@dataclass(frozen=True)
class AccountSecrets:
    """The only two secrets of a profile; everything else lives in the encrypted database.

    Raises:
        KeystoreError: a secret is not ``bytes`` of the right size.
    """

    identity_secret: bytes = field(repr=False)  # 64-byte Ed25519 secret (seed ‖ public key)
    database_key: bytes = field(repr=False)  # 32 random bytes, the SQLCipher raw key

    def __post_init__(self) -> None:
        _check_size(self.identity_secret, IDENTITY_SECRET_SIZE, "identity secret")
        _check_size(self.database_key, DATABASE_KEY_SIZE, "database key")


def _check_size(value: object, size: int, what: str) -> None:
    if type(value) is not bytes or len(value) != size:
        raise KeystoreError(f"The {what} must be {size} bytes.")


class SecretStore(Protocol):
    """Where a profile's :class:`AccountSecrets` are kept."""

    kind: str  # "keyring" or "vault"

    def load(self) -> AccountSecrets | None:
        """Return the profile's secrets, or ``None`` when it has none yet.

        Raises:
            KeystoreError: the store cannot be read (a subclass says why).
        """
        ...

    def save(self, secrets: AccountSecrets) -> None:
        """Keep ``secrets``, replacing any the profile had.

        Raises:
            KeystoreError: the store cannot be written (a subclass says why).
        """
        ...

    def delete(self) -> None:
        """Forget the profile's secrets; nothing to forget is not an error.

        Raises:
            KeystoreError: the store cannot be written (a subclass says why).
        """
        ...


def encode_entry(secret: bytes) -> str:
    """Return the keyring text for ``secret``: standard base64 (88 characters at most here)."""
    return base64.b64encode(secret).decode("ascii")


def decode_entry(text: object, size: int, where: str) -> bytes:
    """Return the ``size`` bytes that the keyring text ``text`` encodes.

    Raises:
        KeystoreError: ``text`` is not strict base64 of exactly ``size`` bytes.
    """
    damaged = KeystoreError(
        f"The keyring entry {where} is damaged; it was not written by Sourdine or was altered."
    )
    if not isinstance(text, str) or not text.isascii():
        raise damaged
    try:
        secret = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise damaged from None
    if len(secret) != size or encode_entry(secret) != text:
        raise damaged
    return secret


class KeyringSecretStore:
    """A profile's secrets in the OS keyring, service ``Sourdine:<profile>``.

    The backend is the one ``keyring`` selects for this process; backends that would lose or
    expose secrets (``null``, ``fail``, anything from ``keyrings.alt``) are refused with
    :class:`KeyringUnavailable`, never used.
    """

    kind = "keyring"

    def __init__(self, profile: str) -> None:
        """Bind the store to one profile; the keyring is not touched until the first call.

        Raises:
            app.config.ProfileError: ``profile`` is not a valid profile name.
        """
        self.profile = validate_profile_name(profile)
        self.service = f"Sourdine:{profile}"

    def load(self) -> AccountSecrets | None:
        """Return the two secrets, or ``None`` when the keyring has neither.

        Raises:
            KeyringUnavailable: no usable keyring.
            KeyringLocked: the keyring is locked and was not unlocked.
            KeystoreError: only one of the two entries exists, or an entry is damaged.
        """
        backend = self._backend()
        identity = self._call(functools.partial(backend.get_password, self.service, IDENTITY_ENTRY))
        database = self._call(functools.partial(backend.get_password, self.service, DATABASE_ENTRY))
        if identity is None and database is None:
            return None
        if identity is None or database is None:
            raise KeystoreError(
                f"The keyring holds only one of the two keys of profile {self.profile!r} "
                f"(service {self.service!r}), so the profile cannot be opened."
            )
        return AccountSecrets(
            identity_secret=decode_entry(
                identity, IDENTITY_SECRET_SIZE, f"{self.service}/{IDENTITY_ENTRY}"
            ),
            database_key=decode_entry(
                database, DATABASE_KEY_SIZE, f"{self.service}/{DATABASE_ENTRY}"
            ),
        )

    def save(self, secrets: AccountSecrets) -> None:
        """Write both entries, then read them back to be sure the keyring kept them.

        Raises:
            KeyringUnavailable: no usable keyring.
            KeyringLocked: the keyring is locked and was not unlocked.
            KeystoreError: the keyring refused the write or did not keep the secrets.
        """
        backend = self._backend()
        entries = (
            (IDENTITY_ENTRY, encode_entry(secrets.identity_secret)),
            (DATABASE_ENTRY, encode_entry(secrets.database_key)),
        )
        for name, text in entries:
            self._call(functools.partial(backend.set_password, self.service, name, text))
        if self.load() != secrets:
            raise KeystoreError(
                f"The keyring ({_backend_name(backend)}) did not keep the keys of profile "
                f"{self.profile!r}."
            )

    def delete(self) -> None:
        """Remove both entries; entries already gone are fine.

        Raises:
            KeyringUnavailable: no usable keyring.
            KeyringLocked: the keyring is locked and was not unlocked.
            KeystoreError: the keyring refused to delete an entry that exists.
        """
        backend = self._backend()
        for name in (IDENTITY_ENTRY, DATABASE_ENTRY):
            if self._call(functools.partial(backend.get_password, self.service, name)) is None:
                continue
            self._call(functools.partial(backend.delete_password, self.service, name))

    def _backend(self) -> keyring.backend.KeyringBackend:
        backend = self._call(keyring.get_keyring)
        module = type(backend).__module__
        if module.startswith(_REFUSED_BACKEND_MODULES):
            raise KeyringUnavailable(
                f"No usable system keyring was found for the keys of profile {self.profile!r}: "
                f"the only one available, {_backend_name(backend)}, cannot keep secrets safely. "
                + _WHAT_TO_DO_UNAVAILABLE
            )
        return backend

    def _call(self, operation: Callable[[], _T]) -> _T:
        """Run one keyring operation, turning the backend's failures into our typed errors."""
        try:
            return operation()
        except keyring.errors.KeyringLocked as exc:
            raise KeyringLocked(
                f"The system keyring is locked, so the keys of profile {self.profile!r} cannot "
                f"be read or written. {_WHAT_TO_DO_LOCKED}"
            ) from exc
        except (keyring.errors.NoKeyringError, keyring.errors.InitError) as exc:
            raise KeyringUnavailable(
                f"No usable system keyring was found for the keys of profile {self.profile!r} "
                f"({exc}). {_WHAT_TO_DO_UNAVAILABLE}"
            ) from exc
        except keyring.errors.KeyringError as exc:
            raise KeystoreError(
                f"The system keyring failed for profile {self.profile!r}: {exc or type(exc)}."
            ) from exc
        except _BACKEND_FAILURES as exc:
            # The Secret Service went away mid-call, refused a request, or similar.
            raise KeyringUnavailable(
                f"The system keyring stopped answering while handling the keys of profile "
                f"{self.profile!r} ({type(exc).__name__}: {exc}). "
                + _WHAT_TO_DO_UNAVAILABLE
            ) from exc


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _backend_failures() -> tuple[type[BaseException], ...]:
    """Exceptions the Linux backend's libraries raise past ``keyring``'s own error types."""
    failures: list[type[BaseException]] = [OSError, EOFError]
    try:
        from secretstorage.exceptions import SecretStorageException

        failures.append(SecretStorageException)
    except ImportError:  # not on Linux
        pass
    try:
        from jeepney.wrappers import DBusErrorResponse

        failures.append(DBusErrorResponse)
    except ImportError:  # not on Linux
        pass
    return tuple(failures)


_BACKEND_FAILURES: Final = _backend_failures()


def open_secret_store(paths: ProfilePaths, *, passphrase: str | None = None) -> SecretStore:
    """Return the profile's secret store: its vault when it has one or a passphrase is
    given (the user's explicit choice), else the OS keyring. Never falls back by itself.

    Raises:
        PassphraseRequired: the profile has a vault and no passphrase was given.
        VaultError: ``passphrase`` is empty.
    """
    # Imported here: vault.py builds on this module's errors and AccountSecrets.
    from app.adapters.vault import PassphraseVault

    if passphrase is not None:
        return PassphraseVault(paths.vault, passphrase)
    if paths.vault.exists():
        raise PassphraseRequired(
            f"Profile {paths.name!r} keeps its keys in a passphrase vault ({paths.vault}); "
            "enter its passphrase to open it."
        )
    return KeyringSecretStore(paths.name)
