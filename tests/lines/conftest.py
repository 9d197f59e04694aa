"""Fixtures for the lines tests: a created queue and its admin key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient


@dataclass
class Line:
    client: TestClient
    tenant: str
    queue: str
    admin_key: str

    @property
    def base(self) -> str:
        return f"/api/{self.tenant}/{self.queue}"

    @property
    def admin(self) -> dict[str, str]:
        return {"X-Admin-Key": self.admin_key}

    async def join(self, name: str = "Alex Rivera", client: TestClient | None = None, **fields: Any) -> dict:
        response = await (client or self.client).post(f"{self.base}/join", json={"name": name, **fields})
        assert response.status == 201, await response.text()
        return await response.json()

    async def serve(self, client: TestClient | None = None) -> dict:
        response = await (client or self.client).post(f"{self.base}/serve-next", headers=self.admin, json={})
        assert response.status == 200, await response.text()
        return await response.json()

    async def leave(self, joined: dict, client: TestClient | None = None) -> dict:
        """Leave with the token the join answered with."""
        response = await (client or self.client).post(f"{self.base}/leave/{joined['entry']['id']}",
                                                      headers={"X-Leave-Token": joined["leave_token"]})
        assert response.status == 200, await response.text()
        return await response.json()

    async def status(self, user_id: str) -> dict:
        response = await self.client.get(f"{self.base}/status/{user_id}")
        assert response.status == 200, await response.text()
        return await response.json()


async def create_line(client: TestClient, tenant: str = "acme", queue: str = "support", **fields: Any) -> Line:
    response = await client.post(f"/api/{tenant}/queues", json={"queue_id": queue, "name": "Support Queue", **fields})
    assert response.status == 201, await response.text()
    return Line(client, tenant, queue, (await response.json())["admin_key"])


@pytest.fixture
async def line(client: TestClient) -> Line:
    return await create_line(client)
