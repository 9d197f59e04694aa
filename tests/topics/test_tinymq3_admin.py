"""TinyMQ 3's admin API, driven with the requests its `tmq` CLI (cmd/tmq/shared/admin.go,
publish.go, handle/cluster.go), Go SDK (client/client.go) and dashboard send, checking what
those clients read from the answers. The request shapes are copied from TinyMQ 3.1.6's source."""

from __future__ import annotations

import json

from microq.topics.appkeys import HOUSEKEEPER
from tests.topics.conftest import consume, publish, unb64

JSON = {"Content-Type": "application/json"}  # DoAuthRequest sets it whenever there is a body


async def test_tmq_purge_deletes_every_message(client):
    for n in range(3):
        await publish(client, "orders", f"m{n}")
    # tmq purge orders: DELETE {base}/api/queues/purge?queue=orders, no body; it checks for 200
    response = await client.delete("/api/queues/purge?queue=orders")
    assert response.status == 200
    assert (await response.json())["deleted"] == 3
    await consume(client, "orders", 404)


async def test_tmq_purge_of_an_unknown_queue_is_404(client):
    response = await client.delete("/api/queues/purge?queue=nope")
    assert response.status == 404
    assert "error" in await response.json()


async def test_dashboard_purge_and_missing_or_bad_queue(client):
    await publish(client, "orders")
    assert (await client.post("/api/queues/purge?queue=orders")).status == 200
    assert (await client.delete("/api/queues/purge")).status == 400
    assert (await client.delete("/api/queues/purge?queue=a%20b")).status == 400


async def _dead_letter(client, topic: str, count: int) -> None:
    """`count` messages in `topic`.dlq (the client's node dead-letters at the first requeue)."""
    for n in range(count):
        await publish(client, topic, f"d{n}")
    for _ in range(count):
        message = await consume(client, topic)
        response = await client.post("/requeue", json={"id": message["id"], "topic": topic})
        assert (await response.json())["status"] == "dead_lettered"


async def test_tmq_dlq_redrive_moves_dead_letters_back(make_client):
    client = await make_client(max_attempts=1)
    await _dead_letter(client, "jobs", 2)
    await consume(client, "jobs", 404)
    # tmq dlq redrive jobs: POST {base}/api/queues/redrive?queue=jobs with no body; reads
    # result["redriven_messages"] from a 200
    response = await client.post("/api/queues/redrive?queue=jobs")
    assert response.status == 200
    body = json.loads(await response.text())
    assert body == {"status": "success", "redriven_messages": 2}
    got = {unb64(m["payload"]) for m in await consume(client, "jobs", limit="2")}
    assert got == {b"d0", b"d1"}


async def test_redrive_accepts_the_dlq_name_and_404s_without_one(make_client):
    client = await make_client(max_attempts=1)
    await _dead_letter(client, "jobs", 1)
    response = await client.post("/api/queues/redrive?queue=jobs.dlq")
    assert (await response.json())["redriven_messages"] == 1
    await publish(client, "fresh")
    response = await client.post("/api/queues/redrive?queue=fresh")
    assert response.status == 404
    assert (await client.post("/api/queues/redrive")).status == 400
    assert (await client.post("/api/queues/redrive?queue=x.dlq.dlq")).status == 400
    assert (await client.get("/api/queues/redrive?queue=jobs")).status == 405


async def test_tmq_webhook_list_add_and_remove(client):
    # tmq webhook add orders <url>: POST {base}/webhook/orders {"url":"<url>"}; it checks for 201
    response = await client.post("/webhook/orders", data='{"url":"https://example.com/in"}', headers=JSON)
    assert response.status == 201
    # tmq webhook list orders: GET {base}/api/queues/webhooks?queue=orders, decoded as []string
    response = await client.get("/api/queues/webhooks?queue=orders")
    assert response.status == 200
    assert await response.json() == ["https://example.com/in"]
    # extensions in the family's shape: add and remove
    response = await client.post("/api/queues/webhooks", json={"queue": "orders", "url": "https://example.com/b"})
    assert response.status == 201
    assert await (await client.get("/api/queues/webhooks?queue=orders")).json() == [
        "https://example.com/b", "https://example.com/in"]
    response = await client.delete("/api/queues/webhooks", params={"queue": "orders", "url": "https://example.com/in"})
    assert response.status == 200
    assert await (await client.get("/api/queues/webhooks?queue=orders")).json() == ["https://example.com/b"]
    response = await client.delete("/api/queues/webhooks", params={"queue": "orders", "url": "https://example.com/in"})
    assert response.status == 404


async def test_webhook_list_of_a_topic_without_any_is_an_empty_array(client):
    assert await (await client.get("/api/queues/webhooks?queue=quiet")).json() == []


