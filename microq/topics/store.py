"""TopicStore: one method per topics script (plus the registry and webhook bookkeeping).
It never sees a request; api.py validates and serialises."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Coroutine, Sequence, TypeVar

import msgpack

from microq.errors import Unavailable
from microq.idempotency import Once
from microq.keys import Keyspace
from microq.scripts import Scripts
from microq.settings import Settings
from microq.topics.due import DOWN_FOR, DueIndex
from microq.topics.messages import Message, messages_from_reply
from microq.topics.names import TopicKeys, dlq_of, group_keys, is_dlq, source_of, topic_keys
from microq.topics.registry import Registry, bucket_of

log = logging.getLogger(__name__)
T = TypeVar("T")

_UNREGISTERED_MAX = 10_000  #: registrations kept for a retry while their bucket is unreachable
_REGISTERED_FOR = 30.0  #: seconds this node trusts that a topic it registered is still in the registry
#: most webhooks one topic may have: each publish fans out to one POST per webhook
MAX_WEBHOOKS = 100
#: most webhook deliveries one publish or redrive call queues (messages x webhooks): bounds the script
MAX_DELIVERIES = 10_000
UNHOOK_CHUNK = 500  #: backlog entries one topics_unhook call hands back to pull consumers
_CALL_AGAIN = 50  #: consume calls one request makes while the script says "more expired to drop"
MAX_GROUPS = 32  #: consumer groups one topic may have: every publish appends to their log once, whatever their number
GROUP_REDRIVE = 1000  #: dead letters one topics_gredrive call hands back


def _lua_pack(value: Any) -> bytes:
    """msgpack for Redis 6.2's cmsgpack, which predates the bin type: bytes travel as raw strings."""
    return msgpack.packb(value, use_bin_type=False)


@dataclass(frozen=True)
class Outgoing:
    """A message to publish."""

    id: str
    payload: bytes
    delay_ms: int = 0
    ttl_ms: int = 0
    content_type: str = ""
    extra: bytes = b""  #: priority, headers, delay: the metadata tail (microq/topics/extras.py)


@dataclass(frozen=True)
class TopicCounts:
    name: str
    stored: int
    ready: int
    delayed: int
    in_flight: int
    webhooks: int
    pending_deliveries: int
    policy: str = "reject"  #: when full: "reject" (429) or "drop-oldest"
    retain_ms: int = 0  #: the ttl of messages published without one; 0: none
    dropped: int = 0  #: messages drop-oldest dropped
    groups: int = 0  #: consumer groups
    failing_deliveries: int = 0  #: pending deliveries whose last attempt failed (waiting for a retry)


@dataclass(frozen=True)
class GroupCounts:
    name: str
    backlog: int  #: published after its cursor: not yet taken by any member
    ready: int  #: handed back (requeued, lapsed), redelivered first
    in_flight: int
    dead_letters: int


@dataclass(frozen=True)
class HookDelivery:
    member: str
    message: Message
    url: str
    attempts: int
    secret: str = ""  #: the webhook's own secret ("": none), which signs this POST


#: a webhook with a secret is stored as "url\nsecret": a URL never holds a newline (check_webhook_url)
HOOK_SECRET_SEPARATOR = "\n"


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    secret: str = ""  #: never shown: listings say only whether there is one

    @classmethod
    def from_stored(cls, hook_id: str, stored: str) -> Webhook:
        url, _, secret = stored.partition(HOOK_SECRET_SEPARATOR)
        return cls(hook_id, url, secret)


