"""Real ``sourdine-relay`` processes on 127.0.0.1 (port 0, a temporary database).

:func:`start_relay` runs ``python -m relay`` with stderr going to a log file and waits for
the ``listening`` log line, which carries the bound port. Tests talk to it with real WebSocket
clients (tests/relay/wire_client.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RelayProcess:
    process: subprocess.Popen[bytes]
    database: Path
    log_path: Path
    host: str = ""
    port: int = 0
    args: tuple[str, ...] = field(default=())

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def key_file(self) -> Path:
        return Path(f"{self.database}.key")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

    def wait_for_event(self, name: str, timeout: float = 20, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event.get("event") == name and all(event.get(k) == v for k, v in match.items()):
                    return event
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {name!r} event from the relay; its log:\n{self.log_text()}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL (kill -9): no chance to flush or close anything."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


def start_relay(directory: Path, *args: str, database: Path | None = None) -> RelayProcess:
    """Start a relay writing into ``directory`` and wait until it listens."""
    directory.mkdir(parents=True, exist_ok=True)
    database = database or directory / "relay.db"
    number = len(list(directory.glob("relay-*.log")))
    log_path = directory / f"relay-{number}.log"
    command = [sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", "0",
               "--database", str(database), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    relay = RelayProcess(process, database, log_path, args=tuple(args))
    try:
        listening = relay.wait_for_event("listening", timeout=30)
    except AssertionError:
        relay.kill()
        raise
    relay.host, relay.port = listening["host"], listening["port"]
    return relay


RelayStarter = Callable[..., RelayProcess]


@pytest.fixture
def relay_starter(tmp_path: Path) -> Iterator[RelayStarter]:
    """Start relays in this test's directory; every one still running is stopped after."""
    started: list[RelayProcess] = []

    def starter(*args: str, database: Path | None = None, name: str = "relay") -> RelayProcess:
        relay = start_relay(tmp_path / name, *args, database=database)
        started.append(relay)
        return relay

    yield starter
    for relay in started:
        relay.kill()


@pytest.fixture(scope="module")
def shared_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    """One open relay for a module's independent tests (each uses its own identities)."""
    relay = start_relay(
        tmp_path_factory.mktemp("shared"), "--max-connections-per-address", "0",
        "--prekeys-low-threshold", "3",
    )
    yield relay
    assert relay.stop() == 0, relay.log_text()