async def test_webhook_add_refuses_private_addresses_and_bad_bodies(client):
    response = await client.post("/api/queues/webhooks", json={"queue": "o", "url": "http://127.0.0.1/x"})
    assert response.status == 400
    assert (await client.post("/api/queues/webhooks", json={"url": "https://example.com/"})).status == 400
    assert (await client.post("/api/queues/webhooks", data="[1]", headers=JSON)).status == 400


async def test_list_queues_is_a_bare_array_of_stats_rows(client):
    await publish(client, "orders")
    await publish(client, "orders")
    # the dashboard's and tmq's TopicStat: Name, MessageCount, WaitingConsumers, IsDLQ, HasWebhooks
    rows = await (await client.get("/api/queues")).json()
    assert rows == [{"Name": "orders", "MessageCount": 2, "WaitingConsumers": 0, "IsDLQ": False,
                     "HasWebhooks": False}]


async def test_dashboard_create_queue(client):
    response = await client.post("/api/queues", json={"name": "made"})
    assert response.status == 201
    assert (await response.json())["status"] == "topic_created"
    assert (await client.post("/api/queues", json={"name": "made"})).status == 409
    assert (await client.post("/api/queues", json={"name": "x", "policy": "drop-oldest"})).status == 201
    assert (await client.post("/api/queues", json={"name": "y", "retain": "1h"})).status == 201
    assert (await client.post("/api/queues", json={"name": "z", "policy": "reject"})).status == 201
    assert (await client.post("/api/queues", json={"name": "w", "policy": "drop-newest"})).status == 400
    assert (await client.post("/api/queues", json={"name": "v", "retain": "soon"})).status == 400
    rows = {row["Name"]: row for row in (await (await client.get("/api/stats")).json())["stats"]}
    assert rows["x"]["Policy"] == "drop-oldest" and rows["y"]["RetainMs"] == 3_600_000


async def test_dashboard_publish_and_consume(client):
    # the dashboard's publish modal: payload is the text itself, ttl/delay "" when left empty
    body = {"queue": "orders", "payload": '{"n": 1}', "ttl": "", "delay": "", "broadcast": False}
    response = await client.post("/api/queues/publish", json=body)
    assert response.status == 202
    answer = await response.json()
    assert answer["status"] == "accepted" and answer["queue"] == "orders"
    # its consume button: POST {"queue"}; it reads id, timestamp, retry_count and atob(payload)
    response = await client.post("/api/queues/consume", json={"queue": "orders"})
    assert response.status == 200
    message = await response.json()
    assert unb64(message["payload"]) == b'{"n": 1}' and message["retry_count"] == 0 and message["timestamp"]
    # taken and acknowledged: the seed's empty answer (404; TinyMQ 3 says 204)
    assert (await client.post("/api/queues/consume", json={"queue": "orders"})).status == 404


async def test_dashboard_publish_durations_follow_go(client):
    body = {"queue": "later", "payload": "x", "delay": "1h0m0s"}
    assert (await client.post("/api/queues/publish", json=body)).status == 202
    await consume(client, "later", 404)
    body = {"queue": "later", "payload": "x", "ttl": "soon"}
    assert (await client.post("/api/queues/publish", json=body)).status == 400
    for bad in ({"queue": "q"}, {"queue": "q", "payload": ""}, {"queue": "q", "payload": 5},
                {"payload": "x"}, {"queue": "bad name", "payload": "x"},
                {"queue": "q", "payload": "x", "broadcast": "yes"}):
        assert (await client.post("/api/queues/publish", json=bad)).status == 400, bad


async def test_cluster_status_answers_what_tmq_parses(client):
    # tmq cluster status / SDK ClusterStatus: GET /api/cluster/status, 200, decoded as
    # {clustering_enabled, role, term, leader_http, peers: [{address, alive, last_seen}]}
    response = await client.get("/api/cluster/status")
    assert response.status == 200
    status = await response.json()
    assert status["clustering_enabled"] is True and status["role"] == "leader"
    assert isinstance(status["term"], int) and status["leader_http"]
    assert isinstance(status["peers"], list)


async def test_cluster_status_lists_the_other_nodes(two_clients):
    first, second = two_clients
    for node in two_clients:
        await node.app[HOUSEKEEPER].heartbeat()
    status = await (await first.get("/api/cluster/status")).json()
    other = second.app[HOUSEKEEPER].node
    assert [p["address"] for p in status["peers"]] == [other]
    assert status["peers"][0]["alive"] is True and status["peers"][0]["last_seen"].endswith("Z")


async def test_tmq_rm_deletes_the_topic(client):
    await publish(client, "orders")
    # tmq rm orders: DELETE {base}/api/queues/delete?queue=orders, no body; it checks for 200
    response = await client.delete("/api/queues/delete?queue=orders")
    assert response.status == 200
    assert await response.json() == {"status": "deleted", "queue": "orders", "deleted": 1}
    assert "orders" not in [row["Name"] for row in await (await client.get("/api/queues")).json()]
    again = await client.delete("/api/queues/delete?queue=orders")  # tmq prints "status 404"
    assert again.status == 404 and "error" in await again.json()
