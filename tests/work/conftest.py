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
def work_keys(redis: Redis):
    """The work queue keys now in Redis (security and trigger keys excluded)."""

    async def keys() -> list[bytes]:
        return sorted([key async for key in redis.scan_iter(match="mq:w:*")])

    return keys
