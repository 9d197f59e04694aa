"""Analytics: a scripted day on two nodes, read back from the per-day hashes (not the event log)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from microq.keys import Keyspace
from microq.lines import analytics
from microq.lines.keys import LineKeys

from tests.lines.conftest import create_line


def _within(reported: float, low: float, high: float) -> bool:
    """reported is inside the buckets that hold low..high seconds: the answer's resolution."""
    return analytics.bucket_edges(analytics.bucket_of(low))[0] <= reported <= \
        analytics.bucket_edges(analytics.bucket_of(high))[1]


async def test_a_scripted_day_on_two_nodes(two_clients, redis):
    a, b = two_clients
    line = await create_line(a, time_zone="Europe/Berlin")
    ret = await (await a.post(f"{line.base}/service-types", headers=line.admin, json={"name": "Returns"})).json()
    for desk in ("desk-1", "desk-2"):
        response = await a.post(f"{line.base}/counters", headers=line.admin, json={"id": desk, "name": desk.title()})
        assert response.status == 201

    async def serve(client, desk):
        response = await client.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": desk})
        assert response.status == 200, await response.text()
        return await response.json()

    started = time.monotonic()
    p1 = await line.join("p1", service_type_id=ret["id"])
    p2 = await line.join("p2", client=b)
    p3 = await line.join("p3")
    p4 = await line.join("p4", client=b)
    p5 = await line.join("p5")
    await asyncio.sleep(0.3)
    assert (await serve(a, "desk-1"))["served"]["id"] == p1["entry"]["id"]
    wait1 = (0.3, time.monotonic() - started)
    await asyncio.sleep(0.5)
    t2 = time.monotonic()
    assert (await serve(b, "desk-2"))["served"]["id"] == p2["entry"]["id"]
    wait2 = (0.8, t2 - started + (time.monotonic() - t2))
    assert (await serve(a, "desk-1"))["served"]["id"] == p3["entry"]["id"]  # p1's service ends: ~0.5 s
    service1 = (0.5, time.monotonic() - started - 0.3)
    await line.leave(p4, client=b)
    for person in (p5, p3):  # p5 waiting, p3 just served: both no-shows
        response = await b.post(f"{line.base}/no-show/{person['entry']['id']}", headers=line.admin)
        assert response.status == 200
    await asyncio.sleep(0.2)
    assert (await serve(b, "desk-2")) == {"message": "queue is empty"}  # p2's service ends: ~0.2 s+
    service2 = (0.2, time.monotonic() - t2)

    response = await b.get("/api/acme/queues/support/analytics", headers=line.admin)
    assert response.status == 200, await response.text()
    got = await response.json()
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert (got["queue_id"], got["time_zone"], got["from"], got["to"]) == ("support", "Europe/Berlin", today, today)
    assert (got["served"], got["no_shows"], got["left"]) == (2, 2, 1)  # p3's serve became a no-show
    assert sum(got["served_per_hour"]) == 2 and len(got["served_per_hour"]) == 24
    assert got["served_per_hour"][datetime.now(ZoneInfo("Europe/Berlin")).hour] == 2
    # three waits counted (p1, p2, p3): p50 is p2's
    assert _within(got["wait_seconds"]["p50"], wait1[0], wait2[1])
    assert _within(got["service_seconds"]["p90"], service2[0], max(service1[1], service2[1]))
    by_type = {t["type_id"]: t for t in got["by_service_type"]}
    assert set(by_type) == {ret["id"], None}
    assert by_type[ret["id"]]["name"] == "Returns"
    assert (by_type[ret["id"]]["served"], by_type[ret["id"]]["no_shows"], by_type[ret["id"]]["left"]) == (1, 0, 0)
    assert _within(by_type[ret["id"]]["wait_seconds"]["p50"], *wait1)
    assert _within(by_type[ret["id"]]["service_seconds"]["p50"], *service1)
    assert (by_type[None]["served"], by_type[None]["no_shows"], by_type[None]["left"]) == (1, 2, 1)
    by_counter = {c["counter_id"]: c for c in got["by_counter"]}
    assert set(by_counter) == {"desk-1", "desk-2"}
    assert (by_counter["desk-1"]["name"], by_counter["desk-1"]["served"]) == ("Desk-1", 1)
    assert _within(by_counter["desk-1"]["service_seconds"]["p50"], *service1)
    assert by_counter["desk-2"]["served"] == 1
    assert _within(by_counter["desk-2"]["service_seconds"]["p50"], *service2)
    assert got["days"] == [{"date": today, "served": 2, "no_shows": 2, "left": 1,
                            "wait_seconds": got["wait_seconds"], "service_seconds": got["service_seconds"]}]

    # kept per day, with an expiry: about 400 days after the day began
    key = LineKeys.of(Keyspace("mq:"), "acme", "support").analytics(today)
    ttl_days = await redis.pttl(key) / 86_400_000
    assert analytics.RETENTION_DAYS - 1 <= ttl_days <= analytics.RETENTION_DAYS


