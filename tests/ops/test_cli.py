"""`microq` as an operator meets it: --version, one-line errors for bad options, the start-up
log, the JSON access log, and `api-key` on exactly the server's Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from microq import __version__
from tests.helpers import free_port, stop_process, wait_for_port


def microq(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MICROQ_") and k != "REDIS_URL"}
    return subprocess.run([sys.executable, "-m", "microq", *args], env={**base, **(env or {})}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_version():
    done = microq("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"microq {__version__}"


@pytest.mark.parametrize("args, env, expected", [
    (("serve", "--port", "abc"), {}, "microq serve: --port: expected a port number 1-65535, got 'abc'"),
    (("serve", "--port", "70000"), {}, "microq serve: --port: expected a port number 1-65535, got '70000'"),
    (("serve", "--workers", "0"), {}, "microq serve: --workers: expected a number of processes 1-64, got '0'"),
    (("serve",), {"MICROQ_BAN_THRESHOLD": "five"}, "microq: MICROQ_BAN_THRESHOLD: expected a whole number > 0, got 'five'"),
    (("serve",), {"MICROQ_VISIBILITY_TIMEOUT": "soon"}, "microq: MICROQ_VISIBILITY_TIMEOUT: expected a duration > 0"),
    (("serve",), {"MICROQ_RATE_LIMIT_QUEUE": "lots"}, "microq: MICROQ_RATE_LIMIT_QUEUE: expected a count per period"),
    (("serve",), {"AVG_SERVICE_TIME_MINUTES": "x"}, "microq: AVG_SERVICE_TIME_MINUTES: expected a number > 0, got 'x'"),
    (("serve",), {"MICROQ_ACCESS_LOG": "xml"}, "microq: MICROQ_ACCESS_LOG: expected off or json, got 'xml'"),
])
def test_a_bad_option_is_one_line_naming_it(tmp_path, args, env, expected):
    done = microq(*args, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(expected), done.stderr
    assert "Traceback" not in done.stderr and "invalid literal" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def test_api_key_refuses_to_start_an_embedded_redis_no_server_uses(tmp_path):
    done = microq("api-key", "create", "--name", "robot", cwd=tmp_path)
    assert done.returncode == 1
    assert "no microq server is running on the data folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "redis.pid").exists() and not (tmp_path / "data" / "redis.sock").exists()


def test_api_key_uses_the_running_servers_embedded_redis(tmp_path):
    """The README's case: a node on its data folder, `api-key create` run from another folder with
    the same MICROQ_DATA_DIR: the key works on the node; `list` has a header; page URLs and JSON
    access lines appear in the node's output."""
    data, port = tmp_path / "srv" / "data", free_port()
    env = {"MICROQ_DATA_DIR": str(data), "MICROQ_ACCESS_LOG": "json", "MICROQ_API_KEYS": ""}
    (tmp_path / "srv").mkdir()
    out, err = (tmp_path / "out.log").open("w"), (tmp_path / "err.log").open("w")
    base = {k: v for k, v in os.environ.items() if not k.startswith("MICROQ_") and k != "REDIS_URL"}
    node = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port)], env={**base, **env},
                            cwd=tmp_path / "srv", stdout=out, stderr=err)
    try:
        wait_for_port(port, 30)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        created = microq("api-key", "create", "--name", "robot", env={"MICROQ_DATA_DIR": str(data)}, cwd=elsewhere)
        assert created.returncode == 0, created.stderr
        key = dict(line.split(":", 1) for line in created.stdout.splitlines())["key"].strip()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/queue", method="POST",
                                         data=json.dumps({"queue_name": "jobs"}).encode(),
                                         headers={"X-API-Key": key, "Content-Type": "application/json",
                                                  "X-Request-Id": "trace-42"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 201 and answer.headers["X-Request-Id"] == "trace-42"
        listed = microq("api-key", "list", env={"MICROQ_DATA_DIR": str(data)}, cwd=elsewhere)
        assert listed.stdout.splitlines()[0].split("\t") == ["ID", "CREATED", "NAME"]
        assert "robot" in listed.stdout.splitlines()[1]
        assert not (elsewhere / "data").exists()
    finally:
        stop_process(node)
        out.close()
        err.close()
    log = (tmp_path / "err.log").read_text()
    for path in ("/ (index)", "/docs", "/queue/default_tenant/main/kiosk", "/dashboard", "/work", "/healthz"):
        assert f"http://127.0.0.1:{port}{path}" in log, log
    access = [json.loads(line) for line in (tmp_path / "out.log").read_text().splitlines() if line.startswith("{")]
    mine = [a for a in access if a["request_id"] == "trace-42"]
    assert mine and mine[0]["route"] == "/api/queue" and mine[0]["status"] == 201 and mine[0]["method"] == "POST"
