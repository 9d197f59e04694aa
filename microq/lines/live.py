"""Live updates: Redis pub/sub wakes this node's Server-Sent Events streams.

Every state-changing script PUBLISHes on its line's channel. The node's one subscriber
connection (microq/pubsub.py) is subscribed to the channels its open streams watch. A message
only says "this line changed": each stream then reads what it shows afresh, so a burst of
changes costs one read per stream, and a missed message (a reconnect) is repaired by waking
every stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

from aiohttp import web

from microq.errors import REDIS_AWAY, REDIS_AWAY_RETRY, MicroQError
from microq.pubsub import Subscriber

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0  #: SSE comment lines keep proxies from closing idle streams
_KEEP_ALIVE = b": keep-alive\n\n"


class LiveHub:
    """Open streams' channels, heard through the node's one subscriber (microq/pubsub.py)."""

    def __init__(self, subscriber: Subscriber) -> None:
        self.subscriber = subscriber
        self.closing = asyncio.Event()  #: set on shutdown: every stream ends

    @contextlib.contextmanager
    def listen(self, channel: str) -> Iterator[asyncio.Event]:
        """An event set whenever `channel`'s line may have changed: on each message, when the
        subscription (re)takes effect, and when it is lost (the stream re-reads either way)."""
        changed = asyncio.Event()
        listener = self.subscriber.add(channel, lambda _: changed.set(), on_gap=changed.set, on_lost=changed.set)
        try:
            yield changed
        finally:
            self.subscriber.remove(listener)


async def event_stream(request: web.Request, hub: LiveHub, channel: str, event: str,
                       snapshot: Callable[[], Awaitable[Any]]) -> web.StreamResponse:
    """Send `snapshot()` as an SSE `event` now and after every change to the line, until the
    client goes or the node shuts down. While Redis is away the stream stays open and reads
    again every second: a browser's EventSource reconnects after a stream ends, but gives up
    for good on an answer that is not 200, so an outage must not end a stream nor refuse one."""
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    with hub.listen(channel) as changed:
        try:
            first = await snapshot()  # before prepare: a 404 or 400 is still a JSON answer
        except REDIS_AWAY:
            first = None  # sent once Redis answers
        await response.prepare(request)
        closing = asyncio.ensure_future(hub.closing.wait())
        woken: asyncio.Future[Any] | None = None
        away = first is None
        try:
            await response.write(b"retry: 2000\n\n")
            if not away:
                await _send(response, event, first)
            while True:
                woken = asyncio.ensure_future(changed.wait())
                done, _ = await asyncio.wait({woken, closing}, timeout=REDIS_AWAY_RETRY if away else HEARTBEAT_SECONDS,
                                             return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if closing in done:
                    break
                if woken not in done and not away:
                    await response.write(_KEEP_ALIVE)
                    continue
                changed.clear()
                try:
                    current = await snapshot()
                except REDIS_AWAY:
                    away = True
                    await response.write(_KEEP_ALIVE)  # a reader that went away is noticed meanwhile
                    continue
                away = False
                await _send(response, event, current)
        except ConnectionResetError:  # the client went away
            pass
        except MicroQError as exc:  # e.g. the entry was forgotten: say so, and end the stream
            await _send(response, "error", {"error": exc.public})
        except Exception as exc:  # noqa: BLE001 - e.g. a write that failed: end the stream, EventSource retries
            log.info("live stream %s ended: %s", request.path, exc)
        finally:
            # A handler cancelled inside asyncio.wait (the node shutting down, a test server closing)
            # must not leave these tasks pending: collected later, in whatever frame the garbage
            # collector runs, each logs "Task was destroyed but it is pending!" (at a deep stack,
            # as test_fuzz's nested JSON has, that logging itself hit RecursionError).
            await _finish(closing, woken)
    return response


async def _finish(*tasks: asyncio.Future[Any] | None) -> None:
    """Cancel the tasks still running and wait until they have finished."""
    running = [task for task in tasks if task is not None and not task.done()]
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running)


async def _send(response: web.StreamResponse, event: str, data: Any) -> None:
    await response.write(f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode())


async def hub_ctx(app: web.Application, key: web.AppKey, subscriber: Subscriber) -> AsyncIterator[None]:
    app[key] = LiveHub(subscriber)
    yield
