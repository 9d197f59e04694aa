"""The route table: every route of the three APIs is reachable, and none shadows another.

Routes are matched in registration order (work, topics, lines), so a fixed work path such
as /api/queue/{queue_name}/items would win over lines' /api/{tenant_id}/queues/{queue_id}
for the tenant "queue": that is why lines refuses the tenant ids below.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from yarl import URL

from microq.app import create_app
from microq.settings import Settings

try:  # the names lines refuses; its own list is the truth once it exists
    from microq.lines.names import RESERVED_QUEUES, RESERVED_TENANTS
except ImportError:
    RESERVED_TENANTS, RESERVED_QUEUES = frozenset({"queue", "queues", "trigger", "triggers", "topics", "stats"}), \
        frozenset({"queues"})
SAMPLES = ["sample", "queue", "queues", "items", "claim", "status", "trigger", "triggers", "topics", "stats",
           "peek", "join", "list", "qr", "serve-next", "boost", "batch", "purge", "x.js", "lines_x.js",
           "work_x.js", "lines_x.css", "work_x.css", "a%2Fb", "%7Bx%7D"]

#: concrete paths the three seeds document, with the part that must answer them
DOCUMENTED = [
    ("POST", "/api/queue", "work"), ("POST", "/api/trigger", "work"),
    ("POST", "/api/acme/queues", "lines"), ("GET", "/api/acme/queues", "lines"),
    ("GET", "/api/acme/queues/support", "lines"), ("POST", "/api/acme/support/join", "lines"),
    ("GET", "/api/acme/support/status/u-1", "lines"), ("POST", "/api/acme/support/boost", "lines"),
    ("POST", "/api/acme/support/serve-next", "lines"), ("GET", "/api/acme/support/list", "lines"),
    ("GET", "/api/acme/support/qr", "lines"), ("GET", "/api/acme/queue/list", "lines"),
    ("POST", "/api/acme/trigger/join", "lines"), ("GET", "/api/acme/items/qr", "lines"),
    ("POST", "/publish/orders", "topics"), ("GET", "/consume/orders", "topics"),
    ("POST", "/ack/orders/1", "topics"), ("POST", "/requeue", "topics"), ("POST", "/webhook/orders", "topics"),
    ("POST", "/api/topics", "topics"), ("GET", "/api/stats", "topics"), ("GET", "/api/queues/peek", "topics"),
    ("GET", "/api/queue/SomeQueue/items", "work"), ("POST", "/api/queue/queues/claim", "work"),
    ("GET", "/api/queue/queues/items", "work"), ("GET", "/api/triggers/queues", "work"),
]


@pytest.fixture(scope="module")
def app() -> web.Application:
    return create_app(Settings(redis_url="redis://127.0.0.1:1/0"))


def part_of(route) -> str:
    module = getattr(route.handler, "__module__", "") or ""
    return module.split(".")[1] if module.startswith("microq.") else module


def api_routes(app):
    return [r for r in app.router.routes() if r.method != "HEAD" and r.resource is not None]


def concrete_paths(resource):
    """(path, params) for sample values of each placeholder that the resource itself accepts."""
    info = resource.get_info()
    if "directory" in info:  # the static folder: every file in it
        for file in sorted(info["directory"].glob("*.*")):
            yield f"{info['prefix']}/{file.name}", {}
        return
    if "path" in info:
        yield info["path"], {}
        return
    if "formatter" not in info:
        return
    names = list(info["pattern"].groupindex)
    for position in range(len(names)):
        for sample in SAMPLES:
            params = {name: ("sample" if i != position else sample) for i, name in enumerate(names)}
            path = info["formatter"].format(**params)
            if info["pattern"].fullmatch(URL(path).path_safe):  # what the router matches: decoded but for %2F
                yield path, params
    # regex placeholders that refuse "sample" (e.g. static file names): try each sample everywhere
    for sample in SAMPLES:
        path = info["formatter"].format(**{name: sample for name in names})
        if info["pattern"].fullmatch(URL(path).path_safe):
            yield path, {name: sample for name in names}


async def resolve(app, method, path):
    return await app.router.resolve(make_mocked_request(method, path, app=app))


async def test_every_route_is_reachable_and_none_is_shadowed(app):
    problems = []
    for route in api_routes(app):
        tried = False
        for path, params in concrete_paths(route.resource):
            tried = True
            match = await resolve(app, route.method, path)
            found = match.route
            if match.http_exception is not None:
                problems.append(f"{route.method} {path}: meant for {route.resource.canonical}, resolves to {match.http_exception.status}")
                continue
            if found is route or found.resource is route.resource:
                continue
            if part_of(route) == "lines" and (params.get("tenant_id") in RESERVED_TENANTS
                                              or params.get("queue_id") in RESERVED_QUEUES):
                continue  # lines refuses these names
            problems.append(f"{route.method} {path}: meant for {route.resource.canonical} "
                            f"({part_of(route)}), taken by {found.resource.canonical} ({part_of(found)})")
        if not tried:
            problems.append(f"{route.method} {route.resource.canonical}: no sample path reaches it")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("method,path,part", DOCUMENTED)
async def test_documented_paths_reach_their_part(app, method, path, part):
    parts = {part_of(r) for r in api_routes(app)}
    if part not in parts:
        pytest.skip(f"{part} has no routes yet")
    match = await resolve(app, method, path)
    assert match.http_exception is None, f"{method} {path}: {match.http_exception}"
    assert part_of(match.route) == part


async def test_work_routes_are_registered_before_the_tenant_patterns(app):
    order = [part_of(r) for r in api_routes(app) if r.resource.canonical.startswith("/api/")]
    last_work = max(i for i, p in enumerate(order) if p == "work")
    assert "lines" not in order[:last_work]
