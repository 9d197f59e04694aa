"""Topics streams: messages/s a subscriber receives from a full topic over /ws and /stream, against
the anchor of the same run, long-poll /consume of 10 with a batch ack (both take and acknowledge
10 messages per round; a stream adds a socket write per message). `python bench/bench_streams.py`"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.common import ok, print_table, start_microq, start_redis

MESSAGES = 20_000
BATCH = 100


async def fill(session: aiohttp.ClientSession, base: str, topic: str) -> None:
    body = json.dumps([{"payload": base64.b64encode(b'{"user_id": 42}').decode()}] * BATCH).encode()
    for _ in range(MESSAGES // BATCH):
        async with session.post(f"{base}/publish/{topic}/batch", data=body,
                                headers={"Content-Type": "application/json"}) as response:
            await ok(response)


def row(scenario: str, count: int, seconds: float, subscribers: int) -> dict[str, object]:
    return {"scenario": scenario, "subscribers": subscribers, "messages": count,
            "seconds": round(seconds, 2), "msgs/s": round(count / seconds)}


async def long_poll(session, base: str, topic: str, subscribers: int) -> dict[str, object]:
    got = 0

    async def one() -> None:
        nonlocal got
        while True:
            async with session.get(f"{base}/consume/{topic}?limit=10") as response:
                if response.status == 404:
                    return
                messages = await response.json()
            async with session.post(f"{base}/ack/{topic}", json=[m["id"] for m in messages]) as response:
                await ok(response)
            got += len(messages)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(subscribers)))
    return row("long-poll /consume?limit=10 + batch ack (anchor)", got, time.perf_counter() - start, subscribers)


class Count:
    """Messages received by all subscribers, and when the last one arrived (the idle wait after it is not counted)."""

    def __init__(self) -> None:
        self.got, self.start, self.last = 0, time.perf_counter(), time.perf_counter()

    def add(self) -> None:
        self.got += 1
        self.last = time.perf_counter()


async def websocket(session, base: str, topic: str, subscribers: int) -> dict[str, object]:
    count = Count()

    async def one() -> None:
        async with session.ws_connect(f"{base}/ws") as ws:
            await ws.send_str(json.dumps({"action": "subscribe", "topic": topic}))
            while count.got < MESSAGES:
                try:
                    frame = await ws.receive(timeout=1)
                except asyncio.TimeoutError:
                    return
                if "status" not in json.loads(frame.data):
                    count.add()

    await asyncio.gather(*(one() for _ in range(subscribers)))
    return row("/ws subscribe (auto_ack: acked after each batch is written)", count.got,
               count.last - count.start, subscribers)


async def sse(session, base: str, topic: str, subscribers: int) -> dict[str, object]:
    count = Count()

    async def one() -> None:
        async with session.get(f"{base}/stream/{topic}", timeout=aiohttp.ClientTimeout(sock_read=1)) as response:
            try:
                async for line in response.content:
                    if line.startswith(b"data: ") and b'"status"' not in line:
                        count.add()
                        if count.got >= MESSAGES:
                            return
            except asyncio.TimeoutError:
                return

    await asyncio.gather(*(one() for _ in range(subscribers)))
    return row("/stream SSE (auto_ack)", count.got, count.last - count.start, subscribers)


async def main() -> None:
    rows = []
    with start_redis() as redis, start_microq(redis.url) as base:
        async with aiohttp.ClientSession() as session:
            for subscribers in (1, 4):
                for run in (long_poll, websocket, sse):
                    topic = f"bench.{run.__name__}.{subscribers}"
                    await fill(session, base, topic)
                    rows.append(await run(session, base, topic, subscribers))
    print_table(f"topics streams ({MESSAGES} messages, 1 node process, 2-core machine)", rows)


if __name__ == "__main__":
    asyncio.run(main())
