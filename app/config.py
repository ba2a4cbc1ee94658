"""Profiles and where their files live; no secrets here (they are in the keystore).

A *profile* is one account on this machine (``--profile NAME``, ``default`` by default). Each
profile has a data directory (the SQLCipher database, the passphrase vault when chosen) and a
config directory (non-secret settings). By default they sit in the platform's per-user
locations (``platformdirs``): on Linux ``~/.local/share/Sourdine/<name>`` and
``~/.config/Sourdine/<name>``. With an explicit ``root`` (or the ``SOURDINE_HOME`` environment
variable) everything lives under ``<root>/<name>/data`` and ``<root>/<name>/config``, which
tests and side-by-side installations use.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

APP_NAME: Final = "Sourdine"
DEFAULT_PROFILE: Final = "default"
PROFILE_NAME_RE: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
HOME_ENV: Final = "SOURDINE_HOME"
"""Environment variable naming a root directory that replaces the platform locations."""

_PROFILE_NAME: Final = re.compile(PROFILE_NAME_RE)
# Names Windows refuses as file or directory names, whatever the case.
_WINDOWS_RESERVED: Final = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


class ProfileError(ValueError):
    """A profile name or location that cannot be used; ``str()`` tells the user why."""


@dataclass(frozen=True)
class ProfilePaths:
    """Where one profile's files live. Building it creates nothing on disk."""

    name: str
    data_dir: Path  # the database and, when chosen, the passphrase vault
    config_dir: Path  # non-secret settings only

    @property
    def database(self) -> Path:
        """The SQLCipher database, keyed with the keystore's database key."""
        return self.data_dir / "sourdine.db"

    @property
    def vault(self) -> Path:
        """The passphrase vault; exists only when the user chose it over the OS keyring."""
        return self.data_dir / "vault.bin"

    @property
    def settings(self) -> Path:
        """Non-secret settings such as the relay URL."""
        return self.config_dir / "settings.toml"

    def create(self) -> None:
        """Create the data and config directories, readable by the owner only.

        Raises:
            ProfileError: a directory cannot be created (permissions, a file in the way).
        """
        for directory in (self.data_dir, self.config_dir):
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise ProfileError(
                    f"Cannot create the directory {directory} for profile {self.name!r}: "
                    f"{exc.strerror or exc}."
                ) from exc


def validate_profile_name(name: str) -> str:
    """Return ``name`` if it can name a profile (a directory and a keyring service).

    Raises:
        ProfileError: the name is empty, too long, has characters other than letters,
            digits, ``_`` and ``-`` (not first), or is a name Windows reserves.
    """
    if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
        raise ProfileError(
            f"Invalid profile name {name!r}: use 1 to 32 letters, digits, '_' or '-', "
            "starting with a letter or a digit."
        )
    if name.lower() in _WINDOWS_RESERVED:
        raise ProfileError(f"Invalid profile name {name!r}: Windows reserves this name.")
    return name


def _explicit_root(root: Path | None) -> Path | None:
    if root is not None:
        return Path(root)
    from_env = os.environ.get(HOME_ENV)
    return Path(from_env) if from_env else None


def _platform_bases() -> tuple[Path, Path]:
    data = platformdirs.user_data_path(APP_NAME, appauthor=False)
    config = platformdirs.user_config_path(APP_NAME, appauthor=False)
    return data, config


def profile_paths(name: str = DEFAULT_PROFILE, root: Path | None = None) -> ProfilePaths:
    """Return the locations of profile ``name``.

    ``root`` (or else ``$SOURDINE_HOME``) puts the profile under ``root/<name>/``; without
    either, the platform's per-user data and config directories are used.

    Raises:
        ProfileError: ``name`` is not a valid profile name.
    """
    validate_profile_name(name)
    base = _explicit_root(root)
    if base is not None:
        return ProfilePaths(name, base / name / "data", base / name / "config")
    data, config = _platform_bases()
    return ProfilePaths(name, data / name, config / name)


def list_profiles(root: Path | None = None) -> list[str]:
    """Return the names of the profiles that have a directory, sorted.

    Directory entries that are not valid profile names are ignored.
    """
    base = _explicit_root(root)
    parents = [base] if base is not None else list(_platform_bases())
    names: set[str] = set()
    for parent in parents:
        if not parent.is_dir():
            continue
        for entry in parent.iterdir():
            if entry.is_dir() and _is_profile_name(entry.name):
                names.add(entry.name)
    return sorted(names)


def _is_profile_name(name: str) -> bool:
    try:
        validate_profile_name(name)
    except ProfileError:
        return False
    return True
