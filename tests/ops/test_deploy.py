"""docs/deploy.md, run: Debian's nginx with the guide's own configuration (read from the file) in
front of three real `microq serve` nodes on one Redis. Checks: a consume is not re-sent after its
node dies, long-polls outlast nginx's 60 s default, SSE events arrive unbuffered, bans follow the
client address nginx forwards, 2 MiB bodies pass and larger ones get JSON 413s, QR codes carry the
client's host, request ids cross both logs. nginx and the nodes are stopped by PID."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import segno

from microq.keys import Keyspace
from microq.security.keys import SecurityKeys
from tests.helpers import free_port, stop_process, wait_for_port

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY_ADDRESS = "127.0.0.2"  #: nginx connects to the nodes from here, the only trusted proxy
LONG_POLL = 62  #: seconds: longer than nginx's default proxy_read_timeout of 60 s


def guide_block(name: str) -> str:
    text = GUIDE.read_text()
    block = text.split(f"<!-- {name} begin -->", 1)[1].split(f"<!-- {name} end -->", 1)[0]
    return block.split("\n", 2)[2].rsplit("```", 1)[0]  # inside the fence


def nginx_config(directory: Path, port: int, nodes: list[int]) -> str:
    """The guide's configuration, with this test's ports and files put in."""
    site = guide_block("nginx.conf")
    servers = re.findall(r"^\s*server 10\.0\.0\.\d+:8001 .*$", site, re.MULTILINE)
    assert len(servers) == len(nodes)
    for line, node in zip(servers, nodes):
        site = site.replace(line, line.replace(re.search(r"10\.0\.0\.\d+:8001", line)[0], f"127.0.0.1:{node}"))
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("/var/log/nginx/microq.log", str(directory / "access.log"))
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # as root, nginx's workers would run as nobody, who may not write this test's temp folders
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""daemon off;
{user}
worker_processes 1;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} warn;
events {{ worker_connections 512; }}
http {{
{temp}
    proxy_bind {PROXY_ADDRESS};
{site}
}}
"""


class Deployment:
    def __init__(self, directory: Path, redis_url: str) -> None:
        self.directory = directory
        self.redis_url = redis_url
        self.ports = [free_port() for _ in range(3)]
        self.nodes: dict[int, subprocess.Popen] = {}
        self.port = free_port()
        self.nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_node(self, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MICROQ_") and k != "REDIS_URL"}
        env.update(REDIS_URL=self.redis_url, MICROQ_TRUSTED_PROXIES=PROXY_ADDRESS, MICROQ_API_KEYS="good-key",
                   MICROQ_CONSUME_MAX_TIMEOUT=f"{LONG_POLL + 5}s", MICROQ_BAN_THRESHOLD="3",
                   MICROQ_ACCESS_LOG="json", MICROQ_DATA_DIR=str(self.directory / "data"))
        log = (self.directory / f"node-{port}.log").open("a")
        self.nodes[port] = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port)],
                                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory)
        log.close()
        wait_for_port(port, 30)

    def start(self) -> Deployment:
        for port in self.ports:
            self.start_node(port)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.directory / kind).mkdir()
        conf = self.directory / "nginx.conf"
        conf.write_text(nginx_config(self.directory, self.port, self.ports))
        checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(self.directory)], capture_output=True,
                                 text=True)
        assert checked.returncode == 0, checked.stderr
        self.nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.directory)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 10)
        return self

    def stop(self) -> None:
        if self.nginx is not None:
            stop_process(self.nginx, 10)  # SIGTERM by PID: the master stops its worker
        for process in self.nodes.values():
            stop_process(process)

    def access_log(self) -> list[str]:
        path = self.directory / "access.log"
        return path.read_text().splitlines() if path.exists() else []


def established_to(port: int) -> int:
    """ESTABLISHED TCP connections whose local port is `port` (the node's side), from /proc."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    count += 1
    return count


def qr_of(url: str, title: str) -> str:
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=8, border=2, title=title)
    return svg.getvalue().decode()


@pytest.fixture
def deployment(tmp_path, redis_url, redis):
    if not os.path.exists(NGINX):
        pytest.fail("nginx is missing: apt-get install -y nginx (.ci/run does)")
    deployed = Deployment(tmp_path, redis_url)
    try:
        yield deployed.start()
    finally:
        deployed.stop()


def session(source: str = "127.0.0.1") -> aiohttp.ClientSession:
    """A client connecting from `source` (any 127/8 address is this machine)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0), force_close=True))


