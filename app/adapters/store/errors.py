"""Typed errors of the client's encrypted database; ``str()`` is a sentence for the user."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the client store raises."""


class NoDatabase(StoreError):
    """The profile has no database yet (open it with ``create=True`` to make one)."""


class WrongDatabaseKey(StoreError):
    """The key does not open the database file (wrong key, or not a Sourdine database)."""


class DatabaseTooNew(StoreError):
    """The database was written by a newer Sourdine (its schema version is unknown here)."""


class StoreClosed(StoreError):
    """The store was used after :meth:`ClientStore.close`."""


class StoreFailure(StoreError):
    """The database could not be read or written (disk full, I/O error, corruption)."""


class SearchQueryError(StoreError):
    """A search query that has nothing to look for (no word in it)."""


class ProfileInUse(StoreError):
    """Another process has this database open (one process per profile)."""
