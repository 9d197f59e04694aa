"""Every page on the one design (microq.css, microq.js), in Chromium: at a phone, a laptop and
a 1080p screen (the kiosk at 4K too), light and dark, each page fits its width, breaks no CSP
rule, throws nothing, and is photographed into test-artifacts/shots/ for a person to look at."""

from __future__ import annotations

from aiohttp import ClientSession

VIEWPORTS = ((390, 844), (1280, 800), (1920, 1080))
KEY = "design-key-0123456789"


async def _fill(base: str) -> str:
    """A line with counters, service types, people waiting and served; work items; topics. The line's admin key."""
    async with ClientSession() as http:
        created = await http.post(f"{base}/api/acme/queues", json={"queue_id": "support", "name": "City Clinic"})
        admin = {"X-Admin-Key": (await created.json())["admin_key"]}
        line = f"{base}/api/acme/support"
        for name, code in (("General Inquiry", "GEN"), ("Returns", "RET")):
            await http.post(f"{line}/service-types", headers=admin, json={"name": name, "code": code})
        for counter_id, name in (("d1", "Desk 1"), ("d2", "Desk 2")):
            await http.post(f"{line}/counters", headers=admin, json={"id": counter_id, "name": name})
        for person in ("Alexandra Rivera", "Sam Okafor", "Priya Natarajan", "Kim Lee", "Jo Martins"):
            await http.post(f"{line}/join", json={"name": person})
        await http.post(f"{line}/serve-next", headers=admin, json={"counter": "d1"})
        work = {"X-API-Key": KEY}
        await http.post(f"{base}/api/queue/invoices/bulk", headers=work, json={"items": [
            {"reference": "INV-1001", "data": {"amount": 120}, "priority": "High", "due_date": "2020-01-01T00:00:00Z"},
            {"reference": "INV-1002", "data": "plain text"},
            {"reference": "INV-1003", "priority": "Low"}]})
        await http.post(f"{base}/api/queue/invoices/claim", headers=work, json={"claimed_by": "robot-7"})
        await http.post(f"{base}/publish/orders.eu", data=b'{"item": "laptop"}')
        return admin["X-Admin-Key"]


async def _open(page, base: str, name: str, admin_key: str) -> None:
    """Go to page `name` and wait until its data is on screen."""
    if name == "index":
        await page.goto(f"{base}/")
        await page.wait_for_selector(".links-list li")
    elif name == "public":
        await page.goto(f"{base}/queue/acme/support")
        await page.wait_for_selector("#serving li:not(.none)")
    elif name == "public_ticket":
        await page.goto(f"{base}/queue/acme/support")
        await page.evaluate("localStorage.clear()")
        await page.reload()
        await page.fill("#name", "Lea Braun")
        await page.select_option("#service-type", label="Something else / not sure")
        await page.click("#join-form button[type=submit]")
        await page.wait_for_selector("#ticket:not([hidden])")
        assert (await page.text_content("#ticket-number")).startswith("A-")  # no type: the queue's own prefix
        await page.wait_for_selector("#serving li:not(.none)")
    elif name == "kiosk":
        await page.goto(f"{base}/queue/acme/support/kiosk")
        await page.wait_for_selector("#next li")
    elif name == "admin":
        await page.goto(f"{base}/queue/acme/support/admin")
        await page.fill("#admin-key", admin_key)
        await page.click("#key-form button[type=submit]")
        await page.wait_for_selector("#people tr")
        await page.wait_for_selector("#analytics:not([hidden]), #analytics-note:not([hidden])")
    elif name == "dashboard":
        await page.goto(f"{base}/dashboard")
        await page.wait_for_selector("tr[data-topic='orders.eu']")
    elif name == "console":
        await page.goto(f"{base}/work")
        await page.fill("#api-key", KEY)
        await page.click("#key-form button[type=submit]")
        await page.wait_for_selector("#notice:has-text('Key set')")
        await page.fill("#queue-name", "invoices")
        await page.click("#queue-form button[type=submit]")
        await page.wait_for_selector("#items tbody tr")
    else:
        raise AssertionError(name)


# the elements (tag#id.class) that end beyond the screen's right edge, outside a scrolling box
WIDER_THAN_SCREEN = """[...document.querySelectorAll("body *")].filter(e => {
  for (let p = e.parentElement; p; p = p.parentElement) if (getComputedStyle(p).overflowX !== "visible") return false;
  return e.getBoundingClientRect().right > window.innerWidth + 0.5;
}).slice(0, 5).map(e => e.tagName + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))"""
PAGES = ("index", "public", "public_ticket", "kiosk", "admin", "dashboard", "console")


async def test_every_page_is_on_the_shared_design_and_fits_every_screen(browser, live_server, artifacts):
    server = await live_server(api_keys=(KEY,))
    base = str(server.make_url("")).rstrip("/")
    admin_key = await _fill(base)
    shots = artifacts / "shots"
    shots.mkdir(exist_ok=True)
    problems: list[str] = []
    sizes = [*VIEWPORTS]
    for name in PAGES:
        for width, height in sizes + ([(3840, 2160)] if name == "kiosk" else []):
            for scheme in ("light", "dark") if (width, height) == (1280, 800) else ("light",):
                page = await browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
                page.on("pageerror", lambda exc, n=name: problems.append(f"{n}: {exc}"))
                page.on("console", lambda m, n=name: problems.append(f"{n}: {m.text}")
                        if "Content Security Policy" in m.text else None)
                page.on("dialog", lambda dialog: dialog.accept())
                try:
                    await _open(page, base, name, admin_key)
                    sheets = await page.eval_on_selector_all("link[rel=stylesheet]", "ls => ls.map(l => l.getAttribute('href'))")
                    assert sheets[0] == "/static/microq.css", (name, sheets)
                    scripts = await page.eval_on_selector_all("script[src]", "ss => ss.map(s => s.getAttribute('src'))")
                    assert scripts[0] == "/static/microq.js", (name, scripts)
                    # nothing wider than the screen: tables scroll inside their card
                    assert await page.evaluate(WIDER_THAN_SCREEN) == [], (name, width, height)
                    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
                    dark = name == "kiosk" or scheme == "dark"  # the kiosk is dark on every TV
                    channels = [int(c) for c in background[background.index("(") + 1:-1].split(",")[:3]]
                    assert (sum(channels) < 150) == dark, (name, scheme, background)
                    suffix = "_dark" if scheme == "dark" else ""
                    await page.screenshot(path=str(shots / f"{name}_{width}x{height}{suffix}.png"),
                                          full_page=name not in ("kiosk",))
                finally:
                    await page.close()
    assert problems == []


async def test_the_theme_button_overrides_the_system_and_is_remembered(browser, live_server):
    from playwright.async_api import expect

    server = await live_server()
    base = str(server.make_url("")).rstrip("/")
    page = await browser.new_page(color_scheme="light")
    try:
        await page.goto(f"{base}/")
        await expect(page.locator("#theme")).to_have_text("Theme: auto")
        await page.click("#theme")
        await expect(page.locator("html")).to_have_attribute("data-theme", "light")
        await page.goto(f"{base}/queue/acme/support/kiosk")  # the kiosk stays dark whatever is chosen
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await page.goto(f"{base}/")
        await page.click("#theme")
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await page.goto(f"{base}/dashboard")  # every page reads the same choice
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await expect(page.locator("#theme")).to_have_text("Theme: dark")
        await page.click("#theme")
        await expect(page.locator("#theme")).to_have_text("Theme: auto")
        assert await page.get_attribute("html", "data-theme") is None
    finally:
        await page.close()
