"""GET /api/<tenant>/queues: paged (a bounded answer), and on a Redis Cluster with a primary
down it answers with the queues it can read and names the others (issue 9, item 7)."""

from __future__ import annotations

import os
import signal

import redis as sync_redis
from redis.crc import key_slot

from microq.app import create_app
from microq.keys import Keyspace
from microq.lines.keys import LineKeys, tenant_registry
from tests.helpers import RedisClusterProcesses, stop_process
from tests.lines.conftest import create_line


async def test_listing_pages_with_next_offset(client):
    for i in range(5):
        await create_line(client, "acme", f"q{i}")
    whole = await (await client.get("/api/acme/queues")).json()
    assert set(whole) == {"count", "queues"} and whole["count"] == 5  # the seed's shape, exactly
    first = await (await client.get("/api/acme/queues?limit=2")).json()
    assert [q["queue_id"] for q in first["queues"]] == ["q0", "q1"]
    assert first["count"] == 2 and first["next_offset"] == 2
    last = await (await client.get("/api/acme/queues?offset=4&limit=2")).json()
    assert [q["queue_id"] for q in last["queues"]] == ["q4"] and "next_offset" not in last
    beyond = await (await client.get("/api/acme/queues?offset=9")).json()
    assert beyond == {"count": 0, "queues": []}
    for query in ("limit=0", "limit=1001", "offset=-1", "limit=x", "offset=١"):
        response = await client.get(f"/api/acme/queues?{query}")
        assert response.status == 400, query
        assert "error" in await response.json()
    assert (await client.get("/api/acme/queues?limit=1000")).status == 200


def _owner(nodes: list, slot: int) -> int:
    """The index in `nodes` of the primary serving `slot`."""
    with sync_redis.Redis(port=nodes[0].port) as r:
        for start, end, primary, *_ in r.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return [n.port for n in nodes].index(int(primary[1]))
    raise AssertionError(f"slot {slot} is not served")


def _kill(node) -> None:
    os.kill(node.process.pid, signal.SIGKILL)
    node.process.wait(10)


async def test_listing_on_a_cluster_with_a_primary_down(aiohttp_client, settings, tmp_path):
    cluster = RedisClusterProcesses(tmp_path / "cluster").start()
    try:
        nodes = cluster.nodes
        for node in nodes:  # the survivors keep serving their own slots while one primary is down
            with sync_redis.Redis(port=node.port) as r:
                r.config_set("cluster-require-full-coverage", "no")
        keyspace = Keyspace("mq:")
        # node 0: the one the app connects to; the tenant's registry on node 1; node 2 is killed first
        tenant = next(t for t in (f"t{i}" for i in range(1000))
                      if _owner(nodes, key_slot(tenant_registry(keyspace, t).encode())) == 1)
        client = await aiohttp_client(create_app(settings.replace(redis_url=nodes[0].url, redis_cluster=True)))
        where = {}
        for i in range(12):
            line = await create_line(client, tenant, f"q{i:02d}")
            where[line.queue] = _owner(nodes, key_slot(LineKeys.of(keyspace, tenant, line.queue).cfg.encode()))
        assert set(where.values()) == {0, 1, 2}, where

        lost = [q for q, node in where.items() if node == 2]
        os.kill(nodes[2].process.pid, signal.SIGSTOP)  # stalled: it holds connections, answers nothing
        try:
            body = await (await client.get(f"/api/{tenant}/queues")).json()
            assert body["unavailable"] == lost
            assert [q["queue_id"] for q in body["queues"]] == [q for q in where if q not in lost]
        finally:
            os.kill(nodes[2].process.pid, signal.SIGCONT)

        _kill(nodes[2])
        response = await client.get(f"/api/{tenant}/queues")
        assert response.status == 200
        body = await response.json()
        assert body["unavailable"] == lost  # in creation order, as the listing itself
        assert [q["queue_id"] for q in body["queues"]] == [q for q in where if q not in lost]
        assert body["count"] == len(body["queues"]) and "next_offset" not in body
        # a line on the dead primary answers 503; a line elsewhere works as ever
        assert (await client.get(f"/api/{tenant}/queues/{lost[0]}")).status == 503
        alive = next(q for q, node in where.items() if node == 0)
        joined = await client.post(f"/api/{tenant}/{alive}/join", json={"name": "Alex"})
        assert joined.status == 201
        # a page counts the unreadable ones too: offsets stay stable while a primary is down
        page = await (await client.get(f"/api/{tenant}/queues?limit=6")).json()
        assert page["next_offset"] == 6
        assert {q["queue_id"] for q in page["queues"]} | set(page.get("unavailable", [])) == set(list(where)[:6])

        _kill(nodes[1])  # the registry itself is gone: nothing says which queues exist
        response = await client.get(f"/api/{tenant}/queues")
        assert response.status == 503
        assert "error" in await response.json()
    finally:
        for node in cluster.nodes:
            if node.process is not None:
                stop_process(node.process, 10)
