import asyncio
from pathlib import Path

from microq.app import create_app
from microq.settings import Settings
from tests.helpers import RedisProcess


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 200 and body["status"] == "ready"
    assert body["servers"] >= 1 and body["unreachable"] == [] and body["pubsub"]  # 3 on the Cluster run


async def test_readyz_follows_redis_down_and_back_without_a_node_restart(aiohttp_client, tmp_path: Path):
    server = RedisProcess(tmp_path / "redis").start()
    try:
        client = await aiohttp_client(create_app(Settings(redis_url=server.url, data_dir=tmp_path / "d")))
        assert (await client.get("/readyz")).status == 200
        server.stop()
        response = await asyncio.wait_for(client.get("/readyz"), 5)  # at once, not a hang
        assert response.status == 503 and "error" in await response.json()
        server.start()  # same port, empty server: no scripts loaded
        for _ in range(50):
            response = await client.get("/readyz")
            if response.status == 200:
                break
            await asyncio.sleep(0.1)
        assert response.status == 200
    finally:
        server.stop()


async def test_unknown_route_and_wrong_verb(client):
    response = await client.get("/no/such/thing")
    assert response.status == 404 and await response.json() == {"error": "not found"}
    response = await client.post("/healthz")
    assert response.status == 405 and "error" in await response.json()
