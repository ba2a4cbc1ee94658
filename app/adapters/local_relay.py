"""A relay on this computer: the default for someone without a company relay.

The client never imports the relay server (see docs/ARCHITECTURE.md); it runs
``python -m relay`` as a child process on 127.0.0.1, with its SQLite database in the user's
data directory, and stops it on exit. The relay announces its bound port in a JSON log line
(``{"event": "listening", ...}``) on stderr, which :class:`LocalRelay` waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

DEFAULT_PORT: Final = 8765
"""The port a local relay asks for first; 0 (any free port) when it is taken."""
STARTUP_TIMEOUT: Final = 30.0


class LocalRelayError(Exception):
    """The local relay could not be started; ``str()`` says why, for the user."""


def default_relay_dir() -> Path:
    """Where the local relay keeps its database and key: the user's data directory."""
    return Path(platformdirs.user_data_dir("Sourdine", appauthor=False)) / "local-relay"


@dataclass(frozen=True, slots=True)
class RelayAddress:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"


class LocalRelay:
    """Start and stop a ``sourdine-relay`` child process bound to 127.0.0.1."""

    def __init__(self, directory: Path | None = None, port: int = DEFAULT_PORT) -> None:
        self._directory = directory or default_relay_dir()  # database and relay key live here
        self._port = port  # the port asked for; 0 means any free port
        self._process: asyncio.subprocess.Process | None = None  # set while running
        self._drain: asyncio.Task[None] | None = None  # reads the relay's log after start-up

    async def start(self) -> RelayAddress:
        """Start the relay and return where it listens.

        Raises:
            LocalRelayError: the relay exited or did not announce itself in time.
        """
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for port in dict.fromkeys((self._port, 0)):
            address = await self._try_start(port)
            if address is not None:
                return address
        raise LocalRelayError("the relay on this computer could not start; see its log above")

    async def _try_start(self, port: int) -> RelayAddress | None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "relay",
            "--host", "127.0.0.1", "--port", str(port),
            "--database", str(self._directory / "relay.db"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stream = process.stderr
        if stream is None:  # excluded by stderr=PIPE; kept for the type checker
            raise LocalRelayError("the relay's log could not be read")
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                while line := await stream.readline():
                    with contextlib.suppress(ValueError):
                        event = json.loads(line)
                        if isinstance(event, dict) and event.get("event") == "listening":
                            self._process = process
                            self._drain = asyncio.create_task(self._drain_log(stream))
                            return RelayAddress(str(event["host"]), int(event["port"]))
        except TimeoutError:
            process.kill()
            await process.wait()
            raise LocalRelayError(
                f"the relay on this computer did not start within {STARTUP_TIMEOUT:.0f} s"
            ) from None
        await process.wait()  # it exited: most often, the port was taken
        return None

    @staticmethod
    async def _drain_log(stream: asyncio.StreamReader) -> None:
        while await stream.readline():  # keep the pipe from filling up; nothing is shown
            pass

    async def stop(self) -> None:
        """Stop the relay cleanly (SIGTERM: it commits what is pending), then wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._drain is not None:
            await self._drain
            self._drain = None
