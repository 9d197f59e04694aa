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
#: the valid durations are hours long: a lease, delay or TTL that ran out during the run would move keys
#: in the background just as a 4xx answer is checked for changing nothing
QUERY_VALUES = ["", "0", "-1", "abc", "1e9", "99999999999999999999", "2h45m", "90m", "1h", "true",
                "false", "yes", "5400.5", "3600000ms", "-5s", "NEW", "%", "😀", "x" * 2000]


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


# --- property-based: hypothesis over the route table --------------------------------------------

import hashlib
import http.client
import socket
import threading
import time

import redis as redis_sync
from aiohttp import web
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from microq.app import create_app
from microq.settings import Settings

#: keys that change with no request: heartbeats and per-node waiting counts, the sweep locks and the topics due-index
#: recheck lock (taken every RECHECK seconds, whatever the request), failed-auth counters and bans (a 401 records a
#: failure on purpose), rate-limit windows
_MOVING_KEYS = (b"topics:nodes", b"topics:waiting:", b"topics:sweep-lock", b"}:lock", b"}:recheck-lock", b"}:fail",
                b"}:ban", b":rate:")
_KNOWN = ["acme", "support", "orders", "orders.dlq", "*", "x", "default_tenant", "main"]
_CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded",
                  "application/octet-stream", "application/merge-patch+json", ""]


class _ThreadNode:
    """A node on a loopback port, its loop in a thread, so hypothesis can drive it synchronously."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._ready, self._stopped = threading.Event(), threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),), daemon=True)

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> _ThreadNode:
        self._thread.start()
        assert self._ready.wait(30), "node did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self._loop.close()


@pytest.fixture(scope="module")
def fuzz_node(redis_server, tmp_path_factory):
    client = redis_sync.Redis.from_url(redis_server.url)
    client.flushall()
    settings = Settings(redis_url=redis_server.url, data_dir=tmp_path_factory.mktemp("fuzz") / "data",
                        api_keys=("fuzz-key",), ban_threshold=10**6, rate_limit_queue=(10**6, 60.0),
                        rate_limit_trigger=(10**6, 60.0), consume_max_timeout=0.2,
                        # nothing the run makes may move on its own: leases outlast it, and each
                        # scrape reads the state itself (no shared snapshot renewed in the background)
                        visibility_timeout=6 * 3600.0, metrics_state_ttl=0.0)
    with _ThreadNode(settings) as node:
        connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
        connection.request("POST", "/api/acme/queues", '{"queue_id": "support", "name": "Support"}',
                           {"Content-Type": "application/json"})
        node.admin_key = json.loads(connection.getresponse().read())["admin_key"]
        connection.request("POST", "/publish/orders", b"x")
        connection.getresponse().read()
        connection.close()
        yield node, client
    client.close()


def _digest(client: redis_sync.Redis) -> dict[bytes, str]:
    """Every key and a digest of its DUMPed value (TTLs left out: they tick), minus the keys that move alone."""
    return {key: hashlib.sha256(client.dump(key) or b"").hexdigest()[:16]
            for key in client.scan_iter(count=1000) if not any(part in key for part in _MOVING_KEYS)}


def _changed(before: dict[bytes, str], after: dict[bytes, str]) -> list[bytes]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(redis_url="redis://127.0.0.1:1/0"))
    return sorted({(r.method, r.resource.canonical) for r in app.router.routes()
                   if r.method not in ("HEAD", "OPTIONS", "*") and r.resource.canonical != "/static"})


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                         st.sampled_from(["name", "queue_id", "url", "status", "data", "messages", "id",
                                          "payload", "ids", "queue_name", "trigger_name"]) | _TEXT, inner, max_size=4),
                     max_leaves=12)
_BODY = st.one_of(st.just(b""), st.binary(max_size=200), _JSON.map(lambda v: json.dumps(v).encode()))


def _fill(path: str, values: list[str]) -> str:
    out, i, k = [], 0, 0
    while i < len(path):
        if path[i] == "{":
            j = path.index("}", i)
            out.append(quote(values[k % len(values)].encode(), safe=""))
            k, i = k + 1, j + 1
        else:
            out.append(path[i])
            i += 1
    return "".join(out) or "/"


@st.composite
def _request(draw, method: str, path: str, admin_key: str):
    methods = [method] * 4 + ["GET", "POST", "PUT", "PATCH", "DELETE"]
    chosen = draw(st.sampled_from(methods))
    url = _fill(path, draw(st.lists(st.sampled_from(_KNOWN) | _TEXT, min_size=1, max_size=4)))
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS) | _TEXT.filter(bool), st.sampled_from(QUERY_VALUES) | _TEXT,
                                 max_size=3))
    if "/consume" in path or path.endswith("/stream"):
        query["timeout"] = draw(st.sampled_from(["", "0", "10ms", "abc", "-1s", "1e999s"]))
    headers = {"Content-Type": draw(st.sampled_from(_CONTENT_TYPES))}
    for name, value in (("X-API-Key", st.sampled_from(["fuzz-key", ""]) | _HEADER_TEXT),
                        ("X-Admin-Key", st.just(admin_key) | _HEADER_TEXT),
                        ("Origin", st.sampled_from(["https://evil.example", "null"]) | _HEADER_TEXT),
                        ("Sec-Fetch-Site", st.sampled_from(["cross-site", "same-origin", "none"])),
                        ("Idempotency-Key", _HEADER_TEXT), ("X-Forwarded-For", _HEADER_TEXT)):
        if draw(st.booleans()):
            headers[name] = draw(value).strip()
    body = draw(_BODY) if chosen in ("POST", "PUT", "PATCH", "DELETE") else b""
    return chosen, url + ("?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items()) if query else ""), headers, body


@pytest.mark.parametrize("method,path", _routes())
def test_generated_requests_get_a_quick_non_5xx_answer_and_a_4xx_changes_nothing(fuzz_node, method, path):
    node, client = fuzz_node

    @hypothesis_settings(max_examples=12, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @given(_request(method, path, node.admin_key))
    def check(request):
        chosen, url, headers, body = request
        before = _digest(client)
        connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
        started = time.monotonic()
        try:
            connection.request(chosen, url, body=body, headers=headers)
            response = connection.getresponse()
            if response.getheader("Content-Type", "").startswith("text/event-stream"):
                return  # a live stream opened: a valid answer
            response.read()
        finally:
            connection.close()
        assert time.monotonic() - started < 10
        assert response.status < 500, f"{chosen} {url} {headers} {body[:80]!r}: {response.status}"
        if 400 <= response.status < 500:
            changed = _changed(before, _digest(client))
            assert not changed, f"{chosen} {url} {body[:80]!r} answered {response.status} but changed {changed[:5]}"

    check()
