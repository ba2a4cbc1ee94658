"""Rate and connection limits, kept in memory only (never stored, never logged).

Time is passed in (monotonic seconds), so the limits are tested without sleeping.
"""

from __future__ import annotations

import math


class TokenBucket:
    """A token bucket: ``rate`` tokens per second, at most ``burst`` saved up.

    A deposit costs one token per recipient mailbox; a bundle fetch costs one.
    """

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self._rate = rate  # tokens added per second; 0 disables the limit
        self._burst = burst  # the bucket's capacity, >= the largest single cost
        self._tokens = burst  # tokens available at time _stamp, 0 <= _tokens <= _burst
        self._stamp = now  # monotonic time of the last refill

    def take(self, cost: float, now: float) -> float:
        """Spend ``cost`` tokens if available; returns 0, or the seconds to wait before retrying.

        A refused request spends nothing.
        """
        if self._rate <= 0:
            return 0.0
        if now > self._stamp:
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
        if cost <= self._tokens:
            self._tokens -= cost
            return 0.0
        if cost > self._burst:
            return math.inf
        return (cost - self._tokens) / self._rate


class ConnectionCounter:
    """Open connections per remote address, and in all; refuses over either limit.

    Addresses live only in this dictionary while a connection is open: nothing is written
    anywhere, and an address disappears when its last connection closes.
    """

    __slots__ = ("_by_address", "_per_address", "_total", "_total_limit")

    def __init__(self, per_address: int, total: int) -> None:
        self._per_address = per_address  # 0 = no per-address limit (e.g. behind a proxy)
        self._total_limit = total  # 0 = no overall limit
        self._by_address: dict[str, int] = {}  # address -> open connections, always >= 1
        self._total = 0  # sum of _by_address values

    @property
    def total(self) -> int:
        return self._total

    def would_admit(self, address: str) -> bool:
        """Whether :meth:`acquire` would succeed now (used to answer HTTP 429 early)."""
        if self._total_limit and self._total >= self._total_limit:
            return False
        return not (self._per_address and self._by_address.get(address, 0) >= self._per_address)

    def acquire(self, address: str) -> bool:
        """Count a new connection from ``address``; False (and nothing counted) when over."""
        if not self.would_admit(address):
            return False
        self._by_address[address] = self._by_address.get(address, 0) + 1
        self._total += 1
        return True

    def release(self, address: str) -> None:
        """Forget one connection from ``address`` (which :meth:`acquire` counted)."""
        left = self._by_address.get(address, 0) - 1
        if left < 0:
            return
        if left == 0:
            del self._by_address[address]
        else:
            self._by_address[address] = left
        self._total -= 1
