"""The lease sweep: once a second, lapsed claims go back to NEW (or FAILED) even in a queue
nobody claims from. Each of the LEASE_BUCKETS buckets is swept by one node at a time, under its
own lock in its own slot, so a Redis node that is away stalls only its buckets' sweeps.

Cost follows the work that is due: a round reads only the queues whose earliest lease end
has come (the bucket index), at most QUEUES_PER_ROUND of them per bucket and LAPSED_PER_CALL
claims per queue; what is left is due again in the next round.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from microq.work.keys import LEASE_BUCKETS, ORCHESTRATED_BUCKETS
from microq.work.outbox import WorkOutbox
from microq.work.store import WorkStore

log = logging.getLogger(__name__)

INTERVAL = 1.0  #: seconds between rounds
QUEUES_PER_ROUND = 100  #: queues of one bucket swept per round at most
REVISIT_MS = 60_000  #: a queue taken by a sweeper that died mid-way is swept again after this


class LeaseSweeper:
    def __init__(self, store: WorkStore) -> None:
        self.store = store
        self.node = uuid.uuid4().hex[:12]
        self._failing: set[int] = set()  #: buckets whose last sweep failed: warned once, not every second

    async def run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            await self.sweep_once()

    async def sweep_once(self) -> int:
        """One round over every bucket this node wins the lock of; how many claims it handed back."""
        handed = await asyncio.gather(*(self._sweep_bucket(b) for b in range(LEASE_BUCKETS)))
        return sum(handed)

    async def _sweep_bucket(self, bucket: int) -> int:
        try:
            if not await self.store.lock_bucket(bucket, self.node, int(INTERVAL * 900)):
                handed = 0
            else:
                mark, queues = await self.store.due_queues(bucket, QUEUES_PER_ROUND, REVISIT_MS)
                results = await asyncio.gather(*(self.store.sweep_queue(bucket, q, mark) for q in queues),
                                               return_exceptions=True)
                failed = [r for r in results if isinstance(r, BaseException)]
                if failed:  # those queues keep their mark and are swept again after REVISIT_MS
                    raise failed[0]
                handed = sum(results)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis away or a script failing: the next round tries again
            if bucket not in self._failing:
                self._failing.add(bucket)
                log.warning("work lease sweep of bucket %d failed (%s); retrying every %g s", bucket, exc, INTERVAL)
            return 0
        if bucket in self._failing:
            self._failing.discard(bucket)
            log.info("work lease sweep of bucket %d works again", bucket)
        return handed


VISITS_PER_ROUND = 100  #: queues of one bucket of the orchestration index visited per round at most


class OrchestrationSweeper:
    """Once a second, each queue with QUEUE triggers or an events topic is visited by one node:
    its runs past their timeout end, deferred items that came due may fire a trigger (both in
    the queue's upkeep script), and its outboxes are forwarded (what the forward right after a
    change left: topics away, a node crash). SINGLE triggers' outboxes are forwarded right after
    their change only, and again on the next one. Each of the ORCHESTRATED_BUCKETS buckets is
    visited under its own lock; at most VISITS_PER_ROUND queues of a bucket a round, the ones
    waiting longest first, so the cost per round is bounded whatever the number of queues."""

    def __init__(self, store: WorkStore, outbox: WorkOutbox) -> None:
        self.store, self.outbox = store, outbox
        self.node = uuid.uuid4().hex[:12]
        self._failing: set[int] = set()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            await self.sweep_once()

    async def sweep_once(self) -> int:
        """One round; how many queues this node visited."""
        visited = await asyncio.gather(*(self._sweep_bucket(b) for b in range(ORCHESTRATED_BUCKETS)))
        return sum(visited)

    async def _sweep_bucket(self, bucket: int) -> int:
        try:
            if not await self.store.lock_orchestrated(bucket, self.node, int(INTERVAL * 900)):
                return 0
            mark, queues = await self.store.orchestrated_due(bucket, VISITS_PER_ROUND, int(INTERVAL * 1000))
            results = await asyncio.gather(*(self._visit(q, mark) for q in queues), return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                raise failed[0]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis or topics away: the next round tries again
            if bucket not in self._failing:
                self._failing.add(bucket)
                log.warning("work orchestration sweep of bucket %d failed (%s); retrying every %g s",
                            bucket, exc, INTERVAL)
            return 0
        if bucket in self._failing:
            self._failing.discard(bucket)
            log.info("work orchestration sweep of bucket %d works again", bucket)
        return len(queues)

    async def _visit(self, queue_name: str, mark: int) -> None:
        await self.store.visit_queue(queue_name)
        await self.outbox.forward_queue(queue_name)
        own = await self.store.settings(queue_name)
        if not own.get("triggers") and not own.get("events_topic"):
            await self.store.drop_orchestrated(queue_name, mark)
