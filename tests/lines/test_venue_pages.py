"""Venue pages in Chromium: the public page explains a closed line; the kiosk for a TV shows
tickets per counter (names hidden), flashes on a new call and scales from a phone to 4K."""

from __future__ import annotations

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
