"""GET /ws: TinyMQ 3's WebSocket protocol (its Go SDK's WSClient), on aiohttp's WebSocketResponse.

Text frames carry JSON commands, `{"action": ..., "topic": ..., "payload": ...}`:
  subscribe   -> {"status": "subscribed", "topic": t}, then one frame per message (the /consume
                 object: id, topic, base64 payload, timestamp, retry_count)
  unsubscribe -> {"status": "unsubscribed", "topic": t} (TinyMQ 3.1.6 answers "unknown action")
  publish     -> {"status": "published", "topic": t, "id": ...}; payload is the message text
  ping        -> {"status": "pong"}
Errors are {"status": "error", "message": ...}; every reply has "status" and no message does,
which is how the SDK tells them apart.

MicroQ extensions, for subscribers that acknowledge (TinyMQ 3 has no ack over the socket):
subscribe with `"auto_ack": false` (and optionally `"max_in_flight"`, 1-100, default 10, and
`"visibility"`, a duration) leases messages, at most max_in_flight unacknowledged at a time;
`{"action": "ack", "topic": t, "id": id}` -> {"status": "acked", ...} and
`{"action": "requeue", "topic": t, "id": id}` -> {"status": "requeued" | "dead_lettered", ...}.
With the default `auto_ack` a message is acknowledged once written to the socket, so a write
that fails leaves it leased and it comes back after the visibility timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from microq.appkeys import SETTINGS
from microq.errors import REDIS_AWAY, BadRequest, MicroQError
from microq.topics import params
from microq.topics.api import MAX_VISIBILITY
from microq.topics.appkeys import STREAMS, TOPICS, WAIT_ROOM
from microq.topics.messages import new_ids
from microq.topics.names import check_topic
from microq.topics.sse import check_group, check_stream_topic, refuse_filters
from microq.topics.store import Outgoing
from microq.topics.streams import BATCH, IDLE, take

routes = web.RouteTableDef()

MAX_SUBSCRIPTIONS = 100  #: topics one socket may subscribe to
MAX_IN_FLIGHT = 100  #: most unacknowledged messages one acknowledging subscription may hold
DEFAULT_IN_FLIGHT = 10
CLOSE_WAIT = 2.0  #: seconds a socket gets at shutdown to take its close frame before it is cut
HEARTBEAT = 45.0  #: seconds of silence before a ping; TinyMQ's SDK pings every 30 s, browsers answer


@dataclass
class _Subscription:
    topic: str
    auto_ack: bool
    max_in_flight: int
    lease_ms: int
    group: str | None = None  #: consumer group the subscription reads as a member of
    in_flight: dict[str, float] = field(default_factory=dict)  #: id -> loop time its lease lapses
    credit: asyncio.Event = field(default_factory=asyncio.Event)  #: set when an ack frees room
    task: asyncio.Task | None = None

    def room_left(self, now: float) -> int:
        """Free credit; a lease that lapsed (the message went back to the topic) frees its slot."""
        for message_id in [i for i, lapses in self.in_flight.items() if lapses <= now]:
            del self.in_flight[message_id]
        return self.max_in_flight - len(self.in_flight)


class _Socket:
    """One client's socket: its subscriptions and the one writer they share."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request, self.ws = request, ws
        self.settings = request.app[SETTINGS]
        self.store, self.room = request.app[TOPICS], request.app[WAIT_ROOM]
        self.subscriptions: dict[str, _Subscription] = {}
        self._send_lock = asyncio.Lock()

    def gone(self) -> bool:
        return self.ws.closed or self.request.transport is None or self.request.transport.is_closing()

    async def send(self, data: dict[str, Any]) -> None:
        async with self._send_lock:  # writer_limit=0: each frame waits until the socket drains
            await self.ws.send_str(json.dumps(data, separators=(",", ":")))

    async def reply_error(self, message: str) -> None:
        await self.send({"status": "error", "message": message})

    # commands ---------------------------------------------------------------------------

    async def command(self, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            return await self.reply_error("invalid json format")
        if not isinstance(data, dict):
            return await self.reply_error("invalid json format")
        action = data.get("action")
        handler = self._actions.get(action) if isinstance(action, str) else None
        if handler is None:
            return await self.reply_error("unknown action")
        try:
            await handler(self, data)
        except MicroQError as exc:  # the same words the HTTP API would answer with
            await self.reply_error(exc.public)
        except REDIS_AWAY:
            await self.reply_error("redis unavailable, try again shortly")

    async def _ping(self, data: dict) -> None:
        await self.send({"status": "pong"})

    async def _publish(self, data: dict) -> None:
        topic = check_topic_field(data)
        payload = data.get("payload")
        if not isinstance(payload, str) or not payload:
            raise BadRequest("empty payload")
        body = payload.encode("utf-8", "surrogateescape")
        if len(body) > self.settings.topic_max_payload_bytes:
            raise BadRequest(f"payload too large (limit {self.settings.topic_max_payload_bytes} bytes)")
        (message_id,) = new_ids(1)
        await self.store.ensure_registered(topic)
        await self.store.publish(topic, [Outgoing(message_id, body)])
        await self.send({"status": "published", "topic": topic, "id": message_id})

    async def _subscribe(self, data: dict) -> None:
        if not isinstance(data.get("topic"), str) or not data["topic"]:
            raise BadRequest("topic required")
        topic = check_stream_topic(data["topic"])
        refuse_filters(data)
        if topic in self.subscriptions:
            raise BadRequest("already subscribed to this topic")
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise BadRequest(f"at most {MAX_SUBSCRIPTIONS} subscriptions per socket")
        auto_ack = data.get("auto_ack", True)
        if not isinstance(auto_ack, bool):
            raise BadRequest("auto_ack must be true or false")
        max_in_flight = data.get("max_in_flight", DEFAULT_IN_FLIGHT)
        if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) \
                or not 1 <= max_in_flight <= MAX_IN_FLIGHT:
            raise BadRequest(f"max_in_flight must be a whole number from 1 to {MAX_IN_FLIGHT}")
        lease_ms = params.duration_ms(data, "visibility", self.settings.visibility_timeout, MAX_VISIBILITY)
        if lease_ms <= 0:
            raise BadRequest("invalid visibility: must be more than 0")
        group = check_group(data.get("group"), topic)
        await self.store.ensure_registered(topic)
        if group is not None:
            await self.store.create_group(topic, group)
        subscription = _Subscription(topic, auto_ack, max_in_flight, lease_ms, group)
        self.subscriptions[topic] = subscription
        await self.send({"status": "subscribed", "topic": topic})
        subscription.task = asyncio.create_task(self._deliver(subscription), name=f"ws-{topic}")

    async def _unsubscribe(self, data: dict) -> None:
        topic = check_topic_field(data)
        subscription = self.subscriptions.pop(topic, None)
        if subscription is None:
            raise BadRequest("not subscribed to this topic")
        await _stop(subscription)
        await self.send({"status": "unsubscribed", "topic": topic})

    async def _ack(self, data: dict) -> None:
        topic, message_id = check_topic_field(data), params.message_id(data.get("id"))
        group = self._group_of(topic)
        if group is None:
            (done,) = await self.store.ack(topic, [message_id])
        else:
            (done,) = await self.store.group_ack(topic, group, [message_id])
        self._free(topic, message_id)
        if not done:
            raise BadRequest("message not found or already acknowledged")
        await self.send({"status": "acked", "topic": topic, "id": message_id})

    async def _requeue(self, data: dict) -> None:
        topic, message_id = check_topic_field(data), params.message_id(data.get("id"))
        group = self._group_of(topic)
        if group is None:
            status, retry_count = await self.store.requeue(topic, message_id, None)  # NotFound when not leased
        else:
            status, retry_count = await self.store.group_requeue(topic, group, message_id)
        self._free(topic, message_id)
        await self.send({"status": status, "topic": topic, "id": message_id, "retry_count": retry_count})

    _actions = {"ping": _ping, "publish": _publish, "subscribe": _subscribe, "unsubscribe": _unsubscribe,
                "ack": _ack, "requeue": _requeue}

    def _group_of(self, topic: str) -> str | None:
        """An ack or requeue over the socket is for its subscription's group, if it has one."""
        subscription = self.subscriptions.get(topic)
        return subscription.group if subscription is not None else None

    def _free(self, topic: str, message_id: str) -> None:
        subscription = self.subscriptions.get(topic)
        if subscription is not None and subscription.in_flight.pop(message_id, None) is not None:
            subscription.credit.set()

    # delivery ---------------------------------------------------------------------------

    async def _deliver(self, sub: _Subscription) -> None:
        """Take and send messages while the socket drains and (acknowledging) has credit."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                room_left = sub.room_left(loop.time())
                if not sub.auto_ack and room_left <= 0:
                    sub.credit.clear()
                    first_lapse = min(sub.in_flight.values()) - loop.time()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(sub.credit.wait(), max(first_lapse, 0.001))
                    continue
                limit = BATCH if sub.auto_ack else min(BATCH, room_left)
                taken = await take(self.store, self.room, sub.topic, limit, sub.lease_ms, IDLE, self.gone, sub.group)
                if taken is None:
                    break
                if not taken.messages:
                    continue
                ids = [m.id for m in taken.messages]
                if not sub.auto_ack and taken.stored:
                    lapses = loop.time() + sub.lease_ms / 1000
                    sub.in_flight.update(dict.fromkeys(ids, lapses))
                for message in taken.messages:
                    await self.send(message.to_json())
                if sub.auto_ack and taken.stored:
                    if sub.group is None:
                        await self.store.ack(sub.topic, ids)
                    else:
                        await self.store.group_ack(sub.topic, sub.group, ids)
        except (ConnectionError, RuntimeError):
            pass  # the socket closed under us; what was not acknowledged comes back after its lease
        except REDIS_AWAY:  # an ack after a write failed: the lease brings those messages back
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.reply_error(f"redis unavailable: subscription to {sub.topic} ended; subscribe again")
            self.subscriptions.pop(sub.topic, None)
        # ended by the node shutting down: the StreamHub closes the socket (1001)

    async def close(self) -> None:
        for subscription in list(self.subscriptions.values()):
            await _stop(subscription)
        self.subscriptions.clear()


def check_topic_field(data: dict) -> str:
    if not isinstance(data.get("topic"), str) or not data["topic"]:
        raise BadRequest("topic required")
    return check_topic(data["topic"])


async def _stop(subscription: _Subscription) -> None:
    task = subscription.task
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SETTINGS]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, writer_limit=0,
                               max_msg_size=settings.topic_max_payload_bytes * 2 + 4096)
    if not ws.can_prepare(request).ok:
        raise BadRequest("this endpoint needs a WebSocket upgrade (Upgrade: websocket)")
    hub = request.app[STREAMS]
    token = object()

    async def going_away() -> None:
        try:  # a client that stopped reading would hold the close frame, and the shutdown, forever
            await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"node shutting down"), CLOSE_WAIT)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            if request.transport is not None:
                request.transport.abort()

    hub.open(token, going_away)
    socket = _Socket(request, ws)
    try:
        await ws.prepare(request)
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                await socket.command(frame.data)
            elif frame.type is WSMsgType.BINARY:
                await socket.reply_error("send commands as JSON text frames")
    except (ConnectionError, RuntimeError):
        pass  # written to after the client went: nothing more to do for it
    finally:
        hub.done(token)
        await socket.close()
    return ws
