"""Work API benchmark: item creation (POST /api/queue) with the security layer on and off,
beside the bare-aiohttp ceiling, in one run.

    python -m bench.bench_work [--duration 5] [--rounds 2]

"on" checks the X-API-Key, the ban state and the rate limit in Redis on every request (one
security_admit script); the limit is raised so that no request is refused, and the sliding
log still records every request. "off" is MICROQ_WORK_AUTH=off. Each row is the best of
--rounds runs, interleaved so that noise from other processes hits every row alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from redis import Redis  # noqa: E402

from bench.common import ROOT, Result, load, ok, print_table, start_ceiling, start_microq, start_redis  # noqa: E402

ENV_KEY = "bench-key-from-env"
NO_LIMIT = "1000000000/minute"


def item_request(base: str, key: str | None):
    headers = {"X-API-Key": key} if key else {}
    url = f"{base}/api/queue"

    async def request(session: aiohttp.ClientSession, worker: int) -> None:
        body = {"queue_name": f"bench-{worker % 8}", "data": {"case_id": "ABC123", "n": worker},
                "reference": "ExternalRef-456", "created_by": "bench"}
        async with session.post(url, json=body, headers=headers) as response:
            await ok(response)

    return request


def ceiling_request(base: str):
    async def request(session: aiohttp.ClientSession, worker: int) -> None:
        async with session.post(f"{base}/ceiling", json={"queue_name": "bench"}) as response:
            await ok(response)

    return request


def cli_key(redis_url: str) -> str:
    created = subprocess.run([sys.executable, "-m", "microq", "api-key", "create", "--name", "bench"],
                             env={**os.environ, "REDIS_URL": redis_url}, cwd=ROOT, capture_output=True,
                             text=True, check=True)
    return next(line.split(":", 1)[1].strip() for line in created.stdout.splitlines() if line.startswith("key:"))


def run(label: str, request, duration: float) -> Result:
    result = asyncio.run(load(request, connections=64, duration=duration))
    print(f"  {label}: {round(result.rps)} req/s, {result.errors} errors", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    best: dict[str, Result] = {}

    def keep(label: str, result: Result) -> None:
        if label not in best or result.rps > best[label].rps:
            best[label] = result

    with start_redis() as redis_server:
        flush = Redis.from_url(redis_server.url)
        key = cli_key(redis_server.url)
        on_env = {"MICROQ_API_KEYS": ENV_KEY, "MICROQ_RATE_LIMIT_QUEUE": NO_LIMIT}
        off_env = {"MICROQ_WORK_AUTH": "off"}
        with start_ceiling() as ceiling, start_microq(redis_server.url, env=on_env) as on, \
                start_microq(redis_server.url, env=off_env) as off:
            for _ in range(args.rounds):
                keep("ceiling", run("ceiling", ceiling_request(ceiling), args.duration))
                keep("off", run("off", item_request(off, None), args.duration))
                keep("on, env key", run("on, env key", item_request(on, ENV_KEY), args.duration))
                keep("on, CLI key", run("on, CLI key", item_request(on, key), args.duration))
                for name in flush.scan_iter(match="mq:w:*"):  # keep Redis from growing between rounds
                    flush.delete(name)
        flush.close()
    off_rps = best["off"].rps
    rows = []
    for label, target in (("bare aiohttp ceiling", "ceiling"), ("POST /api/queue, security off", "off"),
                          ("POST /api/queue, security on (MICROQ_API_KEYS key)", "on, env key"),
                          ("POST /api/queue, security on (`microq api-key` key)", "on, CLI key")):
        row = best[target].row(scenario=label)
        if target.startswith("on"):
            row["cost vs off"] = f"{(1 - best[target].rps / off_rps) * 100:.1f}%"
        rows.append(row)
    print_table(f"work: item create, 1 node, 64 connections, best of {args.rounds} x {args.duration:g} s", rows)


if __name__ == "__main__":
    main()
