"""The work console in Chromium: key, queues, items with priority, due date, claimed_by and
relative times, actions named by intent, an item's history, bulk upload, triggers, and a clean
slate after a refused key."""

from __future__ import annotations

import json

from aiohttp import ClientSession

from tests.work.conftest import AUTH, KEY


def _watch(page, problems: list[str]) -> None:
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)


async def _unlock(page, base: str, queue: str | None = None) -> None:
    await page.goto(f"{base}/work")
    await page.fill("#api-key", KEY)
    await page.click("#key-form button[type=submit]")
    await page.wait_for_selector("#notice:has-text('Key set')")
    if queue:
        await page.fill("#queue-name", queue)
        await page.click("#queue-form button[type=submit]")
        await page.wait_for_selector("#notice:has-text('opened')")


def _row(page, reference: str):
    return page.locator("#items tbody tr", has_text=reference)


async def test_console_page(live_server, browser, artifacts):
    from playwright.async_api import expect

    server = await live_server(api_keys=(KEY,))
    base = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await _unlock(page, base, "Équipe {ops}")
        await page.fill("#push-reference", "ExternalRef-456")
        await page.fill("#push-data", "<b>not html</b>")
        await page.select_option("#push-priority", "High")
        await page.fill("#push-due", "2020-01-02T03:04")  # long past: overdue
        await page.click("#push-form button[type=submit]")
        row = _row(page, "ExternalRef-456")
        await expect(row.locator("td.data")).to_have_text("<b>not html</b>")  # shown as text
        await expect(row.locator("td").nth(1)).to_have_text("High")
        await expect(row.locator("td").nth(3)).to_contain_text("overdue")
        due = await row.locator("td").nth(3).locator("time").get_attribute("datetime")
        assert due.startswith("2020-01-0")
        await expect(row.locator("td").nth(5).locator("time")).to_have_text("just now")  # created, relative ...
        assert await row.locator("td").nth(5).locator("time").get_attribute("title")  # ... absolute on hover
        await expect(page.locator("#statuses")).to_contain_text("NEW (1)")
        await expect(page.locator("#statuses")).to_contain_text("1 overdue")
        await page.click("#claim")
        await page.wait_for_selector("#notice:has-text('Claimed ExternalRef-456')")
        await expect(page.locator("#statuses")).to_contain_text("IN_PROGRESS (1)")
        await expect(row.locator("td").nth(4)).to_contain_text("console")  # claimed_by, and when
        await page.fill("#trigger-name", "Nightly")
        await page.click("#trigger-form button[type=submit]")
        await page.wait_for_selector("#triggers tbody tr:has-text('Nightly')")
        await page.click("#triggers tbody tr button:has-text('RUNNING')")
        await page.wait_for_selector("#triggers tbody tr:has-text('RUNNING')")
        await page.screenshot(path=str(artifacts / "work_console.png"), full_page=True)
        assert problems == []
    finally:
        await page.close()


