"""The topics part's state gauges for /metrics, read from Redis (microq/metrics_snapshot.py says when).

Every registered topic (from the node's mirror of the registry; dead-letter topics excluded: they
are the `dead_letters` of their source) is counted with five ZCARDs and an HGET, read in bounded batches that
yield the event loop (microq.metrics.read_many); the totals cover all topics, the per-topic series
only the `top_n` topics holding the most messages (ready + in flight + delayed + dead letters).
Per-topic gauges of other kinds are read for those `top_n` topics only.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, SCRIPTS
from microq.metrics import Largest, read_many
from microq.topics.appkeys import HOUSEKEEPER, TOPICS
from microq.topics.names import is_dlq
from microq.topics.webhooks import DELIVERY_STATE, delivery_state, delivery_state_commands

SLICE = 500  #: topics whose commands are built and counted at a time (3,000 commands)
FIELDS = ("ready", "in_flight", "delayed", "dead_letters", *DELIVERY_STATE)
HELP = {
    "ready": "Messages visible to consumers",
    "in_flight": "Messages consumed and not yet acknowledged",
    "delayed": "Messages published with a delay that is not over yet",
    "dead_letters": "Messages in the topic's dead-letter topic (<topic>.dlq)",
    "webhook_pending": "Webhook deliveries queued or being POSTed",
    "webhook_failing": "Webhook deliveries whose last attempt failed, waiting for a retry",
}


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    """Every gauge of the topics part: depths over every topic, then the `top_n` largest topics' own."""
    names = await _topic_names(app)
    counts, totals, largest = await _depths(app, names, top_n)
    families = [GaugeMetricFamily("microq_topics", "Registered topics (dead-letter topics not counted)",
                                  value=len(names)), *_depth_families(counts, totals, largest)]
    # gauges read for the largest topics only (bounded by top_n, whatever the number of topics)
    if HOUSEKEEPER in app and largest:
        families.append(await _waiting_consumers(app, largest))
    return families


async def _topic_names(app: web.Application) -> list[str]:
    registry = app[TOPICS].registry
    await registry.refresh(0.0)  # the node's mirror of the registry, brought up to date now
    if registry.unavailable:  # counts without those buckets' topics would look like a truth: say so instead
        raise ConnectionError(f"{len(registry.unavailable)} topic registry buckets unreadable")
    return [name for name in registry.index.page("", len(registry.index)) if not is_dlq(name)]


async def _depths(app: web.Application, names: list[str],
                  top_n: int) -> tuple[dict[str, list[int]], list[int], list[str]]:
    """topic -> its FIELDS counts, their totals over every topic, and the `top_n` topics holding the
    most messages (ready + in flight + delayed + dead letters)."""
    keyspace, counts, totals, largest = app[KEYSPACE], {}, [0] * len(FIELDS), Largest(top_n)
    for start in range(0, len(names), SLICE):  # a slice at a time: few live objects, short loop holds
        part, commands = names[start:start + SLICE], []
        for name in part:
            # the names topic_keys() gives (a .dlq's keys are its source's with "dlq:"), built directly:
            # store.keys() caches 10k topics, which a read would churn, and dataclasses cost 30 µs each
            key = keyspace.entity("t", name)
            commands += [("ZCARD", key("ready")), ("ZCARD", key("inflight")), ("ZCARD", key("delayed")),
                         ("ZCARD", key("dlq:ready")), *delivery_state_commands(key)]
        replies = await read_many(app[SCRIPTS], commands)
        sizes = {}
        for i, name in enumerate(part):
            mine = replies[i * len(FIELDS):(i + 1) * len(FIELDS)]
            row = [r if isinstance(r, int) else 0 for r in mine[:4]] + delivery_state(mine[4:])
            counts[name], sizes[name] = row, sum(row[:4])
            for index, value in enumerate(row):
                totals[index] += value
        largest.offer(sizes)
    return counts, totals, largest.names()


def _depth_families(counts: dict[str, list[int]], totals: list[int], largest: list[str]) -> list[Metric]:
    families = []
    for index, field in enumerate(FIELDS):
        family = GaugeMetricFamily(f"microq_topic_{field}", f"{HELP[field]}; the largest topics",
                                   labels=["topic"])
        for name in largest:
            family.add_metric([name], counts[name][index])
        total = GaugeMetricFamily(f"microq_topic_{field}_total_all", f"{HELP[field]}; all topics together")
        total.add_metric([], totals[index])
        families += [family, total]
    return families


async def _waiting_consumers(app: web.Application, largest: list[str]) -> Metric:
    waiting = await app[HOUSEKEEPER].waiting(largest)
    family = GaugeMetricFamily("microq_topic_waiting_consumers",
                               "Long-polls waiting on every node (a wildcard waiter counts for each topic it "
                               "matches); the largest topics", labels=["topic"])
    for name in largest:
        family.add_metric([name], waiting.get(name, 0))
    return family


read_state.part = "topics"
