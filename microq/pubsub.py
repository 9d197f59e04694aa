"""This node's one pub/sub connection, shared by every part that listens (saq's multiplexer idea).

Parts register a channel with two callbacks: `on_message(data)` for each message, and
`on_gap()` whenever the channel's subscription (re)takes effect, because anything published
before that moment went unheard ("you may have missed something": topics wakes every
long-poll, lines makes every live stream re-read). Callbacks run on the event loop and must
be quick; one that raises is logged and the others still run.

Which Redis: any server that answers. A PUBLISH on one node of a Redis Cluster reaches the
subscribers of every node (the cluster bus carries it), so the subscriber sits on any primary
and moves to another when its own is lost: a killed node is noticed at once (the socket
closes), a stalled one after DEAD_SECONDS without a reply to the PINGs it is sent. MicroQ's
scripts announce with plain PUBLISH, so the subscription is a plain SUBSCRIBE; sharded pub/sub
(SSUBSCRIBE, Redis 7) would need SPUBLISH in the scripts, and the bundled redis-server is 6.2.

`run()` is supervised: an unexpected error is logged and the loop starts again; it never
ends until cancelled. Bounds: one connection, one SUBSCRIBE per new channel, channels only
while someone listens to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from microq.errors import MicroQError
from microq.scripts import Scripts, still_cancelled

if TYPE_CHECKING:
    from microq.redis_compat import Connections

log = logging.getLogger(__name__)

READ_SECONDS = 0.1  #: how long one read waits: also how soon a new channel is subscribed
PING_SECONDS = 0.5  #: the subscribed connection is checked this often ...
DEAD_SECONDS = 1.5  #: ... and left for another server when nothing came back for this long
RETRY_SECONDS = (0.05, 1.0)  #: wait between rounds over every server while none answers: first, most


@dataclass(eq=False)
class Listener:
    channel: bytes
    on_message: Callable[[bytes], None]
    on_gap: Callable[[], None] = lambda: None
    on_lost: Callable[[], None] = lambda: None  #: the subscription is gone until the next on_gap


@dataclass
class _State:
    server: str = ""  #: where the subscription is now ("" while none)
    subscriptions: int = 0  #: times a connection subscribed: 1 + how often it moved or reconnected
    subscribed: set[bytes] = field(default_factory=set)


class Subscriber:
    def __init__(self, scripts: Scripts) -> None:
        self.scripts = scripts  #: knows the servers: one Redis, or every primary of a Cluster
        self.listeners: dict[bytes, list[Listener]] = {}
        self.state = _State()
        self._changed = asyncio.Event()

    def add(self, channel: str | bytes, on_message: Callable[[bytes], None],
            on_gap: Callable[[], None] | None = None, on_lost: Callable[[], None] | None = None) -> Listener:
        name = channel.encode() if isinstance(channel, str) else channel
        listener = Listener(name, on_message, on_gap or (lambda: None), on_lost or (lambda: None))
        self.listeners.setdefault(name, []).append(listener)  # on a channel already heard: no gap
        self._changed.set()
        return listener

    def remove(self, listener: Listener) -> None:
        found = self.listeners.get(listener.channel, [])
        if listener in found:
            found.remove(listener)
        if not found:
            self.listeners.pop(listener.channel, None)
        self._changed.set()

    async def run(self) -> None:
        """Subscribe while anyone listens, on any server that answers; never ends until cancelled."""
        while True:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bug must not silence every wake-up of the node
                log.exception("pub/sub subscriber failed; starting again")
                self._lost()
                await asyncio.sleep(RETRY_SECONDS[1])

    async def _serve(self) -> None:
        delay, turn = RETRY_SECONDS[0], 0
        while True:
            if not self.listeners:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                servers = await self.scripts.servers()
            except MicroQError:  # no seed reachable yet
                servers = []
            tried = 0
            for i in range(len(servers)):  # start after the server lost last time
                server = servers[(turn + i) % len(servers)]
                tried += 1
                try:
                    await self._listen_on(server)
                    delay = RETRY_SECONDS[0]
                    break  # nobody listens any more
                except (RedisError, OSError) as exc:
                    still_cancelled(asyncio.current_task(), 0)  # a cancel redis-py's connect turned into an error
                    if self.state.server:
                        log.warning("pub/sub connection to %s lost (%s); moving on", self.state.server, exc)
                    self._lost()
                    turn = (turn + i + 1) % max(len(servers), 1)
                    if tried < len(servers):
                        continue  # another server, at once
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_SECONDS[1])

    async def _listen_on(self, server: Connections) -> None:
        loop = asyncio.get_running_loop()
        connection = server.private_connection(socket_timeout=None)
        subscribed: set[bytes] = set()
        try:
            await connection.connect()
            heard = pinged = loop.time()
            while True:
                still_cancelled(asyncio.current_task(), 0)  # redis-py's send can swallow a cancellation
                self._changed.clear()
                wanted = set(self.listeners)
                if not wanted:
                    return
                if wanted - subscribed:
                    await connection.send_command("SUBSCRIBE", *(wanted - subscribed))
                    subscribed |= wanted
                if subscribed - wanted:
                    gone = subscribed - wanted
                    await connection.send_command("UNSUBSCRIBE", *gone)
                    subscribed -= gone
                    self.state.subscribed -= gone
                reply = await connection.read_response(timeout=READ_SECONDS)
                now = loop.time()
                if reply is not None:
                    heard = now
                    self._on_reply(reply, server.name)
                if now - pinged >= PING_SECONDS:
                    await connection.send_command("PING")
                    pinged = now
                if now - heard > DEAD_SECONDS:
                    raise RedisConnectionError(f"no reply from {server.name} for {DEAD_SECONDS} s")
        finally:
            with contextlib.suppress(Exception):
                await connection.disconnect(nowait=True)

    def _on_reply(self, reply: list, server: str) -> None:
        if not isinstance(reply, list) or not reply:
            return
        kind = reply[0]
        if kind == b"message":
            for listener in list(self.listeners.get(reply[1], ())):
                self._call(listener.on_message, reply[2])
        elif kind == b"subscribe":
            channel = reply[1]
            if not self.state.server:
                self.state.server = server
                self.state.subscriptions += 1
                log.info("pub/sub subscribed on %s", server)
            self.state.subscribed.add(channel)
            for listener in list(self.listeners.get(channel, ())):
                self._call(listener.on_gap)

    def _lost(self) -> None:
        self.state.server = ""
        self.state.subscribed.clear()
        for listeners in list(self.listeners.values()):
            for listener in list(listeners):
                self._call(listener.on_lost)

    @staticmethod
    def _call(callback: Callable, *args: object) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - one listener's bug must not deafen the others
            log.exception("pub/sub listener %r failed", callback)