async def test_actions_are_named_by_intent_and_move_the_item_right(live_server, browser, artifacts):
    from playwright.async_api import expect

    server = await live_server(api_keys=(KEY,))
    base = f"http://127.0.0.1:{server.port}"
    async with ClientSession() as http:
        reply = await http.post(f"{base}/api/queue/claims/bulk", headers=AUTH, json={"items": [
            {"reference": f"CLM-{n}"} for n in range(1, 6)]})
        assert reply.status == 201
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    page.on("dialog", lambda dialog: dialog.accept("robot crashed"))
    buttons = "td:last-child button"
    try:
        await _unlock(page, base, "claims")
        await expect(_row(page, "CLM-1").locator(buttons)).to_have_text(["Abandon", "History"])  # NEW
        for _ in range(4):
            await page.click("#claim")
            await page.wait_for_selector("#statuses:has-text('IN_PROGRESS')")
        await expect(page.locator("#items tbody tr")).to_have_count(4)
        await expect(_row(page, "CLM-1").locator(buttons)).to_have_text(
            ["Done", "Failed: business", "Failed: application", "Give back", "Abandon", "History"])

        await _row(page, "CLM-1").locator("button:has-text('Done')").click()
        await page.wait_for_selector("#notice:has-text('Done: CLM-1 is now DONE')")
        await _row(page, "CLM-2").locator("button:has-text('Failed: business')").click()
        await page.wait_for_selector("#notice:has-text('Failed: business: CLM-2 is now FAILED')")
        await _row(page, "CLM-3").locator("button:has-text('Failed: application')").click()
        await page.wait_for_selector("#notice:has-text('retried as')")  # a new linked item
        await _row(page, "CLM-4").locator("button:has-text('Give back')").click()
        await expect(page.locator("#items tbody tr")).to_have_count(0)

        async with ClientSession() as http:
            def by_status(items):
                return {i["reference"]: i["status"] for i in items}
            found = {}
            for status in ("NEW", "DONE", "FAILED"):
                page_ = await (await http.get(f"{base}/api/queue/claims/items?status={status}", headers=AUTH)).json()
                found[status] = page_["items"]
            assert by_status(found["DONE"]) == {"CLM-1": "DONE"}
            failed = {i["reference"]: i for i in found["FAILED"]}
            assert failed["CLM-2"]["exception_type"] == "business" and failed["CLM-3"]["exception_type"] == "application"
            assert failed["CLM-2"]["message"] == "robot crashed"
            assert sorted(i["reference"] for i in found["NEW"]) == ["CLM-3", "CLM-4", "CLM-5"]  # retry, given back, never claimed
            retry = next(i for i in found["NEW"] if i["reference"] == "CLM-3")
            assert retry["retry_number"] == 1 and retry["parent_id"] == failed["CLM-3"]["id"]

        await page.click("#statuses button:has-text('NEW')")
        await expect(_row(page, "CLM-3")).to_contain_text("retry 1")
        await _row(page, "CLM-5").locator("button:has-text('Abandon')").click()
        await page.click("#statuses button:has-text('ABANDONED')")
        await expect(_row(page, "CLM-5").locator(buttons)).to_have_text(["Retry", "History"])
        await page.click("#statuses button:has-text('FAILED')")
        await expect(_row(page, "CLM-2").locator(buttons)).to_have_text(["Retry", "History"])
        await _row(page, "CLM-2").locator("button:has-text('History')").click()
        history = page.locator("#history-rows tr")
        await expect(history).to_have_count(3)  # created NEW, claimed, failed
        await expect(history.nth(1)).to_contain_text("IN_PROGRESS")
        await expect(history.nth(2)).to_contain_text("FAILED")
        await expect(history.nth(2)).to_contain_text("robot crashed")
        await page.screenshot(path=str(artifacts / "work_console_history_1280x800.png"), full_page=True)
        await _row(page, "CLM-2").locator("button:has-text('Retry')").click()
        await expect(page.locator("#items tbody tr")).to_have_count(1)  # CLM-3's failed first try stays
        await expect(history).to_have_count(4)  # the open history follows the item
        await expect(history.nth(3)).to_contain_text("NEW")
        await page.click("#statuses button:has-text('DONE')")
        await expect(_row(page, "CLM-1").locator(buttons)).to_have_text(["History"])  # nothing moves a DONE item
        assert problems == []
    finally:
        await page.close()


async def test_bulk_upload_of_json_and_csv_with_per_item_errors(live_server, browser, artifacts):
    from playwright.async_api import expect

    server = await live_server(api_keys=(KEY,))
    base = f"http://127.0.0.1:{server.port}"
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await _unlock(page, base, "nightly")
        items = [{"reference": "J-1", "data": {"amount": 5}, "priority": "High"}, {"reference": "J-2"}]
        await page.set_input_files("#bulk-file", files=[{"name": "load.json", "mimeType": "application/json",
                                                         "buffer": json.dumps(items).encode()}])
        await page.click("#bulk-form button[type=submit]")
        await expect(page.locator("#bulk-result")).to_have_text("Added 2 items to nightly.")
        await expect(page.locator("#items tbody tr")).to_have_count(2)
        await expect(_row(page, "J-1").locator("td.data")).to_have_text('{"amount": 5}')

        csv = ('reference,data,priority,due_date\r\n'
               'C-1,"a, b and ""c""",Low,2030-01-01T00:00:00Z\r\n'
               'C-2,"two\nlines",,\r\n')
        await page.set_input_files("#bulk-file", files=[{"name": "load.csv", "mimeType": "text/csv",
                                                         "buffer": csv.encode()}])
        await page.click("#bulk-form button[type=submit]")
        await expect(page.locator("#bulk-result")).to_have_text("Added 2 items to nightly.")
        await expect(page.locator("#items tbody tr")).to_have_count(4)
        await expect(_row(page, "C-1").locator("td.data")).to_have_text('a, b and "c"')
        await expect(_row(page, "C-1").locator("td").nth(1)).to_have_text("Low")
        await expect(_row(page, "C-2").locator("td.data")).to_have_text("two\nlines")

        bad = [{"reference": "B-1"}, {"priority": "urgent"}, "not an object", {"reference": "B-4"}]
        await page.set_input_files("#bulk-file", files=[{"name": "bad.json", "mimeType": "application/json",
                                                         "buffer": json.dumps(bad).encode()}])
        await page.click("#bulk-form button[type=submit]")
        result = page.locator("#bulk-result")
        await expect(result).to_have_class("notice error")
        await expect(result).to_contain_text("2 of 4 items are invalid, so none was added")
        await expect(result.locator("li")).to_have_count(2)
        await expect(result.locator("li").nth(0)).to_contain_text("items[1]: priority")
        await expect(result.locator("li").nth(1)).to_contain_text("items[2]: must be an object")
        await page.screenshot(path=str(artifacts / "work_console_bulk_errors_1280x800.png"), full_page=True)
        await expect(page.locator("#items tbody tr")).to_have_count(4)  # all or nothing

        await page.set_input_files("#bulk-file", files=[{"name": "broken.json", "mimeType": "application/json",
                                                         "buffer": b"[{"}])
        await page.click("#bulk-form button[type=submit]")
        await expect(result).to_contain_text("Not uploaded: the file is not JSON")
        async with ClientSession() as http:
            summary = await (await http.get(f"{base}/api/queue/nightly", headers=AUTH)).json()
            assert summary["counts"]["NEW"] == 4
        assert problems == []
    finally:
        await page.close()


