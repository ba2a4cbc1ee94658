"""``sourdine-cli``: the headless Sourdine client (same core as the desktop app).

Every command opens the profile (keys from the OS keyring, or the passphrase vault when the
profile has one or ``--passphrase-vault`` is given), does its work and closes it. Commands that
talk to the relay (init, send, listen, receive, directory, add-contact --from-directory) also
deliver what is waiting in the outbox and store what arrives. ``--json`` prints
machine-readable output: one JSON object per line.
Errors are one readable line on stderr and exit status 1 (2 for usage errors).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from app.adapters.keystore import KeystoreError, SecretStore, open_secret_store
from app.adapters.store import ContactRecord, MessageRecord, StoreError
from app.adapters.transport import TransportError
from app.config import DEFAULT_PROFILE, ProfileError, ProfilePaths, profile_paths
from app.core.address import encode_key
from app.core.client import MAX_DIRECTORY_RESULTS, EventStream, SourdineClient
from app.core.contacts import DirectoryListing
from app.core.errors import ClientError
from app.core.events import (
    MessageReceived,
    MessageStateChanged,
    MessageUndecryptable,
    PrekeysPublished,
)
from crypto.errors import CryptoError

PASSPHRASE_ENV: Final = "SOURDINE_PASSPHRASE"  # noqa: S105 (a variable name, not a secret)
EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130
USER_ERRORS: Final = (
    ClientError, KeystoreError, StoreError, ProfileError, TransportError, CryptoError,
    TimeoutError,
)


class CliError(Exception):
    """A failure to report as one line (no traceback)."""


# --- output -------------------------------------------------------------------------------------


class Output:
    """Human lines or JSON lines on stdout, flushed as they are written."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, human: str, data: dict[str, Any]) -> None:
        line = json.dumps(data, ensure_ascii=False, sort_keys=True) if self.as_json else human
        print(line, flush=True)

    def note(self, text: str) -> None:
        """Information for a person (stderr, so it never mixes with --json output)."""
        print(text, file=sys.stderr, flush=True)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def message_data(contact: ContactRecord, m: MessageRecord) -> dict[str, Any]:
    return {
        "contact": contact.display_name, "contact_id": contact.contact_id,
        "direction": "out" if m.outgoing else "in", "text": m.body, "state": m.state.value,
        "reason": m.reason, "sent_at": m.sent_at, "received_at": m.received_at, "seq": m.seq,
        "message_id": m.message_id.hex(),
    }


def message_line(contact: ContactRecord, m: MessageRecord) -> str:
    who = "me" if m.outgoing else contact.display_name
    if m.state.value == "undecryptable":
        return f"[{_time(m.sent_at)}] {who}: (undecryptable: {m.reason})"
    state = f"  ({m.state.value}{': ' + m.reason if m.reason else ''})" if m.outgoing else ""
    return f"[{_time(m.sent_at)}] {who}: {m.body}{state}"


def contact_data(c: ContactRecord) -> dict[str, Any]:
    return {
        "contact_id": c.contact_id, "name": c.display_name, "identity_key": encode_key(
            c.identity_key), "relay_url": c.relay_url, "verified": c.verified,
        "key_change_pending": c.pending_identity_key is not None,
        "pending_identity_key": None if c.pending_identity_key is None
        else encode_key(c.pending_identity_key),
    }


# --- opening the profile ------------------------------------------------------------------------


def secret_store(paths: ProfilePaths, args: argparse.Namespace) -> SecretStore:
    passphrase = None
    if args.passphrase_vault or paths.vault.exists():
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if passphrase is None:
            if not sys.stdin.isatty():
                raise CliError(
                    f"This profile's keys are in a passphrase vault: set {PASSPHRASE_ENV} or "
                    "run the command in a terminal to type the passphrase."
                )
            passphrase = getpass.getpass("Vault passphrase: ")
    return open_secret_store(paths, passphrase=passphrase)


def paths_of(args: argparse.Namespace) -> ProfilePaths:
    return profile_paths(args.profile, Path(args.home) if args.home else None)


async def open_client(args: argparse.Namespace) -> SourdineClient:
    paths = paths_of(args)
    return await SourdineClient.open(paths, secret_store(paths, args))


