"""Venue pages in Chromium: the public page explains a closed line; the kiosk for a TV shows
tickets per counter (names hidden), flashes on a new call and scales from a phone to 4K."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession

VIEWPORTS = ((390, 844), (1280, 800), (1920, 1080))


async def _line(base: str, **fields) -> str:
    async with ClientSession() as session:
        created = await session.post(f"{base}/api/acme/queues",
                                     json={"queue_id": "support", "name": "City Clinic", **fields})
        return (await created.json())["admin_key"]


def _watch(page, problems: list[str]) -> None:
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)


async def test_public_page_says_why_the_line_is_closed(browser, live_server, artifacts):
    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    key = await _line(base)
    admin = {"X-Admin-Key": key}
    async with ClientSession() as session:
        await session.post(f"{base}/api/acme/queues/support/pause", headers=admin, json={"message": "back at 14:00"})
    problems: list[str] = []
    for width, height in VIEWPORTS[:2]:
        page = await browser.new_page(viewport={"width": width, "height": height})
        _watch(page, problems)
        try:
            await page.goto(f"{base}/queue/acme/support")
            await expect(page.locator("#closed")).to_have_text("This line is paused: back at 14:00")
            await page.fill("#name", "Alex Rivera")
            await page.click("#join-form button[type=submit]")
            await expect(page.locator("#error")).to_contain_text("paused")
            await page.screenshot(path=str(artifacts / f"lines_public_paused_{width}x{height}.png"))
        finally:
            await page.close()
    async with ClientSession() as session:
        await session.post(f"{base}/api/acme/queues/support/resume", headers=admin)
        # open only on Sundays 03:00-04:00 in a zone far away: closed now, and it says when it opens
        await session.patch(f"{base}/api/acme/queues/support", headers=admin,
                            json={"opening_hours": {"sun": [["03:00", "04:00"]]}, "time_zone": "Pacific/Kiritimati"})
        config = await (await session.get(f"{base}/api/acme/queues/support")).json()
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    _watch(page, problems)
    try:
        await page.goto(f"{base}/queue/acme/support")
        if config["joining"]["open"]:  # this very hour is that Sunday hour there: nothing to show
            await expect(page.locator("#closed")).to_be_hidden()
        else:
            await expect(page.locator("#closed")).to_contain_text("This line is closed now. It opens Sunday")
            await page.screenshot(path=str(artifacts / "lines_public_closed_390x844.png"))
        assert problems == []
    finally:
        await page.close()


async def test_kiosk_shows_tickets_per_counter_flashes_on_a_call_and_scales(browser, live_server, artifacts):
    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    key = await _line(base)
    admin = {"X-Admin-Key": key}
    line = f"{base}/api/acme/support"
    async with ClientSession() as session:
        returns = await (await session.post(f"{line}/service-types", headers=admin,
                                            json={"name": "Returns", "code": "RET"})).json()
        for counter_id, name in (("d1", "Desk 1"), ("d2", "Desk 2"), ("d3", "Desk 3")):
            await session.post(f"{line}/counters", headers=admin, json={"id": counter_id, "name": name})
        for i, person in enumerate(("Alexandra Rivera", "Sam Okafor", "Priya Natarajan", "Kim Lee", "Jo Martins",
                                    "Lea Braun", "Tom Wu")):
            await session.post(f"{line}/join", json={"name": person, **({"service_type_id": returns["id"]}
                                                                         if i % 3 == 1 else {})})
        await session.post(f"{line}/serve-next", headers=admin, json={"counter": "d1"})

    problems: list[str] = []
    pages = {}
    try:
        for width, height in VIEWPORTS:
            page = await browser.new_page(viewport={"width": width, "height": height})
            _watch(page, problems)
            await page.goto(f"{base}/queue/acme/support/kiosk")
            await expect(page.locator("#title")).to_have_text("City Clinic")
            await expect(page.locator("#counters .kiosk-tile")).to_have_count(3)
            await expect(page.locator('.kiosk-tile[data-counter="d1"] .kiosk-ticket')).to_have_text("A-001")
            await expect(page.locator("#next li")).to_have_text(["RET-002", "A-003", "A-004", "RET-005", "A-006",
                                                                 "A-007"])
            body = await page.text_content("body")
            for person in ("Alexandra", "Sam", "Priya", "Kim", "Jo ", "Lea", "Tom"):
                assert person not in body, person  # a public TV shows no names by default
            assert await page.locator(".kiosk-tile.flash").count() == 0  # what was served before is no call
            pages[(width, height)] = page

        first = pages[(1920, 1080)]
        await first.click("#sound")  # sound is off until a click
        await expect(first.locator("body")).to_have_attribute("data-sound", "on")
        async with ClientSession() as session:
            await session.post(f"{line}/serve-next", headers=admin, json={"counter": "d2"})
        for (width, height), page in pages.items():
            tile = page.locator('.kiosk-tile[data-counter="d2"]')
            await expect(tile.locator(".kiosk-ticket")).to_have_text("RET-002")
            await expect(page.locator("body")).to_have_attribute("data-calls", "1")
            await expect(tile).to_have_class("kiosk-tile flash")
            await expect(page.locator("#flash")).to_have_class("kiosk-flash on")  # the screen's edge too
            await expect(page.locator("#announce")).to_have_text("RET-002 → Desk 2")
            await expect(page.locator("#next li").first).to_have_text("A-003")
            await page.screenshot(path=str(artifacts / f"lines_kiosk_call_{width}x{height}.png"))
        await expect(first.locator("body")).to_have_attribute("data-chimes", "1")
        assert await pages[(1280, 800)].get_attribute("body", "data-chimes") is None  # no click there: silent

        async with ClientSession() as session:  # a recall flashes and chimes again
            await session.post(f"{line}/counters/d1/recall", headers=admin)
        await expect(first.locator("body")).to_have_attribute("data-calls", "2")
        await expect(first.locator('.kiosk-tile[data-counter="d1"]')).to_have_class("kiosk-tile flash")
        await expect(first.locator("#announce")).to_have_text("A-001 → Desk 1")
        await expect(first.locator("body")).to_have_attribute("data-chimes", "2")

        # the layout fits: no horizontal scrolling, and the ticket grows with the screen
        sizes = {}
        for (width, height), page in pages.items():
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (width, height)
            box = await page.locator('.kiosk-tile[data-counter="d1"] .kiosk-ticket').bounding_box()
            sizes[width] = box["height"]
        assert sizes[390] < sizes[1280] < sizes[1920]
        fourk = await browser.new_page(viewport={"width": 3840, "height": 2160})
        await fourk.goto(f"{base}/queue/acme/support/kiosk")
        await expect(fourk.locator('.kiosk-tile[data-counter="d1"] .kiosk-ticket')).to_have_text("A-001")
        box = await fourk.locator('.kiosk-tile[data-counter="d1"] .kiosk-ticket').bounding_box()
        assert box["height"] > 1.6 * sizes[1920]
        await fourk.screenshot(path=str(artifacts / "lines_kiosk_3840x2160.png"))
        await fourk.close()
        assert problems == []
    finally:
        for page in pages.values():
            await page.close()


async def test_kiosk_shows_names_only_when_the_queue_says_so_and_one_tile_without_counters(
        browser, live_server, artifacts):
    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    key = await _line(base, show_names=True)
    line = f"{base}/api/acme/support"
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await page.goto(f"{base}/queue/acme/support/kiosk")
        await expect(page.locator(".kiosk-tile.idle")).to_have_text("Waiting for the next call")
        await page.screenshot(path=str(artifacts / "lines_kiosk_empty_1920x1080.png"))
        async with ClientSession() as session:
            for person in ("Alex Rivera", "Sam Okafor"):
                await session.post(f"{line}/join", json={"name": person})
            await session.post(f"{line}/serve-next", headers={"X-Admin-Key": key}, json={})
        await expect(page.locator(".kiosk-tile .kiosk-ticket")).to_have_text("A-001")
        await expect(page.locator(".kiosk-tile .kiosk-person")).to_have_text("Alex Rivera")
        await expect(page.locator("body")).to_have_attribute("data-calls", "1")  # kept: the flash is held 4 s
        await expect(page.locator(".kiosk-tile")).to_have_class("kiosk-tile flash")
        await expect(page.locator("#announce")).to_have_text("A-001, please come forward")
        await expect(page.locator("#next li")).to_have_text(["A-002 · Sam Okafor"])
        await page.screenshot(path=str(artifacts / "lines_kiosk_names_1920x1080.png"))
        # someone joins during the flash: the tile is kept as it is, so its flash runs on
        await page.evaluate("document.querySelector('.kiosk-tile').dataset.mark = 'kept'")
        async with ClientSession() as session:
            await session.post(f"{line}/join", json={"name": "Kim Lee"})
        await expect(page.locator("#next li")).to_have_count(2)
        await expect(page.locator(".kiosk-tile[data-mark='kept']")).to_have_count(1)
        assert await page.get_attribute("body", "data-calls") == "1"  # a join is no call
        assert problems == []
    finally:
        await page.close()


async def test_admin_page_manages_counters_and_serves_at_one(browser, live_server, artifacts):
    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    key = await _line(base)
    async with ClientSession() as session:
        for person in ("Alex Rivera", "Sam Okafor"):
            await session.post(f"{base}/api/acme/support/join", json={"name": person})
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await page.goto(f"{base}/queue/acme/support/admin")
        await page.fill("#admin-key", key)
        await page.click("#key-form button[type=submit]")
        await expect(page.locator("#people tr")).to_have_count(2)
        await expect(page.locator("#people tr").first).to_contain_text("A-001")
        await expect(page.locator("#people tr").first.locator("td.waited")).to_have_text("0 min")
        links = await page.eval_on_selector_all("nav.links a", "as => as.map(a => a.getAttribute('href'))")
        assert links == ["/queue/acme/support", "/queue/acme/support/kiosk", "/api/acme/support/qr"]
        await page.fill("#counter-name", "Desk 3")
        await page.fill("#counter-id", "d3")
        await page.click("#counter-form button[type=submit]")
        await expect(page.locator("#counters tr")).to_have_count(1)
        await page.select_option("#counter", "d3")
        await page.click("#serve-next")
        await expect(page.locator("#counters tr").first).to_contain_text("A-001 Alex Rivera")
        await expect(page.locator("#now")).to_have_text("Now serving: A-001 Alex Rivera")
        async with ClientSession() as session:
            status = await (await session.get(f"{base}/api/acme/support/list")).json()
            assert status["counters"][0]["now_serving"]["ticket"] == "A-001"
        await page.click("#counters button:has-text('Recall')")
        async with ClientSession() as session:
            events = await (await session.get(f"{base}/api/acme/support/events",
                                              headers={"X-Admin-Key": key})).json()
            assert events["events"][-1]["type"] == "RECALL"
        await page.screenshot(path=str(artifacts / "lines_admin_counters_1280x800.png"))
        await page.click("#counters button:has-text('Close')")
        await expect(page.locator("#counters tr").first).to_contain_text("closed")
        await expect(page.locator("#counter option")).to_have_count(1)  # a closed counter serves nobody
        assert problems == []
    finally:
        await page.close()


HISTORY = {"people": [
    {"user_id": "u1", "name": "<b>Alex</b> Rivera", "ticket": "RET-001", "status": "served",
     "joined_at": "2026-03-02T09:00:00.000+00:00", "called_at": "2026-03-02T09:05:30.000+00:00",
     "finished_at": "2026-03-02T09:07:35.000+00:00", "waited_seconds": 330, "service_seconds": 125, "counter_id": "d1"},
    {"user_id": "u2", "name": "Sam Okafor", "ticket": "A-002", "status": "no_show",
     "joined_at": "2026-03-02T09:01:00.000+00:00", "called_at": "2026-03-02T09:10:00.000+00:00",
     "finished_at": "2026-03-02T09:12:00.000+00:00", "waited_seconds": 540, "service_seconds": None, "counter_id": None},
], "next": "page-2"}
OLDER = {"people": [{"user_id": "u0", "name": "Kim Lee", "ticket": "A-000", "status": "left",
                     "joined_at": "2026-03-01T16:00:00.000+00:00", "called_at": None,
                     "finished_at": "2026-03-01T16:20:00.000+00:00", "waited_seconds": 1200, "service_seconds": None,
                     "counter_id": None}], "next": None}
ANALYTICS = {
    "queue_id": "support", "time_zone": "Europe/Berlin", "from": "2026-02-24", "to": "2026-03-02",
    "served": 42, "no_shows": 3, "left": 5, "wait_seconds": {"p50": 300, "p90": 900},
    "service_seconds": {"p50": 150, "p90": 420},
    "served_per_hour": [0] * 8 + [4, 7, 9, 6, 3, 5, 4, 2, 2] + [0] * 7,
    "by_service_type": [{"type_id": "t1", "name": "Returns", "served": 30, "wait_seconds": {"p50": 240, "p90": 600}},
                        {"type_id": None, "name": None, "served": 12, "wait_seconds": {"p50": None, "p90": None}}],
    "by_counter": [{"counter_id": "d1", "name": "Desk 1", "served": 25, "service_seconds": {"p50": 150, "p90": 400}},
                   {"counter_id": "d2", "name": "Desk 2", "served": 17, "service_seconds": {"p50": None, "p90": None}}],
    "days": [{"date": f"2026-02-{d}", "served": 6, "no_shows": 1 if d % 2 else 0, "left": 1,
              "wait_seconds": {"p50": 280, "p90": 800}, "service_seconds": {"p50": 140, "p90": 400}}
             for d in range(24, 29)] + [{"date": "2026-03-01", "served": 0, "no_shows": 0, "left": 0,
                                        "wait_seconds": {"p50": None, "p90": None},
                                        "service_seconds": {"p50": None, "p90": None}}],
}


async def test_admin_page_shows_history_and_draws_analytics(browser, live_server, artifacts):
    # the history and analytics answers in the shapes the lines API gives (docs/compat.md),
    # served by the browser's router so the drawing is tested whatever the data of the day
    import json

    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    key = await _line(base)
    async with ClientSession() as session:
        await session.post(f"{base}/api/acme/support/counters", headers={"X-Admin-Key": key},
                           json={"id": "d1", "name": "Desk 1"})
    asked: list[tuple[str, dict, str | None]] = []

    async def answer(route):
        from urllib.parse import parse_qs, urlsplit
        url = urlsplit(route.request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        asked.append((url.path, query, route.request.headers.get("x-admin-key")))
        if url.path.endswith("/history"):
            body = OLDER if query.get("before") == "page-2" else HISTORY
        else:
            body = ANALYTICS
        await route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await page.route("**/api/acme/support/history*", answer)
        await page.route("**/api/acme/queues/support/analytics*", answer)
        await page.goto(f"{base}/queue/acme/support/admin")
        await page.fill("#admin-key", key)
        await page.click("#key-form button[type=submit]")
        rows = page.locator("#history tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_contain_text("RET-001")
        await expect(rows.nth(0)).to_contain_text("<b>Alex</b> Rivera")  # a name is text, never markup
        await expect(rows.nth(0).locator("td").nth(4)).to_have_text("5 min")  # waited 330 s
        await expect(rows.nth(0).locator("td").nth(5)).to_have_text("2 min")  # served in 125 s
        await expect(rows.nth(0).locator("td").nth(6)).to_have_text("Desk 1")  # the counter's name, not its id
        await expect(rows.nth(1).locator("td").nth(2)).to_have_text("no-show")
        await expect(rows.nth(1).locator("td").nth(5)).to_have_text("–")
        assert await rows.nth(0).locator("time").get_attribute("datetime") == "2026-03-02T09:00:00.000+00:00"
        await page.click("#history-more")
        await expect(rows).to_have_count(3)
        await expect(page.locator("#history-more")).to_be_hidden()
        history_asks = [q for path, q, _ in asked if path.endswith("/history")]
        assert history_asks[0] == {"limit": "20"} and history_asks[-1] == {"limit": "20", "before": "page-2"}

        await expect(page.locator("#stats")).to_contain_text("Served42")
        await expect(page.locator("#stats")).to_contain_text("Wait p505 min")
        await expect(page.locator("#stats")).to_contain_text("Service p907 min")
        await expect(page.locator("#chart-hours rect.bar")).to_have_count(9)  # the hours with someone served
        await expect(page.locator("#chart-days rect")).to_have_count(5 + 2 + 5)  # served, no-shows, left; none on 03-01
        await expect(page.locator("#chart-types text.value").first).to_have_text("30 · wait 4 min")
        await expect(page.locator("#chart-types text.value").nth(1)).to_have_text("12")  # no p50: nothing said
        await expect(page.locator("#chart-types text").nth(2)).to_have_text("no type")
        await expect(page.locator("#chart-counters rect.bar")).to_have_count(2)
        await expect(page.locator("#chart-counters text.value").first).to_have_text("25 · service 2 min")
        (path, query, sent_key), = [a for a in asked if a[0].endswith("/analytics")]
        assert sent_key == key and query["from"] <= query["to"] and len(query["to"]) == 10  # YYYY-MM-DD
        await page.screenshot(path=str(artifacts / "lines_admin_analytics_1280x800.png"), full_page=True)
        await page.click("[data-days='30']")
        await expect(page.locator("[data-days='30']")).to_have_attribute("aria-pressed", "true")
        days_30 = [a[1] for a in asked if a[0].endswith("/analytics")][-1]
        from datetime import date
        assert (date.fromisoformat(days_30["to"]) - date.fromisoformat(days_30["from"])).days == 29
        assert problems == []
    finally:
        await page.close()


async def test_admin_page_history_and_analytics_of_a_real_day(browser, live_server, artifacts):
    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    key = await _line(base)
    admin = {"X-Admin-Key": key}
    line = f"{base}/api/acme/support"
    async with ClientSession() as session:
        returns = await (await session.post(f"{line}/service-types", headers=admin,
                                            json={"name": "Returns", "code": "RET"})).json()
        await session.post(f"{line}/counters", headers=admin, json={"id": "d1", "name": "Desk 1"})
        joined = []
        for i, person in enumerate(("Alex Rivera", "Sam Okafor", "Kim Lee", "Jo Martins")):
            reply = await session.post(f"{line}/join", json={"name": person, **({"service_type_id": returns["id"]}
                                                                                 if i % 2 else {})})
            joined.append((await reply.json())["entry"]["id"])
        for _ in range(3):
            await session.post(f"{line}/serve-next", headers=admin, json={"counter": "d1"})
            # history is newest first by finishing millisecond, and by user id within one: two
            # services that end in the same millisecond would show in either order
            await asyncio.sleep(0.01)
        await session.post(f"{line}/no-show/{joined[2]}", headers=admin)  # Kim, just served, did not come
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await page.goto(f"{base}/queue/acme/support/admin")
        await page.fill("#admin-key", key)
        await page.click("#key-form button[type=submit]")
        rows = page.locator("#history tr")
        await expect(rows).to_have_count(3)  # newest first
        await expect(rows.nth(0)).to_contain_text("A-003")
        await expect(rows.nth(0).locator("td").nth(2)).to_have_text("no-show")
        await expect(rows.nth(1)).to_contain_text("RET-002")
        await expect(rows.nth(1).locator("td").nth(6)).to_have_text("Desk 1")
        await expect(page.locator("#analytics")).to_be_visible()
        await expect(page.locator("#stats")).to_contain_text("Served2")
        await expect(page.locator("#stats")).to_contain_text("No-shows1")
        await expect(page.locator("#chart-hours rect.bar")).to_have_count(1)  # this hour only
        await expect(page.locator("#chart-counters text").first).to_have_text("Desk 1")
        await expect(page.locator("#error")).to_have_text("")
        await page.screenshot(path=str(artifacts / "lines_admin_real_day_1280x800.png"), full_page=True)
        assert problems == []
    finally:
        await page.close()


async def test_admin_pauses_and_the_public_page_shows_now_serving_and_a_full_line(browser, live_server, artifacts):
    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    key = await _line(base)
    admin = {"X-Admin-Key": key}
    line = f"{base}/api/acme/support"
    async with ClientSession() as session:
        await session.post(f"{line}/counters", headers=admin, json={"id": "d3", "name": "Desk 3"})
        for person in ("Alex Rivera", "Sam Okafor", "Priya Natarajan"):
            await session.post(f"{line}/join", json={"name": person})
        await session.post(f"{line}/serve-next", headers=admin, json={"counter": "d3"})
        await session.patch(f"{base}/api/acme/queues/support", headers=admin, json={"max_waiting": 2})
    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    desk = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(phone, problems)
    _watch(desk, problems)
    desk.on("dialog", lambda dialog: dialog.accept("back at 14:00"))
    try:
        await phone.goto(f"{base}/queue/acme/support")
        await expect(phone.locator("#serving li")).to_have_text(["A-001 → Desk 3"])
        await expect(phone.locator("#waiting")).to_have_text("2 people waiting")
        await expect(phone.locator("#closed")).to_contain_text("This line is full right now (2 waiting)")
        assert "Alex" not in await phone.text_content("body")  # a public page shows tickets only
        await phone.screenshot(path=str(artifacts / "lines_public_full_390x844.png"))
        await phone.fill("#name", "Kim Lee")
        await phone.click("#join-form button[type=submit]")
        await expect(phone.locator("#error")).not_to_have_text("")  # the join's own 409

        await desk.goto(f"{base}/queue/acme/support/admin")
        await desk.fill("#admin-key", key)
        await desk.click("#key-form button[type=submit]")
        await expect(desk.locator("#line-state")).to_have_text("taking joins")
        await desk.click("#pause")
        await expect(desk.locator("#line-state")).to_have_text("paused")
        await expect(desk.locator("#resume")).to_be_visible()
        async with ClientSession() as session:
            config = await (await session.get(f"{base}/api/acme/queues/support")).json()
            assert config["paused"] and config["pause_message"] == "back at 14:00"
        await phone.reload()
        await expect(phone.locator("#closed")).to_have_text("This line is paused: back at 14:00")
        await desk.click("#resume")
        await expect(desk.locator("#line-state")).to_have_text("taking joins")
        await phone.reload()  # (an open page rereads the config each minute)
        # serve next at the counter's own button: the phone sees the new ticket there
        await desk.click("#counters button:has-text('Serve next')")
        await expect(phone.locator("#serving li")).to_have_text(["A-002 → Desk 3"])
        await expect(phone.locator("#closed")).to_be_hidden()  # one waits now: room again
        assert problems == []
    finally:
        await phone.close()
        await desk.close()
