"""Thin I/O adapters of the client: keyring, vault, database, relay transport."""
