"""Profiles: names, where their files live, listing them; several profiles side by side."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import config
from app.config import ProfileError, list_profiles, profile_paths, validate_profile_name


def test_root_puts_each_profile_in_its_own_data_and_config_directories(tmp_path: Path) -> None:
    work = profile_paths("work", root=tmp_path)
    home = profile_paths("home", root=tmp_path)

    assert work.name == "work"
    assert work.data_dir == tmp_path / "work" / "data"
    assert work.config_dir == tmp_path / "work" / "config"
    assert work.database == tmp_path / "work" / "data" / "sourdine.db"
    assert work.vault == tmp_path / "work" / "data" / "vault.bin"
    assert work.settings == tmp_path / "work" / "config" / "settings.toml"
    assert home.data_dir == tmp_path / "home" / "data"
    assert not (tmp_path / "work").exists(), "building the paths must create nothing"


def test_default_profile_is_named_default(tmp_path: Path) -> None:
    assert profile_paths(root=tmp_path).name == "default"
    assert profile_paths(root=tmp_path).data_dir == tmp_path / "default" / "data"


def test_sourdine_home_replaces_the_platform_locations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURDINE_HOME", str(tmp_path / "env-root"))
    assert profile_paths("alice").data_dir == tmp_path / "env-root" / "alice" / "data"
    # An explicit root wins over the environment.
    assert profile_paths("alice", root=tmp_path).data_dir == tmp_path / "alice" / "data"


def test_without_root_the_platform_per_user_directories_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURDINE_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))

    paths = profile_paths("alice")

    assert paths.data_dir == tmp_path / "xdg-data" / "Sourdine" / "alice"
    assert paths.config_dir == tmp_path / "xdg-config" / "Sourdine" / "alice"
    assert paths.database == tmp_path / "xdg-data" / "Sourdine" / "alice" / "sourdine.db"


def test_create_makes_owner_only_directories(tmp_path: Path) -> None:
    paths = profile_paths("alice", root=tmp_path)
    paths.create()
    paths.create()  # idempotent
    for directory in (paths.data_dir, paths.config_dir):
        assert directory.is_dir()
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_create_reports_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "alice").write_text("not a directory")
    with pytest.raises(ProfileError, match="Cannot create the directory"):
        profile_paths("alice", root=tmp_path).create()


@pytest.mark.parametrize(
    "name",
    ["", "-leading-dash", "_x", "has space", "a/b", "..", "é", "x" * 33, "con", "NUL", "Com1",
     "lpt9", "a.b", "a\x00b"],
)
def test_invalid_profile_names_are_refused_with_a_readable_error(name: str) -> None:
    with pytest.raises(ProfileError, match="Invalid profile name"):
        profile_paths(name)


@pytest.mark.parametrize("name", ["default", "a", "Work-2", "x" * 32, "0_team", "console"])
def test_valid_profile_names(name: str) -> None:
    assert validate_profile_name(name) == name


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_either_a_safe_single_path_component_or_refused(name: str) -> None:
    try:
        paths = profile_paths(name, root=Path("/r"))
    except ProfileError:
        return
    assert paths.data_dir.parent.parent == Path("/r"), "a profile never escapes its root"
    assert len(name) <= 32


def test_list_profiles_finds_profile_directories_and_ignores_other_entries(tmp_path: Path) -> None:
    assert list_profiles(root=tmp_path / "missing") == []
    for name in ("work", "default"):
        profile_paths(name, root=tmp_path).create()
    (tmp_path / ".cache").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    assert list_profiles(root=tmp_path) == ["default", "work"]


def test_list_profiles_in_platform_locations_merges_data_and_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURDINE_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    (tmp_path / "d" / config.APP_NAME / "alice").mkdir(parents=True)
    (tmp_path / "c" / config.APP_NAME / "bob").mkdir(parents=True)
    assert list_profiles() == ["alice", "bob"]
