"""Redis key names of the work part (see docs/keys.md, "Work").

A work queue's keys share the tag `{<queue name>}` of kind `w`, so every transition is one
script in one slot. A trigger is one hash with its own tag; the registry of trigger names
is split over TRIGGER_BUCKETS sets, each in its own slot, kept by separate idempotent SADD/SREM.
Queues holding claims are listed for the lease sweep in one of LEASE_BUCKETS index zsets, each
in its own slot. So no single slot is needed by every queue or every trigger.
"""

from __future__ import annotations

import functools
import zlib
from typing import Callable

from microq.keys import Keyspace

STATUSES = ("NEW", "IN_PROGRESS", "DONE", "FAILED", "ABANDONED")
FINAL = ("DONE", "FAILED", "ABANDONED")
PRIORITIES = ("High", "Normal", "Low")  #: claims take High first, then Normal (the default), then Low
LEASE_BUCKETS = 16  #: index zsets of queues with claims; a queue's bucket is crc32(name) % 16
TRIGGER_BUCKETS = 16  #: sets of trigger names; a trigger's bucket is crc32(name) % 16
QUEUE_INDEX = "wq"  #: kind of the index of every queue that ever held an item (microq/name_index.py)
ORCHESTRATED_BUCKETS = 16  #: zsets of queues with QUEUE triggers or an events topic, visited by the work sweep


def _bucket(name: str, buckets: int) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) % buckets


class WorkKeys:
    def __init__(self, keyspace: Keyspace) -> None:
        self._keyspace = self.keyspace = keyspace
        # a busy queue's nine key names are built once, not on every request (bounded: names are the clients')
        self._queue = functools.lru_cache(maxsize=1024)(self._build_queue)
        self.legacy_trigger_names = keyspace.global_key("work:triggers")  #: the one set before the split (moved at start)

    def queue(self, name: str) -> QueueKeys:
        return self._queue(name)

    def _build_queue(self, name: str) -> QueueKeys:
        return QueueKeys(self._keyspace.entity("w", name))

    def trigger(self, name: str) -> str:
        return self._keyspace.tagged("trg", name, "def")

    def trigger_entity(self, name: str) -> Callable[[str], str]:
        """suffix -> a key in the trigger's slot (its stored Idempotency-Key answers)."""
        return self._keyspace.entity("trg", name)

    def trigger_names(self, name: str) -> str:
        """The registry set that lists this trigger's name."""
        return self.trigger_names_bucket(_bucket(name, TRIGGER_BUCKETS))

    def trigger_names_bucket(self, bucket: int) -> str:
        return self._keyspace.tagged("wt", str(bucket), "names")

    def orchestrated(self, name: str) -> str:
        """The sweep index zset (queue name -> last visit ms) that lists this queue."""
        return self.orchestrated_bucket(_bucket(name, ORCHESTRATED_BUCKETS))

    def orchestrated_bucket(self, bucket: int) -> str:
        return self._keyspace.tagged("wo", str(bucket), "queues")

    def orchestrated_lock(self, bucket: int) -> str:
        """Held (SET NX PX) by the node visiting this bucket's queues this round."""
        return self._keyspace.tagged("wo", str(bucket), "lock")

    def trigger_events(self, name: str) -> tuple[str, str]:
        """(outbox stream, its forward cursor) of a SINGLE trigger, in the trigger's slot."""
        key = self._keyspace.entity("trg", name)
        return key("events"), key("events:cursor")

    def lease_bucket(self, queue_name: str) -> int:
        return _bucket(queue_name, LEASE_BUCKETS)

    def leased_queues(self, bucket: int) -> str:
        """zset queue name -> the earliest lease end (ms) of its claims, or a sweep's revisit mark."""
        return self._keyspace.tagged("wl", str(bucket), "queues")

    def sweep_lock(self, bucket: int) -> str:
        """Held (SET NX PX) by the node sweeping this bucket's queues this round."""
        return self._keyspace.tagged("wl", str(bucket), "lock")


class QueueKeys:
    def __init__(self, key) -> None:
        self.items = key("items")  #: hash id -> msgpack item
        self.seq = key("seq")  #: arrival counter
        self.by_status = {status: key(f"s:{status}") for status in STATUSES}  #: zsets id -> arrival seq
        self.leases = key("leases")  #: zset id -> lease end ms, every IN_PROGRESS item with a lease
        self.claims = key("claims")  #: counter: each claim's fencing token
        self.ready = key("ready")  #: zset id -> priority rank * 2^48 + seq: the NEW items claimable now
        self.deferred = key("deferred")  #: zset id -> defer_until ms: NEW items not claimable yet
        self.due = key("due")  #: zset id -> due ms of every open (not final) item with a due_date
        self.settings = key("settings")  #: hash: the queue's settings (max_retries, unique_reference, ...)
        self.refs = key("refs")  #: hash reference -> id of the open item holding it (unique references)
        self.ref_index = key("refindex")  #: zset, score 0, "reference\0id": find by reference (lex range)
        self.arrivals = key("arrivals")  #: zset seq -> created ms: find by date range
        self.expiry = key("expiry")  #: zset id -> when a final item is removed (its queue's retention)
        self.triggers = key("triggers")  #: hash QUEUE trigger name -> JSON firing state (see include work_triggers)
        self.events = key("events")  #: stream: the queue's outbox to topic work.<queue> (item events, trigger firings)
        self.events_cursor = key("events:cursor")  #: string: the last events entry forwarded (microq/events.py)
        self.firings = key("firings")  #: stream: the queue's outbox of QUEUE trigger firings to their webhooks
        self.firings_cursor = key("firings:cursor")  #: string: the last firings entry forwarded
        self.entity: Callable[[str], str] = key  #: suffix -> a key in the queue's slot (stored Idempotency-Key answers)
        #: every key of the queue, in the order the item-moving scripts take them (include work_queue)
        self.all = [self.items, *self.status_sets, self.leases, self.claims, self.seq, self.ready, self.deferred,
                    self.due, self.settings, self.refs, self.ref_index, self.arrivals, self.expiry,
                    self.triggers, self.events, self.firings]

    @property
    def status_sets(self) -> list[str]:
        """The status zsets in STATUSES order, as the scripts take them."""
        return [self.by_status[status] for status in STATUSES]
