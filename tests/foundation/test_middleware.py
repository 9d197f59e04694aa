"""The error middleware, through a small app of its own so it is tested apart from the parts."""

import asyncio
from typing import Iterator

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


# -- Redis's errors, as redis-py's own parser classes them from the server's reply text

REDIS_REPLIES = [
    "CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys request during rehashing of slot",
    "MOVED 3999 127.0.0.1:6381", "ASK 3999 127.0.0.1:6381", "LOADING Redis is loading the dataset in memory",
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    "READONLY You can't write against a read only replica.",
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    "Error running script (call to f_0): @user_script:45: @user_script: 45: -OOM command not allowed when used",
]


def parsed(reply: str) -> Iterator[Exception]:
    """The error as each of this redis-py's parsers classes it, and unclassed (a parser that has no class for it)."""
    from redis._parsers.base import BaseParser
    from redis.exceptions import ResponseError

    yield BaseParser.parse_error(reply)
    try:  # redis-py 5.x: the cluster client's parser adds MOVED, ASK, CLUSTERDOWN, TRYAGAIN, MASTERDOWN
        from redis.asyncio.cluster import ClusterParser
    except ImportError:  # redis-py 6+: BaseParser knows them all
        pass
    else:
        yield ClusterParser.parse_error(reply)
    yield ResponseError(reply)


def test_every_redis_not_now_error_is_503_whatever_class_redis_py_gives_it():
    from microq.errors import Unavailable, from_lua, from_redis

    for reply in REDIS_REPLIES:
        for exc in parsed(reply):
            for mapped in (from_redis(exc), from_lua(exc)):
                assert isinstance(mapped, Unavailable), (reply, type(exc), mapped)
                assert mapped.headers == {"Retry-After": "1"}
    from redis.exceptions import ResponseError
    for reply in ("NOTFOUND no such item", "CONFLICT taken", "UNPROCESSABLE other request"):
        assert from_lua(ResponseError(reply)).status in (404, 409, 422)
    bug = ResponseError("CROSSSLOT Keys in request don't hash to the same slot")
    assert from_redis(bug) is bug  # MicroQ's own bug: a 500, logged


def redis_app() -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    for i, reply in enumerate(REDIS_REPLIES):
        async def fail(request, reply=reply):
            raise next(iter(parsed(reply)))
        app.router.add_get(f"/r{i}", fail)
    return app


async def test_redis_errors_reaching_the_middleware_are_503_with_retry_after(aiohttp_client):
    client = await aiohttp_client(redis_app())
    for i in range(len(REDIS_REPLIES)):
        response = await client.get(f"/r{i}")
        assert response.status == 503 and response.headers["Retry-After"] == "1"
        assert "redis unavailable" in (await response.json())["error"]


async def test_a_gzip_body_that_is_not_gzip_is_400(aiohttp_client):
    client = await aiohttp_client(make_app())
    response = await client.post("/echo", data=b"{not gzip at all}",
                                 headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert response.status == 400 and "error" in await response.json()


async def test_a_client_hanging_up_mid_body_is_not_called_a_redis_outage(aiohttp_server, caplog):
    import logging

    heard = asyncio.Event()

    async def slow_read(request: web.Request) -> web.Response:
        heard.set()
        await request.read()
        return web.json_response({})

    app = web.Application(middlewares=[error_middleware])
    app.router.add_post("/slow", slow_read)
    server = await aiohttp_server(app)
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
    await writer.drain()
    await asyncio.wait_for(heard.wait(), 5)
    writer.transport.abort()  # gone, mid-body
    await asyncio.sleep(0.3)
    assert "redis unavailable" not in caplog.text
    assert "unhandled error" not in caplog.text and "internal error" not in caplog.text
