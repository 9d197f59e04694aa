"""The TinyMQ HTTP API (seed 002) and its extensions: validate, call the store, serialise."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from typing import Any, Sequence

from aiohttp import web

from microq import idempotency
from microq.appkeys import SETTINGS
from microq.errors import REDIS_AWAY, BadRequest, Conflict, NotFound
from microq.errors import unavailable as redis_unavailable
from microq.http import read_json, read_object
from microq.topics import extras, params
from microq.topics.appkeys import HOUSEKEEPER, TOPICS, WAIT_ROOM, WEBHOOKS
from microq.topics.messages import Message, new_ids, parse_iso_ms
from microq.topics.names import check_topic, check_topic_or_pattern, dlq_of, is_dlq, is_pattern, source_of
from microq.topics.registry import BUCKETS, bucket_of
from microq.topics.store import Outgoing, TopicStore
from microq.topics.webhooks import check_webhook_secret, check_webhook_url

routes = web.RouteTableDef()

MAX_BATCH = 1000
MAX_VISIBILITY = 12 * 3600.0
_CONTENT_TYPE_MAX = 200
WILDCARD_TOPICS = 1000  #: matching topics one look of a wildcard consume visits (woken ones first)
STATS_PAGE = 1000  #: topics per /api/stats answer (and the most ?limit= may ask for)
_STREAM_ABOVE = 256 * 1024  #: answers estimated larger are written a message at a time


def _content_type(request: web.Request) -> str:
    # a raw non-UTF-8 header arrives as lone surrogates, which cannot be stored
    return params.content_type(request.headers.get("Content-Type", "")[:_CONTENT_TYPE_MAX])


# publish --------------------------------------------------------------------------------

AUTO_WINDOW_MS = 5 * 60 * 1000  #: ?idempotency=auto remembers content this long (TinyMQ 3's window)


async def _publish_once(request: web.Request, store: TopicStore, topic: str, body: bytes) -> idempotency.Once | None:
    """The Once of a publish: ?idempotency=auto keys it by the body's SHA-256 for AUTO_WINDOW_MS
    (the same content again is a duplicate, whatever its query, as TinyMQ 3); else the request's
    Idempotency-Key, if any (24 h; the same key with another request is 422)."""
    mode = request.query.get("idempotency")
    if mode is None or mode == "":
        return await idempotency.once_for(request, store.key_of(topic))
    if mode != "auto":
        raise BadRequest("invalid idempotency: the one mode is auto")
    digest = hashlib.sha256(body).hexdigest()
    return idempotency.Once(store.key_of(topic)("idem:auto:" + digest[:32]), digest, AUTO_WINDOW_MS)


def _ignored(topic: str, **first: Any) -> web.Response:
    """TinyMQ 3's answer to a publish it already has, with the ids the first one stored."""
    return web.json_response({"status": "ignored", "reason": "idempotency_key_exists", "topic": topic, **first})

@routes.post("/publish")
@routes.post("/publish/")
@routes.get("/consume")
@routes.get("/consume/")
@routes.post("/webhook")
@routes.post("/webhook/")
async def missing_topic(request: web.Request) -> web.Response:
    """The seed's "400: missing topic" (an empty {topic} matches no route; a 404 from /consume
    would read as "no messages")."""
    raise BadRequest("missing topic")


@routes.post("/publish/{topic}")
async def publish(request: web.Request) -> web.Response:
    topic = check_topic(request.match_info["topic"])
    query = request.query
    ttl_ms = params.duration_ms(query, "ttl")
    delay_ms = params.duration_ms(query, "delay")
    broadcast = params.flag(query, "broadcast")
    prio = extras.priority(query.get("priority"))
    headers = extras.request_headers(request.headers)
    content_type = _content_type(request)
    body = await request.read()
    if not body:
        raise BadRequest("empty payload")
    store = request.app[TOPICS]
    (message_id,) = new_ids(1)
    if broadcast:
        message = Message(message_id, topic, body, int(time.time() * 1000), 0, headers=headers)
        await store.registered_while(topic, store.broadcast(topic, message))
        return web.json_response({"status": "accepted", "topic": topic, "id": message_id, "broadcast": True},
                                 status=202)
    once = await _publish_once(request, store, topic, body)
    outgoing = Outgoing(message_id, body, delay_ms, ttl_ms, content_type, extras.tail(prio, headers, delay_ms))
    (stored,) = await store.registered_while(topic, store.publish(topic, [outgoing], once))
    if stored != message_id:  # the first publish's id: this one is a duplicate, nothing was stored
        return _ignored(topic, id=stored)
    return web.json_response({"status": "accepted", "topic": topic, "id": message_id}, status=202)


