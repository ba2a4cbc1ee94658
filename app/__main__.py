"""Entry point of ``sourdine``.

Until the desktop window arrives (issue 5), ``sourdine`` does the part of the default set-up
that exists: it starts a relay on this computer, says how to talk through it with
``sourdine-cli``, and stops the relay when interrupted (Ctrl+C) or terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from importlib.metadata import PackageNotFoundError, version

from app.adapters.local_relay import DEFAULT_PORT, LocalRelay, LocalRelayError


def _version() -> str:
    try:
        return version("sourdine")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


async def _serve(port: int) -> int:
    relay = LocalRelay(port=port)
    try:
        address = await relay.start()
    except LocalRelayError as error:
        print(f"sourdine: {error}")
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(
        f"Sourdine {_version()}: a relay on this computer is running at {address.url}\n"
        "The desktop window is not built yet. Talk through this relay with sourdine-cli:\n"
        f"  .venv/bin/sourdine-cli --profile alice init --name Alice --relay {address.url}\n"
        f"  .venv/bin/sourdine-cli --profile bob init --name Bob --relay {address.url}\n"
        "  (README.md, 'Two users with sourdine-cli', shows the whole session.)\n"
        "Press Ctrl+C to stop the relay.",
        flush=True,
    )
    await stop.wait()
    await relay.stop()
    print("Relay stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sourdine",
        description="Sourdine: end-to-end encrypted team chat. Starts a relay on this computer.",
    )
    parser.add_argument("--version", action="version", version=f"sourdine {_version()}")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT,
        help=f"port of the local relay (default {DEFAULT_PORT}; any free port if taken)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    return asyncio.run(_serve(args.port))


if __name__ == "__main__":
    raise SystemExit(main())
