"""settings.toml: defaults when missing, atomic save, unknown keys kept, a broken file
reported and never overwritten."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.adapters.preferences_file import load_preferences, save_preferences
from app.core.preferences import Preferences, PreferencesError


def test_missing_file_gives_defaults_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.toml"
    assert load_preferences(path) == Preferences()
    assert not path.parent.exists()


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.toml"
    prefs = Preferences(language="fr", appearance="dark", notifications=False,
                        message_previews=False, read_receipts=True, typing_indicators=True,
                        relay_mode="remote")
    save_preferences(path, prefs)
    assert load_preferences(path) == prefs
    assert tomllib.loads(path.read_text(encoding="utf-8"))["language"] == "fr"
    assert [p.name for p in path.parent.iterdir()] == ["settings.toml"]  # no temporary left


def test_missing_keys_take_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('appearance = "light"\n', encoding="utf-8")
    assert load_preferences(path) == Preferences(appearance="light")


def test_unknown_keys_of_a_newer_version_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        'language = "en"\nsound = "chime"\n\n[schedule]\ndays = [1, 2, 3]\nstart = "08:30"\n',
        encoding="utf-8",
    )
    prefs = load_preferences(path)
    assert prefs.language == "en"
    save_preferences(path, prefs.replace(language="fr"))
    written = tomllib.loads(path.read_text(encoding="utf-8"))
    assert written["language"] == "fr"
    assert written["sound"] == "chime"
    assert written["schedule"] == {"days": [1, 2, 3], "start": "08:30"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'language = "fr\n', "is not valid TOML"),
        (b"\xff\xfe\x00 garbage", "is not UTF-8 text"),
        (b'language = "de"\n', "is invalid: The setting language must be one of"),
        (b'read_receipts = "yes"\n', "read_receipts must be true or false, not 'yes'"),
    ],
)
def test_a_broken_file_is_reported_and_never_overwritten(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(content)
    with pytest.raises(PreferencesError, match=expected) as info:
        load_preferences(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content  # loading wrote nothing


@pytest.mark.parametrize("content", [b'language = "fr\n', b"\xff\xfe\x00"])
def test_saving_over_an_unparseable_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(content)
    with pytest.raises(PreferencesError, match="repair or remove it"):
        save_preferences(path, Preferences())
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["settings.toml"]


def test_saving_fixes_an_invalid_value_the_user_replaced(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b'language = "de"\nextra = 1\n')
    save_preferences(path, Preferences(language="en"))
    assert load_preferences(path) == Preferences(language="en")
    assert tomllib.loads(path.read_text(encoding="utf-8"))["extra"] == 1


def test_an_unreadable_path_is_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.mkdir()  # a directory where the file should be
    with pytest.raises(PreferencesError, match="Cannot read the settings file"):
        load_preferences(path)
    with pytest.raises(PreferencesError, match="Cannot read the settings file"):
        save_preferences(path, Preferences())


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_preferences_error(tmp_path_factory: pytest.TempPathFactory,
                                                      content: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "settings.toml"
    path.write_bytes(content)
    try:
        prefs = load_preferences(path)
    except PreferencesError:
        return
    assert isinstance(prefs, Preferences)