@routes.post("/publish/{topic}/batch")
async def publish_batch(request: web.Request) -> web.Response:
    """Extension: many messages in one request and one script call, all or nothing. The request's
    X-MQ-* headers and ?priority= apply to every message; an item's "headers" object adds to (and
    overrides) them, its "priority" replaces the query's."""
    topic = check_topic(request.match_info["topic"])
    ttl_ms = params.duration_ms(request.query, "ttl")
    delay_ms = params.duration_ms(request.query, "delay")
    prio = extras.priority(request.query.get("priority"))
    headers = extras.request_headers(request.headers)
    data = await read_json(request)
    items = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise BadRequest(f"body must be a JSON list of 1-{MAX_BATCH} messages, or {{\"messages\": [...]}}")
    batch = []
    ids = new_ids(len(items))
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"messages[{index}] must be an object with a base64 payload")
        payload = params.base64_payload(item.get("payload"), f"messages[{index}].payload")
        item_ttl = params.duration_value_ms(item["ttl"], f"messages[{index}].ttl") if "ttl" in item else ttl_ms
        item_delay = (params.duration_value_ms(item["delay"], f"messages[{index}].delay")
                      if "delay" in item else delay_ms)
        content_type = params.content_type(item.get("content_type", ""), f"messages[{index}].content_type")
        item_prio = extras.priority(item["priority"], f"messages[{index}].priority") if "priority" in item else prio
        item_headers = headers
        if item.get("headers") is not None:
            if not isinstance(item["headers"], dict):
                raise BadRequest(f"messages[{index}].headers must be an object of X-MQ-* names to strings")
            own = extras.check_headers(item["headers"].items(), f"messages[{index}].headers")
            item_headers = extras.check_headers([*own.items(), *headers.items()], f"messages[{index}].headers")
        batch.append(Outgoing(ids[index], payload, item_delay, item_ttl, content_type,
                              extras.tail(item_prio, item_headers, item_delay)))
    store = request.app[TOPICS]
    once = await _publish_once(request, store, topic, await request.read())
    stored = await store.registered_while(topic, store.publish(topic, batch, once))
    if stored != ids:
        return _ignored(topic, count=len(stored), ids=stored)
    return web.json_response({"status": "accepted", "topic": topic, "count": len(stored), "ids": stored},
                             status=202)


# consume --------------------------------------------------------------------------------

class _Take:
    """What one look at a topic or pattern found."""

    __slots__ = ("messages", "next_due", "unavailable")

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.next_due = -1
        self.unavailable: set[int] = set()  #: registry buckets of topics that could not be read


async def _take(store: TopicStore, name: str, limit: int, lease_ms: int, woken: str | None,
                attempt: idempotency.Once | None = None, filter: tuple[str, str] | None = None,
                group: str | None = None) -> _Take:
    """Messages from a topic or from existing topics matching a pattern; with none, ms to the next due."""
    found = _Take()
    if group is not None:
        found.messages, found.next_due = await store.group_consume(name, group, limit, lease_ms)
        return found
    if not is_pattern(name):
        found.messages, found.next_due = await store.consume(name, limit, lease_ms, attempt, filter)
        return found
    await store.registry.refresh()
    found.unavailable.update(store.registry.unavailable)
    topics = await store.registry.index.matching(name)
    if topics:  # start at a random topic so a busy one cannot starve the others; a woken one first
        start = random.randrange(len(topics))
        topics = topics[start:] + topics[:start]
        if woken in topics:
            topics.remove(woken)
            topics.insert(0, woken)
    for topic in topics[:WILDCARD_TOPICS]:
        try:
            messages, due = await store.consume(topic, limit - len(found.messages), lease_ms, None, filter)
        except REDIS_AWAY:  # that topic's Redis node is down: answer with the others
            found.unavailable.add(bucket_of(topic))
            continue
        found.messages.extend(messages)
        if len(found.messages) >= limit:
            break
        if due >= 0 and (found.next_due < 0 or due < found.next_due):
            found.next_due = due
    return found


