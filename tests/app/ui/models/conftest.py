"""Fixtures of the model tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """No automatic garbage collection during a test; one full collection on the GUI thread
    after it (after the qasync loop is closed).

    Python's cyclic collector runs in whichever thread allocates when the threshold is
    reached: here the database and keyring worker threads. A QObject in a garbage cycle (the
    closed qasync loop's timer object, for one) would then be destroyed off the GUI thread,
    leaving its Qt timers registered, and Qt later delivers a timer event to freed memory
    (a segmentation fault, seen about one run in three before this fixture).
    """
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()
