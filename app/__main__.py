"""Entry point of the ``sourdine`` desktop client (the GUI arrives with the desktop issue)."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    try:
        return version("sourdine")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sourdine", description="Sourdine desktop client.")
    parser.add_argument("--version", action="version", version=f"sourdine {_version()}")
    parser.parse_args(argv)
    print(f"sourdine {_version()}: the desktop client is not built yet; see README.md.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
