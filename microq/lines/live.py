"""Live updates: Redis pub/sub wakes this node's Server-Sent Events streams.

Every state-changing script PUBLISHes on its line's channel. Each node keeps one subscriber
connection (its own client, no socket timeout) subscribed to the channels its open streams
watch. A message only says "this line changed": each stream then reads what it shows afresh,
so a burst of changes costs one read per stream, and a missed message (a reconnect) is
repaired by waking every stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

from aiohttp import web

from microq.errors import MicroQError
from microq.redis_client import connect
from microq.scripts import still_cancelled

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  #: how soon a newly opened stream's channel is subscribed
PING_SECONDS = 10.0  #: a silent subscriber connection is checked this often ...
DEAD_SECONDS = 30.0  #: ... and replaced when nothing came back for this long
HEARTBEAT_SECONDS = 15.0  #: SSE comment lines keep proxies from closing idle streams


class LiveHub:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._listeners: dict[str, set[asyncio.Event]] = {}
        self._wanted = asyncio.Event()
        self.closing = asyncio.Event()  #: set on shutdown: every stream ends

    @contextlib.contextmanager
    def listen(self, channel: str) -> Iterator[asyncio.Event]:
        """An event set whenever `channel`'s line may have changed (and once, when subscribed)."""
        changed = asyncio.Event()
        self._listeners.setdefault(channel, set()).add(changed)
        self._wanted.set()
        try:
            yield changed
        finally:
            listeners = self._listeners.get(channel, set())
            listeners.discard(changed)
            if not listeners:
                self._listeners.pop(channel, None)

    def _wake(self, channels: Any) -> None:
        for channel in channels:
            for changed in self._listeners.get(channel, ()):
                changed.set()

    async def run(self) -> None:
        delay = 0.2
        while True:
            if not self._listeners:
                self._wanted.clear()
                await self._wanted.wait()
                continue
            try:
                await self._subscribe_while_wanted()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect, and let streams re-read
                log.warning("live updates: subscriber connection lost (%s); reconnecting", exc)
                self._wake(list(self._listeners))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _subscribe_while_wanted(self) -> None:
        client = connect(self.redis_url, socket_timeout=None, max_connections=2)
        pubsub = client.pubsub()
        loop = asyncio.get_running_loop()
        subscribed: set[str] = set()
        try:
            heard = pinged = loop.time()
            while self._listeners or subscribed:
                still_cancelled(asyncio.current_task(), 0)  # pubsub.ping sends as scripts do, and can swallow it
                wanted = set(self._listeners)
                if wanted - subscribed:
                    fresh = wanted - subscribed
                    await pubsub.subscribe(*fresh)
                    subscribed |= fresh
                    self._wake(fresh)  # changes made before the subscription took effect
                if subscribed - wanted:
                    await pubsub.unsubscribe(*(subscribed - wanted))
                    subscribed &= wanted
                    if not subscribed:
                        return
                message = await pubsub.get_message(timeout=POLL_SECONDS)
                now = loop.time()
                if message is not None:
                    heard = now
                    if message["type"] == "message":
                        self._wake([message["channel"].decode()])
                if now - pinged > PING_SECONDS:
                    await pubsub.ping()
                    pinged = now
                if now - heard > DEAD_SECONDS:
                    raise ConnectionError(f"no reply from Redis for {DEAD_SECONDS:.0f} s")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()


async def event_stream(request: web.Request, hub: LiveHub, channel: str, event: str,
                       snapshot: Callable[[], Awaitable[Any]]) -> web.StreamResponse:
    """Send `snapshot()` as an SSE `event` now and after every change to the line, until the
    client goes or the node shuts down."""
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    with hub.listen(channel) as changed:
        first = await snapshot()  # before prepare: a 404 or 400 is still a JSON answer
        await response.prepare(request)
        closing = asyncio.ensure_future(hub.closing.wait())
        woken: asyncio.Future[Any] | None = None
        try:
            await response.write(b"retry: 2000\n\n")
            await _send(response, event, first)
            while True:
                woken = asyncio.ensure_future(changed.wait())
                done, _ = await asyncio.wait({woken, closing}, timeout=HEARTBEAT_SECONDS,
                                             return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if closing in done:
                    break
                if woken not in done:
                    await response.write(b": keep-alive\n\n")
                    continue
                changed.clear()
                await _send(response, event, await snapshot())
        except ConnectionResetError:  # the client went away
            pass
        except MicroQError as exc:  # e.g. the entry was forgotten: say so, and end the stream
            await _send(response, "error", {"error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - e.g. Redis is down: end the stream, EventSource retries
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


async def hub_ctx(app: web.Application, key: web.AppKey, redis_url: str) -> AsyncIterator[None]:
    hub = LiveHub(redis_url)
    app[key] = hub
    task = asyncio.create_task(hub.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
