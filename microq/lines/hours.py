"""Opening hours: a weekly schedule in the queue's time zone, and what a join checks.

The schedule is {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], ...}: days mon..sun, each
at most MAX_RANGES ranges "HH:MM" (end "24:00" allowed; a range never crosses midnight: split
it). A missing day is closed that day; no schedule at all means always open. Lua has no time
zones, so a join sends the script the open intervals of local yesterday, today and tomorrow
in UTC ms, and the script tests Redis's clock against them (as tickets.py does for the day).
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime, time as clock, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from microq.errors import BadRequest
from microq.lines import tickets

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RANGES = 4  #: per day
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")  #: fullmatch


def _minutes(text: object, field: str) -> int:
    if not isinstance(text, str) or not _HHMM.fullmatch(text):
        raise BadRequest(f"{field}: times are \"HH:MM\" from 00:00 to 24:00")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def parse(value: object, field: str = "opening_hours") -> str:
    """The canonical JSON text of a schedule the API accepts (stored as it is; compared as
    text by the join script, so equal schedules must serialise equally)."""
    if not isinstance(value, dict):
        raise BadRequest(f"{field} must be an object of days (mon..sun) to lists of [\"HH:MM\", \"HH:MM\"]")
    schedule: dict[str, list[list[str]]] = {}
    for day, ranges in value.items():
        if day not in DAYS:
            raise BadRequest(f"{field}: days are {', '.join(DAYS)}")
        if not isinstance(ranges, list) or len(ranges) > MAX_RANGES:
            raise BadRequest(f"{field}.{day} must be a list of at most {MAX_RANGES} [open, close] ranges")
        spans = []
        for pair in ranges:
            if not isinstance(pair, list) or len(pair) != 2:
                raise BadRequest(f"{field}.{day}: each range is [\"HH:MM\", \"HH:MM\"]")
            start, end = _minutes(pair[0], field), _minutes(pair[1], field)
            if start >= end:
                raise BadRequest(f"{field}.{day}: a range opens before it closes (split one over midnight)")
            spans.append((start, end))
        spans.sort()
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            raise BadRequest(f"{field}.{day}: ranges overlap")
        schedule[day] = [[f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"] for s, e in spans]
    return json.dumps({day: schedule[day] for day in DAYS if day in schedule}, separators=(",", ":"))


def schedule(text: str | None) -> dict[str, list[list[str]]] | None:
    return json.loads(text) if text else None


def _at(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    if hhmm == "24:00":
        return datetime.combine(day + timedelta(days=1), clock(0), tz)
    hours, minutes = hhmm.split(":")
    return datetime.combine(day, clock(int(hours), int(minutes)), tz)


def intervals(text: str | None, zone_name: str, now: float,
              days: range = range(-1, 3)) -> list[tuple[datetime, datetime]]:
    """Open (start, end) of the local days `days` from today (default: yesterday through the
    day after tomorrow), in order."""
    plan = schedule(text) or {}
    tz = tickets.zone(zone_name) or ZoneInfo(tickets.DEFAULT_ZONE)
    today = datetime.fromtimestamp(now, tz).date()
    found = []
    for offset in days:
        day = today + timedelta(days=offset)
        for start, end in plan.get(DAYS[day.weekday()], []):
            found.append((_at(day, start, tz), _at(day, end, tz)))
    return found


def interval_args(text: str | None, zone_name: str, now: float) -> list[str]:
    """Flat [start ms, end ms, ...] for the join script ([] when there is no schedule)."""
    if not text:
        return []
    return [str(int(moment.timestamp() * 1000)) for span in intervals(text, zone_name, now) for moment in span]


def next_opening(text: str | None, zone_name: str, now: float) -> datetime | None:
    """When the line next opens (None: open now, no schedule, or not within a week)."""
    if not text:
        return None
    moment = datetime.fromtimestamp(now, timezone.utc)
    spans = intervals(text, zone_name, now, range(-1, 8))
    if any(start <= moment < end for start, end in spans):
        return None
    upcoming = [start for start, _ in spans if start > moment]
    return min(upcoming) if upcoming else None


def open_now(text: str | None, zone_name: str, now: float) -> bool:
    if not text:
        return True
    moment = datetime.fromtimestamp(now, timezone.utc)
    return any(start <= moment < end for start, end in intervals(text, zone_name, now))


@functools.lru_cache(maxsize=4096)
def _state_at_minute(text: str, zone_name: str, minute: int) -> tuple[bool, datetime | None]:
    now = minute * 60.0
    return open_now(text, zone_name, now), next_opening(text, zone_name, now)


def state(text: str | None, zone_name: str, now: float) -> tuple[bool, datetime | None]:
    """(open now, next opening) for pages. Ranges start and end on whole minutes and zones are
    whole minutes off UTC, so the answer holds for the whole minute: cached per minute, which
    keeps a listing of 1000 configs with hours from computing 1000 weekly schedules."""
    if not text:
        return True, None
    return _state_at_minute(text, zone_name, int(now // 60))


def validated_max(data: dict[str, Any], field: str = "max_waiting") -> int | None:
    """None: absent; 0: no limit (null sent); else 1..MAX_WAITING_LIMIT."""
    if field not in data:
        return None
    value = data[field]
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WAITING_LIMIT:
        raise BadRequest(f"{field} must be a whole number from 1 to {MAX_WAITING_LIMIT}, or null for no limit")
    return value


MAX_WAITING_LIMIT = 1_000_000


_CLOSE_AT = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")  #: fullmatch


def parse_close_at(value: object) -> str:
    """A queue's `close_at`: "HH:MM" (local, 00:00-24:00) or "end" (the end of the day's
    opening hours)."""
    if value == "end" or (isinstance(value, str) and _CLOSE_AT.fullmatch(value)):
        return value
    raise BadRequest('close_at must be a local time "HH:MM", "end" (of the opening hours) or null')


def close_times(close_at: str, text: str | None, zone_name: str, now: float) -> list[str]:
    """Flat [label, close ms] of yesterday and today for lines_close_day ("" and "0" for a day
    that has no close: "end" on a day without opening hours, or without any)."""
    tz = tickets.zone(zone_name) or ZoneInfo(tickets.DEFAULT_ZONE)
    today = datetime.fromtimestamp(now, tz).date()
    flat: list[str] = []
    for offset in (-1, 0):
        day = today + timedelta(days=offset)
        if close_at == "end":
            spans = intervals(text, zone_name, now, range(offset, offset + 1)) if text else []
            due = max((end for _, end in spans), default=None)
        else:
            due = _at(day, close_at, tz)
        flat += [day.isoformat(), str(int(due.timestamp() * 1000))] if due else ["", "0"]
    return flat
