"""Addresses and invitation links: exact formats, canonical relay URLs, strict parsing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.address import (
    Address,
    format_address,
    format_invitation,
    normalize_relay_url,
    parse_address,
    parse_contact_link,
)
from app.core.errors import AddressError

KEY = bytes(range(32))
KEY_TEXT = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"


def test_wss_relay_gives_a_sourdine_address() -> None:
    text = format_address("wss://Relay.Example.com:8443", KEY)
    assert text == f"sourdine://relay.example.com:8443/{KEY_TEXT}"
    assert parse_address(text) == Address("wss://relay.example.com:8443/", KEY)


def test_ws_relay_gives_a_sourdine_ws_address_and_default_ports() -> None:
    assert format_address("ws://127.0.0.1:9000/", KEY) == f"sourdine+ws://127.0.0.1:9000/{KEY_TEXT}"
    assert normalize_relay_url("wss://relay.example.com") == "wss://relay.example.com:443/"
    assert parse_address(f"sourdine://relay.example.com/{KEY_TEXT}").relay_url == (
        "wss://relay.example.com:443/"
    )
    assert normalize_relay_url("ws://[::1]:7000") == "ws://[::1]:7000/"
    assert str(parse_address(f"sourdine+ws://[::1]:7000/{KEY_TEXT}")) == (
        f"sourdine+ws://[::1]:7000/{KEY_TEXT}"
    )


def test_invitation_link_carries_the_display_name() -> None:
    link = format_invitation("wss://r.example:443/", KEY, "  Zoë Müller ")
    assert link == f"sourdine://r.example:443/{KEY_TEXT}?name=Zo%C3%AB%20M%C3%BCller"
    parsed = parse_contact_link(link)
    assert parsed.display_name == "Zoë Müller"
    assert parsed.address == Address("wss://r.example:443/", KEY)
    assert parse_contact_link(format_address("wss://r.example", KEY)).display_name is None


@pytest.mark.parametrize(("text", "why"), [
    ("https://r.example/" + KEY_TEXT, "starts with sourdine://"),
    ("sourdine://r.example/" + KEY_TEXT[:-1], "43 base64url"),
    ("sourdine://r.example/" + KEY_TEXT[:-1] + "=", "not valid base64url"),
    ("sourdine://r.example/" + KEY_TEXT[:-1] + "h", "not valid base64url"),  # non-canonical
    ("sourdine://r.example:99999/" + KEY_TEXT, "invalid host or port"),
    ("sourdine://user@r.example/" + KEY_TEXT, "no user name"),
    ("sourdine:///" + KEY_TEXT, "must name a host"),
    ("sourdine://r.example/" + KEY_TEXT + "?name=a&x=1", "only name="),
    ("sourdine://r.example/" + KEY_TEXT + "?name=", "1 to 64"),
    ("sourdine://r.example/" + KEY_TEXT + "#frag", "no #fragment"),
    ("", "looks like"),
])
def test_malformed_links_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(AddressError, match=why):
        parse_contact_link(text)


@pytest.mark.parametrize("url", ["http://r.example", "wss://r.example/path", "ws://r.example/?q=1",
                                 "wss://", "relay.example.com"])
def test_relay_urls_must_be_plain_ws_or_wss(url: str) -> None:
    with pytest.raises(AddressError):
        normalize_relay_url(url)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_address_error(text: str) -> None:
    for candidate in (text, "sourdine://" + text, f"sourdine://h/{KEY_TEXT}?" + text):
        with contextlib.suppress(AddressError):
            parse_contact_link(candidate)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32),
       st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and s.isprintable()))
def test_invitations_round_trip(key: bytes, name: str) -> None:
    parsed = parse_contact_link(format_invitation("wss://relay.example:8443", key, name))
    assert parsed.address.identity_key == key
    assert parsed.display_name == name.strip()
