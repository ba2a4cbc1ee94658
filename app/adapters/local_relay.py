"""A relay on this computer: the default for someone without a company relay.

The client never imports the relay server (see docs/ARCHITECTURE.md); it runs
``python -m relay`` as a child process on 127.0.0.1, with its SQLite database in the user's
data directory. The relay announces its bound port in a JSON log line
(``{"event": "listening", ...}``) on stderr, which :class:`LocalRelay` waits for; its log goes
to ``relay.log`` next to the database.

There is ONE local relay per user, shared by every profile (``sourdine --profile NAME`` runs
beside the first): when a Sourdine relay already answers ``GET /healthz`` on the wanted port,
:meth:`LocalRelay.start` attaches to it instead of starting a second one, and
:meth:`LocalRelay.stop` leaves it running. The port used is remembered in the relay directory
(``port``), because every local account's address contains it; :meth:`LocalRelay.ensure_running`
starts the relay again on that port when the process the app attached to went away (the other
app quit). The database is shared, so nothing queued is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import platformdirs

DEFAULT_PORT: Final = 8765
"""The port a local relay asks for first (unless another was remembered)."""
STARTUP_TIMEOUT: Final = 30.0
PROBE_TIMEOUT: Final = 2.0
PORT_FILE: Final = "port"
LOG_FILE: Final = "relay.log"
MAX_LOG_BYTES: Final = 1 << 20  # the log starts afresh past this size


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


HOST: Final = "127.0.0.1"


async def relay_answers(port: int, host: str = HOST, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a Sourdine relay answers ``GET /healthz`` with ``200 ok`` on ``host:port``."""
    if not 0 < port < 65536:
        return False
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(
                    f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    "Connection: close\r\n\r\n".encode("ascii")
                )
                await writer.drain()
                answer = await reader.read(4096)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return False
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    return len(status) >= 2 and status[1] == b"200" and body.strip() == b"ok"


