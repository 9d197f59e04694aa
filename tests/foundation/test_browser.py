"""Cross-site writes refused, JSON bodies labelled JSON from browsers, page security headers.

The request headers are the ones Chromium sends (checked against its DevTools): a cross-site
<form enctype="text/plain"> post, and fetch(url, {mode: "no-cors", method: "POST", body}).
"""

from __future__ import annotations

import json

import pytest

EVIL = "https://evil.example"
FORM_POST = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
             "Sec-Fetch-Dest": "document", "Sec-Fetch-User": "?1", "Content-Type": "text/plain"}
NO_CORS_FETCH = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors",
                 "Sec-Fetch-Dest": "empty", "Content-Type": "text/plain;charset=UTF-8"}
OLD_BROWSER = {"Origin": EVIL, "Content-Type": "text/plain"}  # Origin, no Sec-Fetch-*

ATTACKS = [  # (method, path, body): the examples, one per part
    ("POST", "/api/acme/support/join", json.dumps({"name": "mallory"})),
    ("POST", "/api/topics/orders/purge", ""),
    ("POST", "/webhook/orders", json.dumps({"url": "https://evil.example/steal"})),
    ("POST", "/api/acme/queues", json.dumps({"queue_id": "evil", "name": "Evil"})),
    ("POST", "/publish/orders", "x"),
    ("DELETE", "/webhook/orders", ""),
]


async def _line(client) -> None:
    created = await client.post("/api/acme/queues", json={"queue_id": "support", "name": "Support"})
    assert created.status == 201


@pytest.mark.parametrize("headers", [FORM_POST, NO_CORS_FETCH, OLD_BROWSER], ids=["form", "no-cors", "origin-only"])
@pytest.mark.parametrize("method,path,body", ATTACKS)
async def test_cross_site_writes_are_refused_and_change_nothing(client, redis, headers, method, path, body):
    await _line(client)
    await client.post("/publish/orders", data=b"kept")
    before = sorted(await redis.keys("*"))
    response = await client.request(method, path, data=body.encode(), headers=headers)
    assert response.status == 403
    assert "cross-site" in (await response.json())["error"]
    assert sorted(await redis.keys("*")) == before
    line = await (await client.get("/api/acme/support/list")).json() if path.endswith("join") else None
    if line is not None:
        assert "mallory" not in json.dumps(line)


async def test_the_same_origin_and_configured_origins_may_write(make_client):
    client = await make_client(cors_origins=("https://kiosk.example",))
    host = f"{client.server.host}:{client.server.port}"
    same = {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors",
            "Content-Type": "application/json"}
    assert (await client.post("/api/acme/queues", json={"queue_id": "a", "name": "A"}, headers=same)).status == 201
    legacy_same = {"Origin": f"http://{host}", "Content-Type": "application/json"}
    assert (await client.post("/publish/t", data=b"x", headers=legacy_same)).status == 202
    kiosk = {"Origin": "https://kiosk.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors",
             "Content-Type": "application/json"}
    assert (await client.post("/api/acme/a/join", json={"name": "k"}, headers=kiosk)).status == 201
    same_site = {**kiosk, "Origin": "https://other.kiosk.example", "Sec-Fetch-Site": "same-site"}
    assert (await client.post("/api/acme/a/join", json={"name": "s"}, headers=same_site)).status == 403


async def test_reads_from_other_origins_are_not_refused(client):
    response = await client.get("/healthz", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert response.status == 200


async def test_clients_without_origin_work_as_before_including_curl_form_posts(client):
    # curl -d '{"queue_id": ...}' sends application/x-www-form-urlencoded and no Origin
    curl = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "curl/8.5.0", "Accept": "*/*"}
    body = json.dumps({"queue_id": "support", "name": "Support"}).encode()
    assert (await client.post("/api/acme/queues", data=body, headers=curl)).status == 201
    assert (await client.post("/api/acme/support/join", data=b'{"name": "ann"}', headers=curl)).status == 201
    assert (await client.post("/webhook/orders", data=b'{"url": "https://example.com/h"}',
                              headers={"Content-Type": "text/plain"})).status in (201, 200)


async def test_a_json_body_from_a_browser_needs_a_json_content_type(make_client):
    client = await make_client(cors_origins=("https://kiosk.example",))
    await _line(client)
    kiosk = {"Origin": "https://kiosk.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors",
             "Content-Type": "text/plain;charset=UTF-8"}
    response = await client.post("/api/acme/support/join", data=b'{"name": "k"}', headers=kiosk)
    assert response.status == 415
    assert "application/json" in (await response.json())["error"]
    problem_json = {**kiosk, "Content-Type": "application/merge-patch+json", "Sec-Fetch-Mode": "cors"}
    assert (await client.post("/api/acme/support/join", data=b'{"name": "k"}', headers=problem_json)).status == 201


@pytest.mark.parametrize("path", ["/dashboard", "/work", "/queue/acme/support", "/queue/acme/support/kiosk"])
async def test_every_page_sends_csp_frame_and_referrer_headers(client, path):
    await _line(client)
    response = await client.get(path)
    if response.status == 404:
        pytest.skip(f"{path} is not a page here")
    assert response.content_type == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors" in csp
    assert response.headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
    assert response.headers["Referrer-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_cors_answers_vary_by_origin(make_client):
    client = await make_client(cors_origins=("https://kiosk.example",))
    for headers in ({"Origin": "https://kiosk.example"}, {"Origin": EVIL}, {}):
        response = await client.get("/healthz", headers=headers)
        assert "Origin" in response.headers.get("Vary", "")
    preflight = await client.options("/publish/t", headers={
        "Origin": "https://kiosk.example", "Access-Control-Request-Method": "POST"})
    assert "Origin" in preflight.headers.get("Vary", "")
