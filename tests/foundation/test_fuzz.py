"""Hostile input against every route of all three APIs: nothing a client sends may give a 500.

A seeded generator (reproducible: the failing request is printed) fills each route's path
placeholders, query and body with hostile values. Streams (SSE) are opened and closed.
"""

from __future__ import annotations

import asyncio
import json
import random
from urllib.parse import quote

import pytest

NASTY_STRINGS = [
    "", " ", "a", "A" * 300, "x" * 5000, "é", "日本語", "😀" * 50, "\u202e", "\x00", "\x7f",
    "..", "../..", "%00", "%2F", "{", "}", "{x}", "*", "orders.*", "a b", "null", "true", "-1",
    "0", "1e999", "NaN", "' OR 1=1 --", "<script>alert(1)</script>", "\ud800", "queue", "queues",
    "default_tenant", "acme", "support", "f47ac10b-58cc-4372-a567-0e02b2c3d479",
]
NASTY_NUMBERS = [0, -1, 1, 2**63, -(2**63), 2**64 + 1, 10**400, 1.5, -0.0, 1e308, float("nan")]
QUERY_KEYS = ["timeout", "limit", "auto_ack", "ttl", "delay", "broadcast", "visibility", "queue",
              "status", "offset", "since", "count", "url", "cursor"]
QUERY_VALUES = ["", "0", "-1", "abc", "1e9", "99999999999999999999", "5s", "100ms", "1h", "true",
                "false", "yes", "0.5", "1ms", "-5s", "NEW", "%", "😀", "x" * 2000]


def nasty_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(NASTY_STRINGS)
    if kind == 1:
        return rng.choice(NASTY_NUMBERS)
    if kind == 2:
        return rng.choice([None, True, False])
    if kind == 3:
        return rng.choice(["NEW", "DONE", "IDLE", "SINGLE", "QUEUE", "http://127.0.0.1/x", "ftp://x"])
    if kind == 4:
        return rng.randrange(-5, 5)
    if kind in (5, 6):
        keys = ["name", "queue_id", "queue_name", "status", "data", "reference", "message", "created_by",
                "created_date", "trigger_name", "process_status", "type", "url", "id", "topic", "payload",
                "retry_count", "timestamp", "is_public", "avg_service_time", "service_type_id", "code",
                "tenant_id", "messages", "watch_queue", rng.choice(NASTY_STRINGS)]
        return {rng.choice(keys): nasty_json(rng, depth + 1) for _ in range(rng.randrange(6))}
    return [nasty_json(rng, depth + 1) for _ in range(rng.randrange(5))]


def nasty_body(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return b""
    if kind == 1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))  # not JSON, maybe not UTF-8
    if kind == 2:
        return b"[" * 5000 + b"]" * 5000  # deep nesting
    if kind == 3:
        return b'{"a": ' + b"9" * 5000 + b"}"  # a huge integer literal
    value = nasty_json(rng)
    return json.dumps(value, allow_nan=True, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def concrete(path: str, rng: random.Random) -> str:
    out, i = [], 0
    while i < len(path):
        if path[i] == "{":
            j = path.index("}", i)
            out.append(quote(rng.choice(NASTY_STRINGS).encode("utf-8", "surrogatepass"), safe=""))
            i = j + 1
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


@pytest.mark.parametrize("seed", range(3))
async def test_no_client_input_gives_a_server_error(make_client, seed: int):
    # a valid key half the time and no bans, so the fuzzer also gets past the gates into validation
    client = await make_client(api_keys=("fuzz-key",), ban_threshold=10**6,
                               rate_limit_queue=(10**6, 60.0), rate_limit_trigger=(10**6, 60.0))
    created = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Support"})
    admin_key = (await created.json())["admin_key"]
    await client.post("/publish/acme", data=b"x")
    app = client.server.app
    routes = [(r.method, r.resource.canonical) for r in app.router.routes()
              if r.method not in ("HEAD", "OPTIONS") and r.resource.canonical != "/static"]
    rng = random.Random(seed)
    failures = []
    for _ in range(15):
        for method, path in routes:
            url = concrete(path, rng)
            query = {rng.choice(QUERY_KEYS): rng.choice(QUERY_VALUES) for _ in range(rng.randrange(4))}
            if "/consume/" in path:  # a valid long timeout would only make the test slow
                query["timeout"] = rng.choice(["", "abc", "-1s", "0", "10ms", "1e999s"])
            headers = {"Content-Type": rng.choice(["application/json", "text/plain", "application/octet-stream"])}
            if rng.random() < 0.5:
                headers["X-API-Key"] = "fuzz-key"
            if rng.random() < 0.5:
                headers["X-Admin-Key"] = admin_key
            for header in ("X-Admin-Key", "X-API-Key", "X-Forwarded-For", "Idempotency-Key"):
                if rng.random() < 0.3:
                    headers[header] = rng.choice(["", "x" * 500, "admin", "1.2.3.4, 5.6.7.8", "\u00e9"]).encode(
                        "latin-1", "replace").decode("latin-1")
            body = nasty_body(rng) if method in ("POST", "PATCH", "PUT", "DELETE") else None
            try:
                response = await asyncio.wait_for(
                    client.request(method, url, params=query, data=body, headers=headers), 10)
                if response.content_type == "text/event-stream":
                    response.close()  # a live stream opened: that is a valid answer
                    continue
                await response.read()
            except asyncio.TimeoutError:
                failures.append(f"{method} {url} {query}: no answer in 10 s")
                continue
            if response.status >= 500:
                failures.append(f"{method} {url} {query} {body[:80] if body else b''!r}: {response.status}")
    assert not failures, "\n".join(failures[:20])
    assert (await client.get("/readyz")).status == 200
