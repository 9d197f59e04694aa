"""Fixtures and helpers for the topics tests."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from aiohttp.test_utils import TestClient

from microq.topics.appkeys import WAIT_ROOM


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


async def until_waiting(client: TestClient, topic: str, count: int, timeout: float = 10.0) -> None:
    """Until `count` consumers wait on `topic` on that node: a broadcast reaches only those waiting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while client.server.app[WAIT_ROOM].counts().get(topic, 0) < count:
        assert loop.time() < deadline, f"fewer than {count} waiting on {topic}"
        await asyncio.sleep(0.01)


async def publish(client: TestClient, topic: str, body: Any = b"hello", **query: str) -> dict:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    response = await client.post(f"/publish/{topic}", data=data, params=query)
    assert response.status == 202, await response.text()
    return await response.json()


async def consume(client: TestClient, topic: str, status: int = 200, **query: str) -> Any:
    response = await client.get(f"/consume/{topic}", params=query)
    assert response.status == status, await response.text()
    return await response.json()


async def stats_row(client: TestClient, topic: str) -> dict:
    response = await client.get("/api/stats")
    assert response.status == 200
    rows = {row["Name"]: row for row in (await response.json())["stats"]}
    return rows[topic]
