"""The pages: served with escaped names; end to end in headless Chromium."""

from __future__ import annotations

import asyncio



async def test_pages_render_and_escape(client):
    await client.post("/api/acme/queues", json={"queue_id": "support", "name": "<script>alert(1)</script>"})
    for path in ("/queue/acme/support", "/queue/acme/support/kiosk", "/queue/acme/support/admin"):
        response = await client.get(path)
        assert response.status == 200, path
        text = await response.text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert" not in text
        assert 'data-tenant="acme"' in text
    uncreated = await client.get("/queue/acme/walkin")
    assert uncreated.status == 200 and "walkin" in await uncreated.text()
    assert (await client.get("/queue/queue/x")).status == 400
    redirect = await client.get("/queue", allow_redirects=False)
    assert redirect.status == 302 and redirect.headers["Location"] == "/queue/default_tenant/main"
    for name in ("microq.css", "microq.js", "lines_common.js", "lines_public.js", "lines_kiosk.js", "lines_kiosk.css", "lines_admin.js"):
        assert (await client.get(f"/static/{name}")).status == 200, name
    assert (await client.get("/static/lines_nothing.js")).status == 404


def _qr_of(url: str, title: str = "Join acme/support") -> str:
    """The SVG the QR endpoint makes for `url` (segno is deterministic): compare, not decode."""
    import io

    import segno
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=8, border=2, title=title)
    return svg.getvalue().decode()


async def test_qr_encodes_the_public_page(make_client):
    client = await make_client(public_url="https://q.example.com")
    response = await client.get("/api/acme/support/qr", headers={"X-Forwarded-Host": "evil.example"})
    assert response.status == 200 and "Vary" not in response.headers
    assert await response.text() == _qr_of("https://q.example.com/queue/acme/support")


async def test_qr_from_the_host_header_only_when_it_is_a_host(make_client):
    client = await make_client()
    response = await client.get("/api/acme/support/qr", headers={"Host": "q.example.com:8080",
                                                                 "X-Forwarded-Host": "evil.example"})
    assert response.status == 200
    assert await response.text() == _qr_of("http://q.example.com:8080/queue/acme/support")
    assert set(response.headers["Vary"].replace(" ", "").split(",")) >= {"Host", "X-Forwarded-Host",
                                                                         "X-Forwarded-Proto"}
    assert await (await client.get("/api/acme/support/qr", headers={"Host": "[::1]:80"})).text() == \
        _qr_of("http://[::1]:80/queue/acme/support")
    for host in ('evil.example/phish?x=', 'a@evil.example', '"><script>', "evil.example#"):
        response = await client.get("/api/acme/support/qr", headers={"Host": host})
        assert response.status == 400, host
        assert "error" in await response.json()
    proxied = await make_client(trusted_proxies=("127.0.0.1/32", "::1/128"))
    forwarded = {"X-Forwarded-Host": "q.example.com", "X-Forwarded-Proto": "https"}
    response = await proxied.get("/api/acme/support/qr", headers=forwarded)
    assert await response.text() == _qr_of("https://q.example.com/queue/acme/support")
    response = await proxied.get("/api/acme/support/qr", headers={**forwarded, "X-Forwarded-Proto": "javascript"})
    assert response.status == 400
    response = await proxied.get("/api/acme/support/qr", headers={**forwarded, "X-Forwarded-Proto": "HTTPS"})
    assert await response.text() == _qr_of("HTTPS://q.example.com/queue/acme/support")
    # a proxy that appends to the client's own headers: only its (last) values count
    appended = {"X-Forwarded-Host": "evil.example, q.example.com", "X-Forwarded-Proto": "http, https"}
    response = await proxied.get("/api/acme/support/qr", headers=appended)
    assert await response.text() == _qr_of("https://q.example.com/queue/acme/support")


async def test_join_serve_and_live_update_in_chromium(browser, live_server, artifacts):
    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    from aiohttp import ClientSession
    from playwright.async_api import expect

    async with ClientSession() as session:
        created = await session.post(f"{base}/api/acme/queues",
                                     json={"queue_id": "support", "name": "Support Queue"})
        admin_key = (await created.json())["admin_key"]
        await session.post(f"{base}/api/acme/support/service-types", headers={"X-Admin-Key": admin_key},
                           json={"name": "General Inquiry", "code": "GEN"})
        await session.post(f"{base}/api/acme/support/join", json={"name": "Priya"})

    phone = await browser.new_page(viewport={"width": 390, "height": 780})
    admin = await browser.new_page(viewport={"width": 1100, "height": 800})
    kiosk = await browser.new_page(viewport={"width": 1280, "height": 720})
    problems: list[str] = []
    for page in (phone, admin, kiosk):
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        await phone.goto(f"{base}/queue/acme/support")
        await phone.fill("#name", "Alex Rivera")
        # "no type" is not labelled "General" above a type called "General Inquiry" (issue 13)
        await expect(phone.locator("#service-type option")).to_have_text(["Choose one", "General Inquiry",
                                                                          "Something else / not sure"])
        await phone.click("#join-form button[type=submit]")  # a choice is asked for: nothing is sent
        assert await phone.evaluate("document.querySelector('#service-type').validity.valueMissing")
        await phone.select_option("#service-type", label="General Inquiry")
        await phone.click("#join-form button[type=submit]")
        await expect(phone.locator("#position")).to_have_text("2")
        await expect(phone.locator("#ticket-number")).to_have_text("GEN-002")
        await phone.reload()  # the place survives a reload
        await expect(phone.locator("#position")).to_have_text("2")
        await expect(phone.locator("#ticket-number")).to_have_text("GEN-002")

        await kiosk.goto(f"{base}/queue/acme/support/kiosk")
        await expect(kiosk.locator("#next li")).to_have_count(2)
        await expect(kiosk.locator("#next li")).to_have_text(["A-001", "GEN-002"])  # tickets, no names

        await admin.goto(f"{base}/queue/acme/support/admin")
        await admin.fill("#admin-key", admin_key)
        await admin.click("#key-form button[type=submit]")
        await admin.wait_for_selector("#people tr:nth-child(2)")
        await admin.click("#serve-next")
        await expect(phone.locator("#position")).to_have_text("1")
        await expect(kiosk.locator("#counters .kiosk-ticket")).to_have_text("A-001")
        await expect(admin.locator("#now")).to_have_text("Now serving: A-001 Priya")
        await admin.click("#serve-next")
        await expect(phone.locator("body")).to_have_attribute("data-status", "served")
        assert "your turn" in (await phone.text_content("#state"))
        await expect(kiosk.locator("#counters .kiosk-ticket")).to_have_text("GEN-002")
        assert "Priya" not in await kiosk.text_content("body") and "Alex" not in await kiosk.text_content("body")
        await phone.screenshot(path=str(artifacts / "lines_public_served.png"))
        await kiosk.screenshot(path=str(artifacts / "lines_kiosk.png"))
        await admin.screenshot(path=str(artifacts / "lines_admin.png"))
        assert problems == []
    finally:
        for page in (phone, admin, kiosk):
            await page.close()
        await asyncio.sleep(0)


