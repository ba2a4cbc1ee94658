"""Entry point of the ``sourdine-relay`` command (the server arrives with the relay issue)."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    try:
        return version("sourdine")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sourdine-relay", description="Sourdine relay.")
    parser.add_argument("--version", action="version", version=f"sourdine-relay {_version()}")
    parser.parse_args(argv)
    print(f"sourdine-relay {_version()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
