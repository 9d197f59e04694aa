"""The work console page in a real browser: key, queue, items, claim, triggers."""

from __future__ import annotations

from tests.work.conftest import KEY


async def test_console_page(live_server, browser, artifacts):
    server = await live_server(api_keys=(KEY,))
    base = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page()
    try:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{base}/work")
        await page.fill("#api-key", KEY)
        await page.click("#key-form button")
        await page.wait_for_selector("#notice:has-text('Key set')")
        await page.fill("#queue-name", "Équipe {ops}")
        await page.click("#queue-form button[type=submit]")
        await page.wait_for_selector("#notice:has-text('opened')")
        await page.fill("#push-reference", "ExternalRef-456")
        await page.fill("#push-data", "<b>not html</b>")
        await page.click("#push-form button")
        await page.wait_for_selector("#items tbody tr")
        assert await page.inner_text("#items tbody td.data") == "<b>not html</b>"  # shown as text
        assert "NEW (1)" in await page.inner_text("#statuses")
        await page.click("#claim")
        await page.wait_for_selector("#notice:has-text('Claimed')")
        await page.wait_for_selector("#statuses:has-text('IN_PROGRESS (1)')")
        await page.fill("#trigger-name", "Nightly")
        await page.click("#trigger-form button")
        await page.wait_for_selector("#triggers tbody tr:has-text('Nightly')")
        await page.click("#triggers tbody tr button:has-text('RUNNING')")
        await page.wait_for_selector("#triggers tbody tr:has-text('RUNNING')")
        await page.screenshot(path=str(artifacts / "work_console.png"), full_page=True)
        await page.fill("#api-key", "wrong")
        await page.click("#key-form button")
        await page.wait_for_selector("#notice.error:has-text('401')")
        assert errors == []
    finally:
        await page.close()
