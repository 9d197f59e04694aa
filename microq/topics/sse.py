"""GET /stream/{topic}: TinyMQ 3's Server-Sent Events subscription (`tmq tail`).

The frames are TinyMQ 3's: first `data: {"status": "connected", "topic": ...}`, then one
`data: <message JSON>` per message (the /consume object: id, topic, base64 payload,
timestamp, retry_count). Idle streams get an SSE comment every 15 s, which every SSE reader
skips, so proxies keep the connection and a vanished reader is noticed.

Unlike TinyMQ 3, whose stream is a lossy copy of new publishes, a MicroQ stream consumes
(see streams.py). `auto_ack` (default true) acknowledges each message once it has been written
to the socket; a write that fails leaves it leased, so it comes back after the visibility
timeout instead of being lost. `auto_ack=false` leaves every message leased: acknowledge it
with POST /ack/{topic}/{id}, as after /consume.
"""

from __future__ import annotations

import json

from aiohttp import web

from microq.appkeys import SETTINGS
from microq.errors import REDIS_AWAY, BadRequest
from microq.topics import params
from microq.topics.api import MAX_VISIBILITY
from microq.topics.appkeys import STREAMS, TOPICS, WAIT_ROOM
from microq.topics.names import check_topic, is_dlq, is_pattern
from microq.topics.streams import BATCH, IDLE, take

routes = web.RouteTableDef()

_KEEP_ALIVE = b": keep-alive\n\n"


def check_stream_topic(name: object) -> str:
    """Streams take from one topic: wildcard patterns and TinyMQ's JSON filters are refused, not ignored."""
    if isinstance(name, str) and is_pattern(name):
        raise BadRequest("streams take one topic; wildcard patterns are not supported on streams")
    return check_topic(name)


def refuse_filters(query) -> None:
    if "filter_key" in query or "filter_val" in query:
        raise BadRequest("filter_key/filter_val are not supported on streams (a filtered-out message "
                         "would have to be taken and dropped)")


def check_group(value: object, topic: str) -> str | None:
    """A stream's consumer group (?group= on SSE, "group" on a WebSocket subscribe), None for none."""
    if value is None or value == "":
        return None
    if is_dlq(topic):
        raise BadRequest("consumer groups read one topic, not a .dlq topic")
    return check_topic(value, "group")


def frame(data: dict) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


@routes.get("/stream/{topic}", allow_head=False)
async def stream(request: web.Request) -> web.StreamResponse:
    topic = check_stream_topic(request.match_info["topic"])
    refuse_filters(request.query)
    auto_ack = params.flag(request.query, "auto_ack") if "auto_ack" in request.query else True
    settings = request.app[SETTINGS]
    lease_ms = params.duration_ms(request.query, "visibility", settings.visibility_timeout, MAX_VISIBILITY)
    if lease_ms <= 0:
        raise BadRequest("invalid visibility: must be more than 0")
    group = check_group(request.query.get("group"), topic)
    store, room, hub = request.app[TOPICS], request.app[WAIT_ROOM], request.app[STREAMS]
    await store.ensure_registered(topic)
    if group is not None:
        await store.create_group(topic, group)

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    token = object()
    hub.open(token)  # at shutdown the WaitRoom closes: take() returns None and the stream ends
    try:
        await response.prepare(request)
        await response.write(frame({"status": "connected", "topic": topic}))

        def gone() -> bool:
            return request.transport is None or request.transport.is_closing()

        while True:
            taken = await take(store, room, topic, BATCH, lease_ms, IDLE, gone, group)
            if taken is None:
                break
            if not taken.messages:
                await response.write(_KEEP_ALIVE)
                continue
            for message in taken.messages:
                await response.write(frame(message.to_json()))
            if auto_ack and taken.stored:
                ids = [m.id for m in taken.messages]
                await (store.ack(topic, ids) if group is None else store.group_ack(topic, group, ids))
    except ConnectionError:
        pass  # the reader hung up; what it was not sent stays leased and comes back
    except REDIS_AWAY:
        pass  # an ack failed with Redis away: the stream ends (the reader reconnects); the lease brings it back
    finally:
        hub.done(token)
    return response
