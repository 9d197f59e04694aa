"""The work part's state gauges for /metrics, read from Redis at scrape time.

Work queues have no registry, so the reader finds them by SCAN for their arrival counter
(`w:{queue}:seq`, made by the first item). Items by status: totals over every queue, per-queue
series for the `top_n` queues holding the most items; claim leases held and lapsed.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, REDIS
from microq.metrics import pipelined, scan_keys, tag_of, top, unescape_tag
from microq.work.keys import STATUSES, WorkKeys


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    redis, keyspace = app[REDIS], app[KEYSPACE]
    keys = WorkKeys(keyspace)
    queues = sorted({unescape_tag(tag_of(key)) for key in await scan_keys(redis, f"{keyspace.prefix}w:*:seq")})
    seconds, micros = await redis.time()  # Redis's clock, as the scripts' lease ends are
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    commands = []
    for queue in queues:
        own = keys.queue(queue)
        commands += [("ZCARD", own.by_status[status]) for status in STATUSES]
        commands += [("ZCARD", own.leases), ("ZCOUNT", own.leases, "-inf", now_ms)]
    replies = [r if isinstance(r, int) else 0 for r in await pipelined(redis, commands)]
    n = len(STATUSES) + 2
    rows = {queue: replies[i * n:(i + 1) * n] for i, queue in enumerate(queues)}
    counts = {queue: row[:len(STATUSES)] for queue, row in rows.items()}
    largest = top({queue: sum(c) for queue, c in counts.items()}, top_n)
    items = GaugeMetricFamily("microq_work_items", "Work items by status; the largest queues",
                              labels=["queue", "status"])
    totals = GaugeMetricFamily("microq_work_items_total_all", "Work items by status, all queues together",
                               labels=["status"])
    for index, status in enumerate(STATUSES):
        for queue in largest:
            items.add_metric([queue, status], counts[queue][index])
        totals.add_metric([status], sum(c[index] for c in counts.values()))
    leased = GaugeMetricFamily("microq_work_leased", "IN_PROGRESS items held by a claim lease; the largest queues",
                               labels=["queue"])
    lapsed = GaugeMetricFamily("microq_work_leases_lapsed", "Claims whose lease has ended and that the sweep has "
                               "not handed back yet (stays near 0 while the sweep runs); the largest queues",
                               labels=["queue"])
    for queue in largest:
        leased.add_metric([queue], rows[queue][-2])
        lapsed.add_metric([queue], rows[queue][-1])
    lapsed_all = GaugeMetricFamily("microq_work_leases_lapsed_total_all", "Lapsed claim leases not yet handed back, "
                                   "all queues", value=sum(row[-1] for row in rows.values()))
    return [GaugeMetricFamily("microq_work_queues", "Work queues that ever held an item", value=len(queues)),
            items, totals, leased, lapsed, lapsed_all]


read_state.part = "work"
