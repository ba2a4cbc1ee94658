"""app.adapters.local_relay: one relay on this computer shared by every profile (real processes)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest

from app.adapters.local_relay import (
    DEFAULT_PORT,
    LocalRelay,
    LocalRelayError,
    relay_answers,
)
from app.adapters.transport import ConnectionState, RelayConnection
from tests.app.adapters.test_transport import run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_second_app_attaches_to_the_running_relay_and_leaves_it_running(tmp_path: Path) -> None:
    port = _free_port()

    async def scenario() -> None:
        first = LocalRelay(tmp_path / "relay", port=port)
        second = LocalRelay(tmp_path / "relay", port=port)
        address = await first.start()
        try:
            assert address.port == port and first.owned
            assert await second.start() == address
            assert not second.owned
            await second.stop()  # the second app quits: the relay stays for the first
            assert await relay_answers(port)
            connection = RelayConnection(address.url)
            await connection.wait_ready(timeout=10)
            assert connection.state is ConnectionState.CONNECTED
            await connection.close()
        finally:
            await first.stop()
        assert not await relay_answers(port)

    run(scenario)


def test_the_port_is_remembered_for_the_next_start(tmp_path: Path) -> None:
    directory = tmp_path / "relay"
    assert LocalRelay.remembered_port(directory) == DEFAULT_PORT

    async def scenario() -> tuple[int, int]:
        relay = LocalRelay(directory, port=0)  # any free port, as when 8765 is taken
        first = await relay.start()
        await relay.stop()
        again = LocalRelay(directory)  # no port given: the remembered one
        second = await again.start(exact=True)
        await again.stop()
        return first.port, second.port

    first, second = run(scenario)
    assert first == second == LocalRelay.remembered_port(directory)


def test_an_exact_port_taken_by_another_program_is_a_readable_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]

        async def scenario() -> str:
            relay = LocalRelay(tmp_path / "relay", port=taken)
            assert not await relay_answers(taken)  # something listens, but not a relay
            with pytest.raises(LocalRelayError) as caught:
                await relay.start(exact=True)
            assert not relay.owned
            return str(caught.value)

        message = run(scenario)
    assert f"port {taken}" in message and "another program" in message


def test_the_relay_comes_back_when_the_app_that_ran_it_quits(tmp_path: Path) -> None:
    port = _free_port()

    async def scenario() -> None:
        owner = LocalRelay(tmp_path / "relay", port=port)
        guest = LocalRelay(tmp_path / "relay", port=port)
        await owner.start()
        await guest.start()
        await owner.stop()  # the app that started it quits
        assert not await relay_answers(port)
        address = await guest.ensure_running()  # the guest's connection dropped
        try:
            assert address.port == port and guest.owned
            assert await relay_answers(port)
            connection = RelayConnection(address.url)
            await connection.wait_ready(timeout=10)
            await connection.close()
            assert await guest.ensure_running() == address  # running: nothing to do
        finally:
            await guest.stop()

    run(scenario)
    log = (tmp_path / "relay" / "relay.log").read_text(encoding="utf-8")
    assert log.count('"listening"') == 2  # started twice, both logged next to the database


def test_a_start_cancelled_midway_leaves_no_relay_behind(tmp_path: Path) -> None:
    port = _free_port()

    async def scenario() -> bool:
        relay = LocalRelay(tmp_path / "relay", port=port)
        starting = asyncio.create_task(relay.start())
        await asyncio.sleep(0.1)  # the child process exists, it has not announced itself yet
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        await asyncio.sleep(2.0)  # long enough for an orphan to start listening
        return await relay_answers(port)

    assert run(scenario) is False
