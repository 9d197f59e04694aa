"""Tickets: the short public number a person gets on joining (`RET-014`).

A ticket is a prefix (the service type's code, else the queue's `ticket_prefix`) and a number
from one sequence per queue that starts again at 1 each day in the queue's time zone. Lua has
no time zones and the one clock is Redis TIME, so a join sends the script the local days
around this node's "now" as (label, UTC start ms) and the script picks the day its own clock
falls in: any node clock within a day of Redis picks the same day.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "UTC"
DEFAULT_PREFIX = "A"
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]{1,30}(?:/[A-Za-z0-9_+-]{1,30}){0,2}")  #: fullmatch


@functools.lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo | None:
    """The IANA zone named `name`, or None when there is no such zone (cached: it reads a file)."""
    if not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _start_ms(day: date, tz: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def day_candidates(zone_name: str, now: float | None = None) -> list[str]:
    """Flat [label, start ms, ...] for yesterday, today and tomorrow in the zone, oldest first
    (label: the local date, YYYY-MM-DD). A zone that no longer exists counts as UTC."""
    tz = zone(zone_name) or ZoneInfo(DEFAULT_ZONE)
    today = datetime.fromtimestamp(time.time() if now is None else now, tz).date()
    flat: list[str] = []
    for offset in (-1, 0, 1):
        day = today + timedelta(days=offset)
        flat += [day.isoformat(), str(_start_ms(day, tz))]
    return flat
