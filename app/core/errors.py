"""Typed errors of the client core; ``str()`` is always a sentence to show the user."""

from __future__ import annotations


class ClientError(Exception):
    """Base class of every error the client core raises."""


class AddressError(ClientError):
    """A Sourdine address, invitation link or relay URL that cannot be parsed."""


class MessageFormatError(ClientError):
    """Application plaintext (inside the ratchet) that does not decode."""


class AccountError(ClientError):
    """The profile has no account yet, or already has one."""


class ContactError(ClientError):
    """A contact command that cannot be done (unknown contact, name taken, own address)."""


class UnknownContact(ContactError):
    """No contact matches the name or key given."""


class KeyChangePending(ContactError):
    """The contact's identity key changed; sending is blocked until the user accepts it."""


class SendError(ClientError):
    """A message cannot be queued (empty, too long, no relay known for the contact)."""


class ClientClosed(ClientError):
    """The client was used after it was closed."""


class OptionsError(ClientError):
    """A client option out of range (see :class:`app.core.options.ClientOptions`)."""
