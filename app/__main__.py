"""Entry point of ``sourdine``: the desktop application.

``sourdine`` opens the default profile's window (first run: the onboarding);
``sourdine --profile NAME`` runs another account beside it, so two people can talk on one
machine. ``sourdine --relay-only`` starts only the relay on this computer (headless: the
window is not opened) and waits until interrupted, as ``make run`` did before the window.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from importlib.metadata import PackageNotFoundError, version

from app.adapters.local_relay import LocalRelay, LocalRelayError
from app.config import DEFAULT_PROFILE, ProfileError, profile_paths


def _version() -> str:
    try:
        return version("sourdine")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


async def _serve_relay(port: int | None) -> int:
    relay = LocalRelay(port=port)
    try:
        address = await relay.start()
    except LocalRelayError as error:
        print(f"sourdine: {error}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    shared = "" if relay.owned else " (already running for another Sourdine window)"
    print(
        f"Sourdine {_version()}: the relay on this computer is at {address.url}{shared}\n"
        "Talk through it with sourdine-cli:\n"
        f"  .venv/bin/sourdine-cli --profile alice init --name Alice --relay {address.url}\n"
        f"  .venv/bin/sourdine-cli --profile bob init --name Bob --relay {address.url}\n"
        "  (README.md, 'Two users with sourdine-cli', shows the whole session.)\n"
        "Press Ctrl+C to stop.",
        flush=True,
    )
    await stop.wait()
    owned = relay.owned
    await relay.stop()
    print("Relay stopped." if owned else "Done (the relay keeps running for its window).",
          flush=True)
    return 0


def _has_display() -> bool:
    """Whether Qt can show a window: always on Windows and macOS; on Linux a display server
    must be named (or a platform chosen, such as ``QT_QPA_PLATFORM=offscreen``)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sourdine",
        description="Sourdine: end-to-end encrypted team chat for the desktop.",
    )
    parser.add_argument("--version", action="version", version=f"sourdine {_version()}")
    parser.add_argument(
        "--profile", default=DEFAULT_PROFILE, metavar="NAME",
        help="the account to open (default: %(default)s); run a second window with another "
             "name to talk to yourself on one machine",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=int, default=None, metavar="N",
        help="port of the relay on this computer for a new account (default: the one used "
             "last, else 8765; any free port if taken)",
    )  # fmt: skip
    parser.add_argument(
        "--relay-only", action="store_true",
        help="only start the relay on this computer (no window) and wait for Ctrl+C",
    )
    args = parser.parse_args(argv)
    if args.port is not None and not 0 <= args.port < 65536:
        parser.error("--port takes a number from 0 to 65535")
    if args.relay_only:
        return asyncio.run(_serve_relay(args.port))
    try:
        paths = profile_paths(args.profile)
    except ProfileError as error:
        parser.error(str(error))
    if not _has_display():
        print(
            "sourdine: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY "
            "is set). Start Sourdine from your desktop session, or run "
            "'sourdine --relay-only' to start only the relay on this computer.",
            file=sys.stderr,
        )
        return 1
    from app.ui.application import run  # Qt is only loaded for the window

    return run(paths, relay_port=args.port, argv=[sys.argv[0]])


if __name__ == "__main__":
    raise SystemExit(main())
