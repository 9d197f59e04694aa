"""The lines part's state gauges for /metrics, read from Redis at scrape time.

Lines have no global registry (each tenant lists its own), so the reader finds every line by
SCAN for its join counter (`l:{tenant/queue}:seq`, made by the first join). Totals cover every
line; per-line series only the `top_n` lines with the most people waiting.
"""

from __future__ import annotations

import msgpack
from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, REDIS
from microq.lines.keys import LineKeys
from microq.metrics import pipelined, scan_keys, tag_of, top


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    redis, keyspace = app[REDIS], app[KEYSPACE]
    lines = sorted({tag_of(key) for key in await scan_keys(redis, f"{keyspace.prefix}l:*:seq")})
    keys = {line: LineKeys.of(keyspace, *line.split("/", 1)) for line in lines}
    commands = []
    for line in lines:
        commands += [("ZCARD", keys[line].wait), ("HGET", keys[line].stats, "n")]
    replies = await pipelined(redis, commands)
    waiting = {line: _int(replies[2 * i]) for i, line in enumerate(lines)}
    served = {line: _int(replies[2 * i + 1]) for i, line in enumerate(lines)}
    largest = top(waiting, top_n)
    detail = await pipelined(redis, [c for line in largest
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
        done = detail[2 * i + 1] or []
        no_show.add_metric(label, sum(1 for blob in done if _status(blob) == "no_show"))
    families += [wait, serve, no_show, mean,
                 GaugeMetricFamily("microq_line_waiting_total_all", "People waiting in all lines together",
                                   value=sum(waiting.values())),
                 GaugeMetricFamily("microq_line_served_total_all", "People ever served, all lines together",
                                   value=sum(served.values()))]
    return families


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
