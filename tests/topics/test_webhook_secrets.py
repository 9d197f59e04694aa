"""Per-webhook secrets (TinyMQ 3's `secret`): a real aiohttp receiver recomputes both signatures,
X-TinyMQ-Signature exactly as TinyMQ 3.1.6's broker computes it (internal/broker/broker.go:
"sha256=" + hex HMAC-SHA256 of the body, keyed with the secret) and MicroQ's timestamped
X-MicroQ-Signature; and the failing-delivery count (/api/stats, /metrics) through a receiver
that fails, recovers, gives up and is removed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from microq.errors import BadRequest
from microq.events import Event, event_sink
from microq.topics.appkeys import TOPICS
from tests.topics.conftest import publish, stats_row


class Verifier:
    """A webhook receiver that checks signatures the way a TinyMQ 3 user's receiver does, and
    MicroQ's way: each POST's verdicts are recorded. Answers `status`."""

    def __init__(self, secret: bytes | None, status: int = 200) -> None:
        self.secret, self.status = secret, status
        self.posts: list[dict] = []
        self.app = web.Application()
        self.app.router.add_post("/hook", self.incoming)

    async def incoming(self, request: web.Request) -> web.Response:
        body = await request.read()
        seen = {"body": body, "headers": dict(request.headers)}
        if self.secret is not None:
            tinymq = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            stamp = request.headers.get("X-MicroQ-Timestamp", "")
            microq = "sha256=" + hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            seen["tinymq_ok"] = hmac.compare_digest(request.headers.get("X-TinyMQ-Signature", ""), tinymq)
            seen["microq_ok"] = hmac.compare_digest(request.headers.get("X-MicroQ-Signature", ""), microq)
        self.posts.append(seen)
        return web.Response(status=self.status)

    async def wait_for(self, count: int, timeout: float = 15.0) -> None:
        for _ in range(int(timeout / 0.05)):
            if len(self.posts) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"got {len(self.posts)} posts, expected {count}")


async def start(aiohttp_server, secret: bytes | None, status: int = 200) -> tuple[Verifier, str]:
    verifier = Verifier(secret, status)
    server = await aiohttp_server(verifier.app)
    return verifier, str(server.make_url("/hook"))


async def test_a_webhook_secret_signs_both_ways(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    verifier, url = await start(aiohttp_server, b"whsec-1")
    answer = await client.post("/webhook/signed", json={"url": url, "secret": "whsec-1"})
    assert answer.status == 201
    assert (await answer.json())["has_secret"] is True
    await client.post("/publish/signed", data=b'{"order": 7}', headers={"Content-Type": "application/json"})
    await verifier.wait_for(1)
    post = verifier.posts[0]
    assert post["body"] == b'{"order": 7}'
    assert post["tinymq_ok"] and post["microq_ok"]
    # exactly TinyMQ 3's form: the prefix and 64 lower-case hex digits, the body alone signed
    assert post["headers"]["X-TinyMQ-Signature"] == \
        "sha256=" + hmac.new(b"whsec-1", b'{"order": 7}', hashlib.sha256).hexdigest()


async def test_the_webhook_secret_wins_over_the_node_wide_one(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True, webhook_secret="node-wide")
    own, own_url = await start(aiohttp_server, b"its-own")
    plain, plain_url = await start(aiohttp_server, b"node-wide")
    await client.post("/webhook/mixed", json={"url": own_url, "secret": "its-own"})
    await client.post("/webhook/mixed", json={"url": plain_url})
    await publish(client, "mixed", b"x")
    await own.wait_for(1)
    await plain.wait_for(1)
    assert own.posts[0]["tinymq_ok"] and own.posts[0]["microq_ok"]
    # no secret of its own: MicroQ's signature with the node's secret, and no TinyMQ header (as TinyMQ 3)
    assert plain.posts[0]["microq_ok"] and "X-TinyMQ-Signature" not in plain.posts[0]["headers"]


async def test_without_any_secret_nothing_is_signed(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    verifier, url = await start(aiohttp_server, None)
    await client.post("/webhook/open", json={"url": url, "secret": ""})  # "" is none, as TinyMQ 3's omitempty
    await publish(client, "open", b"x")
    await verifier.wait_for(1)
    headers = verifier.posts[0]["headers"]
    assert "X-TinyMQ-Signature" not in headers and "X-MicroQ-Signature" not in headers


async def test_the_admin_route_takes_a_secret_too(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    verifier, url = await start(aiohttp_server, b"adm")
    answer = await client.post("/api/queues/webhooks", json={"queue": "adm", "url": url, "secret": "adm"})
    assert answer.status == 201 and (await answer.json())["has_secret"] is True
    await publish(client, "adm", b"y")
    await verifier.wait_for(1)
    assert verifier.posts[0]["tinymq_ok"] and verifier.posts[0]["microq_ok"]


async def test_listings_never_show_the_secret_and_registering_again_rotates_it(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    verifier, url = await start(aiohttp_server, b"second")
    await client.post("/webhook/rot", json={"url": url, "secret": "first"})
    again = await client.post("/webhook/rot", json={"url": url, "secret": "second"})
    assert again.status == 201
    for path in ("/webhook/rot", "/api/queues/webhooks?queue=rot", "/api/stats", "/api/queues"):
        text = await (await client.get(path)).text()
        assert "first" not in text and "second" not in text, path
    listed = await (await client.get("/webhook/rot")).json()
    assert listed["webhooks"] == [{"id": listed["webhooks"][0]["id"], "url": url, "has_secret": True}]
    assert await (await client.get("/api/queues/webhooks?queue=rot")).json() == [url]  # tmq webhook list's shape
    await publish(client, "rot", b"z")
    await verifier.wait_for(1)
    assert verifier.posts[0]["tinymq_ok"]  # signed with the secret given last
    await client.post("/webhook/rot", json={"url": url})  # again without: unsigned from now on
    assert (await (await client.get("/webhook/rot")).json())["webhooks"][0]["has_secret"] is False


async def test_bad_secrets_are_400_and_register_nothing(client):
    for body in ({"url": "https://example.com/h", "secret": 7},
                 {"url": "https://example.com/h", "secret": ["a"]},
                 {"url": "https://example.com/h", "secret": "x" * 1025}):
        answer = await client.post("/webhook/bad", json=body)
        assert answer.status == 400 and "secret" in (await answer.json())["error"]
    lone = await client.post("/webhook/bad", data=b'{"url": "https://example.com/h", "secret": "\\ud800"}',
                             headers={"Content-Type": "application/json"})
    assert lone.status == 400
    assert (await (await client.get("/webhook/bad")).json())["webhooks"] == []
    ok = await client.post("/webhook/bad", json={"url": "https://example.com/h", "secret": "é" * 512})
    assert ok.status == 201  # 1024 bytes of UTF-8: the most


# -- failing deliveries ---------------------------------------------------------------------

def gauges(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def until(check, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def counts(client, topic: str) -> tuple[int, int]:
    row = await stats_row(client, topic)
    return row["PendingDeliveries"], row["FailingDeliveries"]


async def failing_field(client, topic: str):
    store = client.server.app[TOPICS]
    return await store.execute("HGET", store.keys(topic).hookatt, "|failing")


async def test_a_failing_delivery_is_counted_until_it_succeeds(aiohttp_server, make_client):
    # metrics_state_ttl=0: each scrape reads the state itself, rather than a shared snapshot
    client = await make_client(webhook_allow_private=True, webhook_max_attempts=10, metrics_state_ttl=0)
    other = await make_client(webhook_allow_private=True, webhook_max_attempts=10, metrics_state_ttl=0)
    verifier, url = await start(aiohttp_server, None, status=503)
    await client.post("/webhook/flaky", json={"url": url})
    await publish(client, "flaky", b"m1")
    await verifier.wait_for(1)

    async def failing_one() -> bool:
        return await counts(client, "flaky") == (1, 1)

    await until(failing_one)
    # the same cluster-wide truth from another node, in the JSON and in /metrics
    assert await counts(other, "flaky") == (1, 1)
    values = gauges(await (await other.get("/metrics")).text())
    assert values[("microq_topic_webhook_failing", (("topic", "flaky"),))] == 1
    assert values[("microq_topic_webhook_pending", (("topic", "flaky"),))] == 1
    assert values[("microq_topic_webhook_failing_total_all", ())] == 1

    verifier.status = 200  # the receiver recovers: the next retry (after 0.5 s, then 1 s, ...) succeeds

    async def done() -> bool:
        return await counts(client, "flaky") == (0, 0)

    await until(done)
    assert verifier.posts[-1]["body"] == b"m1"
    assert await failing_field(client, "flaky") is None  # a count of 0 leaves no field behind
    values = gauges(await (await client.get("/metrics")).text())
    assert values[("microq_topic_webhook_failing_total_all", ())] == 0


async def test_a_delivery_that_gives_up_stops_counting(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True, webhook_max_attempts=2)
    verifier, url = await start(aiohttp_server, None, status=500)
    await client.post("/webhook/doomed", json={"url": url})
    await publish(client, "doomed", b"m")

    async def dead_lettered() -> bool:
        return (await stats_row(client, "doomed"))["DeadLetters"] == 1

    await until(dead_lettered)
    assert await counts(client, "doomed") == (0, 0)
    assert await failing_field(client, "doomed") is None


async def test_removing_the_last_webhook_clears_the_failing_count(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True, webhook_max_attempts=10)
    verifier, url = await start(aiohttp_server, None, status=500)
    await client.post("/webhook/gone", json={"url": url})
    for n in range(3):
        await publish(client, "gone", f"m{n}".encode())

    async def three_failing() -> bool:
        return (await counts(client, "gone"))[1] == 3

    await until(three_failing)
    assert (await client.delete("/webhook/gone", params={"url": url})).status == 200
    row = await stats_row(client, "gone")
    assert (row["PendingDeliveries"], row["FailingDeliveries"], row["Ready"]) == (0, 0, 3)  # back to pull
    assert await failing_field(client, "gone") is None


async def test_purge_clears_the_failing_count(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True, webhook_max_attempts=10)
    verifier, url = await start(aiohttp_server, None, status=500)
    await client.post("/webhook/purged", json={"url": url})
    await publish(client, "purged", b"m")

    async def failing() -> bool:
        return (await counts(client, "purged"))[1] == 1

    await until(failing)
    assert (await client.delete("/api/queues/purge?queue=purged")).status == 200
    assert await counts(client, "purged") == (0, 0)


# -- through the bridge (microq/events.py's EventSink, as lines and work use it) ----------------

async def test_a_webhook_added_through_the_bridge_is_signed(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    sink = event_sink(client.server.app)
    verifier, url = await start(aiohttp_server, b"bridge-secret")
    hook_id = await sink.add_webhook("lines.events", url, secret="bridge-secret")
    assert hook_id == await sink.add_webhook("lines.events", url, secret="bridge-secret")  # same url, same hook
    assert await sink.webhooks("lines.events") == [url]
    listed = await (await client.get("/webhook/lines.events")).json()
    assert listed["webhooks"] == [{"id": hook_id, "url": url, "has_secret": True}]
    assert "lines.events" in [row["Name"] for row in (await (await client.get("/api/stats")).json())["stats"]]
    await sink.publish("lines.events", [Event("lines:t:q:1-0", b'{"joined": "Ada"}')])
    await verifier.wait_for(1)
    post = verifier.posts[0]
    assert post["body"] == b'{"joined": "Ada"}' and post["headers"]["Content-Type"] == "application/json"
    assert post["tinymq_ok"] and post["microq_ok"]


async def test_the_bridge_refuses_a_bad_secret(make_client):
    client = await make_client(webhook_allow_private=True)
    with pytest.raises(BadRequest):
        await event_sink(client.server.app).add_webhook("t", "http://127.0.0.1:9/h", secret="x" * 2000)
    assert await event_sink(client.server.app).webhooks("t") == []


# -- X-MQ-* headers (the publish's, kept with the message) ------------------------------------

async def test_a_publishs_headers_are_forwarded_beside_both_signatures(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    verifier, url = await start(aiohttp_server, b"h-secret")
    await client.post("/webhook/hdr", json={"url": url, "secret": "h-secret"})
    await client.post("/publish/hdr", data=b"body", headers={"X-MQ-Trace": "abc"})
    await verifier.wait_for(1)
    post = verifier.posts[0]
    assert post["headers"]["X-Mq-Trace"] == "abc" and post["body"] == b"body"
    assert post["tinymq_ok"] and post["microq_ok"]


def test_the_scrape_reads_the_topics_own_keys():
    from microq.keys import Keyspace
    from microq.topics.names import topic_keys
    from microq.topics.webhooks import FAILING_FIELD, delivery_state, delivery_state_commands

    keyspace = Keyspace("mq:")
    own = topic_keys(keyspace, "orders.eu")
    assert delivery_state_commands(keyspace.entity("t", "orders.eu")) == \
        [("ZCARD", own.hookq), ("HGET", own.hookatt, FAILING_FIELD)]
    assert delivery_state([3, b"2"]) == [3, 2] and delivery_state([0, None]) == [0, 0]
    assert delivery_state([Exception("down"), b"-1"]) == [0, 0]


async def test_the_bridge_registering_again_without_a_secret_unsigns(make_client):
    """As the lines API does when a line's webhook is saved again without a secret."""
    client = await make_client(webhook_allow_private=True)
    sink = event_sink(client.server.app)
    url = "http://127.0.0.1:9/line-hook"
    await sink.add_webhook("lines.acme.main", url, secret="first")
    assert (await (await client.get("/webhook/lines.acme.main")).json())["webhooks"][0]["has_secret"] is True
    await sink.add_webhook("lines.acme.main", url, None)
    assert (await (await client.get("/webhook/lines.acme.main")).json())["webhooks"][0]["has_secret"] is False
