"""The lines part's state gauges for /metrics, read from Redis (microq/metrics_snapshot.py says when).

Every line ever joined is listed in the lines index (microq/name_index.py, kept by LineStore.join);
lines joined before the index existed are found once, by SCAN for their join counter
(`l:{tenant/queue}:seq`). Two commands per line, in bounded batches; totals cover every line,
per-line series only the `top_n` lines with the most people waiting.
"""

from __future__ import annotations

import asyncio

import msgpack
from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, REDIS, SCRIPTS
from microq.lines.appkeys import STORE
from microq.lines.keys import LineKeys, line_key
from microq.metrics import Largest, read_many, scan_keys, tag_of, unescape_tag

SLICE = 1000  #: lines whose commands are built at a time (2,000 commands)


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    scripts, keyspace, index = app[SCRIPTS], app[KEYSPACE], app[STORE].lines
    await index.backfill(lambda: _joined_lines(app))
    lines = await index.names()
    waiting, served, longest = {}, {}, Largest(top_n)
    for start in range(0, len(lines), SLICE):  # a slice at a time: no step walks every line
        part, commands = lines[start:start + SLICE], []
        for line in part:
            key = line_key(keyspace, *line.split("/", 1))  # LineKeys.of would build 14 names per line
            commands += [("ZCARD", key("wait")), ("HGET", key("stats"), "n")]
        replies = await read_many(scripts, commands)
        for i, line in enumerate(part):
            waiting[line], served[line] = _int(replies[2 * i]), _int(replies[2 * i + 1])
        longest.offer({line: waiting[line] for line in part})
    largest = longest.names()
    keys = {line: LineKeys.of(keyspace, *line.split("/", 1)) for line in largest}
    detail = await read_many(scripts, [c for line in largest
                                       for c in (("LRANGE", keys[line].durations, 0, -1), ("HVALS", keys[line].done))])
    labels = ["tenant", "queue"]
    families = [GaugeMetricFamily("microq_lines", "Lines that anyone ever joined", value=len(lines))]
    wait = GaugeMetricFamily("microq_line_waiting", "People waiting; the longest lines", labels=labels)
    serve = GaugeMetricFamily("microq_line_served", "People ever served (serve-next and call); the longest lines",
                              labels=labels)
    no_show = GaugeMetricFamily("microq_line_no_shows_24h", "No-shows among the entries finished in the last 24 h "
                                "(finished entries are kept 24 h); the longest lines", labels=labels)
    mean = GaugeMetricFamily("microq_line_mean_wait_seconds", "Mean wait of the last 20 people served "
                             "(join to serve); the longest lines", labels=labels)
    for i, line in enumerate(largest):
        label = line.split("/", 1)
        wait.add_metric(label, waiting[line])
        serve.add_metric(label, served[line])
        durations = [_int(d) for d in detail[2 * i] or []]
        if durations:
            mean.add_metric(label, sum(durations) / len(durations) / 1000)
        no_show.add_metric(label, await _no_shows(detail[2 * i + 1] or []))
    families += [wait, serve, no_show, mean,
                 GaugeMetricFamily("microq_line_waiting_total_all", "People waiting in all lines together",
                                   value=sum(waiting.values())),
                 GaugeMetricFamily("microq_line_served_total_all", "People ever served, all lines together",
                                   value=sum(served.values()))]
    return families


async def _joined_lines(app: web.Application) -> list[str]:
    """Lines joined before the index existed: every join counter in the keyspace (once, see backfill)."""
    return sorted({unescape_tag(tag_of(key)) for key in await scan_keys(app[REDIS], f"{app[KEYSPACE].prefix}l:*:seq")})


async def _no_shows(done: list[bytes]) -> int:
    """No-shows among a line's finished entries (a busy line finishes thousands a day: the loop
    is yielded every 1,000 entries)."""
    count = 0
    for start in range(0, len(done), 1000):
        count += sum(1 for blob in done[start:start + 1000] if _status(blob) == "no_show")
        await asyncio.sleep(0)
    return count


def _int(reply) -> int:
    try:
        return int(reply)
    except (TypeError, ValueError):
        return 0


def _status(blob: bytes) -> str | None:
    try:
        entry = msgpack.unpackb(blob, raw=False)
        return entry[3]
    except Exception:  # noqa: BLE001 - one unreadable entry must not fail the scrape
        return None


read_state.part = "lines"
