"""Fixtures of the core tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.core.support import MemoryKeyring, use_memory_keyring


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Keys go to an in-memory keyring backend for the test (not the OS keyring)."""
    yield from use_memory_keyring()
