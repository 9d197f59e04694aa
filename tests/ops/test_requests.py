"""Request ids on every answer (errors and streams included), the JSON access log, GET /."""

from __future__ import annotations

import asyncio
import json
import logging
import re

from microq import __version__


async def test_a_sane_request_id_is_echoed_and_others_replaced(client):
    answer = await client.get("/healthz", headers={"X-Request-Id": "abc-123.x:y_z"})
    assert answer.headers["X-Request-Id"] == "abc-123.x:y_z"
    for bad in ("has space", "x" * 129, "ünïcode", "a\tb"):
        answer = await client.get("/healthz", headers={"X-Request-Id": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"]), bad
    made = {(await client.get("/healthz")).headers["X-Request-Id"] for _ in range(5)}
    assert len(made) == 5


async def test_errors_and_streams_carry_the_request_id(client):
    missing = await client.get("/no/such/thing", headers={"X-Request-Id": "err-1"})
    assert missing.status == 404 and missing.headers["X-Request-Id"] == "err-1"
    bad = await client.post("/api/topics", data=b"{", headers={"X-Request-Id": "err-2"})
    assert bad.status == 400 and bad.headers["X-Request-Id"] == "err-2"
    stream = await client.get("/api/acme/main/stream", headers={"X-Request-Id": "sse-1"})
    assert stream.status == 200 and stream.headers["X-Request-Id"] == "sse-1"
    stream.close()


async def test_json_access_log_one_object_per_request(make_client, caplog):
    client = await make_client(access_log="json")
    with caplog.at_level(logging.INFO, logger="microq.access"):
        await client.get("/api/acme/main/status/someone", headers={"X-Request-Id": "log-1", "User-Agent": "t/1"})
        await client.post("/publish/orders", data=b"x", headers={"X-Request-Id": "log-2"})
        await asyncio.sleep(0)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "microq.access"]
    by_id = {line["request_id"]: line for line in lines}
    status = by_id["log-1"]
    assert status["route"] == "/api/{tenant_id}/{queue_id}/status/{user_id}" and status["status"] == 404
    assert status["path"] == "/api/acme/main/status/someone" and status["user_agent"] == "t/1"
    assert status["duration_ms"] >= 0 and status["remote"] == "127.0.0.1"
    assert by_id["log-2"]["status"] == 202 and by_id["log-2"]["method"] == "POST"
    assert status["time"].endswith("Z")


async def test_no_access_log_by_default(client, caplog):
    with caplog.at_level(logging.INFO, logger="microq.access"):
        await client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "microq.access"]


async def test_index_links_every_page_and_the_version(make_client):
    client = await make_client(default_tenant_id="acme", default_queue_id="front")
    answer = await client.get("/")
    assert answer.status == 200 and answer.content_type == "text/html"
    page = await answer.text()
    assert __version__ in page
    links = re.findall(r'href="([^"]+)"', page)
    for path in ("/queue/acme/front", "/queue/acme/front/kiosk", "/queue/acme/front/admin", "/work", "/dashboard",
                 "/docs", "/healthz", "/metrics", "/openapi.json"):
        assert path in links
    for path in links:  # every link answers
        linked = await client.get(path)
        assert linked.status == 200, path
        linked.close()


async def test_index_page_in_chromium(live_server, browser, artifacts):
    server = await live_server()
    page = await browser.new_page()
    await page.goto(str(server.make_url("/")))
    assert await page.locator("#version").inner_text() == __version__
    await page.click("text=/docs")
    await page.wait_for_selector(".opblock-tag", timeout=15000)
    await page.goto(str(server.make_url("/")))
    await page.screenshot(path=str(artifacts / "index.png"))
