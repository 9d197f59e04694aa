"""End-of-day close: everyone still waiting finishes as "closed", with a CLOSE event each, in
bounded batches."""

from __future__ import annotations

from tests.lines.conftest import create_line


async def test_close_day_finishes_everyone_in_batches_on_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    types = await (await a.post(f"{line.base}/service-types", headers=line.admin, json={"name": "Returns"})).json()
    await a.post(f"{line.base}/counters", headers=line.admin, json={"id": "ret", "name": "R",
                                                                  "service_type_ids": [types["id"]]})
    joined = [await line.join(f"p{i}", client=(a, b)[i % 2], **({"service_type_id": types["id"]} if i % 2 else {}))
              for i in range(520)]
    assert (await a.post("/api/acme/queues/support/close-day")).status == 403
    first = await (await b.post("/api/acme/queues/support/close-day", headers=line.admin)).json()
    assert first == {"closed": 500, "remaining": 20}
    second = await (await a.post("/api/acme/queues/support/close-day", headers=line.admin)).json()
    assert second == {"closed": 20, "remaining": 0}
    assert await (await b.post("/api/acme/queues/support/close-day", headers=line.admin)).json() == \
        {"closed": 0, "remaining": 0}
    status = await line.status(joined[8]["entry"]["id"])
    assert status["entry"]["status"] == "closed" and status["position"] is None
    assert status["entry"]["ticket"] == "A-009" and status["entry"]["finished_at"]
    closes = []
    since = ""
    while True:
        page = await (await a.get(f"{line.base}/events?limit=1000&since={since}", headers=line.admin)).json()
        closes += [e for e in page["events"] if e["type"] == "CLOSE"]
        if page["count"] < 1000:
            break
        since = page["next"]
    assert len(closes) == 520 and len({e["user_id"] for e in closes}) == 520
    assert closes[0]["meta"] == {"name": "p0", "ticket": "A-001"}
    # the type index is empty too: the typed counter finds nobody, and a new join starts afresh
    served = await (await a.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": "ret"})).json()
    assert served == {"message": "queue is empty"}
    assert (await line.join("Tomorrow"))["position"] == 1


async def test_automatic_close_is_once_per_day_across_nodes(two_clients, redis):
    import asyncio
    from datetime import date, timedelta

    from microq.lines.appkeys import STORE
    from microq.lines.keys import closing_index

    a, b = two_clients
    line = await create_line(a)
    for body in ({"close_at": "25:00"}, {"close_at": "9:00"}, {"close_at": "soon"}, {"close_at": 17}):
        assert (await a.patch("/api/acme/queues/support", headers=line.admin, json=body)).status == 400, body
    response = await a.patch("/api/acme/queues/support", headers=line.admin, json={"close_at": "17:30"})
    assert (await response.json())["close_at"] == "17:30"
    assert await redis.zscore(closing_index(a.app[STORE].keyspace), "acme/support") is not None
    joined = [await line.join(f"p{i}", client=(a, b)[i % 2]) for i in range(30)]
    seconds, micros = await redis.time()
    due = int(seconds) * 1000 + int(micros) // 1000 + 1  # "today closes now", by the Redis clock, after the joins
    await asyncio.sleep(0.01)
    late = await line.join("late")  # joined after the close: tomorrow's, not closed
    today, yesterday = date.today().isoformat(), (date.today() - timedelta(days=1)).isoformat()
    days = [yesterday, str(due - 86_400_000), today, str(due)]
    # both nodes' sweeps at once, in batches of 7: 30 closed, each once; the day marked once
    closed = await asyncio.gather(*(s.app[STORE].auto_close("acme", "support", most=7, days=days)
                                    for s in (a, b, a, b)))
    assert sum(closed) == 30
    again = await asyncio.gather(*(s.app[STORE].auto_close("acme", "support", most=7, days=days) for s in (a, b)))
    assert again == [0, 0]
    events = (await (await a.get(f"{line.base}/events?limit=1000", headers=line.admin)).json())["events"]
    assert sorted(e["user_id"] for e in events if e["type"] == "CLOSE") == sorted(j["entry"]["id"] for j in joined)
    # (the real sweep may have marked yesterday, whose 17:30 UTC passed before anyone joined)
    assert [e["meta"] for e in events if e["type"] == "DAY_CLOSED" and e["meta"]["date"] == today] == [{"date": today}]
    listed = await (await b.get(f"{line.base}/list")).json()
    assert [p["id"] for p in listed["queue"]] == [late["entry"]["id"]]
    response = await a.patch("/api/acme/queues/support", headers=line.admin, json={"close_at": None})
    assert (await response.json())["close_at"] is None
    assert await redis.zscore(closing_index(a.app[STORE].keyspace), "acme/support") is None


def test_close_times_follow_close_at_and_the_hours():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from microq.lines import hours

    zone = "Europe/Berlin"
    now = datetime(2026, 12, 2, 12, 0, tzinfo=ZoneInfo(zone)).timestamp()  # a Wednesday
    at = hours.close_times("17:30", None, zone, now)
    assert at == ["2026-12-01", str(int(datetime(2026, 12, 1, 17, 30, tzinfo=ZoneInfo(zone)).timestamp() * 1000)),
                  "2026-12-02", str(int(datetime(2026, 12, 2, 17, 30, tzinfo=ZoneInfo(zone)).timestamp() * 1000))]
    plan = hours.parse({"wed": [["09:00", "12:30"], ["13:30", "18:00"]]})
    end = hours.close_times("end", plan, zone, now)
    assert end[:2] == ["", "0"]  # no hours on Tuesday: nothing to close
    assert end[2:] == ["2026-12-02", str(int(datetime(2026, 12, 2, 18, 0, tzinfo=ZoneInfo(zone)).timestamp() * 1000))]
    assert hours.close_times("end", None, zone, now) == ["", "0", "", "0"]
