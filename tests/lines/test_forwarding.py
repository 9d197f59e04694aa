"""Line events to the topic lines.<tenant>.<queue> and to signed webhooks, on two nodes:
every event exactly once, even with forwarding racing on both nodes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections import Counter


from microq.lines.appkeys import FORWARDER

from tests.helpers import WebhookReceiver
from tests.lines.conftest import create_line


async def _drain(client, topic: str, expect: int, rounds: int = 100) -> list[dict]:
    """Consume (auto-acked) until `expect` messages arrived, then once more to see no extra."""
    got: list[dict] = []
    for _ in range(rounds):
        response = await client.get(f"/consume/{topic}", params={"limit": "100", "timeout": "0.2s", "auto_ack": "true"})
        if response.status == 200:
            found = await response.json()
            got += [json.loads(base64.b64decode(m["payload"])) for m in (found if isinstance(found, list) else [found])]
        elif len(got) >= expect:
            break
    return got


async def _log(line, client) -> list[dict]:
    events, since = [], ""
    while True:
        page = await (await client.get(f"{line.base}/events?limit=1000&since={since}", headers=line.admin)).json()
        events += page["events"]
        if page["count"] < 1000:
            return events
        since = page["next"]


async def test_every_event_reaches_the_topic_once_from_two_nodes(two_clients):
    a, b = two_clients
    line = await create_line(a)
    response = await a.patch("/api/acme/queues/support", headers=line.admin, json={"events_topic": True, "near_front": 3})
    assert response.status == 200 and (await response.json())["events_topic"] is True
    await a.post(f"{line.base}/counters", headers=line.admin, json={"id": "desk-1", "name": "Desk 1"})
    await a.post(f"{line.base}/counters", headers=line.admin, json={"id": "desk-2", "name": "Desk 2"})
    joined = await asyncio.gather(*(line.join(f"p{i}", client=(a, b)[i % 2]) for i in range(24)))

    async def serve(i: int):
        client = (a, b)[i % 2]
        return await client.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": f"desk-{i % 2 + 1}"})

    async def forward_race():  # both nodes' forwarders on the same backlog, many times over
        for _ in range(10):
            await asyncio.gather(a.app[FORWARDER].forward("acme", "support"), b.app[FORWARDER].forward("acme", "support"))
            await asyncio.sleep(0.01)

    await asyncio.gather(*(serve(i) for i in range(20)), forward_race())
    log = await _log(line, a)
    # the topic holds the log from the switch on, the CONFIGURE that switched it included
    configure = next(i for i, e in enumerate(log) if e["type"] == "CONFIGURE")
    expected = log[configure:]
    got = await _drain(b, "lines.acme.support", len(expected))
    ids = Counter(m["event_id"] for m in got)
    assert set(ids) == {e["id"] for e in expected} and set(ids.values()) == {1}, (len(got), len(expected))
    near = Counter(m["user_id"] for m in got if m["type"] == "NEAR_FRONT")
    assert set(near.values()) == {1}  # once per person, whichever node moved the line
    served = {m["user_id"] for m in got if m["type"] == "CALLED"}
    assert len(served) == 20 and served <= set(near)
    called = [m for m in got if m["type"] == "CALLED"]
    assert all(m["ticket"] and m["counter_id"] in ("desk-1", "desk-2") and m["log_type"] == "SERVE" for m in called)
    first = got[0]
    assert set(first) >= {"event_id", "type", "tenant_id", "queue_id", "user_id", "ticket", "counter_id", "position", "at"}
    assert (first["tenant_id"], first["queue_id"]) == ("acme", "support")
    assert all(1 <= m["position"] <= 3 for m in got if m["type"] == "NEAR_FRONT")
    assert {j["entry"]["id"] for j in joined} >= served


async def test_signed_webhooks_get_called_deliveries(aiohttp_server, make_client):
    secret = "hook-secret-0123456789"
    a = await make_client(webhook_allow_private=True, webhook_secret=secret)
    b = await make_client(webhook_allow_private=True, webhook_secret=secret)
    receiver = WebhookReceiver()
    url = str((await aiohttp_server(receiver.app)).make_url("/hook"))
    line = await create_line(a)
    response = await a.post(f"{line.base}/webhooks", headers=line.admin, json={"url": url, "secret": secret})
    assert response.status == 201, await response.text()
    assert (await a.post(f"{line.base}/webhooks", headers=line.admin, json={"url": url, "secret": secret})).status == 200
    listed = await (await b.get(f"{line.base}/webhooks", headers=line.admin)).json()
    assert listed == {"topic": "lines.acme.support", "count": 1, "webhooks": [{"url": url}]}
    await a.post(f"{line.base}/counters", headers=line.admin, json={"id": "desk-3", "name": "Desk 3"})
    person = await line.join("Ada", client=b)
    response = await b.post(f"{line.base}/serve-next", headers=line.admin, json={"counter": "desk-3"})
    assert response.status == 200
    for _ in range(300):
        bodies = [json.loads(body) for _, body in receiver.posts]
        if any(m["type"] == "CALLED" for m in bodies):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # room for a duplicate
    bodies = [json.loads(body) for _, body in receiver.posts]
    called = [m for m in bodies if m["type"] == "CALLED"]
    assert len(called) == 1
    assert (called[0]["user_id"], called[0]["ticket"], called[0]["counter_id"]) == (person["entry"]["id"], "A-001", "desk-3")
    assert Counter(m["event_id"] for m in bodies).most_common(1)[0][1] == 1
    for headers, body in receiver.posts:
        expected = hmac.new(secret.encode(), headers["X-MicroQ-Timestamp"].encode() + b"." + body, hashlib.sha256)
        assert headers["X-MicroQ-Signature"] == "sha256=" + expected.hexdigest()

    # removing the last webhook stops forwarding; bad input is 4xx and changes nothing
    response = await b.delete(f"{line.base}/webhooks", params={"url": url}, headers=line.admin)
    assert response.status == 200 and (await response.json())["count"] == 0
    assert (await b.delete(f"{line.base}/webhooks", params={"url": url}, headers=line.admin)).status == 404
    for body in ({"url": "ftp://x"}, {"url": ""}, {"secret": "x"}, {"url": url, "secret": 5}):
        response = await a.post(f"{line.base}/webhooks", headers=line.admin, json=body)
        assert 400 <= response.status < 500, body
    assert (await a.post(f"{line.base}/webhooks", json={"url": url})).status == 403
    assert (await (await a.get(f"{line.base}/webhooks", headers=line.admin)).json())["count"] == 0


async def test_topic_switched_off_forwards_nothing_more(client):
    line = await create_line(client)
    await client.patch("/api/acme/queues/support", headers=line.admin, json={"events_topic": True})
    await line.join("Ada")
    assert [m["type"] for m in await _drain(client, "lines.acme.support", 2)] == ["CONFIGURE", "JOIN"]
    response = await client.patch("/api/acme/queues/support", headers=line.admin, json={"events_topic": False})
    assert (await response.json())["events_topic"] is False
    await line.join("Bo")
    await asyncio.sleep(1.5)  # a sweep or two
    assert await _drain(client, "lines.acme.support", 0, rounds=3) == []


async def test_at_most_ten_webhooks_and_the_eleventh_reaches_no_topic(make_client):
    from microq.events import event_sink

    client = await make_client(webhook_allow_private=True)
    line = await create_line(client)
    urls = [f"http://127.0.0.1:9/{i}" for i in range(11)]
    for url in urls[:10]:
        assert (await client.post(f"{line.base}/webhooks", headers=line.admin, json={"url": url})).status == 201
    response = await client.post(f"{line.base}/webhooks", headers=line.admin, json={"url": urls[10]})
    assert response.status == 429
    assert sorted(await event_sink(client.app).webhooks("lines.acme.support")) == sorted(urls[:10])


async def test_a_refusing_topic_holds_forwarding_back_and_it_resumes_from_its_cursor(make_client, caplog):
    client = await make_client(max_topics=1)
    assert (await client.post("/publish/other", data=b"x")).status == 202  # the one topic allowed
    line = await create_line(client)
    await client.patch("/api/acme/queues/support", headers=line.admin, json={"events_topic": True})
    for name in ("Ada", "Bo"):
        await line.join(name)
    await asyncio.sleep(2.5)  # sweeps fail: the topic cannot be made
    assert (await client.get("/consume/lines.acme.support", params={"timeout": "0.1s"})).status == 404
    assert sum("forwarding acme/support failed" in r.getMessage() for r in caplog.records) <= 1
    assert (await client.delete("/api/topics/other")).status == 200
    got = await _drain(client, "lines.acme.support", 3)
    assert [m["type"] for m in got] == ["CONFIGURE", "JOIN", "JOIN"]
