"""The relay's configuration: one table of options shared by the command line and the TOML file.

Every option has a long flag (``--max-frame-bytes``) and the same name with underscores in
the ``--config`` TOML file (``max_frame_bytes = 1048576``). Flags override the file, which
overrides the defaults. :func:`build_config` checks the values and returns a frozen
:class:`RelayConfig`, or raises :class:`ConfigError` with a sentence an operator can act on.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from relay.store.base import StoreLimits

DAY = 86_400


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class Admission(StrEnum):
    """Who may register a mailbox (authenticate for the first time) on this relay."""

    OPEN = "open"  # anyone
    INVITE = "invite"  # whoever presents an unused invitation code (once)
    ALLOWLIST = "allowlist"  # only identity keys the operator listed


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits the server enforces (the store enforces :attr:`store`)."""

    max_frame_bytes: int = 1024 * 1024
    max_envelope_bytes: int = 64 * 1024
    max_recipients: int = 1000
    deposit_rate: int = 500  # tokens per second per connection (one per recipient)
    deposit_burst: int = 2000
    max_connections_per_address: int = 64  # 0 = no limit (set it behind a reverse proxy)
    max_connections: int = 10_000
    blob_chunk_bytes: int = 512 * 1024
    max_inflight: int = 64  # deposits awaiting their commit, per connection
    send_queue_bytes: int = 1024 * 1024  # bytes of frames waiting to be written to one client
    prekeys_low_threshold: int = 10
    store: StoreLimits = field(default_factory=StoreLimits)


@dataclass(frozen=True, slots=True)
class RelayConfig:
    host: str = "127.0.0.1"
    port: int = 8443
    database: Path = Path("sourdine-relay.db")
    key_file: Path = Path("sourdine-relay.db.key")
    tls_cert: Path | None = None
    tls_key: Path | None = None
    admission: Admission = Admission.OPEN
    allow: frozenset[bytes] = frozenset()  # identity keys admitted in allowlist mode
    ttl_seconds: int = 14 * DAY  # the longest an envelope or blob is kept
    purge_interval: float = 60.0  # seconds between purges of expired envelopes and blobs
    auth_window: float = 60.0  # seconds a hello challenge stays valid
    send_timeout: float = 30.0  # a client that accepts no data for this long is dropped
    ping_interval: float = 20.0
    log_level: str = "info"
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its flag, its type, its default (None = computed) and its help text."""

    name: str  # long flag without dashes, underscores in TOML
    kind: Callable[[str], Any]
    default: Any
    help: str
    metavar: str | None = None
    repeatable: bool = False
    choices: tuple[str, ...] | None = None


_STORE_DEFAULTS = StoreLimits()
_LIMIT_DEFAULTS = Limits()

OPTIONS: tuple[Option, ...] = (
    Option("config", Path, None, "read settings from this TOML file (flags override it)", "FILE"),
    Option("host", str, "127.0.0.1", "address to listen on (0.0.0.0 or :: for all)", "HOST"),
    Option("port", int, 8443, "TCP port; 0 picks a free one (see the 'listening' log line)"),
    Option("database", Path, "sourdine-relay.db", "SQLite database file", "FILE"),
    Option("key_file", Path, None,
           "the relay's Ed25519 key (created 0600 on first start; default: DATABASE.key)", "FILE"),
    Option("tls_cert", Path, None, "TLS certificate chain (PEM); serve wss:// with --tls-key",
           "FILE"),
    Option("tls_key", Path, None, "TLS private key (PEM)", "FILE"),
    Option("admission", str, "open",
           "who may register: open (anyone), invite (invitation codes, see "
           "'sourdine-relay invite --help'), allowlist (--allow / --allowlist-file)",
           choices=("open", "invite", "allowlist")),
    Option("allow", str, (), "admit this identity key (base64url or hex); repeatable", "KEY",
           repeatable=True),
    Option("allowlist_file", Path, None, "file of identity keys to admit, one per line", "FILE"),
    Option("ttl_days", float, 14.0, "keep envelopes and blobs at most this many days"),
    Option("purge_interval", float, 60.0, "seconds between purges of expired data"),
    Option("auth_window", float, 60.0, "seconds a hello challenge stays valid"),
    Option("send_timeout", float, 30.0, "drop a client that accepts no data for this many seconds"),
    Option("ping_interval", float, 20.0, "seconds between WebSocket keepalive pings"),
    Option("max_frame_bytes", int, _LIMIT_DEFAULTS.max_frame_bytes,
           "largest WebSocket message accepted; larger closes the connection (1009)"),
    Option("max_envelope_bytes", int, _LIMIT_DEFAULTS.max_envelope_bytes,
           "largest sealed envelope accepted in a deposit"),
    Option("max_recipients", int, _LIMIT_DEFAULTS.max_recipients,
           "most mailboxes one deposit may name"),
    Option("deposit_rate", int, _LIMIT_DEFAULTS.deposit_rate,
           "deposit tokens per second per connection (one per recipient; 0 = no limit)"),
    Option("deposit_burst", int, _LIMIT_DEFAULTS.deposit_burst,
           "deposit tokens a connection may save up (at least --max-recipients)"),
    Option("max_connections_per_address", int, _LIMIT_DEFAULTS.max_connections_per_address,
           "open connections per remote address (0 = no limit, e.g. behind a proxy)"),
    Option("max_connections", int, _LIMIT_DEFAULTS.max_connections,
           "open connections in all (0 = no limit)"),
    Option("mailbox_max_envelopes", int, _STORE_DEFAULTS.mailbox_max_envelopes,
           "envelopes one mailbox may hold"),
    Option("mailbox_max_bytes", int, _STORE_DEFAULTS.mailbox_max_bytes,
           "bytes of envelopes one mailbox may hold"),
    Option("max_one_time_prekeys", int, _STORE_DEFAULTS.max_one_time_prekeys,
           "one-time prekeys one identity may store"),
    Option("prekeys_low_threshold", int, _LIMIT_DEFAULTS.prekeys_low_threshold,
           "tell the owner (prekeys_low) when fewer one-time prekeys remain"),
    Option("blob_max_bytes", int, _STORE_DEFAULTS.blob_max_bytes, "largest blob (attachment)"),
    Option("blob_quota_bytes", int, _STORE_DEFAULTS.blob_quota_bytes_per_owner,
           "bytes of blobs one identity may hold"),
    Option("blob_chunk_bytes", int, _LIMIT_DEFAULTS.blob_chunk_bytes,
           "largest blob chunk per upload or download frame"),
    Option("max_inflight", int, _LIMIT_DEFAULTS.max_inflight,
           "deposits one connection may have awaiting their commit"),
    Option("send_queue_bytes", int, _LIMIT_DEFAULTS.send_queue_bytes,
           "bytes queued for one client before live delivery falls back to reading the "
           "mailbox at the client's pace"),
    Option("log_level", str, "info", "debug, info, warning or error",
           choices=("debug", "info", "warning", "error")),
)
_BY_NAME = {option.name: option for option in OPTIONS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every option to ``parser`` with a None default (so given flags can be told apart)."""
    for option in OPTIONS:
        flag = "--" + option.name.replace("_", "-")
        default = option.default
        shown = f" (default: {default})" if default not in (None, ()) else ""
        kwargs: dict[str, Any] = {"default": None, "help": option.help + shown, "dest": option.name}
        kwargs["metavar"] = option.metavar or _metavar(option)
        if option.choices:
            kwargs["choices"] = option.choices
        if option.repeatable:
            kwargs["action"] = "append"
        else:
            kwargs["type"] = option.kind
        parser.add_argument(flag, **kwargs)


