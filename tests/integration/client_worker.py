"""A headless Sourdine client in its own process, driven by tests that kill it (``kill -9``).

Run as ``python -m tests.integration.client_worker --home DIR --profile NAME
[--create NAME --relay URL] [--window N]``. It opens (or creates) the profile with its keys in
the default keyring backend (the real Secret Service under ``make test``), then reads
commands from stdin, one JSON object per line, and writes progress to stdout, one JSON object
per line, flushed as it happens, so a test can wait on observable progress and kill the
process at a chosen moment. Commands (``cmd`` plus arguments):

- ``start``: connect to the own relay (``{"event": "connection", ...}`` lines follow).
- ``add`` (``link``, ``name``): add a contact.
- ``send`` (``to``, ``prefix``, ``first``, ``count``): send texts ``"<prefix> <n:04d>"``;
  one ``queued`` line per text once it is durably queued, then ``queued_all``.
- ``sync``: wait until the relay's backlog is stored (``synced``).
- ``wait_outbox``: wait until the outbox is empty (``outbox_empty``).
- ``history`` (``with``): every message of a conversation (``history``).
- ``rejected``: the rejected envelopes (``rejected``).
- ``close``: close the client and exit 0.

Client events are printed as they happen: ``received``, ``undecryptable``, ``state``,
``connection``, ``prekeys``, ``failed``. A failed command prints ``error``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from pathlib import Path
from typing import Any

from app.adapters.keystore import KeyringSecretStore
from app.adapters.store import MessageRecord
from app.config import profile_paths
from app.core.client import ClientOptions, EventStream, SourdineClient
from app.core.events import (
    ClientFailed,
    ConnectionChanged,
    EnvelopeRejected,
    MessageReceived,
    MessageStateChanged,
    MessageUndecryptable,
    PrekeysPublished,
)
from tests.app.core.support import FAST_BACKOFF, FAST_SETTINGS


def say(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}, sort_keys=True), flush=True)


def message_fields(m: MessageRecord) -> dict[str, Any]:
    return {"seq": m.seq, "message_id": m.message_id.hex(), "outgoing": m.outgoing,
            "text": m.body, "state": m.state.value, "reason": m.reason}


async def print_events(events: EventStream) -> None:
    async for event in events:
        if isinstance(event, MessageReceived):
            say("received", contact_id=event.contact_id, **message_fields(event.message))
        elif isinstance(event, MessageUndecryptable):
            say("undecryptable", contact_id=event.contact_id, **message_fields(event.message))
        elif isinstance(event, MessageStateChanged):
            say("state", message_id=event.message_id.hex(), state=event.state.value,
                reason=event.reason)
        elif isinstance(event, ConnectionChanged) and event.own:
            say("connection", state=event.state)
        elif isinstance(event, PrekeysPublished):
            say("prekeys", one_time_count=event.one_time_count)
        elif isinstance(event, EnvelopeRejected):
            say("envelope_rejected", reason=event.reason)
        elif isinstance(event, ClientFailed):
            say("failed", reason=event.reason)


def read_commands(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str]) -> None:
    """Feed stdin lines to ``queue`` (a daemon thread: it never keeps the process alive)."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, "")


async def execute(client: SourdineClient, command: dict[str, Any]) -> bool:
    """Run one command; False when the worker should stop."""
    name = command["cmd"]
    if name == "start":
        await client.start()
    elif name == "add":
        contact = await client.add_contact(command["link"], command.get("name"))
        say("added", contact_id=contact.contact_id, name=contact.display_name)
    elif name == "send":
        first, count = int(command.get("first", 0)), int(command["count"])
        for n in range(first, first + count):
            record = await client.send_text(command["to"], f"{command['prefix']} {n:04d}")
            say("queued", n=n, message_id=record.message_id.hex())
        say("queued_all", outbox=client.outbox_size)
    elif name == "sync":
        await client.sync(float(command.get("timeout", 30)))
        say("synced")
    elif name == "wait_outbox":
        say("outbox_empty", ok=await client.wait_outbox_empty(float(command.get("timeout", 30))))
    elif name == "history":
        page = await client.history(command["with"], limit=100_000)
        say("history", messages=[message_fields(m) for m in page])
    elif name == "rejected":
        found = await client.rejected_envelopes()
        say("rejected", reasons=[r.reason for r in found])
    elif name == "close":
        return False
    else:
        say("error", error=f"unknown command {name!r}")
    return True


async def main(args: argparse.Namespace) -> int:
    paths = profile_paths(args.profile, Path(args.home))
    options = ClientOptions(backoff=FAST_BACKOFF, settings=FAST_SETTINGS,
                            deposit_window=args.window)
    secrets = KeyringSecretStore(paths.name)
    if args.create:
        client = await SourdineClient.create(paths, secrets, display_name=args.create,
                                             relay_url=args.relay, options=options)
    else:
        client = await SourdineClient.open(paths, secrets, options=options)
    printer = asyncio.get_running_loop().create_task(print_events(client.subscribe()))
    say("opened", invitation=client.invitation_link, outbox=client.outbox_size)
    commands: asyncio.Queue[str] = asyncio.Queue()
    threading.Thread(target=read_commands, args=(asyncio.get_running_loop(), commands),
                     daemon=True).start()
    try:
        while line := await commands.get():
            if not line.strip():
                continue
            try:
                if not await execute(client, json.loads(line)):
                    break
            except Exception as error:  # reported to the test, which fails on it
                say("error", error=f"{type(error).__name__}: {error}")
    finally:
        await client.close()
        printer.cancel()
    say("closed")
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="client_worker")
    parser.add_argument("--home", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--create", metavar="DISPLAY_NAME")
    parser.add_argument("--relay")
    parser.add_argument("--window", type=int, default=32, help="deposits in flight at most")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
