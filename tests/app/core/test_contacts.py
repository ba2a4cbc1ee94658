"""The contact book: unique names, key changes kept pending until accepted or rejected."""

from __future__ import annotations

import pytest

from app.core.address import Address, Invitation
from app.core.contacts import ContactBook
from app.core.errors import ContactError, KeyChangePending, UnknownContact

OWN = b"\x01" * 32
BOB = b"\xb0" * 32
NEW_BOB = b"\xb1" * 32
RELAY = "ws://127.0.0.1:9/"


def link(key: bytes, name: str | None = None, relay: str = RELAY) -> Invitation:
    return Invitation(Address(relay, key), name)


def test_names_come_from_the_user_the_link_or_the_key() -> None:
    book = ContactBook([], OWN)
    assert book.add(link(BOB, "Bob"), None, 0).contact.display_name == "Bob"
    assert book.add(link(b"\xc0" * 32), "  Carol   Smith ", 0).contact.display_name == "Carol Smith"
    bare = book.add(link(b"\xd0" * 32), None, 0).contact
    assert bare.display_name.startswith("contact ")
    assert book.find("bob") == book.find("BOB") == book.find(1)
    assert book.find(bare.display_name.split()[1][:6]).contact_id == bare.contact_id
    with pytest.raises(UnknownContact):
        book.find("nobody")
    with pytest.raises(ContactError, match="own address"):
        book.add(link(OWN), None, 0)


def test_the_same_key_again_updates_relay_and_name_without_a_key_change() -> None:
    book = ContactBook([], OWN)
    book.add(link(BOB, "Bob"), None, 0)
    again = book.add(link(BOB, "Bob", "wss://other.example:443/"), "Robert", 0)
    assert (again.created, again.updated, again.key_changed) == (False, True, False)
    assert again.contact.relay_url == "wss://other.example:443/"
    assert book.find("robert").identity_key == BOB
    unchanged = book.add(link(BOB, None, "wss://other.example:443/"), None, 0)
    assert not (unchanged.created or unchanged.updated or unchanged.key_changed)


def test_a_new_key_under_a_known_name_is_pending_until_accepted() -> None:
    book = ContactBook([], OWN)
    book.add(link(BOB, "Bob"), None, 0)
    outcome = book.add(link(NEW_BOB, "Bob", "wss://new.example:443/"), None, 0)
    assert outcome.key_changed and not outcome.created
    bob = outcome.contact
    assert bob.identity_key == BOB and bob.pending_identity_key == NEW_BOB
    assert book.by_key(NEW_BOB) == bob  # messages from the new key land in Bob's conversation
    with pytest.raises(KeyChangePending):
        book.check_can_send(bob)
    assert book.add(link(NEW_BOB), None, 0).key_changed  # announcing it again changes nothing
    accepted = book.accept_key(book.set_verified(bob, True))
    assert accepted.identity_key == NEW_BOB and accepted.relay_url == "wss://new.example:443/"
    assert not accepted.verified and accepted.pending_identity_key is None
    assert book.by_key(BOB) is None
    book.check_can_send(accepted)
    with pytest.raises(ContactError, match="No identity key change"):
        book.accept_key(accepted)


def test_a_rejected_key_change_keeps_the_known_key() -> None:
    book = ContactBook([], OWN)
    book.add(link(BOB, "Bob"), None, 0)
    bob = book.add(link(NEW_BOB), "bob", 0).contact
    kept = book.reject_key(bob)
    assert kept.identity_key == BOB and kept.pending_identity_key is None
    assert book.by_key(NEW_BOB) is None
    book.check_can_send(kept)


def test_strangers_get_unique_names_and_renames_stay_unique() -> None:
    book = ContactBook([], OWN)
    book.add(link(BOB, "Bob"), None, 0)
    stranger = book.add_stranger(b"\xe0" * 32, RELAY, "bob", 0)
    assert stranger.display_name == "bob (2)"
    nameless = book.add_stranger(b"\xe1" * 32, None, "\x00bad", 0)
    assert nameless.display_name.startswith("contact ") and nameless.relay_url is None
    with pytest.raises(ContactError, match="already called"):
        book.rename(stranger, "BOB")
    assert book.rename(stranger, "Bobby").display_name == "Bobby"
    restored = ContactBook(book.all(), OWN)
    assert restored.find("bobby").identity_key == b"\xe0" * 32
    assert restored.add_stranger(b"\xe2" * 32, None, None, 0).contact_id == 4
