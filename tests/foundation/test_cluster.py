"""Scripts on a real Redis Cluster: routed by their keys' hash tag, NOSCRIPT recovered per node."""

import asyncio

from redis.asyncio import RedisCluster

from microq.keys import Keyspace
from microq.redis_client import connect
from microq.scripts import Scripts, load_scripts
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
