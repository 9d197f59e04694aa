"""Scripts on a real Redis Cluster: routed by their keys' hash tag, batched per primary, NOSCRIPT
recovered per node."""

import asyncio

from redis.asyncio import RedisCluster

from microq.errors import Conflict
from microq.keys import Keyspace
from microq.redis_client import connect
from microq.scripts import Scripts, _Link, load_scripts
from tests.foundation.test_scripts import ECHO


async def test_scripts_run_on_every_slot_owner_and_survive_script_flush(redis_cluster, tmp_path):
    (tmp_path / "includes").mkdir()
    (tmp_path / "test_echo-1.lua").write_text(ECHO)
    client = connect(redis_cluster.url, cluster=True)
    assert isinstance(client, RedisCluster)
    try:
        await client.flushall()
        runner = Scripts(client, load_scripts(tmp_path))
        await runner.preload()
        keys = [Keyspace().tagged("t", f"topic{i}", "counter") for i in range(30)]
        assert len({client.get_node_from_key(k).name for k in keys}) == 3  # spread over every node
        assert await asyncio.gather(*(runner.call("test_echo", [k], ["ok"]) for k in keys)) == [1] * 30
        await client.script_flush()
        assert await asyncio.gather(*(runner.call("test_echo", [k], ["ok"]) for k in keys)) == [2] * 30
    finally:
        await client.aclose()


async def test_concurrent_calls_share_one_round_trip_per_primary(redis_cluster, tmp_path, monkeypatch):
    (tmp_path / "includes").mkdir()
    (tmp_path / "test_echo-1.lua").write_text(ECHO)
    client = connect(redis_cluster.url, cluster=True)
    try:
        await client.flushall()
        runner = Scripts(client, load_scripts(tmp_path))
        await runner.preload()
        trips: list[tuple[str, int]] = []
        original = _Link._round_trip

        async def counted(link, commands):
            trips.append((link.name, len(commands)))
            return await original(link, commands)

        monkeypatch.setattr(_Link, "_round_trip", counted)
        keys = [Keyspace().tagged("t", f"topic{i % 30}", "counter") for i in range(300)]
        modes = ["ok" if i % 7 else "CONFLICT" for i in range(300)]
        results = await asyncio.gather(*(runner.call("test_echo", [k], [m]) for k, m in zip(keys, modes)),
                                       return_exceptions=True)
        assert sum(n for _, n in trips) == 300 and len(trips) < 40  # batched, per primary
        assert len({name for name, _ in trips}) == 3
        for mode, result in zip(modes, results):  # each call succeeds or fails alone
            assert isinstance(result, Conflict) if mode == "CONFLICT" else isinstance(result, int)
        totals = {k: int(await client.get(k)) for k in set(keys)}
        assert sum(totals.values()) == sum(m == "ok" for m in modes)
        assert await runner.execute("HGETALL", keys[0] + ":none") == {}  # one reply shape: a dict
        await client.hset(keys[0] + ":h", mapping={"a": "1"})
        assert await runner.execute("HGETALL", keys[0] + ":h") == {b"a": b"1"}
    finally:
        await client.aclose()
