"""What analytics costs: Redis CPU per script call (INFO commandstats, so host load barely
matters) of join (the anchor: it counts no analytics) against serve-next at a counter (which
now also counts its wait, service and hour), and the time of a 92-day analytics answer.

    python bench/bench_lines_analytics.py [people]
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bench.common import start_redis
from microq.app import create_app
from microq.settings import Settings


async def _evalsha_usec(redis: Redis) -> tuple[int, int]:
    stats = await redis.info("commandstats")
    row = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    return int(row["calls"]), int(row["usec"])


async def main(people: int) -> None:
    with start_redis() as server:
        redis = Redis.from_url(server.url)
        client = TestClient(TestServer(create_app(Settings(redis_url=server.url, data_dir=server.directory / "d"))))
        await client.start_server()
        try:
            made = await (await client.post("/api/b/queues", json={"queue_id": "line", "name": "Bench"})).json()
            admin = {"X-Admin-Key": made["admin_key"]}
            await client.post("/api/b/line/counters", headers=admin, json={"id": "d1", "name": "Desk 1"})
            rows = []
            for name, request in (
                    ("join (anchor)", lambda i: client.post("/api/b/line/join", json={"name": f"p{i}"})),
                    ("serve-next at a counter", lambda i: client.post("/api/b/line/serve-next", headers=admin,
                                                                      json={"counter": "d1"}))):
                calls0, usec0 = await _evalsha_usec(redis)
                for i in range(people):
                    response = await request(i)
                    assert response.status < 300, await response.text()
                calls1, usec1 = await _evalsha_usec(redis)
                rows.append((name, calls1 - calls0, (usec1 - usec0) / max(1, calls1 - calls0)))
            started = time.perf_counter()
            for _ in range(20):
                response = await client.get("/api/b/queues/line/analytics?from=2026-01-01&to=2026-04-01", headers=admin)
                assert response.status == 200, await response.text()
            analytics_ms = (time.perf_counter() - started) / 20 * 1000
        finally:
            await client.close()
            await redis.aclose()
    anchor = rows[0][2]
    print("| script call | calls | Redis µs per call | × join |")
    print("|---|---|---|---|")
    for name, calls, usec in rows:
        print(f"| {name} | {calls} | {usec:.1f} | {usec / anchor:.2f} |")
    print(f"\nGET .../analytics over 92 days (mostly empty): {analytics_ms:.1f} ms per answer (20 answers)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