@pytest.mark.timeout(240)
async def test_the_guides_nginx_in_front_of_three_nodes(deployment: Deployment, redis):
    # 1. a consume whose node dies is answered with an error, not re-sent to another node
    async with session() as client:
        poll = asyncio.create_task(client.get(f"{deployment.url}/consume/crash?timeout=30s",
                                              headers={"X-Request-Id": "crash-poll"}))
        deadline = time.monotonic() + 10
        holder = None
        while holder is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            holder = next((p for p in deployment.ports if established_to(p)), None)
        assert holder is not None, "no node holds the long-poll"
        started = time.monotonic()
        os.kill(deployment.nodes[holder].pid, signal.SIGKILL)
        answer = await asyncio.wait_for(poll, 20)
        assert answer.status in (502, 503) and "error" in await answer.json()
        assert time.monotonic() - started < 10  # at once: not a long-poll waiting on another node
    deployment.nodes[holder].wait()
    deadline, crash = time.monotonic() + 10, []
    while not crash and time.monotonic() < deadline:  # nginx logs the request once it has finished it
        crash = [line for line in deployment.access_log() if "rid=" in line and "/consume/crash" in line]
        await asyncio.sleep(0.1)
    assert len(crash) == 1 and crash[0].count("127.0.0.1:") == 1, crash  # exactly one upstream tried
    deployment.start_node(holder)

    # 2. a long-poll longer than nginx's default read timeout, started now and checked last
    waiter = session()
    long_poll = asyncio.create_task(waiter.get(f"{deployment.url}/consume/slow?timeout={LONG_POLL}s"))
    poll_started = time.monotonic()
    async with session() as client:

        # 3. SSE through nginx: the first event, then a join's, without waiting for buffers to fill
        stream = await client.get(f"{deployment.url}/api/acme/main/stream")
        assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        first = await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)
        assert first
        join = await client.post(f"{deployment.url}/api/acme/main/join", json={"name": "Ada"})
        assert join.status == 201
        seen = b""
        deadline = time.monotonic() + 5
        while b"Ada" not in seen and time.monotonic() < deadline:
            seen += await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)
        assert b"Ada" in seen
        stream.close()

        # 4. bodies: 2 MiB passes; 1 byte more is MicroQ's JSON 413; beyond nginx's limit, nginx's JSON 413
        limit = 2 * 1024 * 1024
        assert (await client.post(f"{deployment.url}/publish/big", data=b"x" * (limit - 64))).status == 202
        over = await client.post(f"{deployment.url}/publish/big", data=b"x" * (limit + 1))
        assert over.status == 413 and "limit 2097152 bytes" in (await over.json())["error"]
        way_over = await client.post(f"{deployment.url}/publish/big", data=b"x" * (4 * 1024 * 1024))
        assert way_over.status == 413 and "error" in await way_over.json()

        # 5. QR codes encode the host the client used, not the upstream's name
        qr = await client.get(f"{deployment.url}/api/acme/main/qr", headers={"Host": "queue.example.org"})
        assert qr.status == 200
        assert await qr.text() == qr_of("http://queue.example.org/queue/acme/main", "Join acme/main")

        # 6. request ids: nginx makes one, MicroQ echoes it, both logs have it
        traced = await client.get(f"{deployment.url}/healthz")
        request_id = traced.headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)

    # 7. bans follow the address nginx forwards: a banned client, whatever X-Forwarded-For it forges,
    #    stays banned; another client behind the same nginx is not
    item = {"queue_name": "jobs"}
    async with session("127.0.0.3") as attacker:
        for _ in range(3):
            answer = await attacker.post(f"{deployment.url}/api/queue", json=item, headers={"X-API-Key": "bad"})
            assert answer.status == 401
        banned = await attacker.post(f"{deployment.url}/api/queue", json=item,
                                     headers={"X-API-Key": "good-key", "X-Forwarded-For": "198.51.100.7"})
        assert banned.status == 403
    async with session("127.0.0.4") as neighbour:
        fine = await neighbour.post(f"{deployment.url}/api/queue", json=item, headers={"X-API-Key": "good-key"})
        assert fine.status == 201
    assert await redis.exists(SecurityKeys(Keyspace("mq:")).ban("127.0.0.3")) == 1

    # 2, checked: the long-poll ran its full time through nginx and got MicroQ's answer, not a 504
    try:
        answer = await asyncio.wait_for(long_poll, LONG_POLL + 30)
        assert answer.status == 404 and (await answer.json())["error"] == "no messages available"
        assert time.monotonic() - poll_started >= LONG_POLL - 1
    finally:
        await waiter.close()

    node_lines = [json.loads(line) for port in deployment.ports
                  for line in (deployment.directory / f"node-{port}.log").read_text().splitlines()
                  if line.startswith("{")]
    assert any(line["request_id"] == request_id for line in node_lines)
    assert any(f"rid={request_id}" in line for line in deployment.access_log())


def test_the_guides_systemd_unit_is_valid(tmp_path):
    unit = guide_block("systemd unit")
    assert "ExecStart=/opt/microq/.venv/bin/microq serve" in unit and "KillSignal=SIGTERM" in unit
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed: the unit's syntax is not checked here")
    path = tmp_path / "microq.service"
    path.write_text(unit)
    checked = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True)
    # verify also complains that /opt/microq does not exist on this machine; nothing else may fail
    problems = [line for line in checked.stderr.splitlines()
                if line.strip() and "/opt/microq" not in line and "microq.env" not in line]
    assert not problems, checked.stderr
