"""The state gauges of /metrics, read by one node at a time and shared by every node through Redis.

Reading the state costs work in proportion to what exists (at 10,000 topics about 50,000 ZCARDs),
so it is not done per scrape. A scrape serves the snapshot kept in Redis (`<prefix>{metrics}:state`:
the Prometheus text of every part's gauges, when it was read and how long that took), and the
snapshot is renewed at most once per MICROQ_METRICS_STATE_TTL for the whole cluster, by whichever
node gets the turn (`<prefix>{metrics}:turn`, SET NX). So:

- a scrape costs one small script call and the formatting of this process's counters, however
  many topics, lines and queues there are; `microq_metrics_state_age_seconds` says how old the
  numbers it serves are (Redis's clock);
- the renewal runs in a background task of a node that is being scraped (it polls for the turn
  every TTL/4 while this node was scraped in the last IDLE seconds, then stops: nobody scraping
  costs nothing), in bounded batches that yield the event loop; its cost is about one state read
  per TTL however many nodes, workers and scrapers there are;
- every node and every worker serves the same numbers, read from Redis, at most about 1.25 TTL
  plus one read old;
- the very first scrape (no snapshot yet, or none renewed for KEEP_MS) waits for a read.

MICROQ_METRICS_STATE_TTL=0 turns the sharing off: every scrape reads the state itself, one read
at a time per node (for tests, or a single node scraped rarely).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from typing import Awaitable, Callable

import msgpack
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.keys import Keyspace
from microq.scripts import Scripts

log = logging.getLogger(__name__)

LEASE_MS = 60_000  #: a renewal taking longer than this may be started again by another node
KEEP_MS = 600_000  #: a snapshot not renewed for this long is dropped (nobody scrapes any more)
IDLE = 300.0  #: seconds after this node's last scrape that its renewer stops


class StateSnapshot:
    def __init__(self, scripts: Scripts, keyspace: Keyspace, ttl: float,
                 read: Callable[[], Awaitable[list[Metric]]]) -> None:
        self.scripts = scripts
        self.ttl = ttl
        self.read = read  #: every part's state families, read from Redis now
        self.token = uuid.uuid4().hex  #: this process's, for the turn
        base = keyspace.global_key("metrics")
        self.keys = [f"{base}:state", f"{base}:turn"]
        self._renewing: asyncio.Task | None = None  #: this node's read for the shared snapshot
        self._reading: asyncio.Task | None = None  #: a read of its own (TTL 0, or no snapshot yet)
        self._renewer: asyncio.Task | None = None  #: polls for the turn while this node is scraped
        self._scraped = -IDLE

    async def text(self) -> bytes:
        """The state gauges' Prometheus text for one scrape, with the snapshot's age."""
        if self.ttl <= 0:
            return await self._read_here()
        self._scraped = time.monotonic()
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_while_scraped(), name="metrics-state-renewer")
        try:
            now, mine, packed = await self.scripts.call("metrics_state_get", self.keys, [self.token, LEASE_MS, 1])
        except Exception as exc:  # noqa: BLE001 - Redis is away: the readers' own failures say what is missing
            log.warning("metrics: the shared state snapshot is unreadable: %s", exc)
            return await self._read_here()
        if mine:
            self._start_renewal(now)
        if packed:
            read_at, took, body = msgpack.unpackb(packed)
            return body + _age(now - read_at, took)
        if self._renewing is not None:  # the first snapshot, being read by this node
            renewed = await asyncio.shield(self._renewing)
            if renewed is not None:
                return renewed
        return await self._read_here()  # another node is reading the first one

    async def close(self) -> None:
        for task in (self._renewer, self._renewing, self._reading):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _renew_while_scraped(self) -> None:
        """Take the turn when it is free, while this node is being scraped."""
        while time.monotonic() - self._scraped < IDLE:
            await asyncio.sleep(self.ttl / 4 * random.uniform(0.8, 1.2))  # nodes polling in step would collide
            try:
                now, mine, _ = await self.scripts.call("metrics_state_get", self.keys, [self.token, LEASE_MS, 0])
                if mine:
                    self._start_renewal(now)
                if self._renewing is not None:
                    await asyncio.shield(self._renewing)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away: poll again; the scrape says what is missing
                log.warning("metrics: renewing the state snapshot failed: %s", exc)

    def _start_renewal(self, now_ms: int) -> None:
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(now_ms), name="metrics-state-renewal")

    async def _renew(self, read_at: int) -> bytes | None:
        """Read the state and store it as the shared snapshot; None when that failed (logged)."""
        try:
            body, took = await self._timed_read()
            packed = msgpack.packb([read_at, took, body])
            await self.scripts.call("metrics_state_put", self.keys,
                                    [self.token, packed, round(self.ttl * 1000), KEEP_MS])
        except Exception as exc:  # noqa: BLE001 - the turn lapses after LEASE_MS; the next poll tries again
            log.warning("metrics: storing the state snapshot failed: %s", exc)
            return None
        return body + _age(took, took)  # read just now: as old as the read's start

    async def _read_here(self) -> bytes:
        """A read of this node's own (not stored), shared by concurrent scrapes of it."""
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._timed_read(), name="metrics-state-read")
        body, took = await asyncio.shield(self._reading)
        return body + _age(took, took)  # read just now: as old as the read's start

    async def _timed_read(self) -> tuple[bytes, int]:
        started = time.perf_counter()
        families = await self.read()
        return _render(families), round((time.perf_counter() - started) * 1000)


class _Static:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def _render(families: list[Metric]) -> bytes:
    registry = CollectorRegistry()
    registry.register(_Static(families))
    return generate_latest(registry)


def _age(age_ms: int, took_ms: int) -> bytes:
    age = GaugeMetricFamily("microq_metrics_state_age_seconds",
                            "How long ago the read of the state gauges of this answer started (Redis clock): "
                            "they are a snapshot shared by every node, renewed every MICROQ_METRICS_STATE_TTL")
    age.add_metric([], max(0, age_ms) / 1000)
    took = GaugeMetricFamily("microq_metrics_state_read_duration_seconds",
                             "How long the read of that snapshot took")
    took.add_metric([], took_ms / 1000)
    return _render([age, took])


SNAPSHOT = web.AppKey("metrics_state_snapshot", StateSnapshot)
