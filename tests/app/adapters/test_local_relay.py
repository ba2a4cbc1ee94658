"""app.adapters.local_relay: a real relay child process on 127.0.0.1, found and stopped."""

from __future__ import annotations

import socket
from pathlib import Path

from app.adapters.local_relay import LocalRelay
from app.adapters.transport import ConnectionState, RelayConnection
from tests.app.adapters.test_transport import run


def test_local_relay_serves_clients_and_stops(tmp_path: Path) -> None:
    async def scenario() -> int:
        relay = LocalRelay(tmp_path / "relay", port=0)
        address = await relay.start()
        try:
            assert address.host == "127.0.0.1" and address.port > 0
            connection = RelayConnection(address.url)
            await connection.wait_ready(timeout=10)
            assert connection.state is ConnectionState.CONNECTED
            await connection.close()
        finally:
            await relay.stop()
        return address.port

    port = run(scenario)
    assert (tmp_path / "relay" / "relay.db").exists()
    with socket.socket() as probe:  # nothing listens there any more
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_taken_port_falls_back_to_a_free_one(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]

        async def scenario() -> int:
            relay = LocalRelay(tmp_path / "relay", port=taken)
            address = await relay.start()
            await relay.stop()
            return address.port

        assert run(scenario) not in (0, taken)
