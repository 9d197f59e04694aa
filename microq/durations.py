"""Durations as the seeds write them: "500ms", "30s", "5m", "1h", or bare seconds."""

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError naming the text when it is not a duration."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"invalid duration {text!r} (use e.g. 500ms, 30s, 5m, 1h)")
    number, unit = match.groups()
    return float(number) * _UNITS[unit or "s"]