def _metavar(option: Option) -> str | None:
    if option.choices:
        return None
    if option.name.endswith("_bytes"):
        return "BYTES"
    if option.name.endswith("_days"):
        return "DAYS"
    return "SECONDS" if option.kind is float else "N"


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML config file (keys are option names with underscores).

    Raises:
        ConfigError: unreadable file, bad TOML, an unknown key or a value of the wrong type.
    """
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read the config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"the config file {path} is not valid TOML: {error}") from None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        option = _BY_NAME.get(name)
        if option is None or name == "config":
            raise ConfigError(f'the config file {path} has an unknown setting "{key}"')
        values[name] = _from_toml(option, value, path)
    return values


def _from_toml(option: Option, value: Any, path: Path) -> Any:
    where = f'"{option.name}" in {path}'
    if option.repeatable:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings")
        return value
    if option.kind is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a path string")
        return (path.parent / value) if not Path(value).is_absolute() else Path(value)
    if option.kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not option.kind:
        raise ConfigError(f"{where} must be of type {getattr(option.kind, '__name__', '?')}")
    return value


def build_config(args: Mapping[str, Any]) -> RelayConfig:
    """Merge defaults, the TOML file named by ``args["config"]`` and the flags in ``args``.

    Raises:
        ConfigError: a value is invalid (the message names the option).
    """
    values: dict[str, Any] = {o.name: o.default for o in OPTIONS}
    config_file = args.get("config")
    if config_file is not None:
        values.update(load_toml(Path(config_file)))
    values.update({k: v for k, v in args.items() if v is not None and k in _BY_NAME})
    return _validated(values)


def _positive(values: Mapping[str, Any], name: str, *, zero_ok: bool = False) -> None:
    value = values[name]
    if value < 0 or (value == 0 and not zero_ok):
        flag = "--" + name.replace("_", "-")
        bound = "0 or more" if zero_ok else "more than 0"
        raise ConfigError(f"{flag} must be {bound} (got {value})")


def _validated(v: Mapping[str, Any]) -> RelayConfig:
    for option in OPTIONS:
        if option.choices and v[option.name] not in option.choices:
            flag = "--" + option.name.replace("_", "-")
            raise ConfigError(f"{flag} must be one of {', '.join(option.choices)}")
    for name in ("max_frame_bytes", "max_envelope_bytes", "max_recipients", "deposit_burst",
                 "mailbox_max_envelopes", "mailbox_max_bytes", "blob_max_bytes",
                 "blob_quota_bytes", "blob_chunk_bytes", "max_inflight", "send_queue_bytes",
                 "ttl_days", "purge_interval", "auth_window", "send_timeout", "ping_interval"):
        _positive(v, name)
    for name in ("deposit_rate", "max_connections_per_address", "max_connections",
                 "max_one_time_prekeys", "prekeys_low_threshold"):
        _positive(v, name, zero_ok=True)
    if not 0 <= v["port"] <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535 (got {v['port']})")
    if v["max_envelope_bytes"] + 64 * v["max_recipients"] > v["max_frame_bytes"]:
        raise ConfigError(
            "--max-frame-bytes must leave room for an envelope of --max-envelope-bytes and "
            "--max-recipients keys (about 64 bytes each)"
        )
    if v["blob_chunk_bytes"] + 256 > v["max_frame_bytes"]:
        raise ConfigError("--blob-chunk-bytes must be at least 256 bytes under --max-frame-bytes")
    if v["deposit_rate"] and v["deposit_burst"] < v["max_recipients"]:
        raise ConfigError("--deposit-burst must be at least --max-recipients")
    if (v["tls_cert"] is None) != (v["tls_key"] is None):
        raise ConfigError("--tls-cert and --tls-key go together")
    admission = Admission(v["admission"])
    allow = frozenset(parse_identity(key) for key in v["allow"] or ())
    if v["allowlist_file"] is not None:
        allow |= read_allowlist(Path(v["allowlist_file"]))
    if admission is Admission.ALLOWLIST and not allow:
        raise ConfigError("--admission allowlist needs --allow KEY or --allowlist-file FILE")
    database = Path(v["database"])
    key_file = Path(v["key_file"]) if v["key_file"] is not None else Path(f"{database}.key")
    store = StoreLimits(
        mailbox_max_envelopes=v["mailbox_max_envelopes"],
        mailbox_max_bytes=v["mailbox_max_bytes"],
        max_one_time_prekeys=v["max_one_time_prekeys"],
        blob_max_bytes=v["blob_max_bytes"],
        blob_quota_bytes_per_owner=v["blob_quota_bytes"],
    )
    limits = Limits(
        max_frame_bytes=v["max_frame_bytes"], max_envelope_bytes=v["max_envelope_bytes"],
        max_recipients=v["max_recipients"], deposit_rate=v["deposit_rate"],
        deposit_burst=v["deposit_burst"],
        max_connections_per_address=v["max_connections_per_address"],
        max_connections=v["max_connections"], blob_chunk_bytes=v["blob_chunk_bytes"],
        max_inflight=v["max_inflight"], send_queue_bytes=v["send_queue_bytes"],
        prekeys_low_threshold=v["prekeys_low_threshold"], store=store,
    )
    return RelayConfig(
        host=v["host"], port=v["port"], database=database, key_file=key_file,
        tls_cert=None if v["tls_cert"] is None else Path(v["tls_cert"]),
        tls_key=None if v["tls_key"] is None else Path(v["tls_key"]),
        admission=admission, allow=allow, ttl_seconds=max(1, round(v["ttl_days"] * DAY)),
        purge_interval=v["purge_interval"], auth_window=v["auth_window"],
        send_timeout=v["send_timeout"], ping_interval=v["ping_interval"],
        log_level=v["log_level"], limits=limits,
    )


def parse_identity(text: str) -> bytes:
    """An identity key from base64url (unpadded, as in Sourdine addresses) or hex.

    Raises:
        ConfigError: neither form gives exactly 32 bytes.
    """
    text = text.strip()
    key: bytes | None = None
    if len(text) == 64:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = None
    if key is None:
        try:
            key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            key = None
    if key is None or len(key) != 32:
        raise ConfigError(f'"{text[:80]}" is not an identity key (32 bytes, base64url or hex)')
    return key


def read_allowlist(path: Path) -> frozenset[bytes]:
    """Identity keys from a file: one per line; blank lines and ``#`` comments are ignored.

    Raises:
        ConfigError: the file cannot be read or a line is not a key.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the allow-list {path}: {error}") from None
    keys = set()
    for number, line in enumerate(lines, 1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            try:
                keys.add(parse_identity(entry))
            except ConfigError as error:
                raise ConfigError(f"{path}, line {number}: {error}") from None
    return frozenset(keys)
