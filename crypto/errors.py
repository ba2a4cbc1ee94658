"""Typed errors of the crypto layer.

Every failure the crypto layer can report is a subclass of :class:`CryptoError`, so callers
can catch one type and show ``str(error)``, which is always a readable sentence. Decoders
raise only :class:`DecodeError` (or a subclass) on malformed bytes, whatever the input.
"""


class CryptoError(Exception):
    """Base class of every error raised by ``crypto``."""


class DecodeError(CryptoError):
    """Bytes that do not parse as the expected structure (bad length, field or trailing data)."""


class UnsupportedVersion(DecodeError):
    """A structure carries a version this code does not know (and cannot migrate from)."""


class StateError(DecodeError):
    """A saved state could not be restored: corrupt, truncated, or of the wrong kind."""


class AuthenticationError(CryptoError):
    """A MAC, AEAD tag or seal did not verify: the data was tampered with or the key is wrong."""


class BadSignature(AuthenticationError):
    """An Ed25519 signature did not verify."""


class LowOrderKey(CryptoError):
    """A Diffie-Hellman public key is of low order (the shared secret would be all zeros)."""


class DuplicateMessage(CryptoError):
    """A message was already decrypted once; replays are rejected."""


class TooManySkipped(CryptoError):
    """Accepting the message would skip more message keys than the protocol allows."""


class ExpiredKey(CryptoError):
    """The message needed a skipped message key that has expired and was deleted."""


class UnknownSender(CryptoError):
    """No sender key (or session) is known for the author of a message."""


class SenderKeyMismatch(CryptoError):
    """A group message or distribution belongs to another group or sender key than the state."""


class PredatesSenderKey(CryptoError):
    """A group message is older than the sender key state we hold (e.g. sent before we joined)."""


class SenderKeyExhausted(CryptoError):
    """A sender key has sent its last possible message; it must be rotated."""


class PayloadTooLarge(CryptoError):
    """A payload does not fit in the largest sealed envelope."""


class SafetyNumberMismatch(CryptoError):
    """A scanned safety-number code does not match the one expected for this contact."""


class UnknownPrekey(CryptoError):
    """A session's first message names a signed or one-time prekey this installation lacks."""


class PrekeyAlreadyUsed(UnknownPrekey):
    """A session's first message names a one-time prekey that was already consumed."""


class SendingChainUnavailable(CryptoError):
    """A session cannot encrypt: it has no sending chain yet, or the chain's counter is spent."""
