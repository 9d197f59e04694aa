"""The security layer's state gauge for /metrics: addresses banned now, read from Redis
(microq/metrics_snapshot.py says when). A ban is a key that expires when the ban ends, in the
address's own slot; security_ban_note lists each new ban with its end in one of
BAN_INDEX_BUCKETS index zsets, so counting the bans is 16 ZCOUNTs, not a SCAN of the keyspace."""

from __future__ import annotations

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, SCRIPTS
from microq.metrics import read_many
from microq.security.keys import BAN_INDEX_BUCKETS, SecurityKeys


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    scripts, keys = app[SCRIPTS], SecurityKeys(app[KEYSPACE])
    seconds, micros = await scripts.execute("TIME")  # Redis's clock, as the bans' ends are
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    counts = await read_many(scripts, [("ZCOUNT", keys.ban_index_bucket(n), f"({now_ms}", "+inf")
                                       for n in range(BAN_INDEX_BUCKETS)])
    if not all(isinstance(count, int) for count in counts):
        raise ConnectionError(f"ban index unreadable: {counts}")
    return [GaugeMetricFamily("microq_security_active_bans", "Client addresses banned now", value=sum(counts))]


read_state.part = "security"
