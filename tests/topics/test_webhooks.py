"""Webhook delivery to a loopback receiver, with two nodes running."""

import asyncio
import hashlib
import hmac
from collections import Counter

from aiohttp import web

import json

from microq.topics.appkeys import WEBHOOKS
from tests.topics.conftest import consume, publish, stats_row, unb64


class Receiver:
    """A loopback HTTP endpoint recording every POST; answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[dict, bytes]] = []
        self.app = web.Application()
        self.app.router.add_post("/incoming", self.incoming)

    async def incoming(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status)

    async def wait_for(self, count: int, timeout: float = 15.0) -> None:
        for _ in range(int(timeout / 0.05)):
            if len(self.posts) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"got {len(self.posts)} posts, expected {count}")


async def start_receiver(aiohttp_server, status: int = 200):
    receiver = Receiver(status)
    server = await aiohttp_server(receiver.app)
    return receiver, str(server.make_url("/incoming"))


async def test_each_message_is_posted_once_with_two_nodes(aiohttp_server, make_client):
    a = await make_client(webhook_allow_private=True)
    b = await make_client(webhook_allow_private=True)
    receiver, url = await start_receiver(aiohttp_server)
    response = await a.post("/webhook/orders", json={"url": url})
    assert response.status == 201
    sent = [(await publish(a if i % 2 else b, "orders", f"m{i}".encode()))["id"] for i in range(30)]
    await receiver.wait_for(30)
    await asyncio.sleep(0.6)  # room for any duplicate to arrive
    ids = Counter(headers["X-MicroQ-Message-Id"] for headers, _ in receiver.posts)
    assert set(ids) == set(sent) and set(ids.values()) == {1}
    assert {body for _, body in receiver.posts} == {f"m{i}".encode() for i in range(30)}
    assert {headers["X-MicroQ-Topic"] for headers, _ in receiver.posts} == {"orders"}
    await consume(a, "orders", status=404)  # pushed, not pulled
    assert (await stats_row(a, "orders"))["MessageCount"] == 0


async def test_payload_headers_and_signature(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True, webhook_secret="s3cret")
    receiver, url = await start_receiver(aiohttp_server)
    await client.post("/webhook/signed", json={"url": url})
    await client.post("/publish/signed", data=b'{"a": 1}', headers={"Content-Type": "application/json"})
    await receiver.wait_for(1)
    headers, body = receiver.posts[0]
    assert body == b'{"a": 1}' and headers["Content-Type"] == "application/json"
    expected = hmac.new(b"s3cret", headers["X-MicroQ-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-MicroQ-Signature"] == "sha256=" + expected


async def test_every_registered_url_gets_the_message(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    first, url1 = await start_receiver(aiohttp_server)
    second, url2 = await start_receiver(aiohttp_server)
    await client.post("/webhook/fan", json={"url": url1})
    await client.post("/webhook/fan", json={"url": url2})
    await publish(client, "fan", "both")
    await first.wait_for(1)
    await second.wait_for(1)
    assert first.posts[0][1] == second.posts[0][1] == b"both"


async def test_failing_receiver_is_retried_then_dead_lettered(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True, webhook_max_attempts=3)
    receiver, url = await start_receiver(aiohttp_server, status=500)
    await client.post("/webhook/broken", json={"url": url})
    sent = await publish(client, "broken", "undeliverable")
    await receiver.wait_for(3)
    assert [h["X-MicroQ-Attempt"] for h, _ in receiver.posts] == ["1", "2", "3"]
    dead = await consume(client, "broken.dlq", timeout="5s")
    assert dead["id"] == sent["id"] and unb64(dead["payload"]) == b"undeliverable"
    await asyncio.sleep(1.2)
    assert len(receiver.posts) == 3  # no more attempts after the dead letter


async def test_private_addresses_are_refused_without_the_setting(client):
    response = await client.post("/webhook/x", json={"url": "http://127.0.0.1:9/in"})
    assert response.status == 400 and "MICROQ_WEBHOOK_ALLOW_PRIVATE" in (await response.json())["error"]


async def test_registrations_survive_a_node_restart(make_client):
    first = await make_client()
    await first.post("/webhook/kept", json={"url": "https://hooks.example.com/kept"})
    second = await make_client()
    listed = await (await second.get("/webhook/kept")).json()
    assert [w["url"] for w in listed["webhooks"]] == ["https://hooks.example.com/kept"]


async def test_a_message_aiohttp_refuses_to_send_is_dead_lettered_not_retried_forever(aiohttp_server, make_client):
    from microq.topics.appkeys import TOPICS
    from microq.topics.store import Outgoing

    client = await make_client(webhook_allow_private=True)
    receiver, url = await start_receiver(aiohttp_server)
    await client.post("/webhook/hdr", json={"url": url})
    # stored directly (the API now refuses it), as a message written before that check would be
    await client.server.app[TOPICS].publish("hdr", [Outgoing("bad-1", b"x", content_type="text/plain\r\nX-Evil: 1")])
    await publish(client, "hdr", "fine")
    await receiver.wait_for(1)
    dead = await consume(client, "hdr.dlq", timeout="5s")
    assert dead["id"] == "bad-1"
    assert (await stats_row(client, "hdr"))["MessageCount"] == 0
    assert [body for _, body in receiver.posts] == [b"fine"]


async def test_shorthand_ipv4_loopback_is_refused_at_registration_and_delivery(aiohttp_server, make_client):
    receiver, url = await start_receiver(aiohttp_server)
    port = url.split(":")[2].split("/")[0]
    client = await make_client()
    for host in ("127.1", "2130706433", "0177.0.0.1", "0x7f.1"):
        response = await client.post("/webhook/ssrf", json={"url": f"http://{host}:{port}/incoming"})
        assert response.status == 400, host
    # a registration stored before this check: delivery refuses it too (aiohttp skips the
    # resolver for all-digit hosts and would connect to 127.0.0.1)
    from microq.topics.appkeys import TOPICS
    await client.server.app[TOPICS].add_webhook("ssrf", f"http://127.1:{port}/incoming")
    sent = await publish(client, "ssrf", "secret")
    dead = await consume(client, "ssrf.dlq", timeout="5s")
    assert dead["id"] == sent["id"] and receiver.posts == []


async def test_removing_the_last_webhook_hands_its_backlog_to_pull_consumers(aiohttp_server, make_client):
    client = await make_client(webhook_allow_private=True)
    receiver, url = await start_receiver(aiohttp_server, status=500)  # every POST fails: retries pile up
    hook = await (await client.post("/webhook/orders", json={"url": url})).json()
    sent = [(await publish(client, "orders", f"m{i}"))["id"] for i in range(3)]
    await publish(client, "orders", "later", delay="1h")
    await receiver.wait_for(3)
    for _ in range(200):  # the three failures recorded: a POST still in flight would wait for its lease
        if (await stats_row(client, "orders"))["FailingDeliveries"] == 3:
            break
        await asyncio.sleep(0.05)
    assert (await client.delete(f"/webhook/orders/{hook['id']}")).status == 200
    row = await stats_row(client, "orders")
    assert (row["Ready"], row["Delayed"], row["PendingDeliveries"], row["MessageCount"]) == (3, 1, 0, 4)
    assert [m["id"] for m in await consume(client, "orders", limit="10")] == sent  # publish order; `later` waits
    await consume(client, "orders", status=404)
    assert (await stats_row(client, "orders"))["Delayed"] == 1  # `later` waits for its hour


# issue 10: one target cannot hold back the others ----------------------------------------

class SlowReceiver(Receiver):
    """Accepts, counts how many POSTs it holds at once, and answers only when released."""

    def __init__(self) -> None:
        super().__init__()
        self.open_now = self.most_open = 0
        self.release = asyncio.Event()

    async def incoming(self, request: web.Request) -> web.Response:
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            await self.release.wait()
            return await super().incoming(request)
        finally:
            self.open_now -= 1


async def test_a_target_that_never_answers_does_not_delay_another_topic(aiohttp_server, make_client):
    from microq.topics.webhooks import TARGET_CONCURRENCY
    client = await make_client(webhook_allow_private=True)
    slow = SlowReceiver()
    slow_server = await aiohttp_server(slow.app)
    fast, fast_url = await start_receiver(aiohttp_server)
    await client.post("/webhook/stuck", json={"url": str(slow_server.make_url("/incoming"))})
    await client.post("/webhook/fine", json={"url": fast_url})
    batch = json.dumps([{"payload": "eA=="}] * 50)
    assert (await client.post("/publish/stuck/batch", data=batch)).status == 202
    await asyncio.sleep(0.3)
    await publish(client, "fine", b"on time")
    await fast.wait_for(1, timeout=3.0)  # before: behind the stuck topic's POSTs, 60-200 s
    assert 1 <= slow.most_open <= TARGET_CONCURRENCY  # and the stuck target gets a bounded share
    slow.release.set()
    await slow.wait_for(50, timeout=20.0)


async def test_a_failing_target_opens_its_circuit_and_stats_show_it(aiohttp_server, make_client):
    from microq.topics.webhooks import BREAKER_FAILURES
    client = await make_client(webhook_allow_private=True)
    failing, url = await start_receiver(aiohttp_server, status=500)
    await client.post("/webhook/broken", json={"url": url})
    batch = json.dumps([{"payload": "eA=="}] * (BREAKER_FAILURES * 3))
    await client.post("/publish/broken/batch", data=batch)
    for _ in range(100):
        body = await (await client.get("/api/stats")).json()
        circuits = body.get("webhook_circuits", [])
        if circuits and circuits[0]["state"] == "open":
            break
        await asyncio.sleep(0.05)
    assert circuits and circuits[0]["state"] == "open" and circuits[0]["failures"] >= BREAKER_FAILURES
    posts = len(failing.posts)
    await asyncio.sleep(1.5)
    assert len(failing.posts) == posts  # open: nothing more goes to it until the cool-down's probe
    assert posts < BREAKER_FAILURES * 3 * 2


async def test_a_circuit_probes_after_its_cool_down_and_closes_on_success():
    from microq.topics import webhooks
    circuit = webhooks.Circuit()
    for _ in range(webhooks.BREAKER_FAILURES):
        assert circuit.admit()
        circuit.done(False)
    assert circuit.state == "open" and not circuit.admit()
    circuit.opened_at -= webhooks.BREAKER_COOLDOWN
    assert circuit.admit() and not circuit.admit()  # one probe at a time
    circuit.done(True)
    assert circuit.state == "closed" and circuit.failures == 0


async def test_one_batch_to_many_webhooks_claims_in_bounded_chunks(aiohttp_server, make_client):
    from microq.topics.webhooks import OUTBOUND
    client = await make_client(webhook_allow_private=True)
    receivers = [await start_receiver(aiohttp_server) for _ in range(20)]
    for _, url in receivers:
        assert (await client.post("/webhook/fan", json={"url": url})).status == 201
    dispatcher = client.server.app[WEBHOOKS]
    most = 0
    batch = json.dumps([{"payload": "eA=="}] * 100)
    await client.post("/publish/fan/batch", data=batch)  # 2000 deliveries
    for _ in range(600):
        most = max(most, dispatcher._in_flight)
        if sum(len(r.posts) for r, _ in receivers) >= 2000:
            break
        await asyncio.sleep(0.02)
    assert sum(len(r.posts) for r, _ in receivers) == 2000
    assert most <= OUTBOUND
