"""`microq doctor` and the start-up checks against real redis-servers configured well and badly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from microq.doctor import diagnose, exit_code
from microq.redis_client import connect
from tests.helpers import RedisProcess, free_port, stop_process, wait_for_port


def microq(*args: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MICROQ_") and k != "REDIS_URL"}
    return subprocess.run([sys.executable, "-m", "microq", *args], env={**base, **env}, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def evicting_redis(tmp_path):
    server = RedisProcess(tmp_path / "lru")
    server.extra = ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"]
    yield server.start()
    server.stop()


@pytest.fixture
def durable_redis(tmp_path):
    server = RedisProcess(tmp_path / "aof", appendonly=True)
    yield server.start()
    server.stop()


def test_doctor_reports_an_evicting_redis_as_an_error(evicting_redis):
    done = microq("doctor", env={"REDIS_URL": evicting_redis.url})
    assert done.returncode == 2, done.stdout + done.stderr
    report = done.stdout
    assert "ERROR eviction" in report and "allkeys-lru" in report
    assert "WARN  persistence" in report  # the test server has neither AOF nor RDB
    assert "ok    version" in report and "ok    clock" in report and "ok    cluster" in report
    assert report.strip().endswith("errors: fix them first")


def test_doctor_passes_a_durable_noeviction_redis(durable_redis):
    done = microq("doctor", env={"REDIS_URL": durable_redis.url})
    assert done.returncode == 0, done.stdout
    assert "AOF on" in done.stdout and "maxmemory-policy noeviction" in done.stdout


def test_doctor_without_a_running_server_says_so(tmp_path):
    done = microq("doctor", env={"MICROQ_DATA_DIR": str(tmp_path / "nothing")})
    assert done.returncode == 2 and "no microq server is running" in done.stderr
    assert not (tmp_path / "nothing").exists()


def test_serve_refuses_an_evicting_redis_unless_allowed(evicting_redis, tmp_path):
    refused = microq("serve", "--port", str(free_port()), env={"REDIS_URL": evicting_redis.url})
    assert refused.returncode == 1
    assert "refusing to start: maxmemory-policy is allkeys-lru" in refused.stderr
    assert "Traceback" not in refused.stderr
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("MICROQ_") and k != "REDIS_URL"}
    node = subprocess.Popen([sys.executable, "-m", "microq", "serve", "--port", str(port)],
                            env={**base, "REDIS_URL": evicting_redis.url, "MICROQ_ALLOW_EVICTION": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        wait_for_port(port, 30)
    finally:
        stop_process(node)
    log = node.stderr.read()
    assert "doctor: eviction: maxmemory-policy is allkeys-lru" in log  # still warned


async def test_doctor_on_a_cluster_checks_slots_and_replicas(redis_cluster):
    client = connect(redis_cluster.url, cluster=True)
    try:
        findings = {f.check: f for f in await diagnose(client)}
    finally:
        await client.aclose()
    assert findings["cluster"].level == "warn" and "16384/16384 slots ok" in findings["cluster"].message
    assert "no replicas" in findings["cluster"].message
    assert findings["clock"].level == "ok" and findings["eviction"].level == "ok"
    assert exit_code(list(findings.values())) == 1


async def test_a_cluster_node_used_as_a_single_redis_is_an_error(redis_cluster):
    client = connect(redis_cluster.url)
    try:
        findings = {f.check: f for f in await diagnose(client)}
    finally:
        await client.aclose()
    assert findings["cluster"].level == "error" and "used as a single Redis" in findings["cluster"].message


async def test_one_url_naming_a_cluster_node_opens_the_cluster(redis_cluster, tmp_path):
    """Without MICROQ_REDIS_CLUSTER a single URL of a Cluster node still gets a Cluster client:
    as a single Redis, every key on another primary would answer MOVED."""
    from redis.asyncio import RedisCluster

    from microq.redis_client import open_client

    client = await open_client(redis_cluster.url, cluster=False)
    try:
        assert isinstance(client, RedisCluster)
        findings = {f.check: f for f in await diagnose(client)}
        assert findings["cluster"].level in ("ok", "warn")
    finally:
        await client.aclose()
    done = await asyncio.to_thread(microq, "doctor", env={"REDIS_URL": redis_cluster.url})
    assert done.returncode == 1 and "WARN  cluster" in done.stdout, done.stdout + done.stderr  # no replicas
