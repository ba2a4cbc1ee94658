"""``ClientOptions``: everything a client can be tuned with (tests shorten the delays)."""

from __future__ import annotations

import ssl as _ssl
from dataclasses import dataclass, field
from typing import Final

from app.adapters.transport import DEFAULT_BACKOFF, DEFAULT_SETTINGS, Backoff, ConnectionSettings
from app.core.clock import Clock, SystemClock
from app.core.errors import OptionsError
from app.core.prekeys import ONE_TIME_TARGET, SIGNED_PREKEY_ROTATION
from app.core.recipient_setup import DEFAULT_RECIPIENT_BACKOFF, RECIPIENT_SETUP_TIMEOUT
from crypto.primitives import Random, system_random

DEFAULT_MAINTENANCE_INTERVAL: Final = 3600.0
"""Seconds between two prekey checks (rotation, one-time keys the relay lacks)."""


@dataclass(frozen=True)
class ClientOptions:
    """Everything a client can be tuned with; the defaults are for real use.

    Raises:
        OptionsError: ``recipient_setup_timeout`` is not a positive number of seconds.
    """

    random: Random = system_random  # key material and message ids
    clock: Clock = field(default_factory=SystemClock)  # wall-clock time (tests move it)
    one_time_prekeys: int = ONE_TIME_TARGET  # kept published on the relay
    signed_prekey_rotation: int = SIGNED_PREKEY_ROTATION  # seconds
    maintenance_interval: float = DEFAULT_MAINTENANCE_INTERVAL  # seconds between prekey checks
    deposit_window: int = 32  # deposits in flight at most
    envelope_ttl: int | None = None  # seconds asked of relays (None: their maximum)
    backoff: Backoff = DEFAULT_BACKOFF  # reconnection delays
    settings: ConnectionSettings = DEFAULT_SETTINGS  # transport timeouts
    ssl: _ssl.SSLContext | None = None  # for wss:// relays (None: system defaults)
    invitation: str | None = None  # code to register on an invitation-only relay
    recipient_backoff: Backoff = DEFAULT_RECIPIENT_BACKOFF  # asks for a contact not set up yet
    recipient_setup_timeout: int = RECIPIENT_SETUP_TIMEOUT  # seconds a message waits for them

    def __post_init__(self) -> None:
        timeout = self.recipient_setup_timeout
        if type(timeout) is not int or timeout <= 0:
            raise OptionsError("The time a message waits for its recipient to set up must be "
                               f"a positive number of seconds, not {timeout!r}.")