async def _answer(request: web.Request, messages: Sequence[Message], single: bool,
                  headers: dict[str, str] | None = None, qol: bool = True) -> web.StreamResponse:
    """The messages as JSON; a large answer is written a message at a time, yielding between them."""
    # base64 and, with `qol`, payload_text: up to 4/3 + 1 times the payload
    if sum(len(m.payload) for m in messages) * 7 // 3 < _STREAM_ABOVE:
        body = messages[0].to_json(qol) if single else [m.to_json(qol) for m in messages]
        return web.json_response(body, headers=headers)
    response = web.StreamResponse(headers=headers)
    response.content_type = "application/json"
    response.charset = "utf-8"
    await response.prepare(request)
    if single:
        await response.write(json.dumps(messages[0].to_json(qol)).encode())
    else:
        for i, message in enumerate(messages):
            await response.write((b"[" if i == 0 else b", ") + json.dumps(message.to_json(qol)).encode())
        await response.write(b"]")
    await response.write_eof()
    return response


def _unavailable_header(unavailable: set[int]) -> dict[str, str] | None:
    return {"X-MicroQ-Unavailable-Buckets": ",".join(map(str, sorted(unavailable)))} if unavailable else None


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


# no HEAD: it would take messages (and with auto_ack, delete them) and send no body
@routes.get("/consume/{topic}", allow_head=False)
async def consume(request: web.Request) -> web.Response:
    name = check_topic_or_pattern(request.match_info["topic"])
    settings = request.app[SETTINGS]
    query = request.query
    timeout = params.duration_ms(query, "timeout") / 1000
    timeout = min(timeout, settings.consume_max_timeout)
    limit = params.whole_number(query, "limit", 1, 1, MAX_BATCH)
    auto_ack = params.flag(query, "auto_ack")
    visibility_ms = params.duration_ms(query, "visibility", settings.visibility_timeout, MAX_VISIBILITY)
    if visibility_ms <= 0:
        raise BadRequest("invalid visibility: must be more than 0")
    lease_ms = 0 if auto_ack else visibility_ms
    store, room = request.app[TOPICS], request.app[WAIT_ROOM]
    filter = params.json_filter(query)
    group = _group_of(request, name)
    if params.flag(query, "peek"):
        if group is not None:
            raise BadRequest("peek=true reads the topic's queue: it takes no group")
        return await _peek_consume(request, name, limit, filter)
    attempt = None
    if group is not None:
        if filter is not None or idempotency.header_key(request) is not None:
            raise BadRequest("a group consume takes no filter_key and no Idempotency-Key")
        await store.ensure_registered(name)
    elif idempotency.header_key(request) is not None:
        if is_pattern(name) or auto_ack:  # the ids are kept under a lease in one topic's slot
            raise BadRequest("Idempotency-Key on consume needs one topic (no wildcard) and a lease (no auto_ack)")
        attempt = await idempotency.once_for(request, store.key_of(name))

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    # registered before the first look, so a publish landing during that look still wakes it
    # a group member may find nothing new in a wake-up (another member took it): it uses up none
    counted = filter is None and group is None
    waiter = room.add(name, counted=counted) if timeout > 0 and not room.closing else None
    messages: list[Message] = []
    unavailable: set[int] = set()
    try:
        while True:
            woken = None
            if waiter is not None:
                woken = waiter.woken_by
                waiter.event.clear()
            found = await _take(store, name, limit, lease_ms, woken, attempt, filter, group)
            messages, next_due, unavailable = found.messages, found.next_due, found.unavailable
            if messages:
                break
            if waiter is not None and waiter.broadcast is not None:
                messages = [waiter.broadcast]
                break
            remaining = deadline - loop.time()
            if waiter is None or room.closing or remaining <= 0:
                break
            wait = remaining if next_due < 0 else min(remaining, next_due / 1000)
            try:
                await asyncio.wait_for(waiter.event.wait(), wait)
            except asyncio.TimeoutError:
                pass
            if room.closing or _gone(request):
                break  # a client that hung up must not be handed (and lose) a message
    finally:
        if waiter is not None:
            room.remove(waiter)
            if not messages and waiter.counted and waiter.event.is_set() and waiter.woken_by and not room.closing:
                # woken for a message it will not take (its client hung up): another waiter
                # must get that wake-up, or it sleeps to its timeout beside a ready message
                room.wake(waiter.woken_by, 1)
    headers = _unavailable_header(unavailable)
    if not messages:
        _all_unreachable(unavailable)
        if unavailable:  # the seed's 404, saying which part of the answer is missing
            return web.json_response({"error": "no messages available", "unavailable_buckets": sorted(unavailable)},
                                     status=404, headers=headers)
        raise NotFound("no messages available")
    return await _answer(request, messages, limit == 1, headers)


