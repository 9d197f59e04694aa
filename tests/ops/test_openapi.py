"""/openapi.json against the live route table (both ways), and /docs in Chromium."""

from __future__ import annotations

from openapi_spec_validator import validate

from microq.app import create_app
from microq.openapi import described_operations, document, served_operations


def test_every_route_is_described_and_every_description_served(settings):
    served = served_operations(create_app(settings))
    described = described_operations(document())
    assert served - described == set(), "routes without a description in microq/openapi.py"
    assert described - served == set(), "described operations no route serves"


def test_the_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_operation_has_an_example_or_needs_none():
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            body = operation.get("requestBody")
            if body:
                assert all("example" in media for media in body["content"].values()), (method, path)


async def test_openapi_json_is_served(client):
    answer = await client.get("/openapi.json")
    assert answer.status == 200
    assert (await answer.json())["paths"].keys() == document()["paths"].keys()


async def test_docs_page_renders_in_chromium(live_server, browser, artifacts):
    server = await live_server()
    page = await browser.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    await page.goto(str(server.make_url("/docs")))
    await page.wait_for_selector(".opblock-tag", timeout=15000)
    assert await page.locator(".opblock").count() >= 60
    assert "MicroQ" in await page.locator(".title").first.inner_text()
    external = [u for u in failed if not u.startswith(str(server.make_url("/")))]
    assert not failed and not external
    await page.screenshot(path=str(artifacts / "docs.png"), full_page=False)


def test_operation_ids_are_unique():
    ids = [op["operationId"] for item in document()["paths"].values() for m, op in item.items() if m != "parameters"]
    assert len(ids) == len(set(ids))


def test_every_example_fits_its_own_schema():
    from jsonschema import Draft202012Validator

    doc = document()

    def resolve(schema):
        if isinstance(schema, dict):
            if "$ref" in schema:
                return resolve(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in schema.items()}
        if isinstance(schema, list):
            return [resolve(v) for v in schema]
        return schema

    checked = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            bodies = [operation.get("requestBody", {}).get("content", {})]
            bodies += [answer.get("content", {}) for answer in operation["responses"].values()]
            for content in bodies:
                for media, entry in content.items():
                    if "example" in entry and media == "application/json":
                        Draft202012Validator(resolve(entry["schema"])).validate(entry["example"])
                        checked += 1
    assert checked > 40
