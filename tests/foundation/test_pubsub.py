"""The node's one pub/sub connection (microq/pubsub.py) on a real redis-server: messages reach
every listener of a channel, a lost connection is taken up again with a "you may have missed
something" call to each listener, and the task survives a listener's bug and its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from microq.pubsub import Subscriber
from microq.redis_client import connect
from microq.scripts import Scripts, load_scripts
from tests.helpers import RedisProcess


@pytest.fixture
async def running(tmp_path: Path):
    server = RedisProcess(tmp_path / "redis").start()
    client = connect(server.url)
    subscriber = Subscriber(Scripts(client, load_scripts()))
    task = asyncio.create_task(subscriber.run())
    yield server, subscriber
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    await client.aclose()
    if server.process and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


async def until(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_messages_reach_every_listener_and_each_hears_of_its_subscription(running):
    server, subscriber = running
    heard: dict[str, list[bytes]] = {"a": [], "b": [], "c": []}
    gaps = {"a": 0, "b": 0, "c": 0}

    def on_gap(name):
        gaps[name] += 1

    subscriber.add("one", heard["a"].append, on_gap=lambda: on_gap("a"))
    subscriber.add("one", heard["b"].append, on_gap=lambda: on_gap("b"))
    other = subscriber.add(b"two", heard["c"].append, on_gap=lambda: on_gap("c"))
    await until(lambda: all(gaps.values()))
    publisher = Redis.from_url(server.url)
    assert await publisher.publish("one", b"x") == 1  # one connection for both listeners of "one"
    await publisher.publish("two", b"y")
    await until(lambda: heard["a"] and heard["b"] and heard["c"])
    assert heard == {"a": [b"x"], "b": [b"x"], "c": [b"y"]}
    subscriber.remove(other)
    await until(lambda: b"two" not in subscriber.state.subscribed)
    assert await publisher.publish("two", b"z") == 0
    await publisher.aclose()


async def test_a_restarted_redis_is_taken_up_again_and_every_listener_is_told(running):
    server, subscriber = running
    gaps, lost = [], []
    subscriber.add("ch", lambda data: None, on_gap=lambda: gaps.append(1), on_lost=lambda: lost.append(1))
    await until(lambda: gaps)
    server.stop()
    await until(lambda: lost)
    server.start()
    await until(lambda: len(gaps) == 2)
    assert subscriber.state.subscriptions == 2


async def test_a_stalled_redis_is_left_within_seconds(running):
    server, subscriber = running
    lost = []
    subscriber.add("ch", lambda data: None, on_lost=lambda: lost.append(1))
    await until(lambda: subscriber.state.server)
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        await until(lambda: lost, seconds=4.0)  # PINGs unanswered for DEAD_SECONDS
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    await until(lambda: subscriber.state.server)


async def test_a_failing_listener_and_a_failing_loop_never_silence_the_others(running, monkeypatch, caplog):
    server, subscriber = running
    heard = []

    def broken(data):
        raise RuntimeError("listener bug")

    subscriber.add("ch", broken)
    subscriber.add("ch", heard.append)
    await until(lambda: b"ch" in subscriber.state.subscribed)
    publisher = Redis.from_url(server.url)
    await publisher.publish("ch", b"1")
    await until(lambda: heard == [b"1"])
    assert "listener bug" in caplog.text

    original, failures = Subscriber._on_reply, []

    def failing_once(self, reply, name):
        if not failures and reply and reply[0] == b"message":
            failures.append(1)
            raise RuntimeError("loop bug")
        return original(self, reply, name)

    monkeypatch.setattr(Subscriber, "_on_reply", failing_once)
    await publisher.publish("ch", b"2")
    await until(lambda: failures)
    await until(lambda: b"ch" in subscriber.state.subscribed)  # started again, subscribed again
    await publisher.publish("ch", b"3")
    await until(lambda: heard[-1:] == [b"3"])
    assert "starting again" in caplog.text
    await publisher.aclose()