def _group_of(request: web.Request, topic: str, data: dict | None = None) -> str | None:
    """TinyMQ 3's ?group= (on requeue also a "group" body field): None without one."""
    group = request.query.get("group")
    if group is None and data is not None:
        group = data.get("group")
    if group is None or group == "":
        return None
    group = check_topic(group, "group")
    if is_pattern(topic) or is_dlq(topic):
        raise BadRequest("consumer groups read one topic: not a wildcard pattern or a .dlq topic")
    return group


async def _peek_consume(request: web.Request, name: str, limit: int,
                        filter: tuple[str, str] | None) -> web.StreamResponse:
    """TinyMQ 3's ?peek=true: the next messages, neither leased nor removed; 404 when none (the
    seed's empty consume; TinyMQ 3 says 204). It does not wait: a timeout is ignored."""
    if is_pattern(name):
        raise BadRequest("peek=true takes one topic, not a wildcard pattern")
    messages = await request.app[TOPICS].peek(name, limit, filter)
    if not messages:
        raise NotFound("no messages available")
    return await _answer(request, messages, limit == 1)


# ack and requeue ------------------------------------------------------------------------

@routes.post("/ack/{topic}/{id}")
async def ack(request: web.Request) -> web.Response:
    topic = check_topic(request.match_info["topic"])
    message_id = params.message_id(request.match_info["id"])
    store = request.app[TOPICS]
    once = await idempotency.once_for(request, store.key_of(topic))
    group = _group_of(request, topic)
    if group is not None:
        (done,) = await store.group_ack(topic, group, [message_id], once)
    else:
        (done,) = await store.ack(topic, [message_id], once)
    if not done:
        raise NotFound("message not found or already acknowledged")
    return web.json_response({"status": "success", "message": "Message acknowledged"})


@routes.post("/ack/{topic}")
async def ack_batch(request: web.Request) -> web.Response:
    """Extension: acknowledge many ids in one request and one script call."""
    topic = check_topic(request.match_info["topic"])
    data = await read_json(request)
    ids = data.get("ids") if isinstance(data, dict) else data
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH:
        raise BadRequest(f"body must be a JSON list of 1-{MAX_BATCH} ids, or {{\"ids\": [...]}}")
    ids = [params.message_id(i, f"ids[{n}]") for n, i in enumerate(ids)]
    store = request.app[TOPICS]
    once = await idempotency.once_for(request, store.key_of(topic))
    group = _group_of(request, topic)
    flags = await (store.group_ack(topic, group, ids, once) if group is not None else store.ack(topic, ids, once))
    missing = [i for i, done in zip(ids, flags) if not done]
    return web.json_response({"status": "success", "acknowledged": len(ids) - len(missing), "not_found": missing})


@routes.post("/requeue")
async def requeue(request: web.Request) -> web.Response:
    data = await read_object(request, empty_ok=False)
    if "id" not in data or "topic" not in data:
        raise BadRequest("missing id or topic")
    message_id = params.message_id(data["id"])
    topic = check_topic(data["topic"])
    store = request.app[TOPICS]
    group = _group_of(request, topic, data)
    if group is not None:  # a group's copy is the log's: nothing to rebuild from the request
        once = await idempotency.once_for(request, store.key_of(topic))
        status, retry_count = await store.group_requeue(topic, group, message_id, once)
        return web.json_response({"status": status, "id": message_id, "topic": topic, "group": group,
                                  "retry_count": retry_count}, status=202)
    fallback = None
    if data.get("payload") is not None:
        retry = data.get("retry_count", 0)
        if isinstance(retry, bool) or not isinstance(retry, int) or not 0 <= retry <= 1_000_000:
            raise BadRequest("retry_count must be a whole number >= 0")
        now = int(time.time() * 1000)
        # never after now: a far-future time (year 9999) has 15 digits, which Lua's number
        # formatting writes as 2.5e+14 in the metadata, and the message could never be read again
        created = min(parse_iso_ms(data.get("timestamp")) or now, now)
        headers = data.get("headers") or {}
        if not isinstance(headers, dict):
            raise BadRequest("headers must be an object of X-MQ-* names to strings")
        fallback = Message(message_id, topic, params.base64_payload(data["payload"]), created, retry,
                           priority=extras.priority_name(data.get("priority")),
                           headers=extras.check_headers(headers.items()))
    if not await store.exists(topic):
        raise NotFound(f"topic {topic} does not exist")
    once = await idempotency.once_for(request, store.key_of(topic))
    status, retry_count = await store.requeue(topic, message_id, fallback, once)
    body: dict[str, Any] = {"status": status, "id": message_id, "topic": topic, "retry_count": retry_count}
    if status == "dead_lettered":
        body["dlq"] = dlq_of(topic)
    return web.json_response(body, status=202)


