"""Contacts: who we talk to, under which name, with which identity key.

Names are unique in a profile, ignoring case (they are what the user types: ``send bob hi``).
A contact is bound to one identity key. When an address or invitation link brings a
*different* key under an existing contact's name (a colleague reinstalled, or someone is
impersonating them), the contact is not replaced: the new key is kept as *pending*, sending to
the contact is blocked, and the user must compare the new safety number and accept the change
(or reject it). Someone who writes to us first becomes a contact under the name they gave
(made unique), unverified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Final

from app.adapters.store import ContactRecord
from app.adapters.store.writes import name_key
from app.core.address import KEY_SIZE, Address, Invitation, encode_key
from app.core.errors import ContactError, KeyChangePending, UnknownContact

MAX_NAME: Final = 64


def clean_name(name: str) -> str:
    """Trim and check a contact name.

    Raises:
        ContactError: empty, too long or with control characters.
    """
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= MAX_NAME or not cleaned.isprintable():
        raise ContactError(f"A contact name has 1 to {MAX_NAME} printable characters.")
    return cleaned


@dataclasses.dataclass(frozen=True, slots=True)
class AddOutcome:
    """What :meth:`ContactBook.add` did."""

    contact: ContactRecord
    created: bool  # a new contact
    key_changed: bool  # an existing contact got a pending key change
    updated: bool  # an existing contact's name or relay changed


@dataclasses.dataclass(frozen=True, slots=True)
class DirectoryListing:
    """An entry of the own relay's opt-in directory: someone who published a display name
    there. The name is self-asserted by whoever published it: compare safety numbers."""

    identity_key: bytes
    display_name: str
    relay_url: str  # the relay that listed them (ours): their mailbox is there
    contact_id: int | None  # already a contact (current or pending key), else None
    own: bool  # our own entry

    @property
    def address(self) -> Address:
        return Address(self.relay_url, self.identity_key)


class ContactBook:
    """Every contact, in memory (the store has the same; changes go through the journal)."""

    def __init__(self, records: Iterable[ContactRecord], own_identity: bytes) -> None:
        self._own = own_identity
        self._by_id: dict[int, ContactRecord] = {}
        self._by_key: dict[bytes, int] = {}  # current and pending identity keys -> contact id
        self._by_name: dict[str, int] = {}  # name_key -> contact id
        for record in records:
            self._index(record)
        self._next_id = max(self._by_id, default=0) + 1

    def _index(self, record: ContactRecord) -> None:
        old = self._by_id.get(record.contact_id)
        if old is not None:
            self._by_key.pop(old.identity_key, None)
            if old.pending_identity_key is not None:
                self._by_key.pop(old.pending_identity_key, None)
            self._by_name.pop(name_key(old.display_name), None)
        self._by_id[record.contact_id] = record
        self._by_key[record.identity_key] = record.contact_id
        if record.pending_identity_key is not None:
            self._by_key[record.pending_identity_key] = record.contact_id
        self._by_name[name_key(record.display_name)] = record.contact_id

    # --- queries ----------------------------------------------------------------------------

    def all(self) -> list[ContactRecord]:
        return sorted(self._by_id.values(), key=lambda c: name_key(c.display_name))

    def get(self, contact_id: int) -> ContactRecord:
        """Raises: UnknownContact."""
        try:
            return self._by_id[contact_id]
        except KeyError:
            raise UnknownContact(f"There is no contact number {contact_id}.") from None

    def by_key(self, identity_key: bytes) -> ContactRecord | None:
        """The contact with this current or pending identity key."""
        contact_id = self._by_key.get(identity_key)
        return None if contact_id is None else self._by_id[contact_id]

    def find(self, reference: str | int) -> ContactRecord:
        """A contact by id, name (any case) or the start of its base64url key (6+ chars).

        Raises:
            UnknownContact: nothing matches, or a key prefix matches several contacts.
        """
        if isinstance(reference, int):
            return self.get(reference)
        contact_id = self._by_name.get(name_key(" ".join(reference.split())))
        if contact_id is not None:
            return self._by_id[contact_id]
        if len(reference) >= 6:
            matches = [c for c in self._by_id.values()
                       if encode_key(c.identity_key).startswith(reference)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UnknownContact(f"Several contacts have a key starting with {reference!r}.")
        raise UnknownContact(f"There is no contact called {reference!r}.")

    def check_can_send(self, contact: ContactRecord) -> None:
        """Raises: KeyChangePending: the contact's key change waits for the user."""
        if contact.pending_identity_key is not None:
            raise KeyChangePending(
                f"{contact.display_name}'s identity key changed. Compare the new safety number "
                f"with them, then accept the new key (accept-key) before sending."
            )

    def _unique_name(self, wanted: str) -> str:
        name, n = wanted, 2
        while name_key(name) in self._by_name:
            suffix = f" ({n})"
            name = wanted[: MAX_NAME - len(suffix)] + suffix
            n += 1
        return name

    # --- changes (the caller writes the returned record through the journal) -----------------

    def _save(self, record: ContactRecord) -> ContactRecord:
        self._index(record)
        return record

    def add(self, invitation: Invitation, name: str | None, now: int) -> AddOutcome:
        """Add a contact from an address or invitation link, under ``name`` (else the
        invitation's name, else a name made from the key).

        Raises:
            ContactError: our own address, or a bad name.
        """
        key = invitation.address.identity_key
        relay = invitation.address.relay_url
        if key == self._own:
            raise ContactError("This is your own address.")
        wanted = clean_name(name) if name is not None else None
        existing = self.by_key(key)
        if existing is not None:
            if existing.pending_identity_key == key:
                return AddOutcome(existing, False, True, False)
            new_name = existing.display_name if wanted is None else wanted
            if name_key(new_name) != name_key(existing.display_name) and name_key(
                new_name
            ) in self._by_name:
                raise ContactError(f"Another contact is already called {new_name!r}.")
            if existing.relay_url == relay and new_name == existing.display_name:
                return AddOutcome(existing, False, False, False)
            updated = dataclasses.replace(existing, relay_url=relay, display_name=new_name)
            return AddOutcome(self._save(updated), False, False, True)
        if wanted is None and invitation.display_name is not None:
            wanted = clean_name(invitation.display_name)
        if wanted is not None:
            holder_id = self._by_name.get(name_key(wanted))
            if holder_id is not None:
                holder = self._by_id[holder_id]
                changed = dataclasses.replace(
                    holder, pending_identity_key=key, pending_relay_url=relay
                )
                return AddOutcome(self._save(changed), False, True, False)
        else:
            wanted = self._unique_name(f"contact {encode_key(key)[:8]}")
        record = ContactRecord(self._next_id, key, relay, wanted, now)
        self._next_id += 1
        return AddOutcome(self._save(record), True, False, False)

    def add_listed(
        self, address: Address, listed_name: str, name: str | None, now: int
    ) -> AddOutcome:
        """Add someone found in a relay directory, under ``name`` (else the listed name).

        Unlike an invitation link, which the contact handed over, a listed name comes from a
        stranger: it never turns into a key change of an existing contact with that name, it
        is made unique instead. A key that is already a contact goes through :meth:`add`.

        Raises:
            ContactError: our own entry, or ``name`` is bad or taken.
        """
        key = address.identity_key
        if key == self._own:
            raise ContactError("This is your own directory entry.")
        if self.by_key(key) is not None:
            return self.add(Invitation(address), name, now)
        if name is not None:
            wanted = clean_name(name)
            if name_key(wanted) in self._by_name:
                raise ContactError(f"Another contact is already called {wanted!r}.")
        else:
            try:
                wanted = self._unique_name(clean_name(listed_name))
            except ContactError:
                wanted = self._unique_name(f"contact {encode_key(key)[:8]}")
        record = ContactRecord(self._next_id, key, address.relay_url, wanted, now)
        self._next_id += 1
        return AddOutcome(self._save(record), True, False, False)

    def listing(self, identity_key: bytes, display_name: str, relay_url: str
                ) -> DirectoryListing:
        """A directory entry with what we know of its key."""
        known = self.by_key(identity_key)
        return DirectoryListing(identity_key, display_name, relay_url,
                                None if known is None else known.contact_id,
                                identity_key == self._own)

    def add_stranger(
        self, identity_key: bytes, relay_url: str | None, claimed_name: str | None, now: int
    ) -> ContactRecord:
        """A contact for someone who wrote first (under the name they gave, made unique)."""
        if len(identity_key) != KEY_SIZE:
            raise ContactError("An identity key is 32 bytes.")
        try:
            wanted = clean_name(claimed_name) if claimed_name else ""
        except ContactError:
            wanted = ""
        name = self._unique_name(wanted or f"contact {encode_key(identity_key)[:8]}")
        record = ContactRecord(self._next_id, identity_key, relay_url, name, now)
        self._next_id += 1
        return self._save(record)

    def set_relay(self, contact: ContactRecord, relay_url: str) -> ContactRecord:
        return self._save(dataclasses.replace(contact, relay_url=relay_url))

    def accept_key(self, contact: ContactRecord) -> ContactRecord:
        """Make the pending key the contact's key (unverified from now on).

        Raises:
            ContactError: no key change is pending.
        """
        if contact.pending_identity_key is None:
            raise ContactError(f"No identity key change is pending for {contact.display_name}.")
        self._by_key.pop(contact.identity_key, None)
        return self._save(dataclasses.replace(
            contact, identity_key=contact.pending_identity_key,
            relay_url=contact.pending_relay_url or contact.relay_url, verified=False,
            pending_identity_key=None, pending_relay_url=None,
        ))

    def reject_key(self, contact: ContactRecord) -> ContactRecord:
        """Forget a pending key change (sending to the known key works again).

        Raises:
            ContactError: no key change is pending.
        """
        if contact.pending_identity_key is None:
            raise ContactError(f"No identity key change is pending for {contact.display_name}.")
        self._by_key.pop(contact.pending_identity_key, None)
        return self._save(dataclasses.replace(
            contact, pending_identity_key=None, pending_relay_url=None
        ))

    def set_verified(self, contact: ContactRecord, verified: bool) -> ContactRecord:
        return self._save(dataclasses.replace(contact, verified=verified))

    def rename(self, contact: ContactRecord, name: str) -> ContactRecord:
        """Raises: ContactError: bad or taken name."""
        cleaned = clean_name(name)
        holder = self._by_name.get(name_key(cleaned))
        if holder is not None and holder != contact.contact_id:
            raise ContactError(f"Another contact is already called {cleaned!r}.")
        return self._save(dataclasses.replace(contact, display_name=cleaned))
