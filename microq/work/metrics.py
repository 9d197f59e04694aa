"""The work part's state gauges for /metrics, read from Redis (microq/metrics_snapshot.py says when).

Every queue that ever held an item is listed in the queue index (microq/name_index.py, kept by
WorkStore.add); queues made before the index existed are found once, by SCAN for their arrival
counter (`w:{queue}:seq`). Seven commands per queue, in bounded batches. Items by status: totals
over every queue, per-queue series for the `top_n` queues holding the most items; claim leases
held and lapsed.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, REDIS, SCRIPTS
from microq.metrics import Largest, read_many, scan_keys, tag_of, unescape_tag
from microq.name_index import NameIndex
from microq.work.keys import QUEUE_INDEX, STATUSES

SLICE = 500  #: queues whose commands are built at a time (3,500 commands)


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    scripts, keyspace = app[SCRIPTS], app[KEYSPACE]
    index = NameIndex(scripts, keyspace, QUEUE_INDEX)  # the one WorkStore keeps (reading needs none of its state)
    await index.backfill(lambda: _used_queues(app))
    queues = await index.names()
    seconds, micros = await scripts.execute("TIME")  # Redis's clock, as the scripts' lease ends are
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    n, rows, largest_queues = len(STATUSES) + 2, {}, Largest(top_n)
    by_status, lapsed_all = [0] * len(STATUSES), 0
    for start in range(0, len(queues), SLICE):  # a slice at a time: no step walks every queue
        part, commands = queues[start:start + SLICE], []
        for queue in part:
            # built directly, not by WorkKeys.queue: its cache of busy queues' names is not churned
            key = keyspace.entity("w", queue)
            commands += [("ZCARD", key(f"s:{status}")) for status in STATUSES]
            commands += [("ZCARD", key("leases")), ("ZCOUNT", key("leases"), "-inf", now_ms)]
        replies = [r if isinstance(r, int) else 0 for r in await read_many(scripts, commands)]
        sizes = {}
        for i, queue in enumerate(part):
            row = rows[queue] = replies[i * n:(i + 1) * n]
            sizes[queue] = sum(row[:len(STATUSES)])
            for index in range(len(STATUSES)):
                by_status[index] += row[index]
            lapsed_all += row[-1]
        largest_queues.offer(sizes)
    largest = largest_queues.names()
    items = GaugeMetricFamily("microq_work_items", "Work items by status; the largest queues",
                              labels=["queue", "status"])
    totals = GaugeMetricFamily("microq_work_items_total_all", "Work items by status, all queues together",
                               labels=["status"])
    for index, status in enumerate(STATUSES):
        for queue in largest:
            items.add_metric([queue, status], rows[queue][index])
        totals.add_metric([status], by_status[index])
    leased = GaugeMetricFamily("microq_work_leased", "IN_PROGRESS items held by a claim lease; the largest queues",
                               labels=["queue"])
    lapsed = GaugeMetricFamily("microq_work_leases_lapsed", "Claims whose lease has ended and that the sweep has "
                               "not handed back yet (stays near 0 while the sweep runs); the largest queues",
                               labels=["queue"])
    for queue in largest:
        leased.add_metric([queue], rows[queue][-2])
        lapsed.add_metric([queue], rows[queue][-1])
    lapsed_total = GaugeMetricFamily("microq_work_leases_lapsed_total_all", "Lapsed claim leases not yet handed "
                                     "back, all queues", value=lapsed_all)
    return [GaugeMetricFamily("microq_work_queues", "Work queues that ever held an item", value=len(queues)),
            items, totals, leased, lapsed, lapsed_total]


async def _used_queues(app: web.Application) -> list[str]:
    """Queues made before the index existed: every arrival counter in the keyspace (once, see backfill)."""
    keys = await scan_keys(app[REDIS], f"{app[KEYSPACE].prefix}w:*:seq")
    return sorted({unescape_tag(tag_of(key)) for key in keys})


read_state.part = "work"