# webhooks -------------------------------------------------------------------------------

@routes.post("/webhook/{topic}")
async def add_webhook(request: web.Request) -> web.Response:
    topic = check_topic(request.match_info["topic"])
    data = await read_object(request, empty_ok=False)
    url = check_webhook_url(data.get("url"), request.app[SETTINGS].webhook_allow_private)
    secret = check_webhook_secret(data.get("secret"))
    store = request.app[TOPICS]
    await store.ensure_registered(topic)
    hook_id, _ = await store.add_webhook(topic, url, secret, await idempotency.once_for(request, store.key_of(topic)))
    return web.json_response({"status": "webhook_registered", "id": hook_id, "url": url,
                              "has_secret": bool(secret)}, status=201)


@routes.get("/webhook/{topic}")
async def list_webhooks(request: web.Request) -> web.Response:
    """Extension: the topic's webhooks (whether each has a secret, never the secret)."""
    topic = check_topic(request.match_info["topic"])
    hooks = await request.app[TOPICS].webhook_list(topic)
    return web.json_response({"topic": topic, "webhooks": [{"id": h.id, "url": h.url, "has_secret": bool(h.secret)}
                                                           for h in hooks]})


@routes.delete("/webhook/{topic}/{hook_id}")
async def remove_webhook(request: web.Request) -> web.Response:
    """Extension: remove a webhook by the id its registration returned."""
    topic = check_topic(request.match_info["topic"])
    return await _remove_webhook(request, topic, request.match_info["hook_id"][:64])


@routes.delete("/webhook/{topic}")
async def remove_webhook_by_url(request: web.Request) -> web.Response:
    """Extension: remove a webhook by its URL (?url=...)."""
    topic = check_topic(request.match_info["topic"])
    url = request.query.get("url")
    if not url:
        raise BadRequest("missing url")
    return await _remove_webhook(request, topic, TopicStore.webhook_id(url.strip()))


async def _remove_webhook(request: web.Request, topic: str, hook_id: str) -> web.Response:
    store = request.app[TOPICS]
    if not await store.remove_webhook(topic, hook_id, await idempotency.once_for(request, store.key_of(topic))):
        raise NotFound("webhook not found")
    return web.json_response({"status": "webhook_removed", "id": hook_id})


# topics, stats, peek --------------------------------------------------------------------

POLICIES = ("reject", "drop-oldest")  #: TinyMQ 3's overflow policies


def overflow_and_retention(data: dict) -> tuple[str, int]:
    """TinyMQ 3's `policy` and `retain` of a new topic (POST /api/topics, POST /api/queues)."""
    policy = data.get("policy") or "reject"
    if policy not in POLICIES:
        raise BadRequest("invalid policy: use reject or drop-oldest")
    retain = data.get("retain")
    return policy, params.duration_value_ms(retain, "retain") if retain not in (None, "") else 0


@routes.post("/api/topics")
async def create_topic(request: web.Request) -> web.Response:
    data = await read_object(request, empty_ok=False)
    name = check_topic(data.get("name"))
    policy, retain_ms = overflow_and_retention(data)
    store = request.app[TOPICS]
    once = await idempotency.once_for(request, store.registry.key_of(name))
    if not await store.create(name, once, policy, retain_ms):
        raise Conflict(f"topic {name} already exists")
    return web.json_response({"status": "created", "name": name}, status=201)


def _all_unreachable(unavailable: set[int]) -> None:
    """A partial answer names what is missing; with nothing reachable (a single Redis down) it is a 503."""
    if len(unavailable) >= BUCKETS:
        raise redis_unavailable("no topic registry bucket answers")


