"""Structured logs: one JSON object per line on stderr.

What may appear in a log line is decided here and at each call site: event names, counts,
durations, the listening address, error types. Never message content, identity keys, mailbox
names, invitation codes or client IP addresses (so no sender-recipient pair can be rebuilt
from the logs). The per-frame path logs nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

_LOGGER = logging.getLogger("sourdine.relay")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


class JsonLines(logging.Formatter):
    """Formats a record as ``{"ts": ..., "level": ..., "event": ..., <fields>}``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
        }
        if isinstance(fields, dict):
            line["event"] = record.getMessage()
            line.update(fields)
        else:  # a library's record: keep its text, never its traceback (it may hold data)
            line["event"] = "library"
            line["logger"] = record.name
            line["message"] = record.getMessage()[:300]
            if record.exc_info and record.exc_info[0] is not None:
                line["error"] = record.exc_info[0].__name__
        return json.dumps(line, separators=(",", ":"), default=str)


class _QuietHandshakes(logging.Filter):
    """Drop websockets' report of a failed opening handshake (scanners, plain HTTP clients)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "opening handshake failed"


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """Send the relay's and websockets' records to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    _LOGGER.handlers[:] = [handler]
    _LOGGER.setLevel(_LEVELS.get(level, logging.INFO))
    _LOGGER.propagate = False
    library = logging.getLogger("websockets")
    library.handlers[:] = [handler]
    library.setLevel(logging.DEBUG if level == "debug" else logging.ERROR)
    library.propagate = False
    if level != "debug":
        library.addFilter(_QuietHandshakes())


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields (counts, names, numbers; see the module rules)."""
    if _LOGGER.isEnabledFor(level):
        _LOGGER.log(level, event, extra={"fields": fields})


def flush() -> None:
    """Flush the log handlers (before a process exit)."""
    for handler in _LOGGER.handlers:
        handler.flush()
