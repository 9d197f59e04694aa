"""Foundation: the HTTP ceiling beside a MicroQ node, and script calls sharing round trips
against one EVALSHA per round trip. `python -m bench.bench_foundation`"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load, ok, print_table, start_ceiling, start_microq, start_redis
from microq.redis_client import connect
from microq.scripts import Scripts, load_scripts

BUMP = """--[[ bench_bump: one small write, the size of a typical MicroQ script.
  KEYS[1] counter  ARGV[1] amount  Returns: the new value ]]
return redis.call("INCRBY", KEYS[1], ARGV[1])
"""


async def script_calls(redis_url: str, callers: int, calls: int, shared: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "bench_bump-1.lua").write_text(BUMP)
        client = connect(redis_url)
        scripts = Scripts(client, load_scripts(Path(directory)))
        await scripts.preload()
        script = scripts.by_name["bench_bump"]

        async def caller() -> None:
            for _ in range(calls):
                if shared:
                    await scripts.call("bench_bump", ["bench:counter"], [1])
                else:
                    await client.evalsha(script.sha, 1, "bench:counter", 1)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(callers)))
        elapsed = time.perf_counter() - started
        await client.aclose()
    return {"scenario": "shared round trips" if shared else "one EVALSHA per round trip",
            "callers": callers, "calls/s": round(callers * calls / elapsed)}


async def http(base: str, path: str, label: str) -> dict[str, object]:
    async def request(session, _):
        async with session.get(base + path) as response:
            await ok(response)

    return (await load(request, connections=64, duration=5.0)).row(scenario=label)


async def main() -> None:
    rows = []
    with start_redis() as redis:
        for callers in (1, 16, 64):
            rows.append(await script_calls(redis.url, callers, 2000 if callers > 1 else 5000, shared=False))
            rows.append(await script_calls(redis.url, callers, 2000 if callers > 1 else 5000, shared=True))
        print_table("Script calls on one node (in-process, redis-py)", rows)
        http_rows = []
        with start_ceiling() as ceiling:
            http_rows.append(await http(ceiling, "/ceiling", "bare aiohttp ceiling"))
        with start_microq(redis.url) as node:
            http_rows.append(await http(node, "/healthz", "microq GET /healthz"))
        print_table("HTTP, 64 connections, 1 process each", http_rows)


if __name__ == "__main__":
    asyncio.run(main())
