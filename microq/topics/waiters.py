"""This node's waiting consumers (long-polls), woken through Redis pub/sub.

Waiters are node-local: each is one open HTTP request. Every publish announces itself on
one channel that the node's one subscriber connection (microq/pubsub.py) reads, so an idle waiter costs Redis
nothing and a publish on any node wakes waiters on every node within a round trip.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

import msgpack

from microq.pubsub import Subscriber
from microq.topics.messages import Message
from microq.topics.names import Pattern, compile_pattern, is_pattern

log = logging.getLogger(__name__)


class Waiter:
    """One waiting consume request: `event` is set when it should look again."""

    __slots__ = ("name", "event", "broadcast", "woken_by", "counted")

    def __init__(self, name: str, counted: bool = True) -> None:
        self.name = name  #: a topic or a wildcard pattern
        #: False for a waiter that may well not take what it is woken for (a filtered consume, a
        #: consumer group's member): it is woken by every wake-up of its topic and uses up none
        self.counted = counted
        self.event = asyncio.Event()
        self.broadcast: Message | None = None  #: a broadcast message handed to this waiter
        self.woken_by: str | None = None  #: the topic of the last wake-up, to pass on if unused


class WaitRoom:
    def __init__(self, subscriber: Subscriber, wake_channel: str, broadcast_channel: str) -> None:
        self.subscriber = subscriber  #: the node's one pub/sub connection
        self.wake_channel = wake_channel.encode()
        self.broadcast_channel = broadcast_channel.encode()
        self.exact: dict[str, list[Waiter]] = {}
        self.patterns: dict[str, list[Waiter]] = {}  #: pattern -> its waiters, oldest first
        #: pattern -> compiled, grouped by depth: a topic is matched only against its depth's patterns
        self._by_depth: dict[int, dict[str, Pattern]] = {}
        #: topic -> the waiting patterns it matches (cleared when a new pattern starts waiting)
        self._matched: dict[str, tuple[str, ...]] = {}
        self.on_topic_seen: Callable[[str], None] = lambda topic: None
        self.closing = False
        self.subscribed = asyncio.Event()
        self.on_hook_work: Callable[[str], None] = lambda topic: None
        self._timers: set[asyncio.TimerHandle] = set()
        self._uncounted = 0  #: uncounted waiters on this node

    # waiters ----------------------------------------------------------------------------

    def add(self, name: str, counted: bool = True) -> Waiter:
        waiter = Waiter(name, counted)
        self._uncounted += not counted
        if is_pattern(name):
            waiters = self.patterns.get(name)
            if waiters is None:
                waiters = self.patterns[name] = []
                pattern = compile_pattern(name)
                self._by_depth.setdefault(pattern.depth, {})[name] = pattern
                self._matched.clear()
            waiters.append(waiter)
        else:
            self.exact.setdefault(name, []).append(waiter)
        return waiter

    def remove(self, waiter: Waiter) -> None:
        self._uncounted -= not waiter.counted
        group = self.patterns if is_pattern(waiter.name) else self.exact
        waiters = group[waiter.name]
        waiters.remove(waiter)
        if not waiters:
            del group[waiter.name]
            if group is self.patterns:  # _matched may keep naming it: _for_topic skips absent patterns
                depth = compile_pattern(waiter.name).depth
                self._by_depth[depth].pop(waiter.name, None)
                if not self._by_depth[depth]:
                    del self._by_depth[depth]

    def _patterns_matching(self, topic: str) -> tuple[str, ...]:
        """The waiting patterns a topic matches: each distinct pattern once, remembered per topic."""
        found = self._matched.get(topic)
        if found is None:
            candidates = self._by_depth.get(topic.count(".") + 1, {})
            found = tuple(name for name, pattern in candidates.items() if pattern.matches(topic))
            if len(self._matched) >= 10000:
                self._matched.clear()
            self._matched[topic] = found
        return found

    def _for_topic(self, topic: str) -> list[Waiter]:
        found = list(self.exact.get(topic, ()))
        if self.patterns:
            for name in self._patterns_matching(topic):
                found.extend(self.patterns.get(name, ()))
        return found

    def counts(self) -> dict[str, int]:
        """Waiters per topic or pattern."""
        out = {name: len(waiters) for name, waiters in self.exact.items()}
        for name, waiters in self.patterns.items():
            out[name] = out.get(name, 0) + len(waiters)
        return out

    def wake(self, topic: str, count: int) -> None:
        """Wake up to `count` waiters of `topic` that are not awake already, oldest first, and
        every uncounted one."""
        for waiter in self._for_topic(topic):
            if count <= 0 and not self._uncounted:
                return  # the common case stays O(woken), not O(waiting)
            if not waiter.counted:
                waiter.woken_by = topic
                waiter.event.set()
            elif count > 0 and not waiter.event.is_set():
                waiter.woken_by = topic
                waiter.event.set()
                count -= 1

    def wake_all(self) -> None:
        for waiters in (*self.exact.values(), *self.patterns.values()):
            for waiter in waiters:
                waiter.event.set()

    def deliver_broadcast(self, message: Message) -> None:
        for waiter in self._for_topic(message.topic):
            if waiter.broadcast is None:
                waiter.broadcast = message
                waiter.event.set()

    def close(self) -> None:
        """Node shutting down: every waiter answers now (the seed's empty answer)."""
        self.closing = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.wake_all()

    # pub/sub ----------------------------------------------------------------------------

    def _on_wake(self, data: bytes) -> None:
        topic, ready, delayed, first_delay, hooked, *rest = data.decode().split(" ")
        logged = int(rest[0]) if rest else 0  #: messages appended to the consumer groups' log
        self.on_topic_seen(topic)
        if int(ready) > 0 or logged > 0:
            self.wake(topic, int(ready))  # uncounted waiters (group members among them) wake anyway
        if int(delayed) > 0 and int(first_delay) >= 0 and self._for_topic(topic):
            loop = asyncio.get_running_loop()
            timer: asyncio.TimerHandle | None = None

            def fire() -> None:
                self._timers.discard(timer)
                self.wake(topic, int(delayed))

            timer = loop.call_later(int(first_delay) / 1000, fire)
            self._timers.add(timer)
        if hooked == "1":
            self.on_hook_work(topic)

    def _on_broadcast(self, data: bytes) -> None:
        topic, id, payload, created_ms, *rest = msgpack.unpackb(data, raw=False)
        headers = rest[0] if rest and isinstance(rest[0], dict) else {}
        self.deliver_broadcast(Message(id, topic, payload, created_ms, 0, headers=headers))

    async def listen(self) -> None:
        """Hear both channels through the node's one subscriber (microq/pubsub.py) until cancelled.

        Whenever the subscription (re)takes effect every waiter looks again: whatever was
        published while the node was not listening went unheard."""
        wake = self.subscriber.add(self.wake_channel, self._heard(self._on_wake), on_gap=self._on_subscribed,
                                   on_lost=self.subscribed.clear)
        broadcast = self.subscriber.add(self.broadcast_channel, self._heard(self._on_broadcast))
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        finally:
            self.subscriber.remove(wake)
            self.subscriber.remove(broadcast)

    def _on_subscribed(self) -> None:
        self.subscribed.set()
        self.wake_all()

    @staticmethod
    def _heard(handle: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def safely(data: bytes) -> None:
            try:
                handle(data)
            except (ValueError, TypeError) as exc:
                log.warning("ignoring a malformed topics notification: %s", exc)
        return safely