async def test_ranges_defaults_and_errors(client):
    line = await create_line(client, time_zone="Pacific/Kiritimati")  # UTC+14: often another date than UTC
    url = "/api/acme/queues/support/analytics"
    today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    got = await (await client.get(url, headers=line.admin)).json()
    assert (got["from"], got["to"]) == (today.isoformat(), today.isoformat())
    assert (got["served"], got["wait_seconds"], got["service_seconds"]) == (0, {"p50": None, "p90": None},
                                                                          {"p50": None, "p90": None})
    assert (got["by_service_type"], got["by_counter"]) == ([], [])
    start = today - timedelta(days=91)
    got = await (await client.get(f"{url}?from={start}&to={today}", headers=line.admin)).json()
    assert len(got["days"]) == 92 and got["days"][0]["date"] == start.isoformat()
    got = await (await client.get(f"{url}?from={today - timedelta(days=2)}", headers=line.admin)).json()
    assert [d["date"] for d in got["days"]] == [(today - timedelta(days=i)).isoformat() for i in (2, 1, 0)]
    for query, status in ((f"from={today - timedelta(days=92)}&to={today}", 400), ("from=2026-02-30", 400),
                          ("from=2026-1-01", 400), ("to=2026-01-01&from=2026-01-02", 400),
                          ("from=２０２６-01-01", 400)):
        response = await client.get(f"{url}?{query}", headers=line.admin)
        assert response.status == status, query
        assert "error" in await response.json()
    for headers in ({}, {"X-Admin-Key": "wrong"}):
        response = await client.get(url, headers=headers)
        assert response.status == 403
    assert (await client.get("/api/acme/queues/nope/analytics", headers=line.admin)).status == 403


def test_percentiles_come_from_buckets():
    assert analytics.percentile(Counter(), 0.5) is None
    values = [1, 2, 3, 30, 60, 120, 300, 600, 900, 1800]
    histogram = Counter(analytics.bucket_of(v) for v in values)
    for q, exact in ((0.5, 60 + (120 - 60) * 0), (0.9, 900)):
        got = analytics.percentile(histogram, q)
        assert _within(got, exact, exact)
    assert analytics.bucket_of(0) == 0 and analytics.bucket_of(10**9) == analytics.BUCKETS - 1
    for b in range(analytics.BUCKETS - 1):
        lower, upper = analytics.bucket_edges(b)
        assert analytics.bucket_of((lower + upper) / 2) == b


async def test_without_counters_the_line_is_one_server(line):
    for name in ("a", "b"):
        await line.join(name)
    await line.serve()
    started = time.monotonic()
    await asyncio.sleep(0.3)
    await line.serve()  # a's service ends
    elapsed = time.monotonic() - started
    got = await (await line.client.get("/api/acme/queues/support/analytics", headers=line.admin)).json()
    assert got["served"] == 2
    assert got["by_counter"] == [{"counter_id": None, "name": None, "served": 2,
                                  "service_seconds": got["service_seconds"]}]
    assert _within(got["service_seconds"]["p50"], 0.3, elapsed)
    history = await (await line.client.get(f"{line.base}/history", headers=line.admin)).json()
    first = next(p for p in history["people"] if p["name"] == "a")
    assert 0.29 <= first["service_seconds"] <= elapsed + 0.1 and first["counter_id"] is None
