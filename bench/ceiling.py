"""The ceiling: a bare aiohttp app doing no work, served like a MicroQ node (same processes, same sockets)."""

import argparse
import asyncio
import os
import signal
import subprocess
import sys

from aiohttp import web

from microq.listening import listening_sockets


async def answer(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"status": "accepted"})


def limited(redis_url: str):
    """/limited: the ceiling's answer behind one check of the `limits` library's moving-window
    limiter on its async Redis storage (redis-py, as MicroQ uses), as slowapi and Flask-Limiter
    use it: one hit per request on the key's window, a limit no request reaches."""
    from limits import parse
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter

    storage = RedisStorage(redis_url.replace("redis://", "async+redis://", 1), implementation="redispy")
    limiter = MovingWindowRateLimiter(storage)
    limit = parse("1000000000/minute")

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        if not await limiter.hit(limit, "bench", request.headers.get("X-API-Key", "anonymous")):
            return web.json_response({"error": "rate limited"}, status=429)
        return web.json_response({"status": "accepted"})

    return handler


async def run(port: int, redis_url: str | None = None) -> None:
    app = web.Application()
    app.router.add_route("*", "/ceiling", answer)
    if redis_url:
        app.router.add_route("*", "/limited", limited(redis_url))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    (sock,) = listening_sockets("127.0.0.1", port)
    await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--limiter-redis", help="also serve /limited, checking a `limits` limiter on this Redis")
    args = parser.parse_args()
    if args.workers > 1:
        children = [subprocess.Popen([sys.executable, "-m", "bench.ceiling", "--port", str(args.port)])
                    for _ in range(args.workers)]
        signal.signal(signal.SIGTERM, lambda *_: [c.terminate() for c in children])
        for child in children:
            child.wait()
        return
    asyncio.run(run(args.port, args.limiter_redis))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
