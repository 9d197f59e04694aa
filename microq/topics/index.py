"""This node's index of topic names, so a wildcard costs what it matches, not what exists.

Names are grouped by depth (number of dot-separated segments) and by each literal segment at
each position: `orders.*.paid` looks only at the depth-3 names whose first segment is `orders`
and whose third is `paid`, and runs the compiled pattern on those alone. A pattern's matches are
cached and brought up to date from a log of later additions, so the common case (the same
patterns long-polling again and again) costs a lookup. Every scan yields to the event loop after
a few ms, so no pattern, however hostile, holds a node.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from sortedcontainers import SortedSet

from microq.topics.names import Pattern, compile_pattern

SLICE = 0.002  #: seconds of matching before a scan yields to other requests
CACHED_PATTERNS = 256  #: patterns whose matches are kept (least recently used go first)
_ADDED_LOG = 65536  #: additions remembered for bringing cached matches up to date


class TimeSlice:
    """`await slice.tick()` in a loop: yields to the event loop once every SLICE seconds of work."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until = time.perf_counter() + SLICE

    async def tick(self) -> None:
        if time.perf_counter() >= self._until:
            await asyncio.sleep(0)
            self._until = time.perf_counter() + SLICE


class _Matches:
    __slots__ = ("names", "seen", "removals")

    def __init__(self, names: set[str], seen: int, removals: int) -> None:
        self.names = names  #: matching names (some may since have been removed: filtered on read)
        self.seen = seen  #: position in the additions log this set is current to
        self.removals = removals  #: removals count it is current to


class TopicIndex:
    def __init__(self) -> None:
        self.names: SortedSet = SortedSet()  #: sorted, so /api/stats pages by name without sorting
        self._by_depth: dict[int, set[str]] = {}
        self._by_segment: dict[tuple[int, int, str], set[str]] = {}
        self._added: list[str] = []  #: names in the order they were added (a window of _ADDED_LOG)
        self._added_base = 0  #: additions log position of _added[0]
        self._removals = 0
        self._cache: OrderedDict[str, _Matches] = OrderedDict()
        self._scanning: dict[str, asyncio.Future] = {}  #: one scan per pattern, however many ask

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def add(self, name: str) -> None:
        if name in self.names:
            return
        self.names.add(name)
        parts = name.split(".")
        self._by_depth.setdefault(len(parts), set()).add(name)
        for i, part in enumerate(parts):
            self._by_segment.setdefault((len(parts), i, part), set()).add(name)
        self._added.append(name)
        if len(self._added) > 2 * _ADDED_LOG:
            drop = len(self._added) - _ADDED_LOG
            del self._added[:drop]
            self._added_base += drop

    def remove(self, name: str) -> None:
        if name not in self.names:
            return
        self.names.discard(name)
        self._removals += 1
        parts = name.split(".")
        _discard(self._by_depth, len(parts), name)
        for i, part in enumerate(parts):
            _discard(self._by_segment, (len(parts), i, part), name)

    def page(self, after: str, limit: int) -> list[str]:
        """Up to `limit` names in order, after `after` ("" for the first page)."""
        start = self.names.bisect_right(after) if after else 0
        return list(self.names.islice(start, start + limit))

    def candidates(self, pattern: Pattern) -> set[str]:
        """Names of the pattern's depth that have its literal segments (the smallest such set)."""
        best = self._by_depth.get(pattern.depth, set())
        for position, literal in pattern.literals:
            found = self._by_segment.get((pattern.depth, position, literal), set())
            if len(found) < len(best):
                best = found
        return best

    async def matching(self, text: str) -> list[str]:
        """The names a pattern matches; scans only candidates and yields while it scans."""
        running = self._scanning.get(text)
        if running is not None:
            return list(await asyncio.shield(running))
        future = self._scanning[text] = asyncio.get_running_loop().create_future()
        try:
            found = await self._match(text)
            future.set_result(found)
            return list(found)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._scanning[text]

    async def _match(self, text: str) -> set[str]:
        pattern = compile_pattern(text)
        end = self._added_base + len(self._added)
        cached = self._cache.get(text)
        slicer = TimeSlice()
        if cached is not None and cached.seen >= self._added_base:
            self._cache.move_to_end(text)
            for name in self._added[cached.seen - self._added_base:end - self._added_base]:
                if pattern.matches(name):
                    cached.names.add(name)
                await slicer.tick()
            cached.seen = max(cached.seen, end)
        else:
            found: set[str] = set()
            for name in list(self.candidates(pattern)):
                if pattern.matches(name):
                    found.add(name)
                await slicer.tick()
            cached = self._cache[text] = _Matches(found, end, self._removals)
            if len(self._cache) > CACHED_PATTERNS:
                self._cache.popitem(last=False)
        if cached.removals != self._removals:  # some names went meanwhile
            cached.names = {name for name in cached.names if name in self.names}
            cached.removals = self._removals
        return cached.names


def _discard(groups: dict, key: object, name: str) -> None:
    group = groups.get(key)
    if group is not None:
        group.discard(name)
        if not group:
            del groups[key]
