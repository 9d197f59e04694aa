"""Work claims hold their item for a lease: a claim whose answer was lost with its node (SIGKILL)
comes back to NEW when the lease lapses, with its `retries` raised, and another worker gets it;
the first worker's late status change, with its old `lease_token`, is 409 (fenced)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.faults.load import WORK
from tests.faults.processes import Processes

LEASE = "2s"  # MICROQ_WORK_LEASE for this test's nodes
RETURNED_WITHIN_S = 2.0 + 5.0  # an item whose lease lapsed is claimable again within the lease plus this slack
ITEMS = 3


@pytest.fixture
def processes(tmp_path):
    with Processes(tmp_path) as running:
        yield running


async def test_a_lost_claim_comes_back_to_new_when_its_lease_lapses(processes):
    server = processes.redis(appendonly=True)
    nodes = await asyncio.to_thread(processes.ready_nodes, 2, server.url, False, MICROQ_WORK_LEASE=LEASE)
    doomed, survivor = nodes
    async with aiohttp.ClientSession() as session:
        created = []
        for n in range(ITEMS):
            async with session.post(f"{survivor.base}/api/queue", headers=WORK,
                                    json={"queue_name": "leases", "data": f"l{n}"}) as response:
                assert response.status == 201
                created.append((await response.json())["id"])
        tokens = {}  # item id -> the lost claim's fencing token
        for _ in range(ITEMS):  # a worker claims through the node that is about to die
            async with session.post(f"{doomed.base}/api/queue/leases/claim", headers=WORK, json={}) as response:
                assert response.status == 200
                claim = await response.json()
                assert claim["item"]["id"] in created
                tokens[claim["item"]["id"]] = claim.get("lease_token")
        doomed.kill()  # the worker and its node are gone; nobody will finish these items
        killed = time.monotonic()
        reclaimed: set[str] = set()
        while len(reclaimed) < ITEMS and time.monotonic() - killed < RETURNED_WITHIN_S:
            async with session.post(f"{survivor.base}/api/queue/leases/claim", headers=WORK, json={}) as response:
                assert response.status == 200
                item = (await response.json())["item"]
            if item:
                reclaimed.add(item["id"])
                assert item.get("retries") == 1, item  # a lapsed lease counts as a retry
            else:
                await asyncio.sleep(0.25)
        print(f"claim leases: {ITEMS} claimed, node SIGKILLed, {len(reclaimed)} claimed again within "
              f"{time.monotonic() - killed:.1f} s")
        assert reclaimed == set(created)
        for item_id, token in tokens.items():  # the first worker, back late, is fenced off
            async with session.post(f"{survivor.base}/api/queue/leases/items/{item_id}/status", headers=WORK,
                                    json={"status": "DONE", "lease_token": token}) as response:
                assert response.status == 409, await response.text()
