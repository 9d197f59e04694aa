"""The Redis keys of one line, and of a tenant's queue registry. See docs/keys.md (Lines)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from microq.keys import Keyspace


def line_key(keyspace: Keyspace, tenant: str, queue: str) -> Callable[[str], str]:
    """suffix -> `<prefix>l:{<tenant>/<queue>}:<suffix>`, a key in the line's slot."""
    return keyspace.entity("l", f"{tenant}/{queue}")


@dataclass(frozen=True)
class LineKeys:
    """Every key of one line shares the hash tag {<tenant>/<queue>}: one Cluster slot, so one
    script can touch them all. Ids cannot contain '/', so the tag is unambiguous."""

    cfg: str
    seq: str
    wait: str
    ent: str
    done: str
    donex: str
    stats: str
    durations: str
    events: str
    types: str
    type_index: str  #: zset: typed waiting people by type, then join order (lines_counter.lua)
    counters: str
    near_front: str  #: set: who had their NEAR_FRONT event (lines_near.lua)
    hooks: str  #: hash: webhook url -> secret (lines_webhook_save.lua)
    forward_cursor: str  #: string: the last event forwarded to the line's topic (microq/events.py)
    channel: str  #: pub/sub channel (not a key): wakes live streams on every node
    analytics_prefix: str  #: + YYYY-MM-DD: hash, that local day's analytics (lines_analytics.lua)

    def analytics(self, day: str) -> str:
        """The analytics hash of one local day (YYYY-MM-DD)."""
        return self.analytics_prefix + day

    @classmethod
    def of(cls, keyspace: Keyspace, tenant: str, queue: str) -> LineKeys:
        key = line_key(keyspace, tenant, queue)
        return cls(cfg=key("cfg"), seq=key("seq"), wait=key("wait"), ent=key("ent"), done=key("done"),
                   donex=key("donex"), stats=key("stats"), durations=key("durs"), events=key("ev"),
                   types=key("st"), type_index=key("wt"), counters=key("ctr"), near_front=key("nf"),
                   hooks=key("wh"), forward_cursor=key("fwc"), channel=key("live"),
                   analytics_prefix=key("an:"))


def forwarding_index(keyspace: Keyspace) -> str:
    """zset "<tenant>/<queue>" -> ms it began forwarding: the lines the sweep forwards (own slot)."""
    return keyspace.tagged("lx", "lines", "forwarding")


def closing_index(keyspace: Keyspace) -> str:
    """zset "<tenant>/<queue>" -> ms close_at was set: the lines the sweep closes daily (own slot)."""
    return keyspace.tagged("lx", "lines", "closing")


LINE_INDEX = "li"  #: kind of the index of every line ever joined, "<tenant>/<queue>" (microq/name_index.py)


def tenant_registry(keyspace: Keyspace, tenant: str) -> str:
    """zset queue id -> created ms: the tenant's queues, in their own slot (tag {<tenant>})."""
    return keyspace.tagged("lt", tenant, "queues")
