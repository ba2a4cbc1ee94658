"""Times, previews, snippets and states as the user reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication

from app.ui.models.formatting import (
    format_day,
    format_list_time,
    format_time,
    is_right_to_left,
    one_line,
    snippet,
    state_symbol,
    state_text,
    undecryptable_text,
)

NOW = datetime(2025, 3, 6, 15, 30)  # a Thursday afternoon


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def locale() -> Iterator[None]:
    """English (UK) conventions for the test, the previous default afterwards."""
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    QLocale.setDefault(before)


def test_list_times_are_the_time_today_the_weekday_this_week_else_the_date(
    qapp: QApplication, locale: None
) -> None:
    assert format_list_time(ms(NOW.replace(hour=9, minute=5)), NOW) == "09:05"
    assert format_list_time(ms(NOW - timedelta(days=1)), NOW) == "Wed"
    assert format_list_time(ms(NOW - timedelta(days=6)), NOW) == "Fri"
    assert format_list_time(ms(NOW - timedelta(days=7)), NOW) == "27/02/2025"
    assert format_list_time(ms(datetime(2024, 12, 24, 8)), NOW) == "24/12/2024"


def test_the_language_chosen_changes_the_wording(qapp: QApplication, locale: None) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    assert format_list_time(ms(NOW - timedelta(days=1)), NOW) == "mer."
    assert format_list_time(ms(NOW - timedelta(days=30)), NOW) == "04/02/2025"
    assert format_time(ms(NOW.replace(hour=21, minute=7))) == "21:07"


def test_date_separators_say_today_yesterday_or_the_long_date(
    qapp: QApplication, locale: None
) -> None:
    assert format_day(ms(NOW.replace(hour=0, minute=1)), NOW) == "Today"
    assert format_day(ms(NOW - timedelta(days=1)), NOW) == "Yesterday"
    assert format_day(ms(datetime(2025, 3, 3, 12)), NOW) == "Monday, 3 March 2025"


def test_previews_are_one_line_and_bounded() -> None:
    assert one_line("  Hello\n\n  world\t!  ") == "Hello world !"
    long = one_line("word " * 100, limit=20)
    assert len(long) <= 20 and long.endswith("…")


def test_snippets_show_the_first_match_with_ellipses() -> None:
    body = " ".join(f"w{n}" for n in range(60)) + " Quokka sighting " + " tail" * 40
    text = snippet(body, "quokka", width=40)
    assert "Quokka" in text and text.startswith("…") and text.endswith("…")
    assert len(text) <= 42
    assert snippet("short body", "absent") == "short body"


def test_paragraph_direction_follows_the_first_strong_character() -> None:
    assert is_right_to_left("שלום world")
    assert is_right_to_left("123 مرحبا")
    assert not is_right_to_left("Hello שלום")
    assert not is_right_to_left("🎉 123")


def test_states_have_words_and_our_states_have_symbols(qapp: QApplication) -> None:
    assert [state_text(s) for s in ("queued", "sent", "delivered", "read", "failed")] == [
        "Sending", "Sent", "Delivered", "Read", "Not sent"]
    assert state_symbol("received") == "" and state_symbol("failed") == "!"
    assert undecryptable_text("no session") == "This message could not be read (no session)."
    assert undecryptable_text(None) == "This message could not be read."
