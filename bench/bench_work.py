"""Work API benchmark: item creation (POST /api/queue) with the security layer on and off,
beside the bare-aiohttp ceiling, in one run.

    python -m bench.bench_work [--duration 5] [--rounds 2]

"on" checks the X-API-Key, the ban state and the rate limit in Redis on every request (one
security_gate script for the concurrent requests of one client and key); the limit is raised so that no request is
refused, and the sliding log still records every request. "off" is MICROQ_WORK_AUTH=off. Each
row is the best of --rounds runs, interleaved so that noise from other processes hits every
row alike.

On a shared host, throughput moves with the neighbours' load, so each row also shows the CPU
time the node and Redis spent per request (from /proc and INFO CPU, warm-up included), which
other processes do not change: "CPU cost vs off" compares those sums, the cost that caps
throughput once the node is saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
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


BULK = 1000  #: items per bulk request


def bulk_request(base: str, key: str | None):
    """POST /api/queue/{q}/bulk with 1000 seed-shaped items; the body is encoded once, so the
    load generator (on the same host) spends its CPU on HTTP, not on JSON."""
    headers = {"Content-Type": "application/json", **({"X-API-Key": key} if key else {})}
    body = json.dumps([{"data": {"case_id": "ABC123", "n": n}, "reference": f"ExternalRef-{n}",
                        "created_by": "bench"} for n in range(BULK)]).encode()

    async def request(session: aiohttp.ClientSession, worker: int) -> None:
        async with session.post(f"{base}/api/queue/bench-bulk-{worker % 8}/bulk", data=body,
                                headers=headers) as response:
            await ok(response)

    return request


def ceiling_request(base: str, path: str = "/ceiling"):
    headers = {"X-API-Key": ENV_KEY}

    async def request(session: aiohttp.ClientSession, worker: int) -> None:
        async with session.post(f"{base}{path}", json={"queue_name": "bench"}, headers=headers) as response:
            await ok(response)

    return request


def cli_key(redis_url: str) -> str:
    created = subprocess.run([sys.executable, "-m", "microq", "api-key", "create", "--name", "bench"],
                             env={**os.environ, "REDIS_URL": redis_url}, cwd=ROOT, capture_output=True,
                             text=True, check=True)
    return next(line.split(":", 1)[1].strip() for line in created.stdout.splitlines() if line.startswith("key:"))


def listening_pid(port: int) -> int:
    """The process listening on 127.0.0.1:port, found through /proc (Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    raise RuntimeError(f"no process listens on port {port}")


def process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def redis_cpu(client: Redis) -> tuple[float, int]:
    """(CPU seconds, script calls) of the Redis server so far: the calls a node sends per request
    (on a single Redis every call of this path is a script; commands inside scripts count under
    their own names)."""
    info = client.info("cpu")
    stats = client.info("commandstats")
    sent = sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"]), sent


@dataclass
class Measured:
    result: Result
    node_us: float  #: node CPU per request, microseconds
    redis_us: float
    commands: float  #: script calls the node sent per request (warm-up included)


def run(label: str, request, duration: float, pid: int | None, redis: Redis, connections: int = 64) -> Measured:
    node_before, redis_before = process_cpu(pid) if pid else 0.0, redis_cpu(redis)
    result = asyncio.run(load(request, connections=connections, duration=duration))
    redis_after = redis_cpu(redis)
    node_spent = (process_cpu(pid) - node_before) if pid else 0.0
    done = max(1, result.requests)
    measured = Measured(result, node_spent / done * 1e6, (redis_after[0] - redis_before[0]) / done * 1e6,
                        (redis_after[1] - redis_before[1]) / done)
    print(f"  {label}: {round(result.rps)} req/s, {result.errors} errors, node {measured.node_us:.0f} us/req, "
          f"redis {measured.redis_us:.0f} us/req, {measured.commands:.2f} commands/req", file=sys.stderr)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bulk-connections", type=int, default=4)
    parser.add_argument("--in-process-rounds", type=int, default=8,
                        help="paired rounds of the one-process measurement (0: leave it out)")
    parser.add_argument("--bulk", action="store_true",
                        help="only the items-per-second table: single creates beside bulk adds (no ceiling)")
    args = parser.parse_args()
    best: dict[str, Result] = {}
    cpu: dict[str, tuple[float, float]] = {}  #: the lowest node and Redis CPU per request seen
    commands: dict[str, float] = {}  #: Redis commands per request in the best run
    in_process: list[dict[str, object]] = []

    def keep(label: str, measured: Measured) -> None:
        if label not in best or measured.result.rps > best[label].rps:
            best[label] = measured.result
            commands[label] = measured.commands
        node, redis_us = cpu.get(label, (float("inf"), float("inf")))
        cpu[label] = (min(node, measured.node_us), min(redis_us, measured.redis_us))

    with start_redis() as redis_server:
        flush = Redis.from_url(redis_server.url)
        key = cli_key(redis_server.url)
        on_env = {"MICROQ_API_KEYS": ENV_KEY, "MICROQ_RATE_LIMIT_QUEUE": NO_LIMIT}
        off_env = {"MICROQ_WORK_AUTH": "off"}
        with contextlib.ExitStack() as stack:
            ceiling = None if args.bulk else stack.enter_context(start_ceiling(limiter_redis=redis_server.url))
            ceiling_pid = listening_pid(int(ceiling.rpartition(":")[2])) if ceiling else None
            on = stack.enter_context(start_microq(redis_server.url, env=on_env))
            off = stack.enter_context(start_microq(redis_server.url, env=off_env))
            on_pid, off_pid = (listening_pid(int(url.rpartition(":")[2])) for url in (on, off))
            for _ in range(args.rounds):
                if ceiling:
                    keep("ceiling", run("ceiling", ceiling_request(ceiling), args.duration, ceiling_pid, flush))
                    keep("limits", run("limits", ceiling_request(ceiling, "/limited"), args.duration, ceiling_pid,
                                       flush))
                keep("off", run("off", item_request(off, None), args.duration, off_pid, flush))
                keep("on, env key", run("on, env key", item_request(on, ENV_KEY), args.duration, on_pid, flush))
                if not args.bulk:
                    keep("on, CLI key", run("on, CLI key", item_request(on, key), args.duration, on_pid, flush))
                keep("bulk off", run("bulk off", bulk_request(off, None), args.duration, off_pid, flush,
                                     args.bulk_connections))
                keep("bulk on", run("bulk on", bulk_request(on, ENV_KEY), args.duration, on_pid, flush,
                                    args.bulk_connections))
                for name in flush.scan_iter(match="mq:w:*"):  # keep Redis from growing between rounds
                    flush.delete(name)
        flush.close()
        if not args.bulk and args.in_process_rounds:
            in_process = in_process_rows(args, redis_server.url)
    if not args.bulk:
        creates_table(args, best, cpu, commands)
        gate_table(args, best, cpu)
    bulk_table(args, best, cpu)
    if in_process:
        print_table(f"work: item create with the node and the load generator in one process (one core), "
                    f"{args.in_process_rounds} paired rounds of {args.duration:g} s, medians", in_process)


def in_process_rows(args, redis_url: str) -> list[dict[str, object]]:
    """The same creates with no other busy process beside the node: its app and the load
    generator share one event loop (one core), Redis runs on the other. On two cores the
    separate processes above contend (node, Redis and load generator are three busy processes),
    and each one's CPU per request then moves with the others' load; here the process CPU per
    request (node and generator together) is the layer's own cost, paired round by round."""
    from aiohttp.test_utils import TestServer

    from microq.app import create_app
    from microq.settings import Settings

    async def measure() -> list[dict[str, object]]:
        env = {"REDIS_URL": redis_url, "MICROQ_LOG_LEVEL": "WARNING"}
        servers = {
            "off": TestServer(create_app(Settings.from_env({**env, "MICROQ_WORK_AUTH": "off"}, dotenv=None))),
            "on": TestServer(create_app(Settings.from_env({**env, "MICROQ_API_KEYS": ENV_KEY,
                                                           "MICROQ_RATE_LIMIT_QUEUE": NO_LIMIT}, dotenv=None))),
        }
        for server in servers.values():
            await server.start_server()
        keys = {"off": None, "on": ENV_KEY}
        seen: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
        try:
            for name, server in servers.items():  # warm-up
                await load(item_request(str(server.make_url("")).rstrip("/"), keys[name]), duration=1, warmup=0)
            for round_ in range(args.in_process_rounds):
                for name in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
                    base = str(servers[name].make_url("")).rstrip("/")
                    spent = time.process_time()
                    result = await load(item_request(base, keys[name]), duration=args.duration, warmup=0)
                    seen[name].append((result.rps, (time.process_time() - spent) / max(1, result.requests) * 1e6))
                print(f"  in process, round {round_ + 1}: off {seen['off'][-1][0]:.0f} req/s, "
                      f"on {seen['on'][-1][0]:.0f} req/s", file=sys.stderr)
        finally:
            for server in servers.values():
                await server.close()
        pairs = list(zip(seen["off"], seen["on"]))
        rows = []
        for name, label in (("off", "POST /api/queue, security off"),
                            ("on", "POST /api/queue, security on (MICROQ_API_KEYS key)")):
            row = {"scenario": label, "req/s": round(statistics.median(r for r, _ in seen[name])),
                   "process CPU us/req": round(statistics.median(c for _, c in seen[name])),
                   "cost vs off (median of pairs)": "", "CPU cost vs off (median of pairs)": ""}
            if name == "on":
                row["cost vs off (median of pairs)"] = f"{(1 - statistics.median(on[0] / off[0] for off, on in pairs)) * 100:.1f}%"
                row["CPU cost vs off (median of pairs)"] = f"{(statistics.median(on[1] / off[1] for off, on in pairs) - 1) * 100:.1f}%"
            rows.append(row)
        return rows

    return asyncio.run(measure())


def gate_table(args, best: dict[str, Result], cpu: dict[str, tuple[float, float]]) -> None:
    """What the security gate adds to a create, beside what one `limits` moving-window check adds
    to a bare aiohttp handler: the time per request at saturation (1/throughput) and the CPU
    (node or app, plus Redis) per request, each against its own base measured in this run."""
    def per_request_us(target: str) -> float:
        return 1e6 / best[target].rps

    rows = []
    limiter_us = per_request_us("limits") - per_request_us("ceiling")
    limiter_cpu = sum(cpu["limits"]) - sum(cpu["ceiling"])
    for label, target, base in (("bare aiohttp handler", "ceiling", None),
                                ("bare aiohttp handler + one `limits` moving-window check (async Redis)", "limits",
                                 "ceiling"),
                                ("POST /api/queue, security off", "off", None),
                                ("POST /api/queue, whole gate (key, ban, exact limit), MICROQ_API_KEYS key",
                                 "on, env key", "off"),
                                ("POST /api/queue, whole gate, `microq api-key` key", "on, CLI key", "off")):
        row = {"scenario": label, "req/s": round(best[target].rps), "us/req": f"{per_request_us(target):.0f}",
               "CPU us/req (app + Redis)": f"{sum(cpu[target]):.0f}", "added us/req": "", "added CPU us/req": "",
               "added / limiter's": ""}
        if base:
            added = per_request_us(target) - per_request_us(base)
            added_cpu = sum(cpu[target]) - sum(cpu[base])
            row["added us/req"] = f"{added:.0f}"
            row["added CPU us/req"] = f"{added_cpu:.0f}"
            if target != "limits":
                row["added / limiter's"] = (f"{added / limiter_us:.2f} (time), "
                                            f"{added_cpu / limiter_cpu:.2f} (CPU)")
        rows.append(row)
    print_table(f"work: the security gate beside one `limits` limiter check, 64 connections, best of "
                f"{args.rounds} x {args.duration:g} s", rows)


def creates_table(args, best: dict[str, Result], cpu: dict[str, tuple[float, float]],
                  commands: dict[str, float]) -> None:
    off_rps, off_cpu = best["off"].rps, sum(cpu["off"])
    rows = []
    for label, target in (("bare aiohttp ceiling", "ceiling"), ("POST /api/queue, security off", "off"),
                          ("POST /api/queue, security on (MICROQ_API_KEYS key)", "on, env key"),
                          ("POST /api/queue, security on (`microq api-key` key)", "on, CLI key")):
        row = best[target].row(scenario=label)
        row["cost vs off"] = ""
        row["node CPU us/req"] = f"{cpu[target][0]:.0f}" if target != "ceiling" else ""
        row["Redis CPU us/req"] = f"{cpu[target][1]:.1f}" if target != "ceiling" else ""
        row["Redis calls/req"] = f"{commands[target]:.2f}" if target != "ceiling" else ""
        row["CPU cost vs off"] = ""
        if target.startswith("on"):
            row["cost vs off"] = f"{(1 - best[target].rps / off_rps) * 100:.1f}%"
            row["CPU cost vs off"] = f"{(sum(cpu[target]) / off_cpu - 1) * 100:.1f}%"
        rows.append(row)
    print_table(f"work: item create, 1 node, 64 connections, best of {args.rounds} x {args.duration:g} s", rows)


def bulk_table(args, best: dict[str, Result], cpu: dict[str, tuple[float, float]]) -> None:
    rows = []
    for label, target in (("POST /api/queue (one item a request), security off", "off"),
                          ("POST /api/queue (one item a request), security on", "on, env key"),
                          (f"POST /api/queue/{{q}}/bulk ({BULK} items a request), security off", "bulk off"),
                          (f"POST /api/queue/{{q}}/bulk ({BULK} items a request), security on", "bulk on")):
        per = BULK if target.startswith("bulk") else 1
        row = best[target].row(scenario=label)
        row["items/s"] = round(best[target].rps * per)
        row["node CPU us/item"] = f"{cpu[target][0] / per:.1f}"
        row["Redis CPU us/item"] = f"{cpu[target][1] / per:.1f}"
        rows.append(row)
    print_table(f"work: items stored per second, 1 node; bulk with {args.bulk_connections} connections, "
                f"best of {args.rounds} x {args.duration:g} s", rows)


if __name__ == "__main__":
    main()
