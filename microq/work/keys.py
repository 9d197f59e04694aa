"""Redis key names of the work part (see docs/keys.md, "Work").

A work queue's keys share the tag `{<queue name>}` of kind `w`, so every transition is one
script in one slot. A trigger is one hash with its own tag; the registry of trigger names
is a set in another slot, kept by separate idempotent SADD/SREM.
"""

from __future__ import annotations

from microq.keys import Keyspace

STATUSES = ("NEW", "IN_PROGRESS", "DONE", "FAILED", "ABANDONED")


class WorkKeys:
    def __init__(self, keyspace: Keyspace) -> None:
        self._keyspace = keyspace
        self.trigger_names = keyspace.global_key("work:triggers")  #: set of trigger names

    def queue(self, name: str) -> QueueKeys:
        return QueueKeys(self._keyspace.entity("w", name))

    def trigger(self, name: str) -> str:
        return self._keyspace.tagged("trg", name, "def")


class QueueKeys:
    def __init__(self, key) -> None:
        self.items = key("items")  #: hash id -> msgpack item
        self.seq = key("seq")  #: arrival counter
        self.by_status = {status: key(f"s:{status}") for status in STATUSES}  #: zsets id -> arrival seq
        self._key = key

    def idempotency(self, token: str) -> str:
        """The item id created for an Idempotency-Key (string, expires)."""
        return self._key(f"idem:{token}")

    @property
    def status_sets(self) -> list[str]:
        """The status zsets in STATUSES order, as the scripts take them."""
        return [self.by_status[status] for status in STATUSES]
