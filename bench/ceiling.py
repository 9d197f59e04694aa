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


async def run(port: int) -> None:
    app = web.Application()
    app.router.add_route("*", "/ceiling", answer)
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
    args = parser.parse_args()
    if args.workers > 1:
        children = [subprocess.Popen([sys.executable, "-m", "bench.ceiling", "--port", str(args.port)])
                    for _ in range(args.workers)]
        signal.signal(signal.SIGTERM, lambda *_: [c.terminate() for c in children])
        for child in children:
            child.wait()
        return
    asyncio.run(run(args.port))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
