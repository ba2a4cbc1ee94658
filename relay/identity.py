"""The relay's own Ed25519 key: in the hello (so clients pin it) and on deletion receipts.

The key lives in a small file next to the database, created on first start with mode 0600.
Its format is two lines: ``sourdine-relay-key v1`` and the 32-byte seed in base64url. A relay
refuses to start when the file is readable by other users (as ssh does).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from crypto.primitives import Random, ed25519_keypair, ed25519_sign

_HEADER = "sourdine-relay-key v1"


class KeyFileError(Exception):
    """The key file cannot be created or read, is malformed, or is too widely readable."""


class RelayIdentity:
    """The relay's signing key pair; only :meth:`sign` ever uses the secret half."""

    __slots__ = ("_secret", "public_key")

    def __init__(self, seed: bytes) -> None:
        secret, public = ed25519_keypair(lambda _n: seed)
        self._secret = secret  # 64-byte Ed25519 secret key (seed ‖ public key)
        self.public_key = public  # 32 bytes, sent in every hello reply

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature of ``message`` (64 bytes)."""
        return ed25519_sign(self._secret, message)


def load_or_create(path: Path, random: Random) -> tuple[RelayIdentity, bool]:
    """Read the relay key from ``path``, creating it (mode 0600) if missing.

    Returns the identity and whether it was created now.

    Raises:
        KeyFileError: the file is unreadable, malformed or readable by other users.
    """
    try:
        return _load(path), False
    except FileNotFoundError:
        pass
    seed = random(32)
    text = f"{_HEADER}\n{base64.urlsafe_b64encode(seed).decode().rstrip('=')}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except FileExistsError:  # another process created it meanwhile: use theirs
        return _load(path), False
    except OSError as error:
        raise KeyFileError(f"cannot create the relay key file {path}: {error.strerror}") from None
    return RelayIdentity(seed), True


def _load(path: Path) -> RelayIdentity:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"cannot read the relay key file {path}: {error}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"the relay key file {path} is accessible by other users; run: chmod 600 {path}"
        )
    lines = text.split()
    try:
        if len(lines) != 3 or " ".join(lines[:2]) != _HEADER:
            raise ValueError
        seed = base64.urlsafe_b64decode(lines[2] + "=" * (-len(lines[2]) % 4))
    except (ValueError, binascii.Error):
        raise KeyFileError(f"{path} is not a Sourdine relay key file") from None
    if len(seed) != 32:
        raise KeyFileError(f"{path} is not a Sourdine relay key file")
    return RelayIdentity(seed)