async def test_public_page_keeps_the_leave_token_across_a_reload(browser, live_server, artifacts):
    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    from aiohttp import ClientSession
    from playwright.async_api import expect

    async with ClientSession() as session:
        await session.post(f"{base}/api/acme/queues", json={"queue_id": "support", "name": "Support Queue"})
        await session.post(f"{base}/api/acme/support/join", json={"name": "Priya"})
    for width, height in ((390, 844), (1280, 800)):
        page = await browser.new_page(viewport={"width": width, "height": height})
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        try:
            await page.goto(f"{base}/queue/acme/support")
            await page.fill("#name", "Alex Rivera")
            await page.click("#join-form button[type=submit]")
            await expect(page.locator("#position")).to_have_text("2")
            saved = await page.evaluate("JSON.parse(localStorage.getItem('microq:acme/support'))")
            assert set(saved) == {"id", "token"} and len(saved["token"]) >= 32
            await page.reload()  # the place and the token survive a reload
            await expect(page.locator("#position")).to_have_text("2")
            await page.screenshot(path=str(artifacts / f"lines_public_waiting_{width}x{height}.png"))
            async with ClientSession() as session:  # the id alone, as /list shows it, does not leave
                refused = await session.post(f"{base}/api/acme/support/leave/{saved['id']}")
                assert refused.status == 403
            await page.click("#leave")
            await expect(page.locator("body")).to_have_attribute("data-status", "left")
            await expect(page.locator("#state")).to_have_text("You left the line.")
            await expect(page.locator("#error")).to_have_text("")
            await page.screenshot(path=str(artifacts / f"lines_public_left_{width}x{height}.png"))
            await page.click("#again")  # start over: the next person on this browser joins afresh
            await expect(page.locator("#join")).to_be_visible()
            assert await page.evaluate("localStorage.getItem('microq:acme/support')") is None
            assert problems == []
        finally:
            await page.close()


async def test_pages_retry_a_lost_reply_with_the_same_idempotency_key(browser, live_server):
    # the reply of the first join and the first serve-next is lost on the way back (the request
    # reached the node and was applied); pressing the button again must not apply it twice
    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    from aiohttp import ClientSession
    from playwright.async_api import expect

    async with ClientSession() as session:
        created = await session.post(f"{base}/api/acme/queues", json={"queue_id": "support", "name": "Support Queue"})
        admin_key = (await created.json())["admin_key"]
    lost: list[str] = []

    async def lose_first_reply(route):
        response = await route.fetch()  # the node gets the request and answers ...
        if not lost:
            lost.append(route.request.headers.get("idempotency-key", ""))
            await route.abort("connectionreset")  # ... and the page never hears of it
        else:
            await route.fulfill(response=response)

    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    admin = await browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        await phone.route("**/api/acme/support/join", lose_first_reply)
        await phone.goto(f"{base}/queue/acme/support")
        await phone.fill("#name", "Alex Rivera")
        await phone.click("#join-form button[type=submit]")
        await expect(phone.locator("#error")).not_to_have_text("")
        await phone.click("#join-form button[type=submit]")
        await expect(phone.locator("#position")).to_have_text("1")
        assert len(lost[0]) >= 16
        async with ClientSession() as session:
            line = await (await session.get(f"{base}/api/acme/support/list")).json()
            assert [p["name"] for p in line["queue"]] == ["Alex Rivera"]  # joined once
            await session.post(f"{base}/api/acme/support/join", json={"name": "Sam"})

        lost.clear()
        await admin.route("**/api/acme/support/serve-next", lose_first_reply)
        await admin.goto(f"{base}/queue/acme/support/admin")
        await admin.fill("#admin-key", admin_key)
        await admin.click("#key-form button[type=submit]")
        await admin.wait_for_selector("#people tr:nth-child(2)")
        await admin.click("#serve-next")
        await expect(admin.locator("#error")).not_to_have_text("")
        await admin.click("#serve-next")
        await expect(admin.locator("#now")).to_have_text("Now serving: A-001 Alex Rivera")
        await expect(phone.locator("body")).to_have_attribute("data-status", "served")
        async with ClientSession() as session:
            line = await (await session.get(f"{base}/api/acme/support/list")).json()
            assert [p["name"] for p in line["queue"]] == ["Sam"]  # Sam still waits: one serve
    finally:
        await phone.close()
        await admin.close()
