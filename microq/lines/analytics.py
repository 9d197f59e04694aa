"""A line's analytics, from the per-day hashes its scripts keep (scripts/lua/includes/lines_analytics.lua).

Each local day of a line has one hash of counts and of histograms of wait and service seconds
in fixed buckets: bucket b holds [2^(b/3) - 1, 2^((b+1)/3) - 1) seconds, 0 <= b <= 63, so
edges are about 26% apart (1 s, 1.5 s, 2.2 s, ... 9 min, 11.7 min, 15 min, ...). A percentile
is read from the buckets by linear interpolation inside the bucket that holds it, so it is
within one bucket (26%) of the exact value. Memory does not grow with the people served:
a day holds at most a few fields per bucket, service type and counter, and expires
RETENTION_DAYS after it began. A range is at most MAX_RANGE_DAYS days.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo

from microq.lines import tickets

#: how long one day's analytics hash is kept after that day began
RETENTION_DAYS = 400
RETENTION_MS = RETENTION_DAYS * 86_400_000
#: most days one analytics answer covers
MAX_RANGE_DAYS = 92
#: histogram buckets (the last one holds everything from about 25 days on)
BUCKETS = 64


def bucket_edges(b: int) -> tuple[float, float]:
    """[lower, upper) seconds of histogram bucket b."""
    return 2 ** (b / 3) - 1, 2 ** ((b + 1) / 3) - 1


def bucket_of(seconds: float) -> int:
    """The bucket the scripts count `seconds` in (the same formula as lines_analytics.lua)."""
    return min(BUCKETS - 1, math.floor(3 * math.log(1 + max(0.0, seconds)) / math.log(2)))


def percentile(histogram: Counter[int], q: float) -> float | None:
    """The q-quantile (0 < q <= 1) of the counts in `histogram` (bucket -> count), or None when empty."""
    total = sum(n for n in histogram.values() if n > 0)
    if total == 0:
        return None
    rank, seen = q * total, 0
    for b in sorted(histogram):
        n = histogram[b]
        if n <= 0:
            continue
        if seen + n >= rank:
            lower, upper = bucket_edges(b)
            return round(lower + (upper - lower) * (rank - seen) / n, 1)
        seen += n
    return round(bucket_edges(max(histogram))[1], 1)  # unreachable unless rounding; the top edge


def summary(histogram: Counter[int]) -> dict[str, float | None]:
    return {"p50": percentile(histogram, 0.5), "p90": percentile(histogram, 0.9)}


@dataclass
class Tally:
    """Counts and histograms of one day, type or counter (or of a whole range)."""

    served: int = 0
    no_shows: int = 0
    left: int = 0
    waits: Counter[int] = field(default_factory=Counter)
    services: Counter[int] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.served += other.served
        self.no_shows += other.no_shows
        self.left += other.left
        self.waits.update(other.waits)
        self.services.update(other.services)

    def set(self, name: str, value: int) -> None:
        """One field of the hash, by its name within its scope (s, ns, lf, w<b>, v<b>)."""
        if name == "s":
            self.served += value
        elif name == "ns":
            self.no_shows += value
        elif name == "lf":
            self.left += value
        elif name[:1] in ("w", "v") and name[1:].isdigit() and int(name[1:]) < BUCKETS:
            (self.waits if name[0] == "w" else self.services)[int(name[1:])] += value


@dataclass
class Day:
    total: Tally = field(default_factory=Tally)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    types: dict[str, Tally] = field(default_factory=dict)
    counters: dict[str, Tally] = field(default_factory=dict)
    type_names: dict[str, str] = field(default_factory=dict)
    counter_names: dict[str, str] = field(default_factory=dict)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


#: most hash fields parsed between two yields to the event loop (a day holds up to ~17,000)
PARSE_CHUNK = 2000


def parse_day(fields: Iterable[tuple[Any, Any]], day: Day | None = None) -> Day:
    """Fields of a day hash (HGETALL's items) added to `day` (a new Day by default); fields it
    does not know are skipped."""
    day = day or Day()
    for raw_name, raw_value in fields:
        name, value = _text(raw_name), _text(raw_value)
        if name[:2] in ("t|", "c|"):
            scope_id, _, sub = name[2:].rpartition("|")
            if name[0] == "t":
                names, tallies = day.type_names, day.types
            else:
                names, tallies = day.counter_names, day.counters
            if sub == "n":
                names[scope_id] = value
            elif value.lstrip("-").isdigit():
                tallies.setdefault(scope_id, Tally()).set(sub, int(value))
        elif not value.lstrip("-").isdigit():
            continue
        elif name[:1] == "h" and name[1:].isdigit() and int(name[1:]) < 24:
            day.hours[int(name[1:])] += int(value)
        else:
            day.total.set(name, int(value))
    return day


def chunks(fields: dict[Any, Any]) -> Iterator[list[tuple[Any, Any]]]:
    """A day hash's items, PARSE_CHUNK at a time."""
    items = iter(fields.items())
    while chunk := list(islice(items, PARSE_CHUNK)):
        yield chunk


def dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def today(zone_name: str, now: float) -> date:
    return datetime.fromtimestamp(now, tickets.zone(zone_name) or ZoneInfo(tickets.DEFAULT_ZONE)).date()


def day_args(zone_name: str, now: float) -> tuple[list[str], list[Any]]:
    """(labels of yesterday, today, tomorrow; the ARGV tail lines_analytics reads: zone, label
    and start ms of each day, the zone's UTC offset ms at now, the retention ms)."""
    tz = tickets.zone(zone_name) or ZoneInfo(tickets.DEFAULT_ZONE)
    flat = tickets.day_candidates(zone_name, now)
    offset = datetime.fromtimestamp(now, tz).utcoffset()
    offset_ms = int(offset.total_seconds() * 1000) if offset else 0
    return flat[0::2], [zone_name, *flat, offset_ms, RETENTION_MS]


def report(queue: str, zone_name: str, days: list[tuple[date, Day]], type_names: dict[str, str],
           counter_names: dict[str, str]) -> dict[str, Any]:
    """The analytics answer for `days` (oldest first). type_names / counter_names: the current
    ones, which win over those the days recorded; "" ids (no type, no counter) answer null."""
    total, hours = Tally(), [0] * 24
    types: dict[str, Tally] = {t: Tally() for t in type_names}
    counters: dict[str, Tally] = {c: Tally() for c in counter_names}
    seen_types: dict[str, str] = {}
    seen_counters: dict[str, str] = {}
    rows = []
    for label, day in days:
        total.add(day.total)
        hours = [a + b for a, b in zip(hours, day.hours)]
        for type_id, tally in day.types.items():
            types.setdefault(type_id, Tally()).add(tally)
        for counter_id, tally in day.counters.items():
            counters.setdefault(counter_id, Tally()).add(tally)
        seen_types.update(day.type_names)
        seen_counters.update(day.counter_names)
        t = day.total
        rows.append({"date": label.isoformat(), "served": t.served, "no_shows": t.no_shows, "left": t.left,
                     "wait_seconds": summary(t.waits), "service_seconds": summary(t.services)})
    names_t, names_c = {**seen_types, **type_names}, {**seen_counters, **counter_names}
    by_type = [{"type_id": i or None, "name": names_t.get(i), "served": t.served, "no_shows": t.no_shows,
                "left": t.left, "wait_seconds": summary(t.waits), "service_seconds": summary(t.services)}
               for i, t in types.items() if i in type_names or _any(t)]
    by_counter = [{"counter_id": i or None, "name": names_c.get(i), "served": c.served,
                   "service_seconds": summary(c.services)}
                  for i, c in counters.items() if i in counter_names or _any(c)]
    by_type.sort(key=lambda r: (r["type_id"] is None, (r["name"] or "").lower(), r["type_id"] or ""))
    by_counter.sort(key=lambda r: (r["counter_id"] is None, (r["name"] or "").lower(), r["counter_id"] or ""))
    return {"queue_id": queue, "time_zone": zone_name, "from": days[0][0].isoformat(),
            "to": days[-1][0].isoformat(), "served": total.served, "no_shows": total.no_shows,
            "left": total.left, "wait_seconds": summary(total.waits), "service_seconds": summary(total.services),
            "served_per_hour": hours, "by_service_type": by_type, "by_counter": by_counter, "days": rows}


def _any(t: Tally) -> bool:
    return bool(t.served or t.no_shows or t.left or sum(t.waits.values()) or sum(t.services.values()))
