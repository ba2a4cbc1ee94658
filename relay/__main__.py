"""The ``sourdine-relay`` command: serve the relay, or create invitation codes.

``sourdine-relay [options]`` serves until SIGTERM or SIGINT, then stops accepting, closes every
connection, lets pending deposits commit, closes the store and exits 0. The first log line an
operator (or a test) needs is ``{"event": "listening", "host": ..., "port": ...}`` on stderr.

``sourdine-relay invite [--uses N] [--count N] [--database FILE | --config FILE]`` prints new
invitation codes, one per line, and stores only their SHA-256.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from crypto.primitives import system_random
from relay.admission import code_hash, new_invitation_code, normalize_code
from relay.config import OPTIONS, ConfigError, RelayConfig, add_arguments, build_config
from relay.identity import KeyFileError, load_or_create
from relay.logging import configure, flush, log_event
from relay.server import RelayServer, ServerError
from relay.store.base import StoreError
from relay.store.sqlite import SQLiteRelayStore

EXIT_OK = 0
EXIT_FAILURE = 1


def _version() -> str:
    try:
        return version("sourdine")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sourdine-relay",
        description=(
            "Sourdine relay: a WebSocket store-and-forward server that holds sealed envelopes "
            "until their recipient acknowledges them or they expire. Logs are JSON lines on "
            "stderr; the 'listening' line gives the bound host and port. GET /healthz on the "
            "same port answers 200 ok."
        ),
        epilog=(
            "Every option can also be set in the --config TOML file, under its long name with "
            "underscores (e.g. max_frame_bytes = 1048576, allow = [\"<key>\"]); flags override "
            "the file. To create invitation codes: sourdine-relay invite --help."
        ),
    )
    parser.add_argument("--version", action="version", version=f"sourdine-relay {_version()}")
    add_arguments(parser)
    return parser


def invite_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sourdine-relay invite",
        description=(
            "Create invitation codes for a relay in --admission invite mode and print them, one "
            "per line. Only their SHA-256 is stored. Works while the relay runs."
        ),
    )
    parser.add_argument("--uses", type=int, default=1, help="registrations per code (default: 1)")
    parser.add_argument("--count", type=int, default=1, help="codes to create (default: 1)")
    for option in OPTIONS:
        if option.name in {"config", "database"}:
            parser.add_argument(
                "--" + option.name, type=Path, default=None, metavar="FILE",
                help=option.help if option.name == "config" else "the relay's database",
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["invite"]:
        return _invite(arguments[1:])
    parser = serve_parser()
    namespace = parser.parse_args(arguments)
    try:
        config = build_config(vars(namespace))
    except ConfigError as error:
        parser.error(str(error))
    configure(config.log_level)
    try:
        return asyncio.run(_serve(config))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return EXIT_FAILURE
    finally:
        flush()


async def _serve(config: RelayConfig) -> int:
    try:
        identity, created = load_or_create(config.key_file, system_random)
    except KeyFileError as error:
        log_event("startup_failed", logging.ERROR, reason=str(error))
        return EXIT_FAILURE
    if created:
        log_event("relay_key_created", path=str(config.key_file))
    store = SQLiteRelayStore(config.database, config.limits.store)
    try:
        await store.open()
    except (StoreError, OSError) as error:
        log_event("startup_failed", logging.ERROR, reason=str(error))
        return EXIT_FAILURE
    server = RelayServer(config, store, identity)
    try:
        host, port = await server.start()
    except ServerError as error:
        log_event("startup_failed", logging.ERROR, reason=str(error))
        await store.close()
        return EXIT_FAILURE
    stop = asyncio.Event()
    _on_signals(stop)
    log_event(
        "listening", host=host, port=port, tls=config.tls_cert is not None,
        admission=config.admission.value, version=_version(),
    )
    await stop.wait()
    log_event("stopping", connections=server.connection_count)
    await server.stop()
    await store.close()
    log_event("stopped")
    return EXIT_OK


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(signum, lambda _s, _f: loop.call_soon_threadsafe(stop.set))


def _invite(arguments: list[str]) -> int:
    parser = invite_parser()
    namespace = parser.parse_args(arguments)
    if namespace.uses < 1 or namespace.count < 1:
        parser.error("--uses and --count must be at least 1")
    settings = {"config": namespace.config, "database": namespace.database}
    try:
        config = build_config(settings)
    except ConfigError as error:
        parser.error(str(error))
    codes = [new_invitation_code(system_random) for _ in range(namespace.count)]
    try:
        asyncio.run(_store_invitations(config, codes, namespace.uses))
    except (StoreError, OSError) as error:
        print(f"sourdine-relay invite: {error}", file=sys.stderr)
        return EXIT_FAILURE
    for code in codes:
        print(code)
    return EXIT_OK


async def _store_invitations(config: RelayConfig, codes: list[str], uses: int) -> None:
    store = SQLiteRelayStore(config.database, config.limits.store)
    await store.open()
    try:
        for code in codes:
            normalized = normalize_code(code)
            if normalized is None:  # pragma: no cover - new codes are always well formed
                raise StoreError("a generated invitation code was malformed")
            await store.add_invitation(code_hash(normalized), uses)
    finally:
        await store.close()


if __name__ == "__main__":
    raise SystemExit(main())
