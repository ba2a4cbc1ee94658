"""Each admission mode of a real relay process: open, invite (with the invite command), allowlist.

Also: the relay key survives a restart, and TLS serves wss://.
"""

from __future__ import annotations

import base64
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from relay import errors
from relay import protocol as p
from tests.integration.conftest import REPO, RelayStarter
from tests.relay.harness import run
from tests.relay.wire_client import Identity, RelayClient

MAY, NED, OLA = Identity("admission may"), Identity("admission ned"), Identity("admission ola")


def invite(database: Path, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "relay", "invite", "--database", str(database), *args],
        cwd=REPO, check=True, capture_output=True, text=True, timeout=60,
    )
    return result.stdout.split()


async def login(url: str, identity: Identity, invitation: str | None = None,
                **kwargs: object) -> p.AuthOk:
    async with await RelayClient.open(url, **kwargs) as client:
        return await client.login(identity, invitation)


def test_open_mode_admits_anyone(relay_starter: RelayStarter) -> None:
    relay = relay_starter("--admission", "open")
    assert run(lambda: login(relay.url, MAY)).created is True


def test_invite_mode_with_codes_from_the_invite_command(
    relay_starter: RelayStarter, tmp_path: Path
) -> None:
    database = tmp_path / "invite" / "relay.db"
    database.parent.mkdir()
    before = invite(database, "--count", "2")
    assert len(before) == 2 and len(set(before)) == 2
    relay = relay_starter("--admission", "invite", database=database, name="invite")
    during = invite(database, "--uses", "2")  # works while the relay runs

    async def scenario() -> None:
        with pytest.raises(errors.InvitationRequired):
            await login(relay.url, MAY)
        with pytest.raises(errors.InvitationInvalid):
            await login(relay.url, MAY, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ")
        assert (await login(relay.url, MAY, before[0])).created is True
        with pytest.raises(errors.InvitationInvalid):  # single use
            await login(relay.url, NED, before[0])
        assert (await login(relay.url, NED, during[0])).created is True
        assert (await login(relay.url, OLA, during[0])).created is True  # two uses
        assert (await login(relay.url, MAY)).created is False  # members need no code

    run(scenario)
    assert not any(code in relay.log_text() for code in before + during)


def test_allowlist_mode_from_flags_and_a_file(
    relay_starter: RelayStarter, tmp_path: Path
) -> None:
    listing = tmp_path / "allowed.txt"
    listing.write_text(f"# staff\n{NED.public.hex()}\n", encoding="utf-8")
    may_key = base64.urlsafe_b64encode(MAY.public).decode().rstrip("=")
    relay = relay_starter("--admission", "allowlist", "--allow", may_key,
                          "--allowlist-file", str(listing))

    async def scenario() -> None:
        assert (await login(relay.url, MAY)).created is True
        assert (await login(relay.url, NED)).created is True
        with pytest.raises(errors.Forbidden):
            await login(relay.url, OLA)

    run(scenario)


def test_the_relay_key_survives_a_restart_and_tls_serves_wss(
    relay_starter: RelayStarter, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    database = tmp_path / "tls" / "relay.db"
    first = relay_starter("--tls-cert", str(cert), "--tls-key", str(key), database=database,
                          name="tls")
    context = ssl.create_default_context(cafile=str(cert))

    async def relay_key(url: str) -> bytes:
        async with await RelayClient.open(url, ssl=context) as client:
            await client.login(MAY)
            assert client.hello is not None
            return client.hello.relay_key

    url = f"wss://127.0.0.1:{first.port}"
    key_before = run(lambda: relay_key(url))
    assert first.stop() == 0
    second = relay_starter("--tls-cert", str(cert), "--tls-key", str(key), database=database,
                           name="tls")
    assert run(lambda: relay_key(f"wss://127.0.0.1:{second.port}")) == key_before
