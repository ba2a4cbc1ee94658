"""An exclusive lock next to the database: one process per profile.

Two processes on one profile would each hold the ratchet sessions in memory and overwrite
each other's state (and the relay allows one authenticated connection per identity), so the
second one is refused with :class:`ProfileInUse`. The lock is an OS advisory lock on
``<database>.lock``; it disappears with the process, even after ``kill -9``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.adapters.store.errors import ProfileInUse


class DatabaseLock:
    """Holds the lock file open and locked until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Raises: ProfileInUse: another process holds the lock."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ProfileInUse(
                "This profile is open in another Sourdine process; close it first."
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
