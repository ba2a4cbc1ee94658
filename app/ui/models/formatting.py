"""How times, previews and message states read on screen (localized, translated).

Pure functions over plain values: the models call them in ``data()``. Times are in the
user's local time zone; the wording follows the current ``QLocale`` (the language the user
chose), so a French user reads "14:02", "lun." and "03/03/2025".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Final

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QTime

PREVIEW_LIMIT: Final = 160
"""Characters kept in a one-line preview (delegates elide to the width anyway)."""

_SPACES: Final = re.compile(r"\s+")
_WORDS: Final = re.compile(r"\w+", re.UNICODE)


def local_datetime(ms: int) -> datetime:
    """``ms`` since the Unix epoch as a naive datetime in the local time zone."""
    return datetime.fromtimestamp(ms / 1000)


def local_day(ms: int) -> date:
    """The local calendar day of ``ms`` (what date separators compare)."""
    return local_datetime(ms).date()


def format_time(ms: int) -> str:
    """The localized short time of day ("14:02", "2:02 PM")."""
    moment = local_datetime(ms)
    return QLocale().toString(QTime(moment.hour, moment.minute), QLocale.FormatType.ShortFormat)


def format_list_time(ms: int, now: datetime | None = None) -> str:
    """A conversation row's time: the time today, the weekday within the last week, else
    the short date."""
    moment = local_datetime(ms)
    today = (now or datetime.now()).date()
    days_ago = (today - moment.date()).days
    if days_ago == 0:
        return format_time(ms)
    if 0 < days_ago < 7:
        return QLocale().dayName(moment.isoweekday(), QLocale.FormatType.ShortFormat)
    return QLocale().toString(
        QDate(moment.year, moment.month, moment.day), QLocale.FormatType.ShortFormat
    )


def format_day(ms: int, now: datetime | None = None) -> str:
    """A date separator's text: "Today", "Yesterday" or the long localized date."""
    day = local_day(ms)
    days_ago = ((now or datetime.now()).date() - day).days
    if days_ago == 0:
        return QCoreApplication.translate("Formatting", "Today")
    if days_ago == 1:
        return QCoreApplication.translate("Formatting", "Yesterday")
    return QLocale().toString(QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat)


def one_line(text: str, limit: int = PREVIEW_LIMIT) -> str:
    """``text`` on one line: whitespace runs (newlines included) become one space; at most
    ``limit`` characters, with an ellipsis when cut."""
    flat = _SPACES.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "…"


def snippet(body: str, query: str, width: int = 80) -> str:
    """One line of ``body`` around the first word of ``query`` it contains (case-blind),
    with ellipses where it was cut; the start of the body when no word is found."""
    flat = one_line(body, limit=len(body) + 1)
    folded = flat.casefold()
    starts = [folded.find(w.casefold()) for w in _WORDS.findall(query)]
    found = [s for s in starts if s >= 0]
    if not found or len(flat) <= width:
        return one_line(flat, width)
    start = max(0, min(found) - width // 4)
    end = min(len(flat), start + width)
    start = max(0, end - width)
    piece = flat[start:end].strip()
    return ("…" if start > 0 else "") + piece + ("…" if end < len(flat) else "")


def is_right_to_left(text: str) -> bool:
    """Whether ``text``'s first strong character is right-to-left (Arabic, Hebrew, ...):
    the paragraph direction, as the Unicode bidi algorithm (rule P2) decides it."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


def state_text(state: str) -> str:
    """The translated name of a message state (tooltips, screen readers)."""
    texts = {
        "queued": QCoreApplication.translate("Formatting", "Sending"),
        "sent": QCoreApplication.translate("Formatting", "Sent"),
        "delivered": QCoreApplication.translate("Formatting", "Delivered"),
        "read": QCoreApplication.translate("Formatting", "Read"),
        "failed": QCoreApplication.translate("Formatting", "Not sent"),
        "received": QCoreApplication.translate("Formatting", "Received"),
        "undecryptable": QCoreApplication.translate("Formatting", "Could not be read"),
    }
    return texts.get(state, state)


_SYMBOLS: Final = {
    "queued": "…",
    "sent": "✓",
    "delivered": "✓✓",
    "read": "✓✓",
    "failed": "!",
}


def state_symbol(state: str) -> str:
    """A short symbol drawn after the time of our messages ("" for incoming states)."""
    return _SYMBOLS.get(state, "")


def undecryptable_text(reason: str | None) -> str:
    """What a bubble says for an incoming message that could not be decrypted."""
    if reason:
        template = QCoreApplication.translate("Formatting", "This message could not be read (%1).")
        return template.replace("%1", reason)
    return QCoreApplication.translate("Formatting", "This message could not be read.")


def retry_text() -> str:
    """The line under a failed message of ours."""
    return QCoreApplication.translate(
        "Formatting", "Not sent — press Enter or click to retry"
    )
