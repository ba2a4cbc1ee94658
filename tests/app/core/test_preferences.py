"""Preferences: defaults (receipts and typing off) and validation of every setting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.preferences import Preferences, PreferencesError


def test_defaults_keep_receipts_and_typing_off() -> None:
    prefs = Preferences()
    assert prefs.to_mapping() == {
        "language": "system", "appearance": "system", "notifications": True,
        "message_previews": True, "read_receipts": False, "typing_indicators": False,
        "relay_mode": "local",
    }


def test_replace_validates_and_leaves_the_original_alone() -> None:
    prefs = Preferences()
    french = prefs.replace(language="fr", read_receipts=True)
    assert (french.language, french.read_receipts) == ("fr", True)
    assert prefs.language == "system"
    with pytest.raises(PreferencesError, match="language must be one of system, en, fr, not 'de'"):
        prefs.replace(language="de")
    with pytest.raises(PreferencesError, match="notifications must be true or false, not 1"):
        prefs.replace(notifications=1)
    with pytest.raises(PreferencesError, match="Unknown setting: colour"):
        prefs.replace(colour="blue")
    with pytest.raises(PreferencesError, match="relay_mode"):
        Preferences(relay_mode="cloud")


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                    st.sampled_from(["system", "en", "fr", "dark", "light", "local", "remote"]))


@settings(max_examples=200, deadline=None)
@given(values=st.dictionaries(st.sampled_from([*Preferences().to_mapping(), "other"]), _VALUES))
def test_arbitrary_mappings_give_valid_preferences_or_preferences_error(
    values: dict[str, object],
) -> None:
    try:
        prefs = Preferences.from_mapping(values)
    except PreferencesError:
        return
    assert Preferences.from_mapping(prefs.to_mapping()) == prefs