async def test_queue_list_opens_a_queue_and_a_refused_key_leaves_a_clean_slate(live_server, browser, artifacts):
    from playwright.async_api import expect

    server = await live_server(api_keys=(KEY,))
    base = f"http://127.0.0.1:{server.port}"
    async with ClientSession() as http:
        for queue, n in (("invoices", 3), ("claims", 1)):
            await http.post(f"{base}/api/queue/{queue}/bulk", headers=AUTH,
                            json={"items": [{"reference": f"{queue}-{i}", **({"due_date": "2020-01-01"} if i == 0 else {})}
                                            for i in range(n)]})
        await http.post(f"{base}/api/triggers", headers=AUTH, json={"trigger_name": "Nightly"})
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await _unlock(page, base)
        await expect(page.locator("#queues li")).to_have_count(2)
        invoices = page.locator("#queues button", has_text="invoices")
        await expect(invoices).to_contain_text("3 open · 3 in all")
        await expect(invoices).to_contain_text("1 overdue")
        await invoices.click()
        await expect(page.locator("#items tbody tr")).to_have_count(3)
        await expect(invoices).to_have_attribute("aria-pressed", "true")
        await expect(page.locator("#triggers tbody tr")).to_have_count(1)
        await page.screenshot(path=str(artifacts / "work_console_queues_1280x800.png"), full_page=True)

        await page.fill("#api-key", "wrong-key")
        await page.click("#key-form button[type=submit]")
        await expect(page.locator("#notice")).to_have_text(
            "The key was refused (401): nothing is shown until you use a valid key.")
        await expect(page.locator("#notice")).to_have_class("notice error")
        await expect(page.locator("#items tbody tr")).to_have_count(0)  # nothing of the previous key stays
        await expect(page.locator("#queues li")).to_have_count(0)
        await expect(page.locator("#triggers tbody tr")).to_have_count(0)
        await expect(page.locator("#statuses button")).to_have_count(0)
        await expect(page.locator("#queue-shown")).to_have_text("")
        await expect(page.locator("#queue-name")).to_have_value("")  # not even the name the list gave
        assert await page.evaluate("sessionStorage.getItem('microq-work-key')") is None
        await page.screenshot(path=str(artifacts / "work_console_refused_1280x800.png"), full_page=True)
        await page.click("#claim")  # with nothing open, nothing is claimed
        await expect(page.locator("#notice")).to_have_text("Open a queue first.")
        assert problems == []
    finally:
        await page.close()


async def test_the_queue_list_pages_by_its_cursor(live_server, browser):
    from playwright.async_api import expect

    server = await live_server(api_keys=(KEY,))
    base = f"http://127.0.0.1:{server.port}"
    async with ClientSession() as http:
        for n in range(52):
            reply = await http.post(f"{base}/api/queue", headers=AUTH, json={"queue_name": f"q{n:02d}"})
            assert reply.status == 201
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    _watch(page, problems)
    try:
        await _unlock(page, base)
        await expect(page.locator("#queues li")).to_have_count(50)
        await page.click("#queues-more")
        await expect(page.locator("#queues li")).to_have_count(52)
        await expect(page.locator("#queues li").last).to_contain_text("q51")
        await expect(page.locator("#queues-more")).to_be_hidden()
        assert problems == []
    finally:
        await page.close()
