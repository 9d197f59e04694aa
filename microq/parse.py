"""The one parser for numbers, flags and durations that clients and operators send.

Every part reads query values, body fields and settings through these functions, so one rule
holds everywhere: ASCII digits only. Python's `int()` and `\\d` also take `١٠` and `1_000`,
which no client means and no other system would read back the same way. Each function raises
ValueError with a message fit for a 400 answer; the caller adds the name of what it parsed
and applies its own limits.
"""

from __future__ import annotations

import re

MAX_TEXT = 64  #: longer inputs are refused before any regex runs: every legitimate value is short

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")

_WHOLE = re.compile(r"[0-9]+")
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_BARE_SECONDS = re.compile(_NUMBER)
#: Go's time.ParseDuration units, plus "d" (days), which MicroQ accepted before Go's grammar
_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0, "d": 86400.0}
_TERM = re.compile(rf"({_NUMBER})(ns|us|\u00b5s|\u03bcs|ms|s|m|h|d)")
DURATION_HELP = "use e.g. 500ms, 30s, 1m30s, 1h0m0s, 1.5h, or bare seconds"


def whole_number(text: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, written in ASCII digits (surrounding spaces allowed)."""
    raw = text.strip() if isinstance(text, str) else ""
    if len(raw) > MAX_TEXT or not _WHOLE.fullmatch(raw) or not low <= int(raw) <= high:
        raise ValueError(f"expected a whole number from {low} to {high}")
    return int(raw)


def flag(text: str) -> bool:
    """true/false, 1/0, yes/no, on/off (any case); empty is false."""
    lowered = text.strip().lower() if isinstance(text, str) else None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false")


def duration(text: str) -> float:
    """Seconds in `text`: bare seconds (`30`, `1.5`), one unit (`500ms`, `5m`, `1d`) or Go's
    time.ParseDuration grammar (`1h0m0s`, `2h45m`, `1.5h`, `300ms`, `100us`, `µs`, `ns`), which
    TinyMQ's Go SDK sends. A leading `+` is allowed as Go allows it; a negative is refused."""
    raw = text.strip() if isinstance(text, str) else ""
    if len(raw) > MAX_TEXT:
        raise ValueError(f"invalid duration: {DURATION_HELP}")
    if raw.startswith("+"):
        raw = raw[1:]
    if _BARE_SECONDS.fullmatch(raw):
        return float(raw)
    seconds, position = 0.0, 0
    for term in _TERM.finditer(raw):
        if term.start() != position:
            break
        seconds += float(term.group(1)) * _UNITS[term.group(2)]
        position = term.end()
    if not raw or position != len(raw):
        raise ValueError(f"invalid duration {str(text)[:40]!r}: {DURATION_HELP}")
    return seconds
