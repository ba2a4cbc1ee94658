"""The user's non-secret preferences and their validation (pure: no file access here).

:mod:`app.adapters.preferences_file` reads and writes them as ``settings.toml``. Read receipts
and typing indicators are opt-in and off by default (DESIGN, product rule 2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from app.core.errors import ClientError

LANGUAGES: Final = ("system", "en", "fr")
APPEARANCES: Final = ("system", "light", "dark")
RELAY_MODES: Final = ("local", "remote")
"""``local``: a relay started on this computer; ``remote``: the account's relay URL."""

_CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "language": LANGUAGES,
    "appearance": APPEARANCES,
    "relay_mode": RELAY_MODES,
}


class PreferencesError(ClientError, ValueError):
    """Preferences that cannot be used (a wrong value, an unreadable settings file);
    ``str()`` says which setting and why."""


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the user chose in the settings; every instance is valid.

    Raises (on construction):
        PreferencesError: a value is of the wrong type or not one of the allowed choices.
    """

    language: str = "system"  # "system" | "en" | "fr"
    appearance: str = "system"  # "system" | "light" | "dark"
    notifications: bool = True
    message_previews: bool = True  # show the text in notifications
    read_receipts: bool = False  # opt-in; never sent while off duty
    typing_indicators: bool = False  # opt-in; never sent while off duty
    relay_mode: str = "local"  # "local" (a relay on this computer) | "remote"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check(field.name, getattr(self, field.name))

    def replace(self, **changes: Any) -> Preferences:
        """A copy with ``changes`` applied.

        Raises:
            PreferencesError: an unknown setting name or an invalid value.
        """
        unknown = sorted(set(changes) - set(field_names()))
        if unknown:
            raise PreferencesError(f"Unknown setting: {', '.join(unknown)}.")
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Preferences:
        """Preferences from a mapping such as a parsed settings file.

        Missing settings take their default; keys that are not settings are ignored (a newer
        version may have written them; the file adapter keeps them).

        Raises:
            PreferencesError: a known setting has an invalid value.
        """
        known = {name: values[name] for name in field_names() if name in values}
        return cls(**known)  # type: ignore[arg-type]  # checked in __post_init__

    def to_mapping(self) -> dict[str, str | bool]:
        """Every setting by name, ready to be written."""
        return {name: getattr(self, name) for name in field_names()}


def field_names() -> tuple[str, ...]:
    """The names of the settings, in file order."""
    return tuple(field.name for field in dataclasses.fields(Preferences))


def _check(name: str, value: object) -> None:
    """A setting is either one of a few words (``_CHOICES``) or a yes/no switch."""
    choices = _CHOICES.get(name)
    if choices is None:
        if not isinstance(value, bool):
            raise PreferencesError(f"The setting {name} must be true or false, not {value!r}.")
        return
    if not isinstance(value, str) or value not in choices:
        raise PreferencesError(
            f"The setting {name} must be one of {', '.join(choices)}, not {value!r}."
        )
