"""Test-side handle of a :mod:`tests.integration.client_worker` process: send it commands,
wait on its progress lines (never on sleeps), ``kill -9`` it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.SecretService
import keyring.errors
import pytest

from tests.integration.conftest import REPO

Line = dict[str, Any]

NEEDS_SECRET_SERVICE = (
    "These tests keep the clients' keys in the real OS keyring (a gnome-keyring Secret "
    "Service on a private D-Bus session) and it is not running here. Run them via `make test`, "
    "or as `bash tests/with-secret-service.sh .venv/bin/python -m pytest tests/integration`."
)


@contextlib.contextmanager
def real_keyring() -> Iterator[None]:
    """The Secret Service that tests/with-secret-service.sh started (fail, never skip)."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not address or os.environ.get("SOURDINE_SECRET_SERVICE") != address:
        pytest.fail(NEEDS_SECRET_SERVICE, pytrace=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.SecretService.Keyring())  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def keys_in_keyring(profile: str) -> bool:
    """Whether both secrets of ``profile`` are in the (real) keyring."""
    service = f"Sourdine:{profile}"
    return all(keyring.get_password(service, entry) is not None
               for entry in ("identity-key", "database-key"))


def forget_keys(profile: str) -> None:
    for entry in ("identity-key", "database-key"):
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(f"Sourdine:{profile}", entry)


class Worker:
    """One client_worker process; its stdout lines are collected by a reader thread."""

    def __init__(self, home: Path, profile: str, *args: str) -> None:
        self.profile = profile
        self.log_path = home / f"{profile}-{time.monotonic_ns()}.stderr"
        home.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.client_worker", "--home", str(home),
                 "--profile", profile, *args],
                cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.lines: list[Line] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self._changed:
                self.lines.append(json.loads(raw))
                self._changed.notify_all()
        with self._changed:
            self.lines.append({"event": "exited"})
            self._changed.notify_all()

    def describe(self) -> str:
        stderr = self.log_path.read_text(errors="replace")[-4000:]
        tail = "\n".join(json.dumps(line) for line in self.lines[-10:])
        return f"worker {self.profile}: last lines:\n{tail}\nstderr:\n{stderr}"

    def command(self, cmd: str, **args: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.process.stdin.flush()

    def wait(self, predicate: Callable[[Line], bool], timeout: float = 30, since: int = 0
             ) -> tuple[int, Line]:
        """The first line at or after index ``since`` matching ``predicate`` (and its index).

        Fails on an ``error`` or ``failed`` line, on the worker's exit, and on timeout.
        """
        deadline = time.monotonic() + timeout
        index = since
        with self._changed:
            while True:
                while index < len(self.lines):
                    line = self.lines[index]
                    if predicate(line):
                        return index, line
                    if line["event"] in {"error", "failed", "exited"}:
                        raise AssertionError(f"unexpected {line}\n{self.describe()}")
                    index += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s\n{self.describe()}")
                self._changed.wait(left)

    def wait_event(self, event: str, timeout: float = 30, since: int = 0, **match: Any) -> Line:
        return self.wait(lambda line: line["event"] == event and all(
            line.get(k) == v for k, v in match.items()), timeout, since)[1]

    def count(self, event: str, **match: Any) -> int:
        with self._changed:
            return sum(1 for line in self.lines if line["event"] == event and all(
                line.get(k) == v for k, v in match.items()))

    def ask(self, cmd: str, reply: str, timeout: float = 30, **args: Any) -> Line:
        """Send a command and wait for its reply line."""
        since = len(self.lines)
        self.command(cmd, **args)
        return self.wait_event(reply, timeout, since)

    def history(self, contact: str, timeout: float = 30) -> Line:
        """Every message of the conversation with ``contact`` (a ``history`` line)."""
        return self.ask("history", "history", timeout, **{"with": contact})

    def started(self, timeout: float = 30) -> None:
        """Start the client and wait until it is authenticated by its relay."""
        self.ask("start", "connection", timeout, state="authenticated")

    def close(self, timeout: float = 30) -> None:
        self.ask("close", "closed", timeout)
        assert self.process.wait(timeout) == 0, self.describe()

    def kill(self) -> None:
        """SIGKILL (kill -9): nothing is flushed, closed or acknowledged."""
        self.process.kill()
        self.process.wait(10)
        self._reader.join(10)

    def ensure_dead(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
