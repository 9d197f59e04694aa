"""The work API on real three-primary Redis Clusters: leases, heartbeats, the sweep, idempotency
and admission with every script in one slot; and with one primary killed, only the queues,
client addresses and API keys in its slots are unavailable (503), the rest works on."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from redis.cluster import RedisCluster as SyncCluster

from microq.app import create_app
from microq.embedded import redis_server_binary
from microq.keys import Keyspace
from microq.redis_client import connect
from microq.security.api_keys import digest
from microq.security.keys import SecurityKeys
from microq.work.keys import WorkKeys
from tests.helpers import RedisClusterProcesses

KEY = "cluster-key"
SECURITY, WORK = SecurityKeys(Keyspace("mq:")), WorkKeys(Keyspace("mq:"))


def headers(address: str = "192.0.2.1", key: str = KEY, **extra: str) -> dict[str, str]:
    return {"X-API-Key": key, "X-Forwarded-For": address, **extra}


async def test_leases_idempotency_and_admission_on_a_cluster(aiohttp_client, redis_cluster, settings):
    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    on_cluster = settings.replace(redis_url=redis_cluster.url, redis_cluster=True, api_keys=(KEY,),
                                  trusted_proxies=("127.0.0.1",), work_max_retries=0)
    a, b = await aiohttp_client(create_app(on_cluster)), await aiohttp_client(create_app(on_cluster))
    for name in ("Billing", "Shipping {eu}", "Returns", "Refunds"):  # spread over the primaries
        created = await a.post("/api/queue", json={"queue_name": name}, headers=headers(**{"Idempotency-Key": "c1"}))
        again = await b.post("/api/queue", json={"queue_name": name}, headers=headers(**{"Idempotency-Key": "c1"}))
        assert created.status == again.status == 201 and await created.json() == await again.json()
        item_id = (await created.json())["id"]
        claimed = await (await b.post(f"/api/queue/{name}/claim", json={"lease": "300ms"}, headers=headers())).json()
        assert claimed["item"]["id"] == item_id
        beat = await a.post(f"/api/queue/{name}/items/{item_id}/heartbeat",
                            json={"lease_token": claimed["lease_token"], "lease": "300ms"}, headers=headers())
        assert beat.status == 200
    deadline = time.monotonic() + 15  # the sweep on some node fails them (max retries 0), bucket by bucket
    for name in ("Billing", "Shipping {eu}", "Returns", "Refunds"):
        while (await (await a.get(f"/api/queue/{name}", headers=headers())).json())["counts"]["FAILED"] != 1:
            assert time.monotonic() < deadline, name
            await asyncio.sleep(0.2)
    for i in range(5):  # bans across nodes, in the address's slot
        assert (await a.post("/api/queue", json={"queue_name": "q"}, headers=headers("198.51.100.9", "bad"))).status == 401
    assert (await b.post("/api/queue", json={"queue_name": "q"}, headers=headers("198.51.100.9"))).status == 403


def _slot_owner(cluster: SyncCluster, key: str) -> int:
    return cluster.get_node_from_key(key).port


def _pick(candidates, key_of, cluster: SyncCluster, port: int, *, alive: bool) -> str:
    for candidate in candidates:
        if (_slot_owner(cluster, key_of(candidate)) == port) != alive:
            return candidate
    raise AssertionError("no candidate in the wanted slots")


@pytest.fixture
def own_cluster(tmp_path: Path):
    """A cluster of our own (one of its primaries will die) that keeps serving the slots it still has."""
    cluster = RedisClusterProcesses(tmp_path / "cluster").start()
    cli = str(Path(redis_server_binary()).with_name("redis-cli"))
    for node in cluster.nodes:
        subprocess.run([cli, "-p", str(node.port), "config", "set", "cluster-require-full-coverage", "no"],
                       check=True, capture_output=True, timeout=10)
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_one_dead_primary_stops_only_its_own_slots(aiohttp_client, own_cluster, settings):
    victim = own_cluster.nodes[2]
    sync = SyncCluster(host="127.0.0.1", port=own_cluster.nodes[0].port)
    try:
        dead_key = _pick((f"key-{i}" for i in range(200)), lambda k: SECURITY.api_key(digest(k)), sync,
                         victim.port, alive=False)
        live_key = _pick((f"key-{i}" for i in range(200)), lambda k: SECURITY.api_key(digest(k)), sync,
                         victim.port, alive=True)
        addresses = (f"192.0.2.{i}" for i in range(1, 250))
        live_address = _pick(addresses, SECURITY.ban, sync, victim.port, alive=True)
        dead_address = _pick((f"198.51.100.{i}" for i in range(1, 250)), SECURITY.ban, sync, victim.port, alive=False)
        live_queue = _pick((f"queue-{i}" for i in range(200)), lambda q: WORK.queue(q).items, sync,
                           victim.port, alive=True)
        dead_queue = _pick((f"queue-{i}" for i in range(200)), lambda q: WORK.queue(q).items, sync,
                           victim.port, alive=False)
    finally:
        sync.close()
    node = await aiohttp_client(create_app(settings.replace(
        redis_url=own_cluster.url, redis_cluster=True, api_keys=(dead_key, live_key), trusted_proxies=("127.0.0.1",))))
    for queue in (live_queue, dead_queue):
        assert (await node.post("/api/queue", json={"queue_name": queue}, headers=headers(live_address, live_key))).status == 201

    victim.process.kill()
    victim.process.wait()
    await asyncio.sleep(0.5)

    async def create(queue, address, key):
        resp = await node.post("/api/queue", json={"queue_name": queue}, headers=headers(address, key))
        return resp.status, await resp.json()

    status, body = await create(live_queue, live_address, live_key)
    assert status == 201, body  # all of it in live slots: works as before
    for queue, address, key in ((dead_queue, live_address, live_key), (live_queue, dead_address, live_key),
                                (live_queue, live_address, dead_key)):
        status, body = await create(queue, address, key)
        assert status == 503 and "error" in body, (queue, address, key, status, body)
    claimed = await node.post(f"/api/queue/{live_queue}/claim", headers=headers(live_address, live_key))
    assert claimed.status == 200 and (await claimed.json())["item"] is not None


async def test_orchestrator_features_on_a_cluster(aiohttp_client, redis_cluster, settings):
    """Settings, bulk add, priority, retries, history and find: each a script in its queue's slot."""
    flush = connect(redis_cluster.url, cluster=True)
    await flush.flushall()
    await flush.aclose()
    on_cluster = settings.replace(redis_url=redis_cluster.url, redis_cluster=True, api_keys=(KEY,),
                                  trusted_proxies=("127.0.0.1",))
    a, b = await aiohttp_client(create_app(on_cluster)), await aiohttp_client(create_app(on_cluster))
    for name in ("Billing", "Shipping {eu}", "Returns", "Refunds"):
        resp = await a.put(f"/api/queue/{name}/settings", json={"unique_reference": True, "max_retries": 1},
                           headers=headers())
        assert resp.status == 200
        resp = await b.post(f"/api/queue/{name}/bulk", headers=headers(),
                            json=[{"reference": "low", "priority": "Low"}, {"reference": "high", "priority": "High"}])
        assert resp.status == 201
        low, high = (await resp.json())["ids"]
        assert (await a.post("/api/queue", json={"queue_name": name, "reference": "high"}, headers=headers())).status == 409
        claimed = await (await a.post(f"/api/queue/{name}/claim", json={}, headers=headers())).json()
        assert claimed["item"]["id"] == high
        resp = await b.post(f"/api/queue/{name}/items/{high}/status", headers=headers(),
                            json={"status": "FAILED", "exception_type": "application"})
        retry = (await resp.json())["retry"]
        assert retry["parent_id"] == high
        found = await (await a.get(f"/api/queue/{name}/find?reference=high", headers=headers())).json()
        assert [item["id"] for item in found["items"]] == [high, retry["id"]]
        shown = await (await b.get(f"/api/queue/{name}/items/{high}/history", headers=headers())).json()
        assert [step["to"] for step in shown["history"]] == ["NEW", "IN_PROGRESS", "FAILED"]
        claimed = await (await b.post(f"/api/queue/{name}/claim", json={}, headers=headers())).json()
        assert claimed["item"]["id"] == retry["id"]  # High, before the Low one
        assert (await (await a.post(f"/api/queue/{name}/claim", json={}, headers=headers())).json())["item"]["id"] == low
