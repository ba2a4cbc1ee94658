"""The passphrase vault: a profile's two secrets sealed in one small file, never in plaintext.

Used only when the user explicitly chooses it (no usable OS keyring). The key comes from the
passphrase through Argon2id (libsodium's ``pwhash``, MODERATE limits by default: about half a
second and 256 MiB) and seals the secrets with ``SecretBox`` (XSalsa20-Poly1305).

File format, version 1 (173 bytes, integers big-endian)::

    magic    8 bytes   b"SDNVAULT"
    version  1 byte    1
    salt     16 bytes  Argon2id salt, fresh on every save
    opslimit 4 bytes   Argon2id operations limit
    memlimit 8 bytes   Argon2id memory limit in bytes
    box      136 bytes SecretBox nonce (24) ‖ ciphertext of identity secret (64) ‖
                       database key (32) ‖ tag (16)

The salt and limits are bound to the box: changing them changes the derived key, so the box
no longer opens. Writes go to a temporary file that is flushed to disk and then renamed over
the vault, so a crash leaves either the old vault or the new one.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils

from app.adapters.keystore import (
    DATABASE_KEY_SIZE,
    IDENTITY_SECRET_SIZE,
    AccountSecrets,
    VaultError,
    WrongPassphrase,
)

MAGIC: Final = b"SDNVAULT"
VERSION: Final = 1
SALT_SIZE: Final = argon2id.SALTBYTES
_HEADER: Final = struct.Struct(f">{len(MAGIC)}sB{SALT_SIZE}sIQ")
_PAYLOAD_SIZE: Final = IDENTITY_SECRET_SIZE + DATABASE_KEY_SIZE
BOX_SIZE: Final = nacl.secret.SecretBox.NONCE_SIZE + _PAYLOAD_SIZE + nacl.secret.SecretBox.MACBYTES
FILE_SIZE: Final = _HEADER.size + BOX_SIZE

DEFAULT_OPSLIMIT: Final = argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT: Final = argon2id.MEMLIMIT_MODERATE
# Limits a vault file may carry: a damaged or hostile file must not make us spend minutes or
# gigabytes deriving a key.
OPSLIMIT_RANGE: Final = (argon2id.OPSLIMIT_MIN, argon2id.OPSLIMIT_SENSITIVE)
MEMLIMIT_RANGE: Final = (argon2id.MEMLIMIT_MIN, argon2id.MEMLIMIT_SENSITIVE)


@dataclass(frozen=True)
class SealedVault:
    """The parsed vault file: how to derive the key, and the sealed secrets."""

    salt: bytes  # SALT_SIZE random bytes
    opslimit: int  # within OPSLIMIT_RANGE
    memlimit: int  # within MEMLIMIT_RANGE
    box: bytes  # BOX_SIZE bytes: nonce ‖ ciphertext ‖ tag


def _check_limits(opslimit: int, memlimit: int) -> None:
    if not OPSLIMIT_RANGE[0] <= opslimit <= OPSLIMIT_RANGE[1]:
        raise VaultError(f"The vault's Argon2id operations limit {opslimit} is out of range.")
    if not MEMLIMIT_RANGE[0] <= memlimit <= MEMLIMIT_RANGE[1]:
        raise VaultError(f"The vault's Argon2id memory limit {memlimit} is out of range.")


def encode_vault(sealed: SealedVault) -> bytes:
    """Return the version-1 file bytes for ``sealed``."""
    return _HEADER.pack(MAGIC, VERSION, sealed.salt, sealed.opslimit, sealed.memlimit) + sealed.box


def decode_vault(data: bytes) -> SealedVault:
    """Parse vault file bytes; nothing is decrypted here.

    Raises:
        VaultError: not a Sourdine vault, an unknown version, a wrong size, or limits out of
            range.
    """
    if len(data) < len(MAGIC) + 1 or data[: len(MAGIC)] != MAGIC:
        raise VaultError("This file is not a Sourdine passphrase vault.")
    version = data[len(MAGIC)]
    if version != VERSION:
        raise VaultError(
            f"The passphrase vault has version {version}; this Sourdine reads version "
            f"{VERSION}. Use the Sourdine release that wrote it."
        )
    if len(data) != FILE_SIZE:
        raise VaultError(
            f"The passphrase vault is damaged: {len(data)} bytes instead of {FILE_SIZE}."
        )
    _, _, salt, opslimit, memlimit = _HEADER.unpack_from(data)
    _check_limits(opslimit, memlimit)
    return SealedVault(salt, opslimit, memlimit, data[_HEADER.size :])


def _passphrase_bytes(passphrase: object) -> bytes:
    if not isinstance(passphrase, str) or not passphrase:
        raise VaultError("The vault passphrase must be a non-empty text.")
    # NFC so that the same passphrase typed on different systems gives the same bytes.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _derive_key(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    try:
        return argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit, memlimit)
    except (nacl.exceptions.CryptoError, MemoryError) as exc:
        raise VaultError(
            f"Cannot derive the vault key (Argon2id with {memlimit // 1024} KiB): {exc}."
        ) from exc


def seal(
    secrets: AccountSecrets, passphrase: str, opslimit: int, memlimit: int
) -> SealedVault:
    """Seal ``secrets`` under a key derived from ``passphrase`` and a fresh salt.

    Raises:
        VaultError: empty passphrase, limits out of range, or key derivation failed.
    """
    _check_limits(opslimit, memlimit)
    salt = nacl.utils.random(SALT_SIZE)
    key = _derive_key(_passphrase_bytes(passphrase), salt, opslimit, memlimit)
    box = nacl.secret.SecretBox(key)
    del key
    sealed = bytes(box.encrypt(secrets.identity_secret + secrets.database_key))
    return SealedVault(salt, opslimit, memlimit, sealed)


def unseal(sealed: SealedVault, passphrase: str) -> AccountSecrets:
    """Open ``sealed`` with ``passphrase``.

    Raises:
        WrongPassphrase: the passphrase is wrong, or the sealed part was altered.
        VaultError: empty passphrase or key derivation failed.
    """
    key = _derive_key(_passphrase_bytes(passphrase), sealed.salt, sealed.opslimit, sealed.memlimit)
    box = nacl.secret.SecretBox(key)
    del key
    try:
        payload = box.decrypt(sealed.box)
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase(
            "Wrong passphrase: it does not open this vault (or the vault file was altered)."
        ) from None
    # decode_vault fixed the box size, so an authentic payload has exactly _PAYLOAD_SIZE bytes.
    return AccountSecrets(payload[:IDENTITY_SECRET_SIZE], payload[IDENTITY_SECRET_SIZE:])


class PassphraseVault:
    """A profile's secrets in a passphrase-protected file (see the module docstring)."""

    kind = "vault"

    def __init__(
        self,
        path: Path,
        passphrase: str,
        opslimit: int = DEFAULT_OPSLIMIT,
        memlimit: int = DEFAULT_MEMLIMIT,
    ) -> None:
        """``opslimit``/``memlimit`` apply to saves; a load uses the limits in the file.

        Raises:
            VaultError: empty passphrase or limits out of range.
        """
        _passphrase_bytes(passphrase)
        _check_limits(opslimit, memlimit)
        self.path = Path(path)
        self._passphrase = passphrase
        self._opslimit = opslimit
        self._memlimit = memlimit

    def load(self) -> AccountSecrets | None:
        """Return the secrets, or ``None`` when the vault file does not exist.

        Raises:
            WrongPassphrase: the passphrase does not open the vault.
            VaultError: the file cannot be read or is damaged.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise VaultError(
                f"Cannot read the passphrase vault {self.path}: {exc.strerror or exc}."
            ) from exc
        return unseal(decode_vault(data), self._passphrase)

    def save(self, secrets: AccountSecrets) -> None:
        """Seal ``secrets`` and replace the vault file atomically (owner-only permissions).

        Raises:
            VaultError: the file cannot be written, or key derivation failed.
        """
        data = encode_vault(seal(secrets, self._passphrase, self._opslimit, self._memlimit))
        try:
            _write_atomically(self.path, data)
        except OSError as exc:
            raise VaultError(
                f"Cannot write the passphrase vault {self.path}: {exc.strerror or exc}."
            ) from exc

    def delete(self) -> None:
        """Remove the vault file; a missing file is fine.

        Raises:
            VaultError: the file exists and cannot be removed.
        """
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise VaultError(
                f"Cannot remove the passphrase vault {self.path}: {exc.strerror or exc}."
            ) from exc


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file and a rename."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.chmod(tmp_name, 0o600)  # mkstemp already does; say it for every platform
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); Windows has no directory handles to flush."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
