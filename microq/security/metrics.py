"""The security layer's state gauge for /metrics: addresses banned now, read from Redis at scrape
time (a ban is a key that expires when the ban ends, so counting the keys is counting the bans)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, REDIS
from microq.metrics import scan_keys
from microq.security.keys import SecurityKeys


async def read_state(app: web.Application, top_n: int) -> list[Metric]:
    pattern = SecurityKeys(app[KEYSPACE]).ban("*")  # every address's ban key: glob * for the address
    bans = await scan_keys(app[REDIS], pattern)
    return [GaugeMetricFamily("microq_security_active_bans", "Client addresses banned now", value=len(bans))]


read_state.part = "security"
