"""TinyMQ 3's admin API, the /api/queues family and /api/cluster/status, as its `tmq` CLI, Go SDK
and dashboard call them (paths, query parameters and bodies of TinyMQ 3.1.6).

Where seed 002 and TinyMQ 3 differ the seed's rules win: an empty consume is 404 (TinyMQ 3:
204), a bad duration is 400 (TinyMQ 3 ignores it), names follow the seed's pattern. Every
handler calls TopicStore's public methods; nothing here touches Redis keys.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any

from aiohttp import web

from microq import idempotency
from microq.appkeys import SETTINGS
from microq.errors import BadRequest, Conflict, NotFound
from microq.http import read_object
from microq.topics import api, params
from microq.topics.appkeys import HOUSEKEEPER, TOPICS
from microq.topics.messages import Message, iso_ms, new_ids
from microq.topics.names import check_topic, dlq_of, is_dlq, source_of
from microq.topics.store import Outgoing, TopicStore
from microq.topics.webhooks import check_webhook_secret, check_webhook_url

routes = web.RouteTableDef()

_STAT_FIELDS = ("Name", "MessageCount", "WaitingConsumers", "IsDLQ", "HasWebhooks")  #: TinyMQ 3's TopicStat
REDRIVE_ROUNDS = 1000  #: script calls one redrive makes at most (each moves up to 1000 messages)
_ALIVE_MS = 3000  #: a peer whose last heartbeat is older is reported dead (the housekeeper beats every second)
#: how long a keyed /api/queues/consume keeps its answer (the message, payload included) for a retry:
#: the message is gone from the topic once taken, so the answer is all a retry can get back
CONSUME_REMEMBERED_MS = 10 * 60 * 1000


def _queue(request: web.Request) -> str:
    name = request.query.get("queue")
    if not name:
        raise BadRequest("missing queue")
    return check_topic(name, "queue")


def _optional_duration_ms(data: dict[str, Any], name: str) -> int:
    """A duration field of a JSON body; absent, null or "" (the dashboard's empty input) is none."""
    value = data.get(name)
    if value is None or value == "":
        return 0
    return params.duration_value_ms(value, name)


async def _existing(store: TopicStore, topic: str) -> str:
    if not await store.exists(topic):
        raise NotFound(f"queue {topic} not found")
    return topic


# list and create ------------------------------------------------------------------------

@routes.get("/api/queues")
async def list_queues(request: web.Request) -> web.Response:
    """TinyMQ 3: the /api/stats rows (the same topics, the same bound on them) as a bare JSON
    array of TinyMQ 3's five fields."""
    answer = json.loads((await api.stats(request)).text)
    return web.json_response([{key: row[key] for key in _STAT_FIELDS} for row in answer["stats"]])


@routes.post("/api/queues")
async def create_queue(request: web.Request) -> web.Response:
    """TinyMQ 3's POST /api/queues (its dashboard's "new queue"): {"name", "policy", "retain"}."""
    data = await read_object(request, empty_ok=False)
    name = check_topic(data.get("name"))
    policy, retain_ms = api.overflow_and_retention(data)
    store = request.app[TOPICS]
    if not await store.create(name, await idempotency.once_for(request, store.registry.key_of(name)),
                              policy, retain_ms):
        raise Conflict(f"topic {name} already exists")
    return web.json_response({"status": "topic_created", "name": name}, status=201)


# publish and consume --------------------------------------------------------------------

@routes.post("/api/queues/publish")
async def publish(request: web.Request) -> web.Response:
    """{"queue", "payload" (the message as text, not base64), "ttl", "delay", "broadcast"} -> 202."""
    data = await read_object(request, empty_ok=False)
    if not data.get("queue"):
        raise BadRequest("missing queue")
    topic = check_topic(data["queue"], "queue")
    payload = data.get("payload")
    if not isinstance(payload, str):
        raise BadRequest("payload must be a string (the message text)")
    body = payload.encode("utf-8", "surrogateescape")
    if not body:
        raise BadRequest("empty payload")
    ttl_ms, delay_ms = _optional_duration_ms(data, "ttl"), _optional_duration_ms(data, "delay")
    broadcast = data.get("broadcast", False)
    if not isinstance(broadcast, bool):
        raise BadRequest("broadcast must be true or false")
    store = request.app[TOPICS]
    (message_id,) = new_ids(1)
    await store.ensure_registered(topic)
    if broadcast:  # stores nothing: nothing to apply twice (as /publish, the key is ignored)
        await store.broadcast(topic, Message(message_id, topic, body, int(time.time() * 1000), 0))
    else:
        once = await idempotency.once_for(request, store.key_of(topic))
        (message_id,) = await store.publish(topic, [Outgoing(message_id, body, delay_ms, ttl_ms)], once)
    return web.json_response({"status": "accepted", "queue": topic, "id": message_id}, status=202)


@routes.post("/api/queues/consume")
async def consume(request: web.Request) -> web.Response:
    """{"queue"} -> one message, acknowledged as it is taken (TinyMQ 3 acks it too); 404 when empty."""
    data = await read_object(request, empty_ok=False)
    if not data.get("queue"):
        raise BadRequest("missing queue")
    topic = check_topic(data["queue"], "queue")
    store = request.app[TOPICS]
    once = await idempotency.once_for(request, store.key_of(topic))
    if once is not None:  # a retry gets the message the first call took, which is gone from the topic
        once = dataclasses.replace(once, ttl_ms=CONSUME_REMEMBERED_MS)
    return await api.at_most_once(request, once, lambda: _consume_one(store, topic))


async def _consume_one(store: TopicStore, topic: str) -> dict[str, Any]:
    messages, _ = await store.consume(topic, 1, 0)
    if not messages:
        raise NotFound("no messages available")
    return messages[0].to_json()


# purge, delete, redrive ----------------------------------------------------------------

@routes.delete("/api/queues/purge")
@routes.post("/api/queues/purge")
async def purge(request: web.Request) -> web.Response:
    """`tmq purge <queue>`: DELETE ?queue= -> 200; 404 for a queue that does not exist."""
    store = request.app[TOPICS]
    topic = await _existing(store, _queue(request))
    deleted = await store.purge(topic, await idempotency.once_for(request, store.key_of(topic)))
    return web.json_response({"status": "purged", "queue": topic, "deleted": deleted})


@routes.delete("/api/queues/delete")
@routes.post("/api/queues/delete")
async def delete(request: web.Request) -> web.Response:
    """`tmq rm <queue>`: DELETE ?queue= -> 200; 404 for a queue that does not exist. As DELETE
    /api/topics/{name}: its name, messages, webhooks and delivery state; its `.dlq` stays."""
    store = request.app[TOPICS]
    topic = _queue(request)
    once = await idempotency.once_for(request, store.key_of(topic))
    return await api.at_most_once(request, once, lambda: _delete(store, topic))


async def _delete(store: TopicStore, topic: str) -> dict[str, Any]:
    await _existing(store, topic)
    return {"status": "deleted", "queue": topic, "deleted": await store.delete(topic)}


@routes.post("/api/queues/redrive")
async def redrive(request: web.Request) -> web.Response:
    """`tmq dlq redrive <topic>`: ?queue= names the topic or its `.dlq`; its dead letters go back."""
    name = _queue(request)
    dlq = name if is_dlq(name) else dlq_of(name)
    if is_dlq(source_of(dlq)):
        raise BadRequest("a dead-letter topic of a dead-letter topic cannot be redriven")
    dlq = check_topic(dlq, "queue")
    store = request.app[TOPICS]
    once = await idempotency.once_for(request, store.key_of(dlq))
    return await api.at_most_once(request, once, lambda: _redrive(store, dlq))


async def _redrive(store: TopicStore, dlq: str) -> dict[str, Any]:
    if not await store.exists(dlq):
        raise NotFound(f"DLQ topic {dlq} not found")
    await store.ensure_registered(source_of(dlq))
    total = 0
    for _ in range(REDRIVE_ROUNDS):
        moved, left = await store.redrive(dlq)
        total += moved
        if not moved or not left:
            break
    return {"status": "success", "redriven_messages": total}


# webhooks -------------------------------------------------------------------------------

@routes.get("/api/queues/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    """`tmq webhook list <topic>`: a bare JSON array of the topic's webhook URLs."""
    hooks = await request.app[TOPICS].webhooks(_queue(request))
    return web.json_response(sorted(hooks.values()))


@routes.post("/api/queues/webhooks")
async def add_webhook(request: web.Request) -> web.Response:
    """Extension in the family's shape: {"queue", "url"} -> 201 (TinyMQ 3 adds through POST /webhook/{topic})."""
    data = await read_object(request, empty_ok=False)
    if not data.get("queue"):
        raise BadRequest("missing queue")
    topic = check_topic(data["queue"], "queue")
    url = check_webhook_url(data.get("url"), request.app[SETTINGS].webhook_allow_private)
    secret = check_webhook_secret(data.get("secret"))
    store = request.app[TOPICS]
    await store.ensure_registered(topic)
    hook_id, _ = await store.add_webhook(topic, url, secret, await idempotency.once_for(request, store.key_of(topic)))
    return web.json_response({"status": "webhook_registered", "queue": topic, "id": hook_id, "url": url,
                              "has_secret": bool(secret)}, status=201)


@routes.delete("/api/queues/webhooks")
async def remove_webhook(request: web.Request) -> web.Response:
    """Extension: ?queue=&url= removes that webhook (TinyMQ 3 has no way to remove one)."""
    topic = _queue(request)
    url = (request.query.get("url") or "").strip()
    if not url:
        raise BadRequest("missing url")
    hook_id = TopicStore.webhook_id(url)
    store = request.app[TOPICS]
    if not await store.remove_webhook(topic, hook_id, await idempotency.once_for(request, store.key_of(topic))):
        raise NotFound("webhook not found")
    return web.json_response({"status": "webhook_removed", "queue": topic, "id": hook_id})


# cluster --------------------------------------------------------------------------------

@routes.get("/api/cluster/status")
async def cluster_status(request: web.Request) -> web.Response:
    """TinyMQ 3's Raft view, answered for MicroQ: there is no leader to find, every node serves
    every request from the shared Redis, so each node reports itself as the one to talk to
    ("leader", at its own address) and the other nodes heard from in the last minute as peers."""
    housekeeper = request.app[HOUSEKEEPER]
    now = int(time.time() * 1000)
    peers = []
    for node, seen in sorted((await _heartbeats(request.app[TOPICS], housekeeper)).items()):
        if node != housekeeper.node:
            peers.append({"address": node, "alive": now - seen <= _ALIVE_MS, "last_seen": iso_ms(seen)})
    return web.json_response({
        "clustering_enabled": True, "role": "leader", "term": 0, "leader_http": request.host,
        "peers": peers, "node": housekeeper.node,
        "mode": "stateless nodes sharing one Redis: any node serves any request",
    })


async def _heartbeats(store: TopicStore, housekeeper) -> dict[str, int]:
    """node id -> its last topics heartbeat (ms), from the housekeeper's heartbeat sorted set(s)
    (one, or one per bucket of nodes)."""
    keys = getattr(housekeeper, "nodes_keys", None) or [housekeeper.nodes_key]
    replies = await asyncio.gather(*(store.execute("ZRANGE", key, 0, -1, "WITHSCORES") for key in keys))
    beats: dict[str, int] = {}
    for reply in replies:
        if reply and not isinstance(reply[0], (list, tuple)):
            reply = list(zip(reply[::2], reply[1::2]))  # RESP2: member, score, member, score, ...
        for node, score in reply or []:
            beats[node.decode() if isinstance(node, bytes) else str(node)] = int(float(score))
    return beats
