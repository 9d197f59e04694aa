"""Connection hygiene on a real `microq serve`: head, body and idle deadlines, the cap, one-line logs."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.foundation.nodes import start_node
from tests.helpers import free_port, stop_process, wait_for_port


@pytest.fixture
def node(redis_url: str, tmp_path: Path):
    """node(**env): a serve subprocess on a free port; yields (port, log path)."""
    started: list[subprocess.Popen] = []

    def start(**env: str) -> tuple[int, Path]:
        port = free_port()
        log = tmp_path / f"node-{port}.log"
        process = start_node(tmp_path, [port], env={"REDIS_URL": redis_url, **env}, log=log)
        started.append(process)
        wait_for_port(port, 30)
        _wait_healthy(port)
        return port, log

    yield start
    for process in started:
        stop_process(process)


def _wait_healthy(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"/healthz on {port} did not answer in {timeout} s")


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> bool:
    """Whether the server closes `sock` within `seconds` (sending `trickle` every 0.2 s meanwhile)."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            if sock.recv(65536) == b"":
                return True
        except socket.timeout:
            pass
        except ConnectionError:
            return True
        if trickle:
            try:
                sock.sendall(trickle)
            except OSError:
                return True
    return False


def test_a_slow_request_head_is_closed_after_the_header_timeout(node):
    port, _ = node(MICROQ_HEADER_TIMEOUT="1s")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert _closed_within(sock, 6, trickle=b"X-a: b\r\n"), "a slowloris head must not hold a connection"
    with socket.create_connection(("127.0.0.1", port)) as silent:  # a connection that never sends a byte
        assert _closed_within(silent, 6)


def test_an_idle_keep_alive_connection_is_closed(node):
    port, _ = node(MICROQ_KEEPALIVE_TIMEOUT="1s", MICROQ_HEADER_TIMEOUT="30s")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert _closed_within(sock, 8)
        assert time.monotonic() - started >= 0.5


def test_a_long_poll_outlives_the_head_and_idle_timeouts(node):
    port, _ = node(MICROQ_KEEPALIVE_TIMEOUT="1s", MICROQ_HEADER_TIMEOUT="1s")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /consume/hygiene?timeout=3s HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 404")  # the seed's "nothing arrived", after 3 s


def test_an_sse_stream_outlives_the_head_and_idle_timeouts(node):
    port, _ = node(MICROQ_KEEPALIVE_TIMEOUT="1s", MICROQ_HEADER_TIMEOUT="1s")
    body = b'{"queue_id": "hygiene", "name": "Hygiene"}'
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/acme/queues HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 201")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /api/acme/hygiene/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        assert b"text/event-stream" in sock.recv(65536)
        assert not _closed_within(sock, 3.5), "a live stream is a request in progress, not an idle connection"


def test_a_body_slower_than_the_minimum_rate_gets_408(node):
    port, _ = node(MICROQ_BODY_TIMEOUT="1s", MICROQ_BODY_MIN_RATE="1000")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /publish/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\nabc")
        sock.settimeout(15)
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"Connection: close" in answer


def test_a_malformed_request_line_logs_one_line(node):
    port, log = node()
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /\x00\x01 nonsense HTTP/9\r\n\r\n")
            sock.settimeout(5)
            try:
                answer = sock.recv(65536)
                assert answer.split(b"\r\n")[0].endswith(b"400 Bad Request") and b'{"error": ' in answer
            except ConnectionError:
                pass
    _wait_healthy(port)
    text = log.read_text(errors="replace")
    assert text.count("malformed HTTP request") == 1, text[-3000:]
    assert "Traceback" not in text


def test_past_the_connection_cap_a_new_connection_gets_503_and_the_node_recovers(node):
    port, log = node(MICROQ_MAX_CONNECTIONS="5")
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    try:
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", port)) as extra:
            extra.settimeout(5)
            assert extra.recv(65536).startswith(b"HTTP/1.1 503")
    finally:
        for sock in held:
            sock.close()
    _wait_healthy(port, 10)
    assert "MICROQ_MAX_CONNECTIONS" in log.read_text()


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))


def test_at_the_file_descriptor_limit_the_node_stays_up_and_logs_little(redis_url: str, tmp_path: Path):
    port = free_port()
    log = tmp_path / "node.log"
    process = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port)],
                               env={"REDIS_URL": redis_url, "PATH": "/usr/bin:/bin", "MICROQ_LOG_LEVEL": "INFO"},
                               cwd=tmp_path, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, preexec_fn=_low_fd_limit)
    held: list[socket.socket] = []
    try:
        wait_for_port(port, 30)
        _wait_healthy(port)
        for _ in range(400):  # twice the node's descriptors
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                break
        time.sleep(1)
        assert process.poll() is None
        for sock in held:
            sock.close()
        held.clear()
        _wait_healthy(port, 15)
    finally:
        for sock in held:
            sock.close()
        stop_process(process)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert len(text.splitlines()) < 30, text[-3000:]
