"""Work fixtures: nodes with a known API key, and a way to look at the work keys in Redis."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

KEY = "test-key-0123456789"
AUTH = {"X-API-Key": KEY}


@pytest.fixture
def work_node(make_client):
    """work_node(**overrides): a node accepting KEY (from MICROQ_API_KEYS)."""

    async def make(**overrides):
        overrides.setdefault("api_keys", (KEY,))
        return await make_client(**overrides)

    return make


@pytest.fixture
async def api(work_node):
    return await work_node()


@pytest.fixture
async def two_nodes(work_node):
    """Two nodes on one Redis, each accepting KEY."""
    return await work_node(), await work_node()


async def push(node, queue="jobs", **fields):
    """Add one item (201); its id."""
    resp = await node.post("/api/queue", json={"queue_name": queue, **fields}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def claim(node, queue="jobs", **body):
    """Claim the next item (200); the answer."""
    resp = await node.post(f"/api/queue/{queue}/claim", json=body, headers=AUTH)
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
def work_keys(redis: Redis):
    """The work queue keys now in Redis (security and trigger keys excluded)."""

    async def keys() -> list[bytes]:
        return sorted([key async for key in redis.scan_iter(match="mq:w:*")])

    return keys
