"""Who may register a mailbox: anyone, holders of an invitation code, or listed identity keys.

Admission is decided when an identity authenticates. A registered identity stays admitted in
"open" and "invite" modes; in "allowlist" mode the list is checked on every auth, so removing
a key from the operator's list locks it out at its next connection.

Invitation codes are shown to the operator once and stored only as SHA-256 of their normal form
(upper case, without dashes or spaces), so a stolen database reveals no usable code.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Set

from crypto.primitives import Random
from relay.config import Admission
from relay.errors import Forbidden, InvitationInvalid, InvitationRequired
from relay.store.base import RelayStore

_CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
CODE_BYTES = 15
"""Random bytes in an invitation code (120 bits): 24 base32 characters."""


def new_invitation_code(random: Random) -> str:
    """A fresh code such as ``K7QF-2MZX-...`` (six groups of four base32 characters)."""
    text = base64.b32encode(random(CODE_BYTES)).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalize_code(code: str) -> str | None:
    """The canonical form of a typed code, or None when it cannot be a code."""
    text = code.replace("-", "").replace(" ", "").upper()
    if len(text) != CODE_BYTES * 8 // 5 or not set(text) <= _CODE_ALPHABET:
        return None
    return text


def code_hash(normalized: str) -> bytes:
    """What the store keeps of a code: SHA-256 of its normal form (ASCII)."""
    return hashlib.sha256(normalized.encode("ascii")).digest()


class AdmissionPolicy:
    """The operator's admission mode and, for "allowlist", the admitted identity keys."""

    __slots__ = ("allowed", "mode")

    def __init__(self, mode: Admission, allowed: Set[bytes] = frozenset()) -> None:
        self.mode = mode  # fixed for the life of the process
        self.allowed = frozenset(allowed)  # only consulted in allowlist mode

    async def admit(self, store: RelayStore, identity: bytes, invitation: str | None) -> bool:
        """Register ``identity`` if the policy admits it; returns True when created now.

        Raises:
            Forbidden: not on the allow-list.
            InvitationRequired: invitation mode, unregistered, and no code given.
            InvitationInvalid: the code is malformed, unknown or used up.
        """
        if self.mode is Admission.ALLOWLIST and identity not in self.allowed:
            raise Forbidden("this relay admits only identity keys its operator listed")
        if await store.is_registered(identity):  # a read: most auths commit nothing
            return False
        if self.mode is Admission.INVITE:
            if invitation is None:
                raise InvitationRequired(
                    "this relay admits new members by invitation: give an invitation code"
                )
            normalized = normalize_code(invitation)
            if normalized is None or not await store.redeem_invitation(code_hash(normalized)):
                raise InvitationInvalid("the invitation code is unknown or already used up")
        return await store.register(identity)
