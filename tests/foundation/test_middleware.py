"""The error middleware, through a small app of its own so it is tested apart from the parts."""

from aiohttp import web

from microq.errors import Conflict, TooManyRequests
from microq.http import read_object
from microq.middleware import error_middleware


async def echo(request: web.Request) -> web.Response:
    return web.json_response(await read_object(request, empty_ok=False))


async def conflict(request: web.Request) -> web.Response:
    raise Conflict("already there")


async def limited(request: web.Request) -> web.Response:
    raise TooManyRequests("slow down", headers={"Retry-After": "3"})


async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals")


async def redis_down(request: web.Request) -> web.Response:
    from redis.exceptions import ConnectionError

    raise ConnectionError("Connection refused")


def make_app() -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=1024)
    app.router.add_post("/echo", echo)
    app.router.add_get("/conflict", conflict)
    app.router.add_get("/limited", limited)
    app.router.add_get("/crash", crash)
    app.router.add_get("/redis-down", redis_down)
    return app


async def test_errors_are_json_with_the_right_status(aiohttp_client):
    client = await aiohttp_client(make_app())
    cases = [
        (client.post("/echo", data=b"{not json"), 400, "not valid JSON"),
        (client.post("/echo", data=b"[1, 2]"), 400, "JSON object"),
        (client.post("/echo", data=b""), 400, "must be JSON"),
        (client.post("/echo", data=b"\xff\xfe"), 400, "not valid JSON"),
        (client.get("/nowhere"), 404, "not found"),
        (client.get("/echo"), 405, "method not allowed"),
        (client.post("/echo", data=b"x" * 2048), 413, "too large"),
        (client.get("/conflict"), 409, "already there"),
        (client.get("/redis-down"), 503, "redis unavailable"),
        (client.get("/crash"), 500, "internal error"),
    ]
    for request, status, text in cases:
        response = await request
        assert response.status == status
        assert response.content_type == "application/json"
        body = await response.json()
        assert set(body) == {"error"} and text in body["error"], body
        assert "secret internals" not in body["error"] and "Traceback" not in body["error"]


async def test_headers_travel_with_the_error(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.get("/limited")
    assert response.status == 429 and response.headers["Retry-After"] == "3"
    response = await client.get("/echo")
    assert "POST" in response.headers["Allow"]


async def test_valid_json_passes(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.post("/echo", json={"a": 1})
    assert response.status == 200 and await response.json() == {"a": 1}


async def test_nan_and_infinity_are_not_json(client):
    for body in (b'{"name": NaN}', b"[Infinity]", b'{"a": -Infinity}'):
        response = await client.post("/api/topics", data=body)
        assert response.status == 400
        assert await response.json() == {"error": "request body is not valid JSON"}