class LocalRelay:
    """The shared ``sourdine-relay`` on 127.0.0.1: attach to it, or start it as a child."""

    def __init__(self, directory: Path | None = None, port: int | None = None) -> None:
        self._directory = directory or default_relay_dir()  # database, key, port and log
        # The port asked for: given, else remembered, else DEFAULT_PORT; 0 means any free port.
        self._port = port if port is not None else self.remembered_port(self._directory)
        self._process: asyncio.subprocess.Process | None = None  # set while we run it
        self._drain: asyncio.Task[None] | None = None  # copies the relay's log after start-up
        self._address: RelayAddress | None = None  # where the relay in use listens
        self._starting = asyncio.Lock()

    @staticmethod
    def remembered_port(directory: Path | None = None) -> int:
        """The port the local relay used last (DEFAULT_PORT when none was remembered)."""
        path = (directory or default_relay_dir()) / PORT_FILE
        try:
            port = int(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return DEFAULT_PORT
        return port if 0 < port < 65536 else DEFAULT_PORT

    @property
    def address(self) -> RelayAddress | None:
        """Where the relay in use listens (None before :meth:`start`)."""
        return self._address

    @property
    def owned(self) -> bool:
        """Whether this app started the relay process it uses (and stops it on exit)."""
        return self._process is not None and self._process.returncode is None

    async def start(self, *, exact: bool = False) -> RelayAddress:
        """Attach to the relay already answering on the wanted port, or start one.

        When the wanted port is taken by another program, a free port is used instead,
        unless ``exact`` (an existing account's address names the port: another one is
        useless).

        Raises:
            LocalRelayError: the relay exited or did not announce itself in time, or the
                port is taken and ``exact`` was asked.
        """
        async with self._starting:
            if self._address is not None and (self.owned or await relay_answers(self._port)):
                return self._address
            address = await self._attach_or_start(exact)
            self._address = address
            self._port = address.port
            self._remember(address.port)
            return address

    async def ensure_running(self) -> RelayAddress:
        """Make sure a relay answers on the port in use; start it there again if it went
        away (the app it belonged to quit, or it crashed).

        Raises:
            LocalRelayError: it cannot be started on that port.
        """
        async with self._starting:
            if self._port and await relay_answers(self._port):
                self._address = RelayAddress(HOST, self._port)
                return self._address
            await self._stop_process()
            address = await self._attach_or_start(exact=bool(self._port))
            self._address = address
            self._port = address.port
            self._remember(address.port)
            return address

    async def _attach_or_start(self, exact: bool) -> RelayAddress:
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        wanted = self._port
        if wanted and await relay_answers(wanted):
            return RelayAddress(HOST, wanted)
        address = await self._try_start(wanted)
        if address is not None:
            return address
        # Another app may have started it at the same moment: use theirs.
        if wanted and await relay_answers(wanted):
            return RelayAddress(HOST, wanted)
        if exact and wanted:
            raise LocalRelayError(
                f"The relay on this computer cannot use port {wanted}: another program uses "
                f"it. Close that program, or free the port, and start Sourdine again "
                f"(details in {self._directory / LOG_FILE})."
            )
        if wanted:
            address = await self._try_start(0)
            if address is not None:
                return address
        raise LocalRelayError(
            "The relay on this computer could not start; its log is "
            f"{self._directory / LOG_FILE}."
        )

    def _remember(self, port: int) -> None:
        with contextlib.suppress(OSError):
            (self._directory / PORT_FILE).write_text(f"{port}\n", encoding="ascii")

    def _open_log(self) -> IO[bytes]:
        path = self._directory / LOG_FILE
        with contextlib.suppress(OSError):
            if path.stat().st_size > MAX_LOG_BYTES:
                path.unlink()
        return path.open("ab")

    async def _try_start(self, port: int) -> RelayAddress | None:
        log = self._open_log()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "relay",
                "--host", HOST, "--port", str(port),
                "--database", str(self._directory / "relay.db"),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except OSError as error:
            log.close()
            raise LocalRelayError(
                f"The relay on this computer could not be started: {error.strerror or error}."
            ) from None
        stream = process.stderr
        if stream is None:  # excluded by stderr=PIPE; kept for the type checker
            log.close()
            raise LocalRelayError("The relay's log could not be read.")
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                while line := await stream.readline():
                    log.write(line)
                    with contextlib.suppress(ValueError):
                        event = json.loads(line)
                        if isinstance(event, dict) and event.get("event") == "listening":
                            log.flush()
                            self._process = process
                            self._drain = asyncio.create_task(self._copy_log(stream, log))
                            return RelayAddress(str(event["host"]), int(event["port"]))
        except TimeoutError:
            await self._kill(process, log)
            raise LocalRelayError(
                f"The relay on this computer did not start within {STARTUP_TIMEOUT:.0f} s "
                f"(its log is {self._directory / LOG_FILE})."
            ) from None
        except BaseException:  # cancelled while starting: never leave a relay behind
            await self._kill(process, log)
            raise
        await process.wait()  # it exited: most often, the port was taken
        log.close()
        return None

    @staticmethod
    async def _kill(process: asyncio.subprocess.Process, log: IO[bytes]) -> None:
        if process.returncode is None:
            process.kill()
        await asyncio.shield(process.wait())
        log.close()

    @staticmethod
    async def _copy_log(stream: asyncio.StreamReader, log: IO[bytes]) -> None:
        try:
            while line := await stream.readline():  # keeps the pipe from filling up
                log.write(line)
                log.flush()
        finally:
            log.close()

    async def stop(self) -> None:
        """Stop the relay if this app started it (SIGTERM: it commits what is pending), then
        wait for it. A relay this app only attached to keeps running for its owner. A start
        in progress is waited for first (its relay is then stopped too)."""
        async with self._starting:
            await self._stop_process()
            self._address = None

    async def _stop_process(self) -> None:
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
