"""A small least-recently-used cache of delegate layouts.

Delegates key it with *every input of their layout function* (the row's identity, the width,
the texts and states drawn, the font): a row whose data changed, a new width or a new system
font therefore misses the cache by construction, and nothing has to be invalidated by hand.
:meth:`LayoutCache.clear` exists for what is not part of the key (a palette change does not
need it: colours are read at paint time, not cached).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_Layout = TypeVar("_Layout")

DEFAULT_CAPACITY = 1024
"""Enough for several screens of rows at two widths (a resize) without growing unbounded."""


class LayoutCache(Generic[_Layout]):
    """Maps a hashable layout key to a computed layout, evicting the least recently used."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("A layout cache needs room for at least one layout.")
        self._capacity = capacity  # never more entries than this
        self._entries: OrderedDict[Hashable, _Layout] = OrderedDict()  # oldest use first
        self.hits = 0  # lookups answered from the cache (tests and benchmarks read these)
        self.misses = 0  # lookups that ran the layout function

    def get(self, key: Hashable, build: Callable[[], _Layout]) -> _Layout:
        """The layout for ``key``, computed with ``build`` on a miss."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        layout = build()
        self._entries[key] = layout
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return layout

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
