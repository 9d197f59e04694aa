"""The topics part's state gauges for /metrics, read from Redis at scrape time.

Every registered topic (from the node's mirror of the registry; dead-letter topics excluded: they are the `dead_letters` of their source)
is counted with five ZCARDs in pipelines; the totals cover all topics, the per-topic series only
the `top_n` topics holding the most messages (ready + in flight + delayed + dead letters).
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, REDIS
from microq.metrics import pipelined, top
from microq.topics.appkeys import HOUSEKEEPER, TOPICS
from microq.topics.names import is_dlq

SLICE = 1000  #: topics per round trip (5 commands each)
FIELDS = ("ready", "in_flight", "delayed", "dead_letters", "webhook_pending")
HELP = {
    "ready": "Messages visible to consumers",
    "in_flight": "Messages consumed and not yet acknowledged",
    "delayed": "Messages published with a delay that is not over yet",
    "dead_letters": "Messages in the topic's dead-letter topic (<topic>.dlq)",
    "webhook_pending": "Webhook deliveries queued or being POSTed",
}


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    store, keyspace = app[TOPICS], app[KEYSPACE]
    registry = store.registry
    await registry.refresh(0.0)  # the node's mirror of the registry, brought up to date now
    names = [name for name in registry.index.page("", len(registry.index)) if not is_dlq(name)]
    if registry.unavailable:  # counts without those buckets' topics would look like a truth: say so instead
        raise ConnectionError(f"{len(registry.unavailable)} topic registry buckets unreadable")
    counts, totals = {}, [0] * len(FIELDS)
    for start in range(0, len(names), SLICE):  # a slice per round trip: few live objects, short loop holds
        part, commands = names[start:start + SLICE], []
        for name in part:
            # the names topic_keys() gives (a .dlq's keys are its source's with "dlq:"), built directly:
            # store.keys() caches 10k topics, which a scrape would churn, and dataclasses cost 30 µs each
            key = keyspace.entity("t", name)
            commands += [("ZCARD", key("ready")), ("ZCARD", key("inflight")), ("ZCARD", key("delayed")),
                         ("ZCARD", key("dlq:ready")), ("ZCARD", key("hookq"))]
        replies = await pipelined(app[REDIS], commands)
        for i, name in enumerate(part):
            row = [r if isinstance(r, int) else 0 for r in replies[i * 5:i * 5 + 5]]
            counts[name] = row
            for index, value in enumerate(row):
                totals[index] += value
    largest = top({name: sum(c[:4]) for name, c in counts.items()}, top_n)
    families = [GaugeMetricFamily("microq_topics", "Registered topics (dead-letter topics not counted)",
                                  value=len(names))]
    for index, field in enumerate(FIELDS):
        family = GaugeMetricFamily(f"microq_topic_{field}", f"{HELP[field]}; the largest topics",
                                   labels=["topic"])
        for name in largest:
            family.add_metric([name], counts[name][index])
        total = GaugeMetricFamily(f"microq_topic_{field}_total_all", f"{HELP[field]}; all topics together")
        total.add_metric([], totals[index])
        families += [family, total]
    if HOUSEKEEPER in app and largest:
        waiting = await app[HOUSEKEEPER].waiting(largest)
        family = GaugeMetricFamily("microq_topic_waiting_consumers",
                                   "Long-polls waiting on every node (a wildcard waiter counts for each topic it "
                                   "matches); the largest topics", labels=["topic"])
        for name in largest:
            family.add_metric([name], waiting.get(name, 0))
        families.append(family)
    return families


read_state.part = "topics"