class TopicStore:
    def __init__(self, scripts: Scripts, keyspace: Keyspace, settings: Settings) -> None:
        self.scripts = scripts
        self.keyspace = keyspace
        self.settings = settings
        self.registry = Registry(scripts, keyspace, settings.max_topics)
        self.due = DueIndex(scripts, keyspace)
        self.wake_channel = f"{keyspace.prefix}topics:wake"
        self.broadcast_channel = f"{keyspace.prefix}topics:broadcast"
        self._registered: dict[str, float] = {}  # a cache of an idempotent SADD, not shared state
        #: topics whose registry bucket was unreachable when a request used them: registered later
        self.unregistered: set[str] = set()
        self._registry_down: dict[int, float] = {}  #: bucket -> monotonic time until which it is not asked
        self._keys: dict[str, TopicKeys] = {}

    def keys(self, topic: str) -> TopicKeys:
        found = self._keys.get(topic)
        if found is None:
            if len(self._keys) > 10000:
                self._keys.clear()
            # as bytes: redis-py sends bytes untouched, saving an encode per key per call
            found = self._keys[topic] = TopicKeys(*(key.encode() for key in topic_keys(self.keyspace, topic).all()))
        return found

    def key_of(self, topic: str):
        """suffix -> a key in the topic's slot (Idempotency-Key replies; a .dlq shares its source's)."""
        if is_dlq(topic):
            key = self.keyspace.entity("t", source_of(topic))
            return lambda suffix: key("dlq:" + suffix)
        return self.keyspace.entity("t", topic)

    def _moving_keys(self, topic: str) -> list[str]:
        """The twelve keys topics_consume, requeue, peek and sweep share."""
        k = self.keys(topic)
        d = self.keys(topic) if is_dlq(topic) else self.keys(dlq_of(topic))  # a dead-letter topic never dead-letters
        return [k.seq, k.ready, k.delayed, k.inflight, k.expiry, k.msgs, k.meta, d.seq, d.ready, d.msgs, d.meta,
                k.gpend]

    def max_attempts(self, topic: str) -> int:
        return 0 if is_dlq(topic) else self.settings.max_attempts

    # registry ---------------------------------------------------------------------------

    async def create(self, topic: str, once: Once | None = None, policy: str = "reject", retain_ms: int = 0) -> bool:
        """Register a topic; False when it already exists. Conflict past MICROQ_MAX_TOPICS. A new
        topic keeps its overflow policy and retention (TinyMQ 3's policy, retain) in its own slot:
        a second call after the registration (a node dying in between leaves the defaults)."""
        added = await self.registry.register(topic, once=once)
        if added and (policy != "reject" or retain_ms):
            await self.execute("HSET", self.keys(topic).conf, "policy", policy, "retain_ms", retain_ms)
        self._registered[topic] = time.monotonic() + _REGISTERED_FOR
        if added:  # other nodes' indexes learn it now, not at their next replay
            await self.execute("PUBLISH", self.wake_channel, f"{topic} 0 0 -1 0")
        return added

    async def ensure_registered(self, topic: str) -> None:
        # the index drops a name another node deleted: register it again at once, not in 30 s
        if self._registered.get(topic, 0.0) > time.monotonic() and topic in self.registry.index:
            return
        bucket = bucket_of(topic)
        if self._registry_down.get(bucket, 0.0) > time.monotonic():
            self._unregister_later(topic)
            return
        try:
            await self.registry.register(topic, check=topic not in self.registry.index)
        except Unavailable as exc:
            if not self.scripts.cluster:  # one server holds the topic's keys too: nothing can go on
                raise
            # The topic's own slot is what its messages need; the registry bucket (another slot,
            # maybe another primary) only lets wildcards and stats find it. A dead primary must
            # stop only its own slots, so the request goes on and housekeeping registers it later.
            if bucket not in self._registry_down:
                log.warning("topic registry bucket %d unreachable (%s): registrations wait for a retry", bucket, exc)
            self._registry_down[bucket] = time.monotonic() + DOWN_FOR  # each ask would wait out a timeout
            self._unregister_later(topic)
            return
        self._registry_down.pop(bucket, None)
        if len(self._registered) > 10000:
            self._registered.clear()
        self._registered[topic] = time.monotonic() + _REGISTERED_FOR

    async def registered_while(self, topic: str, action: Coroutine[Any, Any, T]) -> T:
        """`action`'s result, with the topic registered. On a Cluster the registry bucket is on
        another slot, often another primary: both go at once, so a stalled primary costs one
        timeout, not two. Not when a new name must pass MICROQ_MAX_TOPICS first (409 stores nothing)."""
        quota = self.registry.max_topics and not is_dlq(topic) and topic not in self.registry.index
        if not self.scripts.cluster or quota:
            try:
                await self.ensure_registered(topic)
            except BaseException:
                action.close()  # 409 past MICROQ_MAX_TOPICS (or Redis down): it never runs
                raise
            return await action
        _, result = await asyncio.gather(self.ensure_registered(topic), action)
        return result

    def _unregister_later(self, topic: str) -> None:
        if len(self.unregistered) < _UNREGISTERED_MAX:
            self.unregistered.add(topic)

    async def retry_indexing(self) -> None:
        """Register and note what an unreachable registry or due bucket refused earlier."""
        pending, self.unregistered = self.unregistered, set()
        for topic in pending:
            await self.ensure_registered(topic)
        await self.due.retry()

    async def exists(self, topic: str) -> bool:
        return await self.registry.exists(topic)

    async def delete(self, topic: str) -> int:
        """Forget the topic: its name, messages, webhooks and delivery state; the messages deleted."""
        self._registered.pop(topic, None)
        await self.registry.unregister(topic)  # first: a wildcard must not find it half gone
        return await self.scripts.call("topics_delete", list(self.keys(topic).all()), [""])

    async def delete_if_idle(self, topic: str) -> bool:
        """Delete a topic that holds nothing (idle expiry); False when it did hold something."""
        if await self.scripts.call("topics_delete", list(self.keys(topic).all()), ["1"]) < 0:
            return False
        await self.registry.unregister(topic)
        self._registered.pop(topic, None)
        if await self.execute("EXISTS", self.keys(topic).msgs, self.keys(topic).hooks):
            await self.registry.register(topic, check=False)  # a publish raced the expiry: keep it
            return False
        return True

    # messages ---------------------------------------------------------------------------

    async def publish(self, topic: str, batch: Sequence[Outgoing], once: Once | None = None) -> list[str]:
        """Store the batch; the ids stored (with `once`, a retry's are the first call's). TooManyRequests when full."""
        k = self.keys(topic)
        packed = _lua_pack([[m.id, m.payload, m.delay_ms, m.ttl_ms, m.content_type, m.extra] for m in batch])
        reply = await self.scripts.call(
            "topics_publish", [k.seq, k.ready, k.delayed, k.expiry, k.msgs, k.meta, k.hooks, k.hookq, k.hookatt,
                               k.conf, k.groups, k.glog, k.gpend, k.gdelay],
            [self.wake_channel, topic, self.settings.topic_max_messages, packed, MAX_DELIVERIES,
             "1" if once else "0"], once=once)
        await self.due.note(topic, reply[3])
        return [i.decode() for i in reply[4:]] if once else [m.id for m in batch]

    async def broadcast(self, topic: str, message: Message) -> int:
        """Hand a message to every node's waiting consumers, storing nothing; the number of nodes listening."""
        packed = msgpack.packb([topic, message.id, message.payload, message.created_ms, message.headers],
                               use_bin_type=True)
        return await self.execute("PUBLISH", self.broadcast_channel, packed)

    async def consume(self, topic: str, limit: int, lease_ms: int, attempt: Once | None = None,
                      filter: tuple[str, str] | None = None) -> tuple[list[Message], int]:
        """Up to `limit` messages (lease_ms 0: auto-ack); with none, ms until something falls due (-1: nothing).
        With `attempt` (an Idempotency-Key), a retry while the lease holds gets the same messages.
        With `filter` (key, value), only messages whose JSON payload has that key and value."""
        keys = [*self._moving_keys(topic), attempt.key if attempt else self.key_of(topic)("idem:consume:none")]
        for _ in range(_CALL_AGAIN):  # each call drops a bounded number of expired messages
            reply = await self.scripts.call("topics_consume", keys,
                                            [limit, lease_ms, self.max_attempts(topic), self.payload_budget,
                                             attempt.fingerprint if attempt else "", *(filter or ("", ""))])
            await self._note_dead_letters(topic, reply[0])
            await self.due.note(topic, reply[2])
            if reply[1] != 0:
                break
        next_due = reply[1] if reply[1] != 0 else 1  # still expired ones ahead: look again soon
        return messages_from_reply(topic, reply), next_due

    async def ack(self, topic: str, ids: Sequence[str], once: Once | None = None) -> list[bool]:
        k = self.keys(topic)
        flags = await self.scripts.call("topics_ack", [k.inflight, k.expiry, k.msgs, k.meta, k.gpend], list(ids),
                                        once=once)
        return [flag == 1 for flag in flags]

    async def requeue(self, topic: str, id: str, fallback: Message | None,
                      once: Once | None = None) -> tuple[str, int]:
        """("requeued" | "dead_lettered" | "queued", retry_count). NotFound without a fallback to rebuild."""
        packed = b""
        if fallback is not None:
            packed = _lua_pack([fallback.payload, fallback.created_ms, fallback.retry_count,
                                fallback.content_type, fallback.tail])
        status, retry = await self.scripts.call(
            "topics_requeue", self._moving_keys(topic),
            [id, self.max_attempts(topic), self.settings.topic_max_messages, packed], once=once)
        status = status.decode()
        if status == "dead_lettered":
            await self.ensure_registered(dlq_of(topic))
        elif status == "requeued":  # ready again: a waiting consumer on any node takes it now
            await self.execute("PUBLISH", self.wake_channel, f"{topic} 1 0 -1 0")
        return status, retry

    async def peek(self, topic: str, limit: int, filter: tuple[str, str] | None = None) -> list[Message]:
        reply = await self.scripts.call("topics_peek", self._moving_keys(topic),
                                        [limit, self.max_attempts(topic), self.payload_budget, *(filter or ("", ""))])
        await self._note_dead_letters(topic, reply[0])
        return messages_from_reply(topic, reply)

    @property
    def payload_budget(self) -> int:
        """Raw payload bytes per answer: base64 makes 4 of every 3, and the budget is the answer's."""
        return max(1, self.settings.answer_max_bytes * 3 // 4)

    async def sweep(self, topic: str) -> tuple[int, int, bool]:
        """Housekeeping for a topic nobody reads: (dead-lettered, next due ms or -1, webhook work due now).
        A backlog hand-back that a dead node left unfinished (topics_unhook) is finished here."""
        k = self.keys(topic)
        _, dead, next_at, hook_due, draining = await self.scripts.call(
            "topics_sweep", [*self._moving_keys(topic), k.hookq, k.hookdrain],
            [self.max_attempts(topic), self.wake_channel, topic])
        await self._note_dead_letters(topic, dead)
        if draining:
            await self.remove_webhook(topic, "")
        return dead, next_at, bool(hook_due)

    async def counts(self, topic: str) -> TopicCounts:
        k = self.keys(topic)
        reply = await self.scripts.call("topics_stats", [k.ready, k.delayed, k.inflight, k.msgs, k.hooks, k.hookq,
                                                         k.conf, k.groups, k.hookatt])
        stored, ready, delayed, in_flight, webhooks, pending, policy, retain_ms, dropped, groups, failing = reply
        return TopicCounts(topic, stored, ready, delayed, in_flight, webhooks, pending,
                           policy.decode() or "reject", retain_ms, dropped, groups, failing)

    async def purge(self, topic: str, once: Once | None = None) -> int:
        k = self.keys(topic)
        return await self.scripts.call("topics_purge", [k.ready, k.delayed, k.inflight, k.expiry, k.msgs,
                                                        k.meta, k.hookq, k.hookatt, k.hookdrain, k.glog, k.gpend,
                                                        k.gdelay], once=once)

    async def redrive(self, dlq: str, limit: int = 1000) -> tuple[int, int]:
        """Move up to `limit` visible dead letters back to their source topic: (moved, left)."""
        d, s = self.keys(dlq), self.keys(source_of(dlq))
        moved, left, due_at = await self.scripts.call(
            "topics_redrive", [d.ready, d.expiry, d.msgs, d.meta, s.seq, s.ready, s.msgs, s.meta,
                               s.hooks, s.hookq, s.hookatt],
            [limit, self.settings.topic_max_messages, self.wake_channel, source_of(dlq), MAX_DELIVERIES])
        await self.due.note(source_of(dlq), due_at)
        return moved, left

    async def _note_dead_letters(self, topic: str, dead: int) -> None:
        if dead:
            await self.ensure_registered(dlq_of(topic))

    # webhooks ---------------------------------------------------------------------------

    @staticmethod
    def webhook_id(url: str) -> str:
        """Stable per URL, so registering a URL twice is one webhook."""
        return hashlib.sha256(url.encode()).hexdigest()[:16]

    async def add_webhook(self, topic: str, url: str, secret: str = "",
                          once: Once | None = None) -> tuple[str, bool]:
        """(id, added). Registering a URL again is the same webhook, with the secret given now
        (none: unsigned from then on), so a secret can be rotated."""
        hook_id = self.webhook_id(url)
        stored = url + HOOK_SECRET_SEPARATOR + secret if secret else url
        added = await self.scripts.call("topics_hookadd", [self.keys(topic).hooks],
                                        [hook_id, stored, MAX_WEBHOOKS], once=once)
        return hook_id, added == 1

    async def webhook_list(self, topic: str) -> list[Webhook]:
        """The topic's webhooks by id, with their secrets (callers must not show them)."""
        found = await self.execute("HGETALL", self.keys(topic).hooks)  # a dict
        return sorted((Webhook.from_stored(k.decode(), v.decode()) for k, v in found.items()), key=lambda h: h.id)

    async def webhooks(self, topic: str) -> dict[str, str]:
        """id -> url."""
        return {hook.id: hook.url for hook in await self.webhook_list(topic)}

    async def remove_webhook(self, topic: str, hook_id: str, once: Once | None = None) -> bool:
        """Removing the last webhook hands its backlog back in chunks (see topics_unhook). With
        `once`, a retry replays the first call's reply and goes on with any backlog left."""
        k = self.keys(topic)
        keys = [k.hooks, k.hookq, k.hookatt, k.seq, k.ready, k.delayed, k.meta, k.hookdrain]
        found, more, due_at = await self.scripts.call("topics_unhook", keys,
                                                      [hook_id, self.wake_channel, topic, UNHOOK_CHUNK], once=once)
        await self.due.note(topic, due_at)
        while more:
            _, more, due_at = await self.scripts.call("topics_unhook", keys,
                                                      ["", self.wake_channel, topic, UNHOOK_CHUNK])
            await self.due.note(topic, due_at)
        return found == 1

    async def claim_deliveries(self, topic: str, limit: int, lease_ms: int) -> list[HookDelivery]:
        k = self.keys(topic)
        reply = await self.scripts.call("topics_hookclaim", [k.hookq, k.hookatt, k.msgs, k.meta, k.hooks, k.expiry,
                                                             k.gpend],
                                        [limit, lease_ms])
        if len(reply) > 1:  # a node that dies mid-POST leaves these due at the lease end
            await self.due.note(topic, reply[0])
        out = []
        for i in range(1, len(reply), 5):
            member, stored, payload, meta, attempts = reply[i:i + 5]
            message_id = member.rpartition(b"|")[0]
            hook = Webhook.from_stored("", stored.decode())
            out.append(HookDelivery(member.decode(), Message.from_script(topic, message_id, payload, meta),
                                    hook.url, attempts, hook.secret))
        return out

    async def finish_delivery(self, topic: str, member: str, outcome: str, backoff_ms: int) -> str:
        k = self.keys(topic)
        d = self.keys(topic) if is_dlq(topic) else self.keys(dlq_of(topic))
        result, due_at = await self.scripts.call(
            "topics_hookdone", [k.hookq, k.hookatt, k.msgs, k.meta, k.expiry, d.seq, d.ready, d.msgs, d.meta, k.gpend],
            [member, outcome, self.settings.webhook_max_attempts, backoff_ms])
        await self.due.note(topic, due_at)
        result = result.decode()
        if result == "dead_lettered":
            await self.ensure_registered(dlq_of(topic) if not is_dlq(topic) else topic)
        return result

    # consumer groups ---------------------------------------------------------------------

    def _group_keys(self, topic: str, group: str) -> list[bytes]:
        """The twelve keys of includes/topics_group: the topic's, then the group's own."""
        k = self.keys(topic)
        g = group_keys(self.keyspace, topic, group)
        return [k.seq, k.msgs, k.meta, k.expiry, k.groups, k.glog, k.gpend, k.gdelay,
                *(key.encode() for key in g.all())]

    async def create_group(self, topic: str, group: str) -> bool:
        """Create a group (Conflict past MAX_GROUPS); it receives what is published from now on.
        False: it existed. A consume with ?group= creates its group too."""
        k = self.keys(topic)
        return await self.registered_while(
            topic, self.scripts.call("topics_gcreate", [k.groups, k.seq], [group, MAX_GROUPS])) == 1

    async def groups(self, topic: str) -> list[str]:
        return sorted(name.decode() for name in await self.execute("HKEYS", self.keys(topic).groups))

    async def group_consume(self, topic: str, group: str, limit: int, lease_ms: int) -> tuple[list[Message], int]:
        """Up to `limit` messages for a member of `group` (created if new); with none, ms until
        something falls due (-1: nothing)."""
        keys = self._group_keys(topic, group)
        for _ in range(_CALL_AGAIN):  # each call looks at a bounded number of log entries
            reply = await self.scripts.call("topics_gconsume", keys, [group, limit, lease_ms, self.max_attempts(topic),
                                                                      self.payload_budget, MAX_GROUPS])
            if reply[1] != 0:
                break
        return messages_from_reply(topic, reply), reply[1] if reply[1] != 0 else 1

    async def group_ack(self, topic: str, group: str, ids: Sequence[str], once: Once | None = None) -> list[bool]:
        flags = await self.scripts.call("topics_gack", self._group_keys(topic, group), list(ids), once=once)
        return [flag == 1 for flag in flags]

    async def group_requeue(self, topic: str, group: str, id: str, once: Once | None = None) -> tuple[str, int]:
        status, retry = await self.scripts.call("topics_grequeue", self._group_keys(topic, group),
                                                [id, self.max_attempts(topic)], once=once)
        if status == b"requeued":  # wakes the topic's uncounted waiters, group members among them
            await self.execute("PUBLISH", self.wake_channel, f"{topic} 0 0 -1 0 1")
        return status.decode(), retry

    async def group_redrive(self, topic: str, group: str) -> tuple[int, int]:
        """Up to GROUP_REDRIVE of the group's dead letters back to it: (moved, left)."""
        moved, left = await self.scripts.call("topics_gredrive", self._group_keys(topic, group), [GROUP_REDRIVE])
        if moved:
            await self.execute("PUBLISH", self.wake_channel, f"{topic} 0 0 -1 0 {moved}")
        return moved, left

    async def group_counts(self, topic: str, group: str) -> GroupCounts | None:
        exists, backlog, ready, in_flight, dead, _ = await self.scripts.call(
            "topics_gstats", self._group_keys(topic, group), [group])
        return GroupCounts(group, backlog, ready, in_flight, dead) if exists else None

    async def drop_groups(self, topic: str) -> None:
        """Unlink every group's own keys (before the topic's, on delete)."""
        for group in await self.groups(topic):
            await self.execute("UNLINK", *(key.encode() for key in group_keys(self.keyspace, topic, group).all()))

    async def execute(self, *command: Any) -> Any:
        return await self.scripts.execute(*command)