@routes.get("/api/stats")
async def stats(request: web.Request) -> web.Response:
    """The seed's answer; past STATS_PAGE topics (or with ?limit=) a page, and next_cursor for the next."""
    store = request.app[TOPICS]
    cursor = request.query.get("cursor", "")
    if cursor:
        check_topic(cursor, "cursor")
    limit = params.whole_number(request.query, "limit", STATS_PAGE, 1, STATS_PAGE)
    await store.registry.refresh(0.0)  # what Redis holds now: a dead Redis is a 503, not a stale list
    index = store.registry.index
    topics = index.page(cursor, limit + 1)
    more = len(topics) > limit
    topics = topics[:limit]
    # a dead-letter topic's count shows on its source's row, wherever the page ends
    extra = [dlq_of(t) for t in topics if not is_dlq(t) and dlq_of(t) in index and dlq_of(t) not in topics]
    counts, waiting = await asyncio.gather(
        asyncio.gather(*(store.counts(t) for t in (*topics, *extra)), return_exceptions=True),
        request.app[HOUSEKEEPER].waiting(topics))
    unavailable = set(store.registry.unavailable)
    by_name = {}
    for name, c in zip((*topics, *extra), counts):
        if isinstance(c, REDIS_AWAY):  # that topic's Redis node is down: the others still answer
            unavailable.add(bucket_of(name))
        elif isinstance(c, BaseException):
            raise c
        else:
            by_name[name] = c
    rows = []
    shown = [by_name[t] for t in topics if t in by_name]
    grouped = [c.name for c in shown if c.groups]
    group_rows = dict(zip(grouped, await asyncio.gather(*(_group_rows(store, t) for t in grouped))))
    for c in shown:
        dlq = None if is_dlq(c.name) else by_name.get(dlq_of(c.name))
        rows.append({
            "Name": c.name, "MessageCount": c.stored, "WaitingConsumers": waiting.get(c.name, 0),
            "IsDLQ": is_dlq(c.name), "HasWebhooks": c.webhooks > 0,
            "Ready": c.ready, "InFlight": c.in_flight, "Delayed": c.delayed, "Webhooks": c.webhooks,
            "PendingDeliveries": c.pending_deliveries, "FailingDeliveries": c.failing_deliveries,
            "DeadLetters": dlq.stored if dlq else 0,
            "Policy": c.policy, "RetainMs": c.retain_ms, "Dropped": c.dropped,
        })
        if c.name in group_rows:
            rows[-1]["Groups"] = group_rows[c.name]
    body: dict[str, Any] = {"stats": rows, "total_webhooks": sum(c.webhooks for c in shown),
                            "total_messages": sum(c.stored for c in shown)}
    if more:
        body["next_cursor"] = topics[-1]
    _all_unreachable(unavailable)
    if unavailable:
        body["unavailable_buckets"] = sorted(unavailable)
    circuits = request.app[WEBHOOKS].report()
    if circuits:
        body["webhook_circuits"] = circuits
    return web.json_response(body)


async def _group_rows(store: TopicStore, topic: str) -> list[dict[str, Any]]:
    counts = await asyncio.gather(*(store.group_counts(topic, g) for g in await store.groups(topic)))
    return [{"Name": c.name, "Backlog": c.backlog, "Ready": c.ready, "InFlight": c.in_flight,
             "DeadLetters": c.dead_letters} for c in counts if c is not None]


# consumer groups (TinyMQ 3's /api/groups) -------------------------------------------------

@routes.get("/api/groups")
async def list_groups(request: web.Request) -> web.Response:
    if not request.query.get("topic"):
        raise BadRequest("topic query parameter is required")
    topic = check_topic(request.query["topic"])
    return web.json_response({"topic": topic, "groups": await request.app[TOPICS].groups(topic)})


@routes.post("/api/groups")
async def create_group(request: web.Request) -> web.Response:
    """TinyMQ 3's CreateGroup: 201 {"status": "created", "virtual_topic": "<topic>::<group>"}, also
    for a group that exists (as TinyMQ 3)."""
    data = await read_object(request, empty_ok=False)
    if not data.get("topic") or not data.get("group"):
        raise BadRequest("topic and group are required")
    topic = check_topic(data["topic"])
    group = _group_of(request, topic, {"group": data["group"]})
    await request.app[TOPICS].create_group(topic, group)
    return web.json_response({"status": "created", "virtual_topic": f"{topic}::{group}"}, status=201)


