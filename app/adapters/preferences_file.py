"""Preferences stored as ``settings.toml`` in the profile's config directory (no secrets).

The file is flat TOML, one key per setting (``language = "fr"``, ``read_receipts = false``).
Writing goes through a flushed temporary file and a rename, so a crash leaves either the old
or the new file. Keys this version does not know (written by a newer version) are kept when
saving. A file that cannot be read or parsed is never replaced behind the user's back: loading
raises :class:`PreferencesError` and saving refuses to write over it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from app.core.preferences import Preferences, PreferencesError


def load_preferences(path: Path) -> Preferences:
    """Read the preferences in ``path``; a missing file gives the defaults.

    Raises:
        PreferencesError: the file cannot be read, is not valid TOML, or has an invalid
            value; the message names the file and what is wrong. Nothing is written.
    """
    values = _read_table(path)
    if values is None:
        return Preferences()
    try:
        return Preferences.from_mapping(values)
    except PreferencesError as exc:
        raise PreferencesError(f"The settings file {path} is invalid: {exc}") from exc


def save_preferences(path: Path, prefs: Preferences) -> None:
    """Write ``prefs`` to ``path`` atomically, keeping keys this version does not know.

    Raises:
        PreferencesError: the existing file cannot be read or parsed (it is left untouched
            so the user can repair it), or the new file cannot be written.
    """
    existing = _read_table(path)
    merged: dict[str, Any] = dict(existing) if existing is not None else {}
    merged.update(prefs.to_mapping())
    data = tomli_w.dumps(merged).encode("utf-8")
    try:
        _write_atomically(path, data)
    except OSError as exc:
        raise PreferencesError(
            f"Cannot save the settings file {path}: {exc.strerror or exc}."
        ) from exc


def _read_table(path: Path) -> dict[str, Any] | None:
    """The parsed file, or ``None`` when it does not exist.

    Raises:
        PreferencesError: unreadable, not UTF-8, or not TOML.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PreferencesError(
            f"Cannot read the settings file {path}: {exc.strerror or exc}."
        ) from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PreferencesError(
            f"The settings file {path} is not UTF-8 text (byte {exc.start}); "
            "repair or remove it."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PreferencesError(
            f"The settings file {path} is not valid TOML ({exc}); repair or remove it."
        ) from exc


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file and a rename."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    if os.name == "posix":  # make the rename durable; Windows has no directory handles
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
