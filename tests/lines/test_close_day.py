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
