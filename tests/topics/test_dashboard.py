"""The dashboard in headless Chromium: live counts, peek, publish, DLQ requeue and purge."""

import aiohttp
from playwright.async_api import expect


async def test_dashboard_end_to_end(live_server, browser, artifacts):
    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        await http.post(f"{base}/publish/orders.eu", data=b'{"item": "laptop"}')
        async with http.get(f"{base}/consume/orders.eu") as response:
            poison = await response.json()
        for _ in range(3):  # three failed attempts: a dead letter
            async with http.post(f"{base}/requeue", json=poison) as response:
                assert response.status == 202
                async with http.get(f"{base}/consume/orders.eu") as again:
                    if again.status == 200:
                        poison = await again.json()
        await http.post(f"{base}/webhook/alerts", json={"url": "https://hooks.example.com/in"})

        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())
        await page.goto(f"{base}/dashboard")
        dlq_row = page.locator("tr[data-topic='orders.eu.dlq']")
        await dlq_row.wait_for()
        assert await page.locator("tr[data-topic='orders.eu'] td").nth(4).inner_text() == "1"  # dead letters

        # publish through the form; the table updates live
        await page.fill("input[name=topic]", "dash.test")
        await page.fill("textarea[name=payload]", '{"hello": "dashboard"}')
        await page.click("#publish button[type=submit]")
        await page.locator("#publish-result").filter(has_text="Published").wait_for()
        row = page.locator("tr[data-topic='dash.test']")
        await row.wait_for()
        assert await row.locator("td").nth(1).inner_text() == "1"  # ready

        # a publish from outside shows up without a reload
        await http.post(f"{base}/publish/dash.test", data=b"second")
        await expect(page.locator("tr[data-topic='dash.test'] td:nth-child(2)")).to_have_text("2")  # no eval: the page's CSP

        await row.get_by_role("button", name="Peek").click()
        await page.locator("#peek-list pre").filter(has_text='"hello": "dashboard"').wait_for()
        await page.locator("#peek-list pre").filter(has_text="second").wait_for()
        await page.locator("tr[data-topic='alerts']").get_by_role("button", name="Peek").click()
        await page.locator("#hook-list").filter(has_text="https://hooks.example.com/in").wait_for()
        await page.screenshot(path=str(artifacts / "topics_dashboard.png"), full_page=True)

        # requeue the dead letter to its topic
        await dlq_row.get_by_role("button", name="Requeue all").click()
        await expect(page.locator("tr[data-topic='orders.eu.dlq'] td:nth-child(2)")).to_have_text("0")  # no eval: the page's CSP
        async with http.get(f"{base}/api/queues/peek?queue=orders.eu") as response:
            assert [m["id"] for m in await response.json()] == [poison["id"]]

        # purge a topic
        await row.get_by_role("button", name="Purge").click()
        await expect(page.locator("tr[data-topic='dash.test'] td:nth-child(2)")).to_have_text("0")  # no eval: the page's CSP
        assert errors == []
        await page.close()


async def test_dashboard_shows_consumer_groups_and_ignores_fields_it_does_not_know(live_server, browser, artifacts):
    import json

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        await http.post(f"{base}/publish/audit", data=b"zero")
        for group in ("billing", "reports"):
            reply = await http.post(f"{base}/api/groups", json={"topic": "orders.eu", "group": group})
            assert reply.status == 201
        for n in range(3):
            await http.post(f"{base}/publish/orders.eu", data=f"message {n}".encode())
        async with http.get(f"{base}/consume/orders.eu?group=billing") as response:
            assert response.status == 200
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(f"{base}/dashboard")
        await expect(page.locator("#groups-head")).to_be_visible()
        groups = page.locator("tr[data-topic='orders.eu'] td.groups")
        await expect(groups).to_contain_text("billing (")
        await expect(groups).to_contain_text("reports (3 behind)")  # nothing consumed there
        await expect(page.locator("tr[data-topic='audit'] td.groups")).to_have_text("")
        await page.screenshot(path=str(artifacts / "topics_dashboard_groups_1280x800.png"))

        async def with_new_fields(route):  # fields the page does not know, of any shape, change nothing
            response = await route.fetch()
            data = await response.json()
            for row in data["stats"]:
                row["SomethingNew"] = {"nested": ["anything"]}
                if row["Name"] == "audit":
                    row["Groups"] = 2
            data["more_news"] = [1, 2]
            await route.fulfill(response=response, body=json.dumps(data))

        await page.route("**/api/stats", with_new_fields)
        await expect(page.locator("tr[data-topic='audit'] td.groups")).to_have_text("2")
        await expect(page.locator("tr[data-topic='orders.eu'] td").nth(1)).to_have_text("3")  # the rest as before
        assert "nested" not in await page.text_content("#topics")
        assert errors == []
    finally:
        await page.close()


async def test_dashboard_shows_failing_deliveries_and_signed_webhooks(live_server, browser):
    server = await live_server(webhook_allow_private=True, webhook_max_attempts=10)
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        # nothing listens on port 1: each POST fails, and the delivery waits for its retry
        await http.post(f"{base}/webhook/hooked", json={"url": "http://127.0.0.1:1/in", "secret": "s3cret"})
        await http.post(f"{base}/publish/hooked", data=b"x")
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{base}/dashboard")
        await expect(page.locator("tr[data-topic='hooked'] td:nth-child(7)")).to_have_text("1 · 1 failing")
        await page.locator("tr[data-topic='hooked']").get_by_role("button", name="Peek").click()
        await page.locator("#hook-list").filter(has_text="http://127.0.0.1:1/in · signed").wait_for()
        assert "s3cret" not in await page.content()
        assert errors == []
        await page.close()
