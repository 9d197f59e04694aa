"""The event log: every state change, paged with since, capped by configuration, admin only."""

from __future__ import annotations

import json
from datetime import datetime

from tests.lines.conftest import create_line


async def test_paged_with_since(line):
    ids = [(await line.join(f"p{i}"))["entry"]["id"] for i in range(5)]
    await line.serve()
    response = await line.client.get(f"{line.base}/events?limit=2", headers=line.admin)
    page = await response.json()
    assert page["count"] == 2 and [e["user_id"] for e in page["events"]] == ids[:2]
    event = page["events"][0]
    assert set(event) == {"id", "timestamp", "type", "user_id", "meta"}
    assert event["type"] == "JOIN" and event["meta"] == {"name": "p0", "ticket": "A-001"}
    assert datetime.fromisoformat(event["timestamp"])
    seen = page["events"]
    while page["count"]:
        response = await line.client.get(f"{line.base}/events?limit=2&since={page['next']}", headers=line.admin)
        page = await response.json()
        seen += page["events"]
    assert [e["type"] for e in seen] == ["JOIN"] * 5 + ["SERVE"]
    assert seen[-1]["user_id"] == ids[0]
    since_ms = seen[0]["id"].split("-")[0]
    response = await line.client.get(f"{line.base}/events?since={since_ms}", headers=line.admin)
    assert (await response.json())["count"] == 6


async def test_admin_only_and_bad_cursor(line):
    assert (await line.client.get(f"{line.base}/events")).status == 403
    for query in ("since=abc", "since=1-2-3", "since=99999999999999999999-0", "limit=0", "limit=x", "since=²",
                  "since=١٢", "since=١-٢", "since=1-1%0A", "since=18446744073709551616-0"):
        response = await line.client.get(f"{line.base}/events?{query}", headers=line.admin)
        assert response.status == 400, query


async def test_length_is_capped(make_client):
    client = await make_client(line_events_maxlen=10)
    line = await create_line(client)
    for i in range(300):
        await line.join(f"p{i}")
    response = await client.get(f"{line.base}/events?limit=1000", headers=line.admin)
    page = await response.json()
    # exactly the configured cap (MAXLEN "~" kept whole 100-entry nodes: 66 here), the newest ones
    assert page["count"] == 10
    assert [e["meta"]["name"] for e in page["events"]] == [f"p{i}" for i in range(290, 300)]


async def test_cursor_at_the_edges_of_the_id_space(line):
    """The next id after the cursor, never a Redis error: the largest id has nothing after it."""
    joined = await line.join("p0")
    for since in ("18446744073709551615-18446744073709551615", "0-18446744073709551615",
                  "18446744073709551615-0", "00000000000000000000-0"):
        response = await line.client.get(f"{line.base}/events", params={"since": since}, headers=line.admin)
        assert response.status == 200, (since, await response.text())
        page = await response.json()
        expected = [joined["entry"]["id"]] if since.startswith("0") else []
        assert [e["user_id"] for e in page["events"]] == expected, since
    response = await line.client.get(f"{line.base}/events", params={"since": "18446744073709551615-18446744073709551615"})
    assert response.status == 403


async def test_config_key_and_service_type_changes_are_logged(line):
    client, admin = line.client, line.admin
    await client.patch(f"/api/{line.tenant}/queues/{line.queue}", json={"avg_service_time": 6, "is_public": False},
                       headers=admin)
    created = await (await client.post(f"{line.base}/service-types", json={"name": "Returns"}, headers=admin)).json()
    await client.patch(f"{line.base}/service-types/{created['id']}", json={"code": "REF"}, headers=admin)
    await client.delete(f"{line.base}/service-types/{created['id']}", headers=admin)
    rotated = await (await client.post(f"/api/{line.tenant}/queues/{line.queue}/rotate-key", headers=admin)).json()
    page = await (await client.get(f"{line.base}/events", headers={"X-Admin-Key": rotated["admin_key"]})).json()
    assert [(e["type"], e["user_id"], e["meta"]) for e in page["events"]] == [
        ("CONFIGURE", "", {"is_public": False, "avg_service_time": 6}),
        ("TYPE_CREATE", "", {"id": created["id"], "name": "Returns", "code": "RET"}),
        ("TYPE_UPDATE", "", {"id": created["id"], "name": "Returns", "code": "REF"}),
        ("TYPE_DELETE", "", {"id": created["id"], "name": "Returns", "code": "REF"}),
        ("ROTATE_KEY", "", {}),
    ]
    assert rotated["admin_key"] not in json.dumps(page)
