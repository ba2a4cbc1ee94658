"""One :class:`RelayConnection` per relay: the own relay authenticated, the others not.

A user's mailbox lives on their own relay, where the pool keeps an authenticated connection
(deliveries, acks, prekeys). A contact may live on another relay: deposits and prekey bundle
fetches there go over an unauthenticated connection, opened on first use and kept until the
pool closes.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from urllib.parse import urlsplit

from app.adapters.transport import (
    DEFAULT_BACKOFF,
    DEFAULT_SETTINGS,
    Backoff,
    ConnectionSettings,
    DeliveryHandler,
    PrekeysLowHandler,
    RelayConnection,
    StateHandler,
    TransportClosed,
    check_relay_url,
)


def relay_identity(url: str) -> tuple[str, str, int]:
    """The (scheme, host, port) naming a relay: two URLs of one relay give the same triple.

    Raises:
        InvalidSettings: not a ws:// or wss:// URL with a host.
    """
    parts = urlsplit(check_relay_url(url))
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "wss" else 80)
    return scheme, (parts.hostname or "").lower(), port


class RelayPool:
    """The own relay's authenticated connection and lazily opened ones to other relays.

    The callbacks apply to the own connection (only it receives deliveries). ``ssl``,
    ``backoff`` and ``settings`` apply to every connection.

    Raises:
        InvalidSettings: a bad own URL or identity key.
    """

    def __init__(
        self,
        own_url: str,
        identity_secret: bytes,
        *,
        on_delivery: DeliveryHandler | None = None,
        on_prekeys_low: PrekeysLowHandler | None = None,
        on_state: StateHandler | None = None,
        ssl: _ssl.SSLContext | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        settings: ConnectionSettings = DEFAULT_SETTINGS,
        invitation: str | None = None,
    ) -> None:
        self._ssl = ssl
        self._backoff = backoff
        self._settings = settings
        self._own_key = relay_identity(own_url)
        self._own = RelayConnection(
            own_url, identity_secret=identity_secret, on_delivery=on_delivery,
            on_prekeys_low=on_prekeys_low, on_state=on_state, ssl=self._tls_for(own_url),
            backoff=backoff, settings=settings, invitation=invitation,
        )
        self._others: dict[tuple[str, str, int], RelayConnection] = {}  # opened on first use
        self._closed = False  # close() was called; no new connections

    def _tls_for(self, url: str) -> _ssl.SSLContext | None:
        return self._ssl if urlsplit(url).scheme.lower() == "wss" else None

    async def start(self) -> None:
        """Start the own connection (deliveries flow from then on).

        Raises:
            TransportClosed: after :meth:`close`.
        """
        await self._own.start()

    def own(self) -> RelayConnection:
        """The authenticated connection to the own relay."""
        return self._own

    def for_url(self, url: str) -> RelayConnection:
        """The connection to the relay at ``url``: the own one for the own relay, else an
        unauthenticated one, created on first use (it connects with its first request).

        Raises:
            InvalidSettings: not a relay URL.
            TransportClosed: after :meth:`close`.
        """
        key = relay_identity(url)
        if key == self._own_key:
            return self._own
        if self._closed:
            raise TransportClosed("the relay pool was closed")
        connection = self._others.get(key)
        if connection is None:
            connection = RelayConnection(
                url, ssl=self._tls_for(url), backoff=self._backoff, settings=self._settings
            )
            self._others[key] = connection
        return connection

    async def close(self) -> None:
        """Close every connection (see :meth:`RelayConnection.close`)."""
        self._closed = True
        connections = [self._own, *self._others.values()]
        self._others.clear()
        await asyncio.gather(*(connection.close() for connection in connections))
