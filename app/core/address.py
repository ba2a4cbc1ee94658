"""Sourdine addresses and invitation links (DESIGN.md "Identity, addresses, secrets").

An address names a home relay and an identity key::

    sourdine://HOST:PORT/<identity key, base64url without padding>     relay at wss://HOST:PORT/
    sourdine+ws://HOST:PORT/<identity key>                             relay at ws://HOST:PORT/

``sourdine+ws`` is for loopback and local test relays (plain WebSocket). An *invitation
link* is an address with the inviter's display name: ``sourdine://HOST:PORT/<key>?name=<name>``
(percent-encoded UTF-8). Relay URLs are kept in one canonical form, ``wss://host:port/`` or
``ws://host:port/`` (lower-case host, explicit port, no path).
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from dataclasses import dataclass
from typing import Final

from app.core.errors import AddressError

KEY_SIZE: Final = 32
SCHEMES: Final = {"sourdine": "wss", "sourdine+ws": "ws"}
"""Address scheme -> relay URL scheme."""
DEFAULT_PORTS: Final = {"wss": 443, "ws": 80}
MAX_NAME: Final = 64
MAX_LINK: Final = 1024


@dataclass(frozen=True, slots=True)
class Address:
    """Where to reach someone: their home relay (canonical ws/wss URL) and identity key."""

    relay_url: str
    identity_key: bytes

    def __str__(self) -> str:
        return format_address(self.relay_url, self.identity_key)


@dataclass(frozen=True, slots=True)
class Invitation:
    """A parsed address or invitation link; ``display_name`` only comes with a link."""

    address: Address
    display_name: str | None = None


def encode_key(identity_key: bytes) -> str:
    """base64url without padding (43 characters for a 32-byte key)."""
    return base64.urlsafe_b64encode(identity_key).rstrip(b"=").decode("ascii")


def decode_key(text: str) -> bytes:
    """Raises: AddressError: not the strict base64url form of 32 bytes."""
    if len(text) != 43 or not text.isascii():
        raise AddressError("The identity key in the address must be 43 base64url characters.")
    try:
        key = base64.urlsafe_b64decode(text + "=")
    except (binascii.Error, ValueError):
        raise AddressError("The identity key in the address is not valid base64url.") from None
    if len(key) != KEY_SIZE or encode_key(key) != text:
        raise AddressError("The identity key in the address is not valid base64url.")
    return key


def _host_port(netloc: str, scheme: str, what: str) -> tuple[str, int]:
    try:
        parsed = urllib.parse.urlsplit(f"//{netloc}")
        host, port = parsed.hostname, parsed.port
    except ValueError:
        raise AddressError(f"The {what} has an invalid host or port.") from None
    if not host or parsed.username is not None or parsed.password is not None:
        raise AddressError(f"The {what} must name a host (and no user name).")
    if any(c.isspace() for c in host) or "/" in host:
        raise AddressError(f"The {what} has an invalid host.")
    return host.lower(), port if port is not None else DEFAULT_PORTS[scheme]


def _url(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}/"


def normalize_relay_url(url: str) -> str:
    """The canonical form of a relay URL (``ws://`` or ``wss://``, host and port only).

    Raises:
        AddressError: not a ws/wss URL, or it has a path, query or user name.
    """
    if not isinstance(url, str) or len(url) > MAX_LINK:
        raise AddressError("A relay URL must be a ws:// or wss:// URL.")
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        raise AddressError(f"{url!r} is not a valid relay URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise AddressError(f"{url!r} is not a relay URL: use ws://HOST:PORT or wss://HOST:PORT.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise AddressError(f"The relay URL {url!r} must have no path, query or fragment.")
    host, port = _host_port(parts.netloc, scheme, "relay URL")
    return _url(scheme, host, port)


def format_address(relay_url: str, identity_key: bytes) -> str:
    """The address of ``identity_key`` at the relay ``relay_url``.

    Raises:
        AddressError: the relay URL is invalid or the key is not 32 bytes.
    """
    if type(identity_key) is not bytes or len(identity_key) != KEY_SIZE:
        raise AddressError("An identity key is 32 bytes.")
    canonical = normalize_relay_url(relay_url)
    scheme, rest = canonical.split("://", 1)
    prefix = "sourdine" if scheme == "wss" else "sourdine+ws"
    return f"{prefix}://{rest}{encode_key(identity_key)}"


def format_invitation(relay_url: str, identity_key: bytes, display_name: str) -> str:
    """An invitation link: the address plus the inviter's display name.

    Raises:
        AddressError: as :func:`format_address`, or an empty or over-long name.
    """
    name = display_name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise AddressError(f"A display name has 1 to {MAX_NAME} characters.")
    query = urllib.parse.urlencode({"name": name}, quote_via=urllib.parse.quote)
    return f"{format_address(relay_url, identity_key)}?{query}"


def parse_contact_link(text: str) -> Invitation:
    """Parse an address or an invitation link.

    Raises:
        AddressError: anything malformed, with a sentence saying what.
    """
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_LINK:
        raise AddressError("An address looks like sourdine://HOST:PORT/<identity key>.")
    try:
        parts = urllib.parse.urlsplit(text.strip())
    except ValueError:
        raise AddressError("The address is not a valid sourdine:// link.") from None
    relay_scheme = SCHEMES.get(parts.scheme.lower())
    if relay_scheme is None:
        raise AddressError(
            "An address starts with sourdine:// (or sourdine+ws:// for a local relay)."
        )
    if parts.fragment:
        raise AddressError("An address has no #fragment.")
    host, port = _host_port(parts.netloc, relay_scheme, "address")
    key = decode_key(parts.path.lstrip("/") if parts.path.startswith("/") else "")
    name = None
    if parts.query:
        try:
            fields = urllib.parse.parse_qs(
                parts.query, keep_blank_values=True, strict_parsing=True, errors="strict"
            )
        except (ValueError, UnicodeDecodeError):
            raise AddressError("The invitation link's name is not valid.") from None
        if set(fields) != {"name"} or len(fields["name"]) != 1:
            raise AddressError("An invitation link carries only name=<display name>.")
        name = fields["name"][0].strip()
        if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
            raise AddressError(
                f"The invitation's name must be 1 to {MAX_NAME} printable characters."
            )
    return Invitation(Address(_url(relay_scheme, host, port), key), name)


def parse_address(text: str) -> Address:
    """Parse an address (an invitation link's name, if any, is dropped).

    Raises:
        AddressError: anything malformed.
    """
    return parse_contact_link(text).address
