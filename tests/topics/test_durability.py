"""Messages survive a Redis restart with AOF on."""

import asyncio

from aiohttp.test_utils import TestClient

from microq.app import create_app
from tests.helpers import RedisProcess
from tests.topics.conftest import publish, unb64


async def _until_ok(request, attempts: int = 100):
    for _ in range(attempts):  # the first requests after the restart may meet dead pooled connections: 503
        response = await request()
        if response.status != 503:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError("Redis never came back")


async def test_messages_survive_a_redis_restart_with_aof(aiohttp_client, settings, tmp_path):
    server = RedisProcess(tmp_path / "aof", appendonly=True).start()
    try:
        client: TestClient = await aiohttp_client(create_app(settings.replace(redis_url=server.url)))
        for i in range(5):
            await publish(client, "durable", f"d{i}")
        await publish(client, "durable", "later", delay="200ms")
        held = await (await client.get("/consume/durable", params={"visibility": "300ms"})).json()
        server.stop()
        server.start()
        got: list[bytes] = []
        while len(got) < 6:  # the held message comes back when its lease lapses, the delayed one when due
            response = await _until_ok(lambda: client.get("/consume/durable", params={"limit": "10", "timeout": "3s"}))
            assert response.status == 200
            got += [unb64(m["payload"]) for m in await response.json()]
        assert unb64(held["payload"]) == b"d0"
        assert sorted(got) == sorted([b"d0", b"d1", b"d2", b"d3", b"d4", b"later"])
        waiter = asyncio.create_task(client.get("/consume/durable", params={"timeout": "10s"}))
        await asyncio.sleep(0.3)
        await publish(client, "durable", "after restart")  # pub/sub reconnected: the waiter wakes
        response = await asyncio.wait_for(waiter, 10)
        assert unb64((await response.json())["payload"]) == b"after restart"
    finally:
        server.stop()