@routes.post("/api/groups/redrive")
async def redrive_group(request: web.Request) -> web.Response:
    """Extension: hand a group's dead letters back to it (?topic=&group=), retry_count 0."""
    if not request.query.get("topic") or not request.query.get("group"):
        raise BadRequest("topic and group query parameters are required")
    topic = check_topic(request.query["topic"])
    group = _group_of(request, topic)
    store = request.app[TOPICS]
    if group not in await store.groups(topic):
        raise NotFound(f"topic {topic} has no consumer group {group}")
    moved, left = await store.group_redrive(topic, group)  # 1000 a call: `left` says to call again
    return web.json_response({"status": "requeued", "topic": topic, "group": group, "moved": moved, "left": left})


@routes.get("/api/queues/peek")
async def peek(request: web.Request) -> web.Response:
    if not request.query.get("queue"):
        raise BadRequest("missing queue")
    topic = check_topic(request.query["queue"], "queue")
    limit = params.whole_number(request.query, "limit", 10, 1, 100)
    messages = await request.app[TOPICS].peek(topic, limit)
    if not messages:
        return web.json_response([])
    return await _answer(request, messages, False, qol=False)


@routes.post("/api/topics/{topic}/purge")
async def purge(request: web.Request) -> web.Response:
    """Extension (dashboard): delete every message of a topic."""
    topic = check_topic(request.match_info["topic"])
    store = request.app[TOPICS]
    if not await store.exists(topic):
        raise NotFound(f"topic {topic} does not exist")
    deleted = await store.purge(topic, await idempotency.once_for(request, store.key_of(topic)))
    return web.json_response({"status": "purged", "topic": topic, "deleted": deleted})


@routes.delete("/api/topics/{topic}")
async def delete_topic(request: web.Request) -> web.Response:
    """Extension: forget a topic, its messages, webhooks and delivery state; ?dlq=true its .dlq too."""
    topic = check_topic(request.match_info["topic"])
    with_dlq = params.flag(request.query, "dlq")
    store = request.app[TOPICS]
    return await _several_calls(request, store.key_of(topic), lambda: _delete(store, topic, with_dlq))


async def _delete(store: TopicStore, topic: str, with_dlq: bool) -> dict[str, Any]:
    if not await store.exists(topic):
        raise NotFound(f"topic {topic} does not exist")
    await store.drop_groups(topic)
    body: dict[str, Any] = {"status": "deleted", "topic": topic, "deleted": await store.delete(topic)}
    if with_dlq and not is_dlq(topic):
        body["dlq_deleted"] = await store.delete(dlq_of(topic))
    return body


async def _several_calls(request: web.Request, key_of, run) -> web.Response:
    """An operation of several script calls, at most once per Idempotency-Key."""
    return await at_most_once(request, await idempotency.once_for(request, key_of), run)


async def at_most_once(request: web.Request, once: idempotency.Once | None, run) -> web.Response:
    """`run()`'s answer, at most once per Idempotency-Key (microq.idempotency.begin): a retry after
    it finished gets the first answer, one while it runs is 409. For what takes several script
    calls, or takes something a retry could not take again."""
    if once is None:
        return web.json_response(await run())
    store = request.app[TOPICS]
    go, answer = await idempotency.begin(store.scripts, once)
    if not go:
        return web.json_response(answer)
    try:
        answer = await run()
    except BaseException:
        await idempotency.abandon(store.scripts, once)
        raise
    await idempotency.finish(store.scripts, once, answer)
    return web.json_response(answer)


@routes.post("/api/topics/{topic}/redrive")
async def redrive(request: web.Request) -> web.Response:
    """Extension (dashboard): move a dead-letter topic's visible messages back to their source topic."""
    topic = check_topic(request.match_info["topic"])
    if not is_dlq(topic) or is_dlq(source_of(topic)):
        raise BadRequest("only a dead-letter topic (<topic>.dlq) can be requeued to its source")
    store = request.app[TOPICS]
    return await _several_calls(request, store.key_of(topic), lambda: _redrive(store, topic))


async def _redrive(store: TopicStore, topic: str) -> dict[str, Any]:
    if not await store.exists(topic):
        raise NotFound(f"topic {topic} does not exist")
    await store.ensure_registered(source_of(topic))
    total = 0
    for _ in range(1000):
        moved, left = await store.redrive(topic)
        total += moved
        if not moved or not left:
            break
    return {"status": "requeued", "topic": topic, "to": source_of(topic), "moved": total}
