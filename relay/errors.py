"""Typed errors of the relay protocol, each with the machine code sent on the wire.

Every failure a relay reports to a client is a :class:`ProtocolError` subclass. The class
fixes the ``code`` (a short ASCII string, see docs/PROTOCOL.md, "Error codes") and
``str(error)`` is a readable sentence that is sent as the error's ``message``. A client decoding
an ``error`` frame gets the same class back (:func:`error_for_code`), so both ends catch the same
types.
"""

from __future__ import annotations

from typing import ClassVar


class ProtocolError(Exception):
    """Base class of every error the relay protocol can report.

    ``request_id`` is the id of the request this error answers, or 0 when the frame was too
    broken to read one (and for errors not tied to a request).
    """

    code: ClassVar[str] = "internal"

    def __init__(self, message: str, *, request_id: int = 0) -> None:
        super().__init__(message)
        self.request_id = request_id  # the id of the request this error answers, 0 if unknown

    @property
    def message(self) -> str:
        """The readable sentence sent to the client."""
        return str(self.args[0]) if self.args else ""


class Malformed(ProtocolError):
    """A frame is not valid MessagePack or a field is missing, of the wrong type or range."""

    code = "malformed"


class TooLarge(Malformed):
    """A frame, envelope, chunk or list is over a limit."""

    code = "too_large"


class UnknownOperation(Malformed):
    """The ``op`` names no operation of this protocol version."""

    code = "unknown_op"


class UnsupportedVersion(ProtocolError):
    """The client and the relay share no protocol version."""

    code = "unsupported_version"


class OutOfOrder(ProtocolError):
    """A frame arrived in a state where it is not allowed (e.g. ``auth`` before ``hello``)."""

    code = "out_of_order"


class Unauthenticated(ProtocolError):
    """The operation needs an authenticated session."""

    code = "unauthenticated"


class AuthFailed(ProtocolError):
    """The auth signature did not verify, or its challenge was used or expired."""

    code = "auth_failed"


class Forbidden(ProtocolError):
    """The relay's admission policy refuses this identity."""

    code = "forbidden"


class InvitationRequired(Forbidden):
    """The relay admits new members by invitation only and none was given."""

    code = "invitation_required"


class InvitationInvalid(Forbidden):
    """The invitation code is unknown or used up."""

    code = "invitation_invalid"


class BadSignature(ProtocolError):
    """A signed prekey's signature does not verify under the publisher's identity key."""

    code = "bad_signature"


class RateLimited(ProtocolError):
    """Too many requests; ``retry_after_ms`` says when the request would be accepted."""

    code = "rate_limited"

    def __init__(self, message: str, *, request_id: int = 0, retry_after_ms: int = 0) -> None:
        super().__init__(message, request_id=request_id)
        self.retry_after_ms = retry_after_ms  # wait at least this long before retrying


class QuotaExceeded(ProtocolError):
    """A mailbox, the blob space or the prekey list is full."""

    code = "quota_exceeded"


class UnknownMailbox(ProtocolError):
    """No mailbox for this identity on this relay."""

    code = "unknown_mailbox"


class NotFound(ProtocolError):
    """No such blob (or it expired), or no prekey bundle was published."""

    code = "not_found"


class InternalError(ProtocolError):
    """The relay failed (e.g. its storage); nothing was changed, the client may retry."""

    code = "internal"


class UnknownError(ProtocolError):
    """An error code this version of the protocol does not know (decoded on a client)."""

    code = "unknown"

    def __init__(self, message: str, *, request_id: int = 0, received_code: str = "") -> None:
        super().__init__(message, request_id=request_id)
        self.received_code = received_code  # the code exactly as the relay sent it


_BY_CODE: dict[str, type[ProtocolError]] = {
    cls.code: cls
    for cls in (
        Malformed, TooLarge, UnknownOperation, UnsupportedVersion, OutOfOrder, Unauthenticated,
        AuthFailed, Forbidden, InvitationRequired, InvitationInvalid, BadSignature, RateLimited,
        QuotaExceeded, UnknownMailbox, NotFound, InternalError,
    )
}

ERROR_CODES: frozenset[str] = frozenset(_BY_CODE)
"""Every error code a version 1 relay sends."""


def error_for_code(
    code: str, message: str, *, request_id: int = 0, retry_after_ms: int = 0
) -> ProtocolError:
    """Rebuild the typed error a relay sent (client side); unknown codes give UnknownError."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return UnknownError(message, request_id=request_id, received_code=code)
    if cls is RateLimited:
        return RateLimited(message, request_id=request_id, retry_after_ms=retry_after_ms)
    return cls(message, request_id=request_id)