async def drain_outbox(client: SourdineClient, timeout: float) -> None:
    """Give the outbox (e.g. delivery receipts) a moment before exiting, when online."""
    if client.connection_state == "authenticated":
        await client.wait_outbox_empty(timeout)


# --- commands -----------------------------------------------------------------------------------


async def cmd_init(args: argparse.Namespace, out: Output) -> int:
    paths = paths_of(args)
    client = await SourdineClient.create(
        paths, secret_store(paths, args), display_name=args.name, relay_url=args.relay
    )
    async with client:
        stream = client.subscribe()
        await client.start()
        published = False
        with contextlib.suppress(TimeoutError):
            await stream.wait_for(lambda e: isinstance(e, PrekeysPublished), args.timeout)
            published = True
        out.emit(f"Account created for {client.account.display_name}.\nAddress: {client.address}"
                 f"\nInvitation: {client.invitation_link}",
                 {"address": client.address, "invitation": client.invitation_link,
                  "display_name": client.account.display_name, "published": published})
        if not published:
            out.note("Warning: the relay could not be reached; your keys will be published the "
                     "next time sourdine-cli connects (send, listen or receive).")
    return EXIT_OK


async def cmd_address(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        text = client.invitation_link if args.invitation else client.address
        out.emit(text, {"address": client.address, "invitation": client.invitation_link})
    return EXIT_OK


def listing_data(entry: DirectoryListing) -> dict[str, Any]:
    return {
        "display_name": entry.display_name, "identity_key": encode_key(entry.identity_key),
        "address": str(entry.address), "contact_id": entry.contact_id, "own": entry.own,
    }


def listing_line(entry: DirectoryListing) -> str:
    flags = (" [you]" if entry.own else "") + (
        " [already a contact]" if entry.contact_id is not None else "")
    return f"{entry.display_name}  {encode_key(entry.identity_key)}{flags}"


async def pick_listing(client: SourdineClient, query: str, key: str | None) -> DirectoryListing:
    """The one directory entry matching ``query`` (and the start of its key, if given)."""
    found = [e for e in await client.directory_search(query, limit=MAX_DIRECTORY_RESULTS)
             if not e.own and (key is None or encode_key(e.identity_key).startswith(key))]
    if not found:
        raise CliError(f"No one in your relay's directory matches {query!r}"
                       + (f" with a key starting with {key!r}." if key else "."))
    if len(found) > 1:
        choices = "; ".join(listing_line(e) for e in found[:10])
        raise CliError(f"{len(found)} directory entries match {query!r}: add --key=PREFIX with "
                       f"the start of the right one's key. {choices}")
    return found[0]


async def cmd_add_contact(args: argparse.Namespace, out: Output) -> int:
    if (args.address is None) == (args.from_directory is None):
        raise CliError("Give either an address or --from-directory QUERY.")
    if args.key is not None and args.from_directory is None:
        raise CliError("--key goes with --from-directory.")
    async with await open_client(args) as client:
        if args.from_directory is not None:
            await client.start()
            entry = await pick_listing(client, args.from_directory, args.key)
            contact = await client.add_contact_from_directory(entry, args.name)
            out.note(f"{entry.display_name!r} is the name they published: compare safety "
                     f"numbers (sourdine-cli safety-number {contact.display_name!r}) to be "
                     "sure who they are.")
        else:
            contact = await client.add_contact(args.address, args.name)
        if contact.pending_identity_key is not None:
            out.emit(
                f"{contact.display_name}'s identity key changed. Compare the new safety number "
                f"(sourdine-cli safety-number {contact.display_name!r}) with them, then run "
                f"sourdine-cli accept-key {contact.display_name!r}. Sending is blocked until then.",
                {**contact_data(contact), "status": "key_change_pending"},
            )
        else:
            out.emit(f"Contact {contact.display_name} added.",
                     {**contact_data(contact), "status": "ok"})
    return EXIT_OK


async def cmd_directory(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        await client.start()
        if args.action == "publish":
            name = await client.directory_publish(args.name)
            out.emit(f"You are listed in your relay's directory as {name!r}.",
                     {"published": True, "display_name": name})
        elif args.action == "remove":
            removed = await client.directory_remove()
            out.emit("You are no longer listed in your relay's directory." if removed else
                     "You were not listed in your relay's directory.", {"removed": removed})
        else:
            if args.query is None:
                raise CliError("directory search needs a QUERY.")
            for entry in await client.directory_search(args.query, limit=args.limit):
                out.emit(listing_line(entry), listing_data(entry))
        await drain_outbox(client, 5.0)
    return EXIT_OK


async def cmd_contacts(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        for c in client.contacts():
            flags = (" [verified]" if c.verified else "") + (
                " [KEY CHANGED: sending blocked]" if c.pending_identity_key else "")
            relay = c.relay_url or "(no relay known)"
            out.emit(f"{c.display_name}{flags}  {encode_key(c.identity_key)}  {relay}",
                     contact_data(c))
    return EXIT_OK


async def cmd_safety_number(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        contact = client.contact(args.contact)
        number = client.safety_number(contact.contact_id)
        data: dict[str, Any] = {"contact": contact.display_name, "safety_number": number.digits}
        human = f"Safety number with {contact.display_name}:\n{number}"
        if contact.pending_identity_key is not None:
            new = client.safety_number(contact.contact_id, pending=True)
            data["pending_safety_number"] = new.digits
            human += f"\nNEW safety number (pending key change):\n{new}"
        out.emit(human, data)
    return EXIT_OK


async def cmd_accept_key(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        contact = await client.accept_key(args.contact)
        out.emit(f"{contact.display_name}'s new identity key is accepted.", contact_data(contact))
    return EXIT_OK


async def cmd_send(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        stream = client.subscribe()
        await client.start()
        message = await client.send_text(args.contact, args.text)
        contact = client.contact(message.conversation_id)
        state = "queued"
        with contextlib.suppress(TimeoutError):
            event = await stream.wait_for(
                lambda e: isinstance(e, MessageStateChanged)
                and e.message_id == message.message_id, args.timeout,
            )
            if isinstance(event, MessageStateChanged):
                state = event.state.value
                if state == "failed":
                    raise CliError(f"The message could not be sent: {event.reason}")
        await drain_outbox(client, min(args.timeout, 5.0))
        human = (f"Sent to {contact.display_name}." if state != "queued" else
                 f"Queued for {contact.display_name}: the relay did not confirm yet; it will be "
                 "sent the next time sourdine-cli connects.")
        out.emit(human, {**message_data(contact, message), "state": state})
    return EXIT_OK


async def print_incoming(
    client: SourdineClient, stream: EventStream, out: Output, count: int | None,
    stop: asyncio.Event,
) -> int:
    printed = 0
    while count is None or printed < count:
        getter = asyncio.ensure_future(stream.get())
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
            break
        stopper.cancel()
        event = getter.result()
        if isinstance(event, MessageReceived | MessageUndecryptable):
            contact = client.contact(event.contact_id)
            out.emit(message_line(contact, event.message), message_data(contact, event.message))
            printed += 1
    return printed


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def cmd_listen(args: argparse.Namespace, out: Output) -> int:
    count = 1 if args.once else args.count
    async with await open_client(args) as client:
        stream = client.subscribe()
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await client.start()
        if args.timeout is not None:
            asyncio.get_running_loop().call_later(args.timeout, stop.set)
        printed = await print_incoming(client, stream, out, count, stop)
        await drain_outbox(client, 5.0)  # delivery receipts
        if count is not None and printed < count:
            raise CliError(f"Timed out after {printed} of {count} messages.")
    return EXIT_OK


async def cmd_receive(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        stream = client.subscribe()
        await client.start()
        await client.sync(args.timeout)
        while (event := stream.get_nowait()) is not None:
            if isinstance(event, MessageReceived | MessageUndecryptable):
                contact = client.contact(event.contact_id)
                out.emit(message_line(contact, event.message),
                         message_data(contact, event.message))
        await drain_outbox(client, 5.0)
    return EXIT_OK


async def cmd_conversations(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        for c in await client.conversations():
            last = c.last_message
            preview = "" if last is None else message_line(c.contact, last)
            out.emit(f"{c.contact.display_name} ({c.unread} unread)  {preview}", {
                "contact": c.contact.display_name, "contact_id": c.contact.contact_id,
                "unread": c.unread,
                "last_message": None if last is None else message_data(c.contact, last),
            })
    return EXIT_OK


async def cmd_history(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        contact = client.contact(args.contact)
        for m in await client.history(contact.contact_id, before=args.before, limit=args.limit):
            out.emit(message_line(contact, m), message_data(contact, m))
        if args.mark_read:
            await client.mark_read(contact.contact_id)
    return EXIT_OK


async def cmd_search(args: argparse.Namespace, out: Output) -> int:
    async with await open_client(args) as client:
        for hit in await client.search(args.query, contact=args.contact, limit=args.limit):
            out.emit(message_line(hit.contact, hit.message),
                     message_data(hit.contact, hit.message))
    return EXIT_OK


Command = Callable[[argparse.Namespace, Output], Coroutine[Any, Any, int]]


# --- arguments ----------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="sourdine-cli",
        description="Sourdine's headless client: end-to-end encrypted messages from the shell.",
    )
    top.add_argument("--profile", default=DEFAULT_PROFILE,
                     help="the profile (account) to use (default: %(default)s)")
    top.add_argument("--home", help="keep profiles under this directory instead of the "
                     "platform's (also: SOURDINE_HOME)")
    top.add_argument("--passphrase-vault", action="store_true",
                     help=f"keep the keys in a passphrase vault instead of the OS keyring "
                     f"(passphrase from {PASSPHRASE_ENV} or a prompt)")
    top.add_argument("--json", action="store_true", help="one JSON object per output line")
    top.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(run=fn)
        return p

    p = command("init", cmd_init, "create this profile's account and publish its keys")
    p.add_argument("--name", required=True, help="your display name")
    p.add_argument("--relay", required=True, help="your relay, ws://HOST:PORT or wss://HOST:PORT")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the relay")
    p = command("address", cmd_address, "print your address")
    p.add_argument("--invitation", action="store_true", help="print an invitation link instead")
    p = command("add-contact", cmd_add_contact,
                "add a contact from an address, an invitation link or your relay's directory")
    p.add_argument("address", nargs="?", help="their address or invitation link")
    p.add_argument("--from-directory", metavar="QUERY",
                   help="the one entry of your relay's directory matching QUERY")
    p.add_argument("--key", metavar="PREFIX",
                   help="with --from-directory: the start of their identity key (write "
                   "--key=PREFIX: a key may start with '-')")
    p.add_argument("--name", help="the name to use for them")
    p = command("directory", cmd_directory,
                "your relay's opt-in directory: publish or remove your name, search names")
    p.add_argument("action", choices=("publish", "remove", "search"))
    p.add_argument("query", nargs="?", help="search: part of a name")
    p.add_argument("--name", help="publish: the name to list (default: your display name)")
    p.add_argument("--limit", type=int, default=20, help="search: at most this many entries")
    command("contacts", cmd_contacts, "list contacts")
    p = command("safety-number", cmd_safety_number, "show the safety number with a contact")
    p.add_argument("contact")
    p = command("accept-key", cmd_accept_key, "accept a contact's changed identity key")
    p.add_argument("contact")
    p = command("send", cmd_send, "send a text message")
    p.add_argument("contact")
    p.add_argument("text")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds to wait for the relay's confirmation (the message stays queued)")
    p = command("listen", cmd_listen, "print incoming messages as they arrive")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--once", action="store_true", help="exit after one message")
    group.add_argument("--count", type=int, help="exit after N messages")
    p.add_argument("--timeout", type=float, help="exit after this many seconds")
    p = command("receive", cmd_receive, "fetch and print waiting messages, then exit")
    p.add_argument("--timeout", type=float, default=30.0)
    command("conversations", cmd_conversations, "list conversations with unread counts")
    p = command("history", cmd_history, "show a conversation")
    p.add_argument("contact")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--before", type=int, help="page: messages before this seq")
    p.add_argument("--mark-read", action="store_true", help="mark the conversation read")
    p = command("search", cmd_search, "search messages")
    p.add_argument("query")
    p.add_argument("--contact", help="only this contact's conversation")
    p.add_argument("--limit", type=int, default=50)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = Output(args.json)
    try:
        return int(asyncio.run(args.run(args, out)))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except (CliError, *USER_ERRORS) as error:
        if args.debug:
            raise
        message = str(error) or type(error).__name__
        if isinstance(error, TimeoutError) and not str(error):
            message = "The relay did not answer in time."
        print(f"sourdine-cli: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # a bug: still one line, with --debug for the traceback
        if args.debug:
            raise
        print(f"sourdine-cli: unexpected error ({type(error).__name__}): {error}",
              file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
