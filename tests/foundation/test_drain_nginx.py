"""Drain behind nginx with upstream keep-alive (issue 9 item 9): SIGTERM one of two nodes under a
loop of POSTs; nginx must never answer 502, and every accepted publish is stored."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.foundation.nodes import start_node, wait_ready
from tests.helpers import free_port, stop_process, wait_for_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream microq {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://microq;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


async def _loop(base: str, outcomes: dict[str, list], until: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as session:
        n = 0
        while not until.is_set():
            n += 1
            async with session.post(f"{base}/publish/drain-nginx", data=f"m{n}".encode()) as response:
                await response.read()
                outcomes.setdefault(response.status, []).append(n)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
async def test_sigterm_behind_nginx_with_upstream_keepalive_gives_no_502(redis_url: str, redis, tmp_path: Path):
    a, b, port = free_port(), free_port(), free_port()
    env = {"REDIS_URL": redis_url, "MICROQ_SHUTDOWN_TIMEOUT": "20s", "MICROQ_LOG_LEVEL": "WARNING"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    node_a = start_node(tmp_path / "a", [a], env=env)
    node_b = start_node(tmp_path / "b", [b], env=env)
    (tmp_path / "nginx.conf").write_text(CONFIG.format(prefix=tmp_path, a=a, b=b, port=port))
    proxy = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=(tmp_path / "nginx.out").open("wb"),
                             stdin=subprocess.DEVNULL)
    try:
        await wait_ready(f"http://127.0.0.1:{a}", node_a)
        await wait_ready(f"http://127.0.0.1:{b}", node_b)
        wait_for_port(port, 10)
        base = f"http://127.0.0.1:{port}"
        outcomes: dict[int, list] = {}
        until = asyncio.Event()
        loops = [asyncio.create_task(_loop(base, outcomes, until)) for _ in range(4)]
        await asyncio.sleep(1.5)
        os.kill(node_a.pid, signal.SIGTERM)
        assert await asyncio.to_thread(node_a.wait, 30) == 0
        await asyncio.sleep(0.5)  # node B alone now
        until.set()
        await asyncio.wait_for(asyncio.gather(*loops), 30)
        assert set(outcomes) == {202}, {status: len(ns) for status, ns in outcomes.items()}
        assert await redis.hlen("mq:t:{drain-nginx}:msgs") == len(outcomes[202])
    finally:
        stop_process(proxy, 10)
        stop_process(node_b)
        stop_process(node_a)
